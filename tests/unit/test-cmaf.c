/* test-cmaf.c — byte-exact specification tests of the CMAF writer, its H.264
 * helpers and its ID3 tags; a box walker checks nesting and every box size. */

#include "cmaf.h"
#include "cmaf-fixtures.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Box walker                                                               */

typedef struct {
  gchar *path; /* "moov/trak/tkhd" */
  gsize offset;
  gsize size;
} Box;

static void
box_free (gpointer p)
{
  Box *b = p;

  g_free (b->path);
  g_free (b);
}

/* Bytes between a container's header and its first child box. */
static gssize
container_skip (const gchar *type)
{
  static const struct {
    const gchar *type;
    gsize skip;
  } containers[] = {
      {"moov", 0},  {"trak", 0}, {"mdia", 0}, {"minf", 0},
      {"dinf", 0},  {"stbl", 0}, {"mvex", 0}, {"moof", 0},
      {"traf", 0},  {"dref", 8}, /* FullBox header + entry_count */
      {"stsd", 8},               /* FullBox header + entry_count */
      {"avc1", 78},              /* VisualSampleEntry fields */
      {"mp4a", 28},              /* AudioSampleEntry fields */
      {"Opus", 28},
  };

  for (guint i = 0; i < G_N_ELEMENTS (containers); i++) {
    if (strcmp (containers[i].type, type) == 0)
      return containers[i].skip;
  }
  return -1;
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

/* Walks the boxes in [start, end) and their children: they must tile the
 * range exactly, so each container's size is its header plus its children. */
static gboolean
walk_range (const guint8 *d, gsize start, gsize end, const gchar *parent,
            GPtrArray *boxes, gchar **why)
{
  gsize pos = start;

  while (pos < end) {
    Box *b;
    guint32 size;
    gchar type[5] = {0};
    gssize skip;

    if (end - pos < 8) {
      *why = g_strdup_printf ("%zu stray bytes at %zu in %s", end - pos, pos,
                              parent);
      return FALSE;
    }
    size = be32 (d + pos);
    memcpy (type, d + pos + 4, 4);
    if (size < 8 || size > end - pos) {
      *why = g_strdup_printf ("box '%s' at %zu has size %u, %zu available",
                              type, pos, size, end - pos);
      return FALSE;
    }
    b = g_new0 (Box, 1);
    b->path =
        *parent ? g_strdup_printf ("%s/%s", parent, type) : g_strdup (type);
    b->offset = pos;
    b->size = size;
    g_ptr_array_add (boxes, b);

    skip = container_skip (type);
    if (skip >= 0) {
      if ((gsize)skip > size - 8) {
        *why = g_strdup_printf ("container '%s' too small", type);
        return FALSE;
      }
      if (!walk_range (d, pos + 8 + skip, pos + size, b->path, boxes, why))
        return FALSE;
    }
    pos += size;
  }
  return TRUE;
}

static GPtrArray *
walk_boxes (const guint8 *data, gsize size)
{
  GPtrArray *boxes = g_ptr_array_new_with_free_func (box_free);
  g_autofree gchar *why = NULL;

  if (!walk_range (data, 0, size, "", boxes, &why))
    g_error ("box walk failed: %s", why);
  return boxes;
}

static const Box *
find_box (GPtrArray *boxes, const gchar *path)
{
  const Box *found = NULL;

  for (guint i = 0; i < boxes->len; i++) {
    const Box *b = g_ptr_array_index (boxes, i);

    if (strcmp (b->path, path) == 0) {
      g_assert_null (found);
      found = b;
    }
  }
  if (found == NULL)
    g_error ("no box %s", path);
  return found;
}

/* Compares the whole of the box at @path, header included. */
static void
assert_box (const GByteArray *buf, const gchar *path, const guint8 *expected,
            gsize expected_size)
{
  g_autoptr (GPtrArray) boxes = walk_boxes (buf->data, buf->len);
  const Box *b = find_box (boxes, path);

  g_assert_cmpmem (buf->data + b->offset, b->size, expected, expected_size);
}

static void
assert_paths (const GByteArray *buf, const gchar *const *expected)
{
  g_autoptr (GPtrArray) boxes = walk_boxes (buf->data, buf->len);
  guint i;

  for (i = 0; expected[i] != NULL; i++) {
    g_assert_cmpuint (i, <, boxes->len);
    g_assert_cmpstr (((Box *)g_ptr_array_index (boxes, i))->path, ==,
                     expected[i]);
  }
  g_assert_cmpuint (i, ==, boxes->len);
}

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */

#define FOURCC(s) s[0], s[1], s[2], s[3]
#define ZERO4 0, 0, 0, 0
#define ZERO8 ZERO4, ZERO4
#define UNITY_MATRIX                                                           \
  U32 (0x00010000), ZERO4, ZERO4, ZERO4, U32 (0x00010000), ZERO4, ZERO4,       \
      ZERO4, U32 (0x40000000)

/* AAC-LC, 44.1 kHz, stereo. */
static const guint8 test_asc[] = {0x12, 0x10};

static GcCmafTrack
h264_track (void)
{
  GcCmafTrack t = {
      .codec = GC_CMAF_CODEC_H264,
      .track_id = 1,
      .timescale = 90000,
      .width = 1280,
      .height = 720,
      .codec_data = test_avcc,
      .codec_data_size = sizeof test_avcc,
  };
  return t;
}

static GcCmafTrack
aac_track (void)
{
  GcCmafTrack t = {
      .codec = GC_CMAF_CODEC_AAC,
      .track_id = 2,
      .timescale = 44100,
      .sample_rate = 44100,
      .channels = 2,
      .codec_data = test_asc,
      .codec_data_size = sizeof test_asc,
      .avg_bitrate = 96000,
      .max_bitrate = 128000,
  };
  return t;
}

static GcCmafTrack
opus_track (void)
{
  GcCmafTrack t = {
      .codec = GC_CMAF_CODEC_OPUS,
      .track_id = 3,
      .timescale = 48000,
      .sample_rate = 48000,
      .channels = 2,
  };
  return t;
}

static GByteArray *
write_init (const GcCmafTrack *track)
{
  g_autoptr (GError) error = NULL;
  GByteArray *out = g_byte_array_new ();

  g_assert_true (gc_cmaf_write_init (out, track, &error));
  g_assert_no_error (error);
  return out;
}

static void
assert_init_fails (const GcCmafTrack *track, GcCmafErrorCode code)
{
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;

  g_assert_false (gc_cmaf_write_init (out, track, &error));
  g_assert_error (error, GC_CMAF_ERROR, (gint)code);
  assert_untouched (out);
}

/* ------------------------------------------------------------------------ */
/* Init segment: structure                                                  */

static void
test_init_h264_structure (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const gchar *const paths[] = {"ftyp",
                                "moov",
                                "moov/mvhd",
                                "moov/trak",
                                "moov/trak/tkhd",
                                "moov/trak/mdia",
                                "moov/trak/mdia/mdhd",
                                "moov/trak/mdia/hdlr",
                                "moov/trak/mdia/minf",
                                "moov/trak/mdia/minf/vmhd",
                                "moov/trak/mdia/minf/dinf",
                                "moov/trak/mdia/minf/dinf/dref",
                                "moov/trak/mdia/minf/dinf/dref/url ",
                                "moov/trak/mdia/minf/stbl",
                                "moov/trak/mdia/minf/stbl/stsd",
                                "moov/trak/mdia/minf/stbl/stsd/avc1",
                                "moov/trak/mdia/minf/stbl/stsd/avc1/avcC",
                                "moov/trak/mdia/minf/stbl/stts",
                                "moov/trak/mdia/minf/stbl/stsc",
                                "moov/trak/mdia/minf/stbl/stsz",
                                "moov/trak/mdia/minf/stbl/stco",
                                "moov/mvex",
                                "moov/mvex/trex",
                                NULL};

  assert_paths (out, paths);
}

static void
test_init_aac_structure (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = walk_boxes (out->data, out->len);

  find_box (boxes, "moov/trak/mdia/minf/smhd");
  find_box (boxes, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds");
  g_assert_cmpuint (boxes->len, ==, 23);
}

static void
test_init_opus_structure (void)
{
  GcCmafTrack t = opus_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = walk_boxes (out->data, out->len);

  find_box (boxes, "moov/trak/mdia/minf/smhd");
  find_box (boxes, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps");
  g_assert_cmpuint (boxes->len, ==, 23);
}

static void
test_init_appends_to_buffer (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) alone = write_init (&t);
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_cmaf_write_init (out, &t, &error));
  g_assert_cmpmem (out->data, 4, "keep", 4);
  g_assert_cmpmem (out->data + 4, out->len - 4, alone->data, alone->len);
}

static void
test_walker_rejects_wrong_size (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = g_ptr_array_new_with_free_func (box_free);
  g_autofree gchar *why = NULL;

  g_autoptr (GPtrArray) good = walk_boxes (out->data, out->len);
  const Box *mvhd = find_box (good, "moov/mvhd");

  /* Grow mvhd by 4 bytes: it now swallows the trak header. */
  out->data[mvhd->offset + 3] += 4;
  g_assert_false (walk_range (out->data, 0, out->len, "", boxes, &why));
  g_assert_nonnull (why);
}

/* ------------------------------------------------------------------------ */
/* Init segment: box contents                                               */

static void
test_init_ftyp (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (28),       FOURCC ("ftyp"), FOURCC ("iso6"),
                             ZERO4,          FOURCC ("iso6"), FOURCC ("cmfc"),
                             FOURCC ("mp41")};

  assert_box (out, "ftyp", expected, sizeof expected);
}

static void
test_init_mvhd (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {
      U32 (108),
      FOURCC ("mvhd"),
      ZERO4, /* version 0, flags 0 */
      ZERO8, /* creation, modification */
      U32 (1000),
      ZERO4, /* timescale, duration */
      U32 (0x00010000),
      0x01,
      0x00,
      0,
      0,
      ZERO8,
      UNITY_MATRIX,
      ZERO8,
      ZERO8,
      ZERO8,
      U32 (2) /* next_track_ID */
  };

  assert_box (out, "moov/mvhd", expected, sizeof expected);
}

static void
test_init_mvhd_next_track_id_saturates (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = NULL;
  g_autoptr (GPtrArray) boxes = NULL;
  const Box *mvhd;

  t.track_id = G_MAXUINT32;
  out = write_init (&t);
  boxes = walk_boxes (out->data, out->len);
  mvhd = find_box (boxes, "moov/mvhd");
  g_assert_cmpuint (be32 (out->data + mvhd->offset + mvhd->size - 4), ==,
                    G_MAXUINT32);
}

static void
test_init_tkhd_video (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (92),
                             FOURCC ("tkhd"),
                             0,
                             0,
                             0,
                             3,
                             ZERO8,
                             U32 (1), /* track_ID */
                             ZERO4,
                             ZERO4, /* reserved, duration */
                             ZERO8,
                             0,
                             0,
                             0,
                             0, /* layer, alternate_group */
                             0,
                             0,
                             0,
                             0, /* volume 0, reserved */
                             UNITY_MATRIX,
                             U32 (1280 << 16),
                             U32 (720 << 16)};

  assert_box (out, "moov/trak/tkhd", expected, sizeof expected);
}

static void
test_init_tkhd_audio (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {
      U32 (92), FOURCC ("tkhd"), 0,     0,    0, 3, ZERO8, U32 (2), ZERO4,
      ZERO4,    ZERO8,           0,     0,    0, 0, 0x01,  0x00,    0,
      0,        UNITY_MATRIX,    ZERO4, ZERO4};

  assert_box (out, "moov/trak/tkhd", expected, sizeof expected);
}

static void
test_init_mdhd_language_und (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  /* 'u'-0x60 = 21, 'n' = 14, 'd' = 4 packed in 3x5 bits: 0x55C4. */
  const guint8 expected[] = {U32 (32),    FOURCC ("mdhd"),
                             ZERO4,       ZERO8,
                             U32 (90000), ZERO4,
                             0x55,        0xc4,
                             0,           0};

  assert_box (out, "moov/trak/mdia/mdhd", expected, sizeof expected);
}

static void
test_init_mdhd_language_packed (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = NULL;
  /* e = 5, n = 14, g = 7: 0 00101 01110 00111 = 0x15C7 */
  const guint8 expected[] = {U32 (32),    FOURCC ("mdhd"),
                             ZERO4,       ZERO8,
                             U32 (44100), ZERO4,
                             0x15,        0xc7,
                             0,           0};

  t.language = "eng";
  out = write_init (&t);
  assert_box (out, "moov/trak/mdia/mdhd", expected, sizeof expected);
}

static void
test_init_mdhd_bad_language (void)
{
  GcCmafTrack t = aac_track ();

  t.language = "EN";
  assert_init_fails (&t, GC_CMAF_ERROR_INVALID_ARGUMENT);
  t.language = "en1";
  assert_init_fails (&t, GC_CMAF_ERROR_INVALID_ARGUMENT);
}

static void
test_init_hdlr_video (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (45),
                             FOURCC ("hdlr"),
                             ZERO4,
                             ZERO4,
                             FOURCC ("vide"),
                             ZERO8,
                             ZERO4,
                             'V',
                             'i',
                             'd',
                             'e',
                             'o',
                             'H',
                             'a',
                             'n',
                             'd',
                             'l',
                             'e',
                             'r',
                             0};

  assert_box (out, "moov/trak/mdia/hdlr", expected, sizeof expected);
}

static void
test_init_hdlr_audio (void)
{
  GcCmafTrack t = opus_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (45),
                             FOURCC ("hdlr"),
                             ZERO4,
                             ZERO4,
                             FOURCC ("soun"),
                             ZERO8,
                             ZERO4,
                             'S',
                             'o',
                             'u',
                             'n',
                             'd',
                             'H',
                             'a',
                             'n',
                             'd',
                             'l',
                             'e',
                             'r',
                             0};

  assert_box (out, "moov/trak/mdia/hdlr", expected, sizeof expected);
}

static void
test_init_vmhd (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (20), FOURCC ("vmhd"), 0, 0, 0, 1, ZERO8};

  assert_box (out, "moov/trak/mdia/minf/vmhd", expected, sizeof expected);
}

static void
test_init_smhd (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (16), FOURCC ("smhd"), ZERO4, ZERO4};

  assert_box (out, "moov/trak/mdia/minf/smhd", expected, sizeof expected);
}

static void
test_init_dinf (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (36), FOURCC ("dinf"),
                             U32 (28), FOURCC ("dref"),
                             ZERO4,    U32 (1),
                             U32 (12), FOURCC ("url "),
                             0,        0,
                             0,        1};

  assert_box (out, "moov/trak/mdia/minf/dinf", expected, sizeof expected);
}

static void
test_init_stbl_tables_empty (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 stts[] = {U32 (16), FOURCC ("stts"), ZERO4, ZERO4};
  const guint8 stsc[] = {U32 (16), FOURCC ("stsc"), ZERO4, ZERO4};
  const guint8 stsz[] = {U32 (20), FOURCC ("stsz"), ZERO4, ZERO4, ZERO4};
  const guint8 stco[] = {U32 (16), FOURCC ("stco"), ZERO4, ZERO4};

  assert_box (out, "moov/trak/mdia/minf/stbl/stts", stts, sizeof stts);
  assert_box (out, "moov/trak/mdia/minf/stbl/stsc", stsc, sizeof stsc);
  assert_box (out, "moov/trak/mdia/minf/stbl/stsz", stsz, sizeof stsz);
  assert_box (out, "moov/trak/mdia/minf/stbl/stco", stco, sizeof stco);
}

static void
test_init_stsd_one_entry (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = walk_boxes (out->data, out->len);
  const Box *stsd = find_box (boxes, "moov/trak/mdia/minf/stbl/stsd");
  const guint8 expected[] = {ZERO4, U32 (1)};

  g_assert_cmpmem (out->data + stsd->offset + 8, 8, expected, 8);
}

static void
test_init_trex (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (32), FOURCC ("trex"), ZERO4, U32 (2),
                             U32 (1),  ZERO4,           ZERO4, ZERO4};

  assert_box (out, "moov/mvex/trex", expected, sizeof expected);
}

static void
test_init_h264_avc1 (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = walk_boxes (out->data, out->len);
  const Box *avc1 = find_box (boxes, "moov/trak/mdia/minf/stbl/stsd/avc1");
  const guint8 expected[] = {U32 (8 + 78 + 8 + sizeof test_avcc),
                             FOURCC ("avc1"),
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             1, /* reserved, data_reference_index */
                             ZERO4,
                             ZERO8,
                             ZERO4, /* pre_defined, reserved, pre_defined[3] */
                             0x05,
                             0x00,
                             0x02,
                             0xd0, /* 1280 x 720 */
                             U32 (0x00480000),
                             U32 (0x00480000),
                             ZERO4,
                             0,
                             1, /* frame_count */
                             ZERO8,
                             ZERO8,
                             ZERO8,
                             ZERO8, /* compressorname */
                             0x00,
                             0x18,
                             0xff,
                             0xff};

  g_assert_cmpmem (out->data + avc1->offset, sizeof expected, expected,
                   sizeof expected);
  g_assert_cmpuint (avc1->size, ==, 8 + 78 + 8 + sizeof test_avcc);
}

static void
test_init_h264_avcC (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  guint8 expected[8 + sizeof test_avcc] = {U32 (8 + sizeof test_avcc),
                                           FOURCC ("avcC")};

  memcpy (expected + 8, test_avcc, sizeof test_avcc);
  assert_box (out, "moov/trak/mdia/minf/stbl/stsd/avc1/avcC", expected,
              sizeof expected);
}

static void
test_init_h264_btrt (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = NULL;
  const guint8 expected[] = {U32 (20), FOURCC ("btrt"), ZERO4, U32 (3000000),
                             U32 (2000000)};

  t.avg_bitrate = 2000000;
  t.max_bitrate = 3000000;
  out = write_init (&t);
  assert_box (out, "moov/trak/mdia/minf/stbl/stsd/avc1/btrt", expected,
              sizeof expected);
}

static void
test_init_h264_no_btrt_without_bitrates (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = walk_boxes (out->data, out->len);

  for (guint i = 0; i < boxes->len; i++) {
    const Box *b = g_ptr_array_index (boxes, i);

    g_assert_false (g_str_has_suffix (b->path, "/btrt"));
  }
}

static void
test_init_h264_bad_avcC (void)
{
  GcCmafTrack t = h264_track ();
  guint8 bad[sizeof test_avcc];

  memcpy (bad, test_avcc, sizeof bad);
  bad[7] = 0x20; /* SPS length beyond the record */
  t.codec_data = bad;
  assert_init_fails (&t, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_init_h264_missing_codec_data (void)
{
  GcCmafTrack t = h264_track ();

  t.codec_data = NULL;
  t.codec_data_size = 0;
  assert_init_fails (&t, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_init_h264_zero_width (void)
{
  GcCmafTrack t = h264_track ();

  t.width = 0;
  assert_init_fails (&t, GC_CMAF_ERROR_INVALID_ARGUMENT);
}

static void
test_init_aac_mp4a (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = walk_boxes (out->data, out->len);
  const Box *mp4a = find_box (boxes, "moov/trak/mdia/minf/stbl/stsd/mp4a");
  const guint8 expected[] = {U32 (8 + 28 + 39),
                             FOURCC ("mp4a"),
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             1,
                             ZERO8,
                             0,
                             2, /* channelcount */
                             0,
                             16, /* samplesize */
                             0,
                             0,
                             0,
                             0,
                             0xac,
                             0x44,
                             0,
                             0};

  g_assert_cmpmem (out->data + mp4a->offset, sizeof expected, expected,
                   sizeof expected);
}

static void
test_init_aac_esds (void)
{
  GcCmafTrack t = aac_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  const guint8 expected[] = {U32 (39),     FOURCC ("esds"),
                             ZERO4,        0x03,
                             25,           0x00,
                             0x00,         0x00, /* ES_Descriptor, ES_ID 0 */
                             0x04,         17,
                             0x40,         0x15,
                             0x00,         0x00,
                             0x00, /* DecoderConfigDescriptor */
                             U32 (128000), U32 (96000),
                             0x05,         2,
                             0x12,         0x10, /* DecoderSpecificInfo */
                             0x06,         1,
                             0x02}; /* SLConfigDescriptor */

  assert_box (out, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds", expected,
              sizeof expected);
}

static void
test_init_aac_esds_long_lengths (void)
{
  GcCmafTrack t = aac_track ();
  guint8 asc[200] = {0x12, 0x10};
  g_autoptr (GByteArray) out = NULL;
  g_autoptr (GPtrArray) boxes = NULL;
  const Box *esds;
  const guint8 *p;
  /* 229 = 0x01 * 128 + 0x65 and so on. */
  const guint8 es[] = {0x03, 0x80, 0x80, 0x81, 0x65, 0, 0, 0};
  const guint8 dcd[] = {0x04, 0x80, 0x80, 0x81, 0x5a, 0x40, 0x15};
  const guint8 dsi[] = {0x05, 0x80, 0x80, 0x81, 0x48, 0x12, 0x10};
  const guint8 sl[] = {0x06, 0x01, 0x02};

  t.codec_data = asc;
  t.codec_data_size = sizeof asc;
  out = write_init (&t);
  boxes = walk_boxes (out->data, out->len);
  esds = find_box (boxes, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds");
  g_assert_cmpuint (esds->size, ==, 12 + 5 + 229);

  p = out->data + esds->offset + 12;
  g_assert_cmpmem (p, sizeof es, es, sizeof es);
  p += 5 + 3;
  g_assert_cmpmem (p, sizeof dcd, dcd, sizeof dcd);
  p += 5 + 13;
  g_assert_cmpmem (p, sizeof dsi, dsi, sizeof dsi);
  p += 5 + sizeof asc;
  g_assert_cmpmem (p, sizeof sl, sl, sizeof sl);
}

/* 127 is the longest length that takes one byte; the DecoderConfigDescriptor
 * around it (13 + 2 + 127 = 142) already needs the long form. */
static void
test_init_aac_esds_length_boundary (void)
{
  GcCmafTrack t = aac_track ();
  guint8 asc[127] = {0x12, 0x10};
  g_autoptr (GByteArray) out = NULL;
  g_autoptr (GPtrArray) boxes = NULL;
  const Box *esds;
  const guint8 *p;
  const guint8 dcd[] = {0x04, 0x80, 0x80, 0x81, 0x0e, 0x40};
  const guint8 dsi[] = {0x05, 0x7f, 0x12, 0x10};

  t.codec_data = asc;
  t.codec_data_size = sizeof asc;
  out = write_init (&t);
  boxes = walk_boxes (out->data, out->len);
  esds = find_box (boxes, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds");

  p = out->data + esds->offset + 12 + 5 + 3;
  g_assert_cmpmem (p, sizeof dcd, dcd, sizeof dcd);
  p += 5 + 13;
  g_assert_cmpmem (p, sizeof dsi, dsi, sizeof dsi);
}

static void
test_init_aac_missing_codec_data (void)
{
  GcCmafTrack t = aac_track ();

  t.codec_data = NULL;
  t.codec_data_size = 0;
  assert_init_fails (&t, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_init_opus_entry (void)
{
  GcCmafTrack t = opus_track ();
  g_autoptr (GByteArray) out = write_init (&t);
  g_autoptr (GPtrArray) boxes = walk_boxes (out->data, out->len);
  const Box *opus = find_box (boxes, "moov/trak/mdia/minf/stbl/stsd/Opus");
  const guint8 expected[] = {U32 (8 + 28 + 19),
                             FOURCC ("Opus"),
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             0,
                             1,
                             ZERO8,
                             0,
                             2,
                             0,
                             16,
                             0,
                             0,
                             0,
                             0,
                             0xbb,
                             0x80,
                             0,
                             0}; /* 48000 << 16 */

  g_assert_cmpmem (out->data + opus->offset, sizeof expected, expected,
                   sizeof expected);
}

static void
test_init_opus_dops_defaults (void)
{
  GcCmafTrack t = opus_track ();
  g_autoptr (GByteArray) out = NULL;
  const guint8 expected[] = {U32 (19), FOURCC ("dOps"),
                             0,              /* Version */
                             1,              /* OutputChannelCount */
                             0x01,     0x38, /* PreSkip 312 */
                             0x00,     0x00,
                             0x3e,     0x80, /* InputSampleRate */
                             0x00,     0x00, /* OutputGain */
                             0};             /* family */

  t.channels = 1;
  t.sample_rate = 16000;
  out = write_init (&t);
  assert_box (out, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps", expected,
              sizeof expected);
}

static void
test_init_opus_dops_from_opushead (void)
{
  GcCmafTrack t = opus_track ();
  const guint8 head[] = {'O',  'p',  'u',  's',  'H',  'e',
                         'a',  'd',  1,    2,    0x78, 0x00, /* pre-skip 120 */
                         0x44, 0xac, 0x00, 0x00,             /* 44100 */
                         0x00, 0xff,                         /* gain -256 */
                         0};
  const guint8 expected[] = {U32 (19), FOURCC ("dOps"),
                             0,        2,
                             0x00,     0x78,
                             0x00,     0x00,
                             0xac,     0x44,
                             0xff,     0x00,
                             0};
  g_autoptr (GByteArray) out = NULL;

  t.codec_data = head;
  t.codec_data_size = sizeof head;
  out = write_init (&t);
  assert_box (out, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps", expected,
              sizeof expected);
}

static void
test_init_opus_dops_channel_mapping (void)
{
  GcCmafTrack t = opus_track ();
  const guint8 head[] = {
      'O',  'p',  'u',  's',  'H',  'e',  'a',  'd',  1, 3,
      0x38, 0x01, 0x80, 0xbb, 0x00, 0x00, 0x00, 0x00, 1, /* family 1 */
      2,    1,        /* 2 streams, 1 coupled */
      0,    2,    1}; /* mapping */
  const guint8 expected[] = {U32 (24), FOURCC ("dOps"),
                             0,        3,
                             0x01,     0x38,
                             0x00,     0x00,
                             0xbb,     0x80,
                             0x00,     0x00,
                             1,        2,
                             1,        0,
                             2,        1};
  g_autoptr (GByteArray) out = NULL;

  t.channels = 3;
  t.codec_data = head;
  t.codec_data_size = sizeof head;
  out = write_init (&t);
  assert_box (out, "moov/trak/mdia/minf/stbl/stsd/Opus/dOps", expected,
              sizeof expected);
}

static void
test_init_opus_bad_opushead (void)
{
  GcCmafTrack t = opus_track ();
  guint8 head[] = {'O',  'p',  'u',  's',  'H', 'e', 'a', 'd', 1, 2,
                   0x38, 0x01, 0x80, 0xbb, 0,   0,   0,   0,   0};

  t.codec_data = head;
  t.codec_data_size = sizeof head - 1; /* truncated */
  assert_init_fails (&t, GC_CMAF_ERROR_CODEC_DATA);

  t.codec_data_size = sizeof head;
  head[0] = 'o'; /* wrong magic */
  assert_init_fails (&t, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_init_opus_truncated_mapping (void)
{
  GcCmafTrack t = opus_track ();
  const guint8 head[] = {'O', 'p', 'u',  's',  'H',  'e',  'a', 'd',
                         1,   3,   0x38, 0x01, 0x80, 0xbb, 0,   0,
                         0,   0,   1,    2,    1,    0,    2};

  t.channels = 3;
  t.codec_data = head;
  t.codec_data_size = sizeof head;
  assert_init_fails (&t, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_init_opus_channels_mismatch (void)
{
  GcCmafTrack t = opus_track ();
  const guint8 head[] = {'O',  'p',  'u',  's',  'H', 'e', 'a', 'd', 1, 1,
                         0x38, 0x01, 0x80, 0xbb, 0,   0,   0,   0,   0};

  t.codec_data = head; /* mono head, stereo track */
  t.codec_data_size = sizeof head;
  assert_init_fails (&t, GC_CMAF_ERROR_INVALID_ARGUMENT);
}

static void
test_init_opus_multichannel_needs_mapping (void)
{
  GcCmafTrack t = opus_track ();

  t.channels = 6;
  assert_init_fails (&t, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_init_track_id_zero (void)
{
  GcCmafTrack t = h264_track ();

  t.track_id = 0;
  assert_init_fails (&t, GC_CMAF_ERROR_INVALID_ARGUMENT);
}

static void
test_init_timescale_zero (void)
{
  GcCmafTrack t = aac_track ();

  t.timescale = 0;
  assert_init_fails (&t, GC_CMAF_ERROR_INVALID_ARGUMENT);
}

static void
test_init_unknown_codec (void)
{
  GcCmafTrack t = aac_track ();

  t.codec = (GcCmafCodec)42;
  assert_init_fails (&t, GC_CMAF_ERROR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------ */
/* styp and fragments                                                       */

static void
test_styp (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  const guint8 expected[] = {U32 (28),       FOURCC ("styp"), FOURCC ("msdh"),
                             ZERO4,          FOURCC ("msdh"), FOURCC ("msix"),
                             FOURCC ("cmfs")};

  gc_cmaf_write_styp (out);
  g_assert_cmpmem (out->data, out->len, expected, sizeof expected);
}

static const GcCmafSample test_samples[] = {
    {3000, 5, 0, TRUE},
    {3000, 3, 0, FALSE},
    {3000, 4, 0, FALSE},
};

static const GcCmafSample test_samples_cts[] = {
    {3000, 5, 6000, TRUE},
    {3000, 3, -3000, FALSE},
    {3000, 4, 0, FALSE},
};

static const guint8 test_mdat[12] = "IIIIIPPPBBBB";

static GByteArray *
write_fragment (const GcCmafSample *samples, guint n, const guint8 *mdat_data)
{
  GcCmafFragment f = {
      .sequence_number = 7,
      .decode_time = G_GUINT64_CONSTANT (0x123456789),
      .samples = samples,
      .n_samples = n,
  };
  g_autoptr (GError) error = NULL;
  GByteArray *out = g_byte_array_new ();

  g_assert_true (gc_cmaf_write_fragment (out, 1, &f, mdat_data, &error));
  g_assert_no_error (error);
  return out;
}

static void
test_fragment_structure (void)
{
  g_autoptr (GByteArray) out = write_fragment (test_samples, 3, test_mdat);
  const gchar *const paths[] = {
      "moof",           "moof/mfhd",      "moof/traf", "moof/traf/tfhd",
      "moof/traf/tfdt", "moof/traf/trun", "mdat",      NULL};

  assert_paths (out, paths);
}

static void
test_fragment_mfhd (void)
{
  g_autoptr (GByteArray) out = write_fragment (test_samples, 3, test_mdat);
  const guint8 expected[] = {U32 (16), FOURCC ("mfhd"), ZERO4, U32 (7)};

  assert_box (out, "moof/mfhd", expected, sizeof expected);
}

static void
test_fragment_tfhd (void)
{
  g_autoptr (GByteArray) out = write_fragment (test_samples, 3, test_mdat);
  const guint8 expected[] = {U32 (16), FOURCC ("tfhd"), 0x00, 0x02, 0x00,
                             0x00,     U32 (1)};

  assert_box (out, "moof/traf/tfhd", expected, sizeof expected);
}

static void
test_fragment_tfdt (void)
{
  g_autoptr (GByteArray) out = write_fragment (test_samples, 3, test_mdat);
  const guint8 expected[] = {U32 (20), FOURCC ("tfdt"),
                             1,        0,
                             0,        0,
                             0x00,     0x00,
                             0x00,     0x01,
                             0x23,     0x45,
                             0x67,     0x89};

  assert_box (out, "moof/traf/tfdt", expected, sizeof expected);
}

static void
test_fragment_trun_without_composition_offsets (void)
{
  g_autoptr (GByteArray) out = write_fragment (test_samples, 3, test_mdat);
  /* moof = 8 + 16 + 8 + 16 + 20 + 56 = 124; data_offset = 124 + 8 */
  const guint8 expected[] = {U32 (56),
                             FOURCC ("trun"),
                             0x00,
                             0x00,
                             0x07,
                             0x01,
                             U32 (3),
                             U32 (132),
                             U32 (3000),
                             U32 (5),
                             U32 (0x02000000),
                             U32 (3000),
                             U32 (3),
                             U32 (0x01010000),
                             U32 (3000),
                             U32 (4),
                             U32 (0x01010000)};

  assert_box (out, "moof/traf/trun", expected, sizeof expected);
}

static void
test_fragment_trun_composition_offsets (void)
{
  g_autoptr (GByteArray) out = write_fragment (test_samples_cts, 3, test_mdat);
  const guint8 expected[] = {U32 (68),
                             FOURCC ("trun"),
                             0x01,
                             0x00,
                             0x0f,
                             0x01,
                             U32 (3),
                             U32 (144),
                             U32 (3000),
                             U32 (5),
                             U32 (0x02000000),
                             U32 (6000),
                             U32 (3000),
                             U32 (3),
                             U32 (0x01010000),
                             0xff,
                             0xff,
                             0xf4,
                             0x48,
                             U32 (3000),
                             U32 (4),
                             U32 (0x01010000),
                             ZERO4};

  assert_box (out, "moof/traf/trun", expected, sizeof expected);
}

static void
test_fragment_data_offset_points_at_mdat_payload (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GPtrArray) boxes = NULL;
  g_autoptr (GError) error = NULL;
  GcCmafFragment f = {1, 0, test_samples_cts, 3};
  const Box *moof, *trun, *mdat;
  guint32 data_offset;

  /* A styp in front: data_offset counts from the moof, not the buffer. */
  gc_cmaf_write_styp (out);
  g_assert_true (gc_cmaf_write_fragment (out, 1, &f, test_mdat, &error));
  boxes = walk_boxes (out->data, out->len);
  moof = find_box (boxes, "moof");
  trun = find_box (boxes, "moof/traf/trun");
  mdat = find_box (boxes, "mdat");

  data_offset = be32 (out->data + trun->offset + 16);
  g_assert_cmpuint (moof->offset + data_offset, ==, mdat->offset + 8);
  g_assert_cmpmem (out->data + moof->offset + data_offset, sizeof test_mdat,
                   test_mdat, sizeof test_mdat);
}

static void
test_fragment_mdat (void)
{
  g_autoptr (GByteArray) out = write_fragment (test_samples, 3, test_mdat);
  guint8 expected[8 + sizeof test_mdat] = {U32 (20), FOURCC ("mdat")};

  memcpy (expected + 8, test_mdat, sizeof test_mdat);
  assert_box (out, "mdat", expected, sizeof expected);
}

static void
test_fragment_header_only_without_mdat_data (void)
{
  g_autoptr (GByteArray) full = write_fragment (test_samples, 3, test_mdat);
  g_autoptr (GByteArray) out = write_fragment (test_samples, 3, NULL);
  const guint8 mdat_header[] = {U32 (20), FOURCC ("mdat")};
  g_autoptr (GPtrArray) boxes = NULL;

  /* Everything up to the payload is identical; the payload is missing. */
  g_assert_cmpuint (out->len, ==, full->len - sizeof test_mdat);
  g_assert_cmpmem (out->data, out->len, full->data, out->len);
  g_assert_cmpmem (out->data + out->len - 8, 8, mdat_header, 8);
  boxes = walk_boxes (out->data, out->len - 8);
  g_assert_cmpuint (find_box (boxes, "moof")->size, ==, out->len - 8);
}

static void
test_fragment_largest_mdat (void)
{
  GcCmafSample s = {1, G_MAXUINT32 - 8, 0, TRUE};
  g_autoptr (GByteArray) out = write_fragment (&s, 1, NULL);

  g_assert_cmpuint (be32 (out->data + out->len - 8), ==, G_MAXUINT32);
}

static void
assert_fragment_fails (guint32 track_id, const GcCmafFragment *f)
{
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;

  g_assert_false (gc_cmaf_write_fragment (out, track_id, f, test_mdat, &error));
  g_assert_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT);
  assert_untouched (out);
}

static void
test_fragment_zero_samples (void)
{
  GcCmafFragment f = {1, 0, test_samples, 0};

  assert_fragment_fails (1, &f);
}

static void
test_fragment_track_id_zero (void)
{
  GcCmafFragment f = {1, 0, test_samples, 3};

  assert_fragment_fails (0, &f);
}

static void
test_fragment_sequence_number_zero (void)
{
  GcCmafFragment f = {0, 0, test_samples, 3};

  assert_fragment_fails (1, &f);
}

static void
test_fragment_sizes_overflow_mdat (void)
{
  /* Each fits; their sum (2^32) does not fit in a 32-bit mdat size. */
  const GcCmafSample big[] = {{1, 0x80000000u, 0, TRUE},
                              {1, 0x80000000u, 0, FALSE}};
  const GcCmafSample just_over[] = {{1, G_MAXUINT32 - 7, 0, TRUE}};
  GcCmafFragment f = {1, 0, big, 2};

  assert_fragment_fails (1, &f);
  f.samples = just_over;
  f.n_samples = 1;
  assert_fragment_fails (1, &f);
}

/* ------------------------------------------------------------------------ */
/* emsg                                                                     */

static void
test_emsg_v1 (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  GcCmafEmsg e = {
      .timescale = 1000,
      .presentation_time = G_GUINT64_CONSTANT (0x100000002),
      .event_duration = 0xffffffff,
      .id = 7,
      .scheme_id_uri = "urn:x",
      .value = "v",
      .message_data = (const guint8 *)"AB",
      .message_data_size = 2,
  };
  const guint8 expected[] = {U32 (42),   FOURCC ("emsg"),
                             1,          0,
                             0,          0,
                             U32 (1000), U32 (1),
                             U32 (2),    U32 (0xffffffff),
                             U32 (7),    'u',
                             'r',        'n',
                             ':',        'x',
                             0,          'v',
                             0,          'A',
                             'B'};

  g_assert_true (gc_cmaf_write_emsg (out, &e, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (out->data, out->len, expected, sizeof expected);
}

static void
test_emsg_null_value_written_empty (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  GcCmafEmsg e = {.timescale = 90000, .scheme_id_uri = "s"};
  const guint8 expected[] = {
      U32 (35), FOURCC ("emsg"), 1,     0,   0, 0, U32 (90000),
      ZERO8,    ZERO4,           ZERO4, 's', 0, 0};

  g_assert_true (gc_cmaf_write_emsg (out, &e, &error));
  g_assert_cmpmem (out->data, out->len, expected, sizeof expected);
}

static void
test_emsg_carries_id3_tag (void)
{
  g_autoptr (GBytes) tag = gc_id3_tag_new_txxx ("k", "v");
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  GcCmafEmsg e = {.timescale = 1000, .scheme_id_uri = GC_CMAF_EMSG_SCHEME_ID3};
  gsize tag_size;

  e.message_data = g_bytes_get_data (tag, &tag_size);
  e.message_data_size = tag_size;
  g_assert_true (gc_cmaf_write_emsg (out, &e, &error));
  g_assert_cmpuint (be32 (out->data), ==, out->len);
  g_assert_cmpmem (out->data + out->len - tag_size, tag_size, e.message_data,
                   tag_size);
}

static void
test_emsg_timescale_zero (void)
{
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;
  GcCmafEmsg e = {.timescale = 0, .scheme_id_uri = "s"};

  g_assert_false (gc_cmaf_write_emsg (out, &e, &error));
  g_assert_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT);
  assert_untouched (out);
}

static void
test_emsg_null_scheme (void)
{
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;
  GcCmafEmsg e = {.timescale = 1000, .scheme_id_uri = NULL};

  g_assert_false (gc_cmaf_write_emsg (out, &e, &error));
  g_assert_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT);
  assert_untouched (out);
}

/* ------------------------------------------------------------------------ */
/* Codec strings                                                            */

static void
assert_codec_string (const GcCmafTrack *t, const gchar *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *s = gc_cmaf_codec_string (t, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (s, ==, expected);
}

static void
test_codec_string_avc1 (void)
{
  GcCmafTrack t = h264_track ();

  assert_codec_string (&t, "avc1.42C01F");
}

static void
test_codec_string_aac (void)
{
  GcCmafTrack t = aac_track ();

  assert_codec_string (&t, "mp4a.40.2");
}

static void
test_codec_string_aac_escaped_object_type (void)
{
  GcCmafTrack t = aac_track ();
  /* 11111 (escape) then 001010 = 10: object type 32 + 10 = 42. */
  const guint8 asc[] = {0xf9, 0x40};

  t.codec_data = asc;
  t.codec_data_size = sizeof asc;
  assert_codec_string (&t, "mp4a.40.42");
}

static void
test_codec_string_opus (void)
{
  GcCmafTrack t = opus_track ();

  assert_codec_string (&t, "opus");
}

static void
test_codec_string_missing_codec_data (void)
{
  GcCmafTrack t = h264_track ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *s = NULL;

  t.codec_data = NULL;
  t.codec_data_size = 0;
  s = gc_cmaf_codec_string (&t, &error);
  g_assert_null (s);
  g_assert_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA);
}

static void
test_error_quark (void)
{
  g_assert_cmpstr (g_quark_to_string (GC_CMAF_ERROR), ==,
                   "gc-cmaf-error-quark");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cmaf/box-walker/rejects-wrong-size",
                   test_walker_rejects_wrong_size);

  g_test_add_func ("/cmaf/init/h264/structure", test_init_h264_structure);
  g_test_add_func ("/cmaf/init/aac/structure", test_init_aac_structure);
  g_test_add_func ("/cmaf/init/opus/structure", test_init_opus_structure);
  g_test_add_func ("/cmaf/init/appends-to-buffer", test_init_appends_to_buffer);
  g_test_add_func ("/cmaf/init/ftyp", test_init_ftyp);
  g_test_add_func ("/cmaf/init/mvhd", test_init_mvhd);
  g_test_add_func ("/cmaf/init/mvhd/next-track-id-saturates",
                   test_init_mvhd_next_track_id_saturates);
  g_test_add_func ("/cmaf/init/tkhd/video", test_init_tkhd_video);
  g_test_add_func ("/cmaf/init/tkhd/audio", test_init_tkhd_audio);
  g_test_add_func ("/cmaf/init/mdhd/language-und", test_init_mdhd_language_und);
  g_test_add_func ("/cmaf/init/mdhd/language-packed",
                   test_init_mdhd_language_packed);
  g_test_add_func ("/cmaf/init/mdhd/bad-language", test_init_mdhd_bad_language);
  g_test_add_func ("/cmaf/init/hdlr/video", test_init_hdlr_video);
  g_test_add_func ("/cmaf/init/hdlr/audio", test_init_hdlr_audio);
  g_test_add_func ("/cmaf/init/vmhd", test_init_vmhd);
  g_test_add_func ("/cmaf/init/smhd", test_init_smhd);
  g_test_add_func ("/cmaf/init/dinf", test_init_dinf);
  g_test_add_func ("/cmaf/init/stbl/tables-empty", test_init_stbl_tables_empty);
  g_test_add_func ("/cmaf/init/stsd/one-entry", test_init_stsd_one_entry);
  g_test_add_func ("/cmaf/init/trex", test_init_trex);
  g_test_add_func ("/cmaf/init/h264/avc1", test_init_h264_avc1);
  g_test_add_func ("/cmaf/init/h264/avcC", test_init_h264_avcC);
  g_test_add_func ("/cmaf/init/h264/btrt", test_init_h264_btrt);
  g_test_add_func ("/cmaf/init/h264/no-btrt-without-bitrates",
                   test_init_h264_no_btrt_without_bitrates);
  g_test_add_func ("/cmaf/init/h264/bad-avcC", test_init_h264_bad_avcC);
  g_test_add_func ("/cmaf/init/h264/missing-codec-data",
                   test_init_h264_missing_codec_data);
  g_test_add_func ("/cmaf/init/h264/zero-width", test_init_h264_zero_width);
  g_test_add_func ("/cmaf/init/aac/mp4a", test_init_aac_mp4a);
  g_test_add_func ("/cmaf/init/aac/esds", test_init_aac_esds);
  g_test_add_func ("/cmaf/init/aac/esds-long-lengths",
                   test_init_aac_esds_long_lengths);
  g_test_add_func ("/cmaf/init/aac/esds-length-boundary",
                   test_init_aac_esds_length_boundary);
  g_test_add_func ("/cmaf/init/aac/missing-codec-data",
                   test_init_aac_missing_codec_data);
  g_test_add_func ("/cmaf/init/opus/entry", test_init_opus_entry);
  g_test_add_func ("/cmaf/init/opus/dOps-defaults",
                   test_init_opus_dops_defaults);
  g_test_add_func ("/cmaf/init/opus/dOps-from-opushead",
                   test_init_opus_dops_from_opushead);
  g_test_add_func ("/cmaf/init/opus/dOps-channel-mapping",
                   test_init_opus_dops_channel_mapping);
  g_test_add_func ("/cmaf/init/opus/bad-opushead", test_init_opus_bad_opushead);
  g_test_add_func ("/cmaf/init/opus/truncated-mapping",
                   test_init_opus_truncated_mapping);
  g_test_add_func ("/cmaf/init/opus/channels-mismatch",
                   test_init_opus_channels_mismatch);
  g_test_add_func ("/cmaf/init/opus/multichannel-needs-mapping",
                   test_init_opus_multichannel_needs_mapping);
  g_test_add_func ("/cmaf/init/track-id-zero", test_init_track_id_zero);
  g_test_add_func ("/cmaf/init/timescale-zero", test_init_timescale_zero);
  g_test_add_func ("/cmaf/init/unknown-codec", test_init_unknown_codec);

  g_test_add_func ("/cmaf/styp", test_styp);
  g_test_add_func ("/cmaf/fragment/structure", test_fragment_structure);
  g_test_add_func ("/cmaf/fragment/mfhd", test_fragment_mfhd);
  g_test_add_func ("/cmaf/fragment/tfhd", test_fragment_tfhd);
  g_test_add_func ("/cmaf/fragment/tfdt", test_fragment_tfdt);
  g_test_add_func ("/cmaf/fragment/trun/no-composition-offsets",
                   test_fragment_trun_without_composition_offsets);
  g_test_add_func ("/cmaf/fragment/trun/composition-offsets",
                   test_fragment_trun_composition_offsets);
  g_test_add_func ("/cmaf/fragment/trun/data-offset-points-at-mdat-payload",
                   test_fragment_data_offset_points_at_mdat_payload);
  g_test_add_func ("/cmaf/fragment/mdat", test_fragment_mdat);
  g_test_add_func ("/cmaf/fragment/header-only-without-mdat-data",
                   test_fragment_header_only_without_mdat_data);
  g_test_add_func ("/cmaf/fragment/largest-mdat", test_fragment_largest_mdat);
  g_test_add_func ("/cmaf/fragment/zero-samples", test_fragment_zero_samples);
  g_test_add_func ("/cmaf/fragment/track-id-zero", test_fragment_track_id_zero);
  g_test_add_func ("/cmaf/fragment/sequence-number-zero",
                   test_fragment_sequence_number_zero);
  g_test_add_func ("/cmaf/fragment/sizes-overflow-mdat",
                   test_fragment_sizes_overflow_mdat);

  g_test_add_func ("/cmaf/emsg/v1", test_emsg_v1);
  g_test_add_func ("/cmaf/emsg/null-value-written-empty",
                   test_emsg_null_value_written_empty);
  g_test_add_func ("/cmaf/emsg/carries-id3-tag", test_emsg_carries_id3_tag);
  g_test_add_func ("/cmaf/emsg/timescale-zero", test_emsg_timescale_zero);
  g_test_add_func ("/cmaf/emsg/null-scheme", test_emsg_null_scheme);

  g_test_add_func ("/cmaf/codec-string/avc1", test_codec_string_avc1);
  g_test_add_func ("/cmaf/codec-string/aac", test_codec_string_aac);
  g_test_add_func ("/cmaf/codec-string/aac-escaped-object-type",
                   test_codec_string_aac_escaped_object_type);
  g_test_add_func ("/cmaf/codec-string/opus", test_codec_string_opus);
  g_test_add_func ("/cmaf/codec-string/missing-codec-data",
                   test_codec_string_missing_codec_data);
  g_test_add_func ("/cmaf/error-quark", test_error_quark);

  return g_test_run ();
}

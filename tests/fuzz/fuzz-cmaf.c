/* fuzz-cmaf.c — libFuzzer target for the CMAF writer: reads the input as a
 * script of calls to every public function and checks what they write. */

#include "cmaf.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Traps rather than asserts so the check survives any build type. */
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      __builtin_trap ();                                                       \
  } while (0)

/* Sample payloads larger than this are passed as NULL (header-only). */
#define MAX_MDAT (1024 * 1024)

/* ------------------------------------------------------------------------ */
/* Script reader: every take_* returns 0 / an empty blob once exhausted.    */

typedef struct {
  const guint8 *data;
  gsize size;
  gsize pos;
} Script;

static guint8
take_u8 (Script *s)
{
  return s->pos < s->size ? s->data[s->pos++] : 0;
}

static guint16
take_u16 (Script *s)
{
  guint16 hi = take_u8 (s);

  return (hi << 8) | take_u8 (s);
}

static guint32
take_u32 (Script *s)
{
  guint32 hi = take_u16 (s);

  return (hi << 16) | take_u16 (s);
}

static guint64
take_u64 (Script *s)
{
  guint64 hi = take_u32 (s);

  return (hi << 32) | take_u32 (s);
}

/* Mostly small values, sometimes any 32-bit value: both matter. */
static guint32
take_number (Script *s)
{
  guint8 b = take_u8 (s);

  if (b == 0xff)
    return take_u32 (s);
  if (b & 0x80)
    return ((b & 0x7f) << 8) | take_u8 (s);
  return b;
}

/* A length-prefixed blob copied to its own heap block, so that reading one
 * byte past its end is an error AddressSanitizer sees. */
static GBytes *
take_blob (Script *s)
{
  gsize len = take_u8 (s);

  if (len == 0xff)
    len = take_u16 (s);
  len = MIN (len, s->size - s->pos);
  s->pos += len;
  return g_bytes_new (s->data + s->pos - len, len);
}

/* A NUL-terminated string from a blob (cut at an embedded NUL). */
static gchar *
take_string (Script *s)
{
  g_autoptr (GBytes) blob = take_blob (s);
  gsize len;
  const gchar *p = g_bytes_get_data (blob, &len);

  return p != NULL ? g_strndup (p, len) : g_strdup ("");
}

/* ------------------------------------------------------------------------ */
/* Output checks                                                            */

static guint32
be32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static gssize
container_skip (const guint8 *type)
{
  static const struct {
    const char *type;
    gsize skip;
  } containers[] = {
      {"moov", 0}, {"trak", 0},  {"mdia", 0},  {"minf", 0},  {"dinf", 0},
      {"stbl", 0}, {"mvex", 0},  {"moof", 0},  {"traf", 0},  {"dref", 8},
      {"stsd", 8}, {"avc1", 78}, {"mp4a", 28}, {"Opus", 28},
  };

  for (guint i = 0; i < G_N_ELEMENTS (containers); i++) {
    if (memcmp (containers[i].type, type, 4) == 0)
      return containers[i].skip;
  }
  return -1;
}

/* Every box in [start, end) has a sane size, and children tile their
 * container exactly. */
static void
check_boxes (const guint8 *d, gsize start, gsize end)
{
  gsize pos = start;

  while (pos < end) {
    guint32 size;
    gssize skip;

    CHECK (end - pos >= 8);
    size = be32 (d + pos);
    CHECK (size >= 8 && size <= end - pos);
    skip = container_skip (d + pos + 4);
    if (skip >= 0) {
      CHECK ((gsize)skip <= size - 8);
      check_boxes (d, pos + 8 + skip, pos + size);
    }
    pos += size;
  }
}

static GByteArray *
prefilled (void)
{
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *)"keep", 4);
  return out;
}

/* The contract of every fallible writer: success appends, failure sets an
 * error and leaves the buffer as it was. */
static void
check_outcome (gboolean ok, const GError *error, const GByteArray *out)
{
  CHECK (out->len >= 4 && memcmp (out->data, "keep", 4) == 0);
  if (ok) {
    CHECK (error == NULL);
  } else {
    CHECK (error != NULL && error->domain == GC_CMAF_ERROR);
    CHECK (out->len == 4);
  }
}

/* ------------------------------------------------------------------------ */
/* Operations                                                               */

static const guint8 good_avcc[] = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1,
                                   0x00, 0x04, 0x67, 0x64, 0x00, 0x1f,
                                   0x01, 0x00, 0x02, 0x68, 0xce};

static void
fuzz_init (Script *s)
{
  GcCmafTrack t = {0};
  g_autoptr (GBytes) codec_data = NULL;
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) codec_error = NULL;
  g_autofree gchar *codec = NULL;
  gchar language[4] = {0};
  guint8 how;
  gboolean ok;

  t.codec = (GcCmafCodec)(take_u8 (s) % 5);
  t.track_id = take_number (s);
  t.timescale = take_number (s);
  t.width = take_number (s);
  t.height = take_number (s);
  t.sample_rate = take_number (s);
  t.channels = take_number (s);
  t.avg_bitrate = take_number (s);
  t.max_bitrate = take_number (s);

  how = take_u8 (s);
  switch (how % 4) {
    case 0: /* none, possibly with a stray size */
      t.codec_data_size = how & 0x80 ? take_u8 (s) : 0;
      break;
    case 1: /* raw bytes */
      codec_data = take_blob (s);
      break;
    case 2: { /* an avcC built from an Annex B access unit */
      g_autoptr (GBytes) au = take_blob (s);
      gsize au_size;
      const guint8 *au_data = g_bytes_get_data (au, &au_size);

      codec_data = gc_h264_avcc_from_annexb (au_data, au_size, NULL);
      break;
    }
    case 3: /* a well-formed configuration for whichever codec */
      if (t.codec == GC_CMAF_CODEC_H264) {
        codec_data = g_bytes_new_static (good_avcc, sizeof good_avcc);
      } else if (t.codec == GC_CMAF_CODEC_AAC) {
        guint8 asc[2] = {take_u8 (s), take_u8 (s)};

        codec_data = g_bytes_new (asc, sizeof asc);
      } else {
        guint8 head[21 + 255] = "OpusHead";
        guint8 channels = take_u8 (s);
        guint8 family = take_u8 (s) & 1;

        head[8] = 1;
        head[9] = channels;
        for (guint i = 10; i < 19; i++)
          head[i] = take_u8 (s);
        head[18] = family;
        head[19] = take_u8 (s);
        head[20] = take_u8 (s);
        for (guint i = 0; i < channels; i++)
          head[21 + i] = take_u8 (s);
        codec_data = g_bytes_new (head, family ? 21 + channels : 19);
      }
      break;
  }
  if (codec_data != NULL)
    t.codec_data = g_bytes_get_data (codec_data, &t.codec_data_size);

  switch (take_u8 (s) % 3) {
    case 0:
      t.language = NULL;
      break;
    case 1:
      t.language = "und";
      break;
    default:
      language[0] = take_u8 (s);
      language[1] = take_u8 (s);
      language[2] = take_u8 (s);
      t.language = language;
      break;
  }

  ok = gc_cmaf_write_init (out, &t, &error);
  check_outcome (ok, error, out);
  if (ok) {
    check_boxes (out->data, 4, out->len);
    CHECK (memcmp (out->data + 8, "ftyp", 4) == 0);
  }

  codec = gc_cmaf_codec_string (&t, &codec_error);
  CHECK ((codec == NULL) == (codec_error != NULL));
  /* A track that makes an init segment always has a codec string. */
  if (ok)
    CHECK (codec != NULL);
}

static void
fuzz_fragment (Script *s)
{
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;
  g_autofree GcCmafSample *samples = NULL;
  g_autofree guint8 *mdat = NULL;
  GcCmafFragment f = {0};
  guint32 track_id = take_number (s);
  guint64 payload = 0;
  guint8 mode;
  gboolean ok;

  f.sequence_number = take_number (s);
  f.decode_time = take_u64 (s);
  f.n_samples = take_u8 (s);
  mode = take_u8 (s);
  if (f.n_samples > 0 && !(mode & 0x40)) {
    samples = g_new0 (GcCmafSample, f.n_samples);
    for (guint i = 0; i < f.n_samples; i++) {
      guint8 kind = take_u8 (s);

      samples[i].duration = take_number (s);
      samples[i].size = kind & 0x80 ? take_u32 (s) : take_number (s);
      samples[i].cts_offset =
          kind & 0x40 ? (gint32)take_u32 (s) : (gint8)take_u8 (s);
      samples[i].sync = kind & 1;
      payload += samples[i].size;
    }
  }
  f.samples = samples;

  /* The payload must really be as long as the sizes say: an exact-size heap
   * block catches any overread. */
  if ((mode & 1) && payload > 0 && payload <= MAX_MDAT) {
    mdat = g_malloc (payload);
    memset (mdat, 0xa5, payload);
  }

  ok = gc_cmaf_write_fragment (out, track_id, &f, mdat, &error);
  check_outcome (ok, error, out);
  if (ok) {
    const guint8 *moof = out->data + 4;
    guint32 moof_size = be32 (moof);
    /* trun follows moof, mfhd, traf, tfhd and tfdt headers and boxes; its
     * data_offset is its fifth word. */
    const guint8 *trun = moof + 8 + 16 + 8 + 16 + 20;

    CHECK (moof_size + 8 + (mdat ? payload : 0) == out->len - 4);
    check_boxes (out->data, 4, 4 + moof_size);
    CHECK (be32 (moof + moof_size) == payload + 8);
    CHECK (memcmp (trun + 4, "trun", 4) == 0);
    CHECK (be32 (trun + 16) == moof_size + 8);
  }
}

static void
fuzz_emsg (Script *s)
{
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *scheme = NULL;
  g_autofree gchar *value = NULL;
  g_autoptr (GBytes) message = NULL;
  GcCmafEmsg e = {0};
  guint8 mode = take_u8 (s);
  gboolean ok;

  e.timescale = take_number (s);
  e.presentation_time = take_u64 (s);
  e.event_duration = take_u32 (s);
  e.id = take_u32 (s);
  if (!(mode & 1))
    scheme = take_string (s);
  if (!(mode & 2))
    value = take_string (s);
  message = take_blob (s);
  e.scheme_id_uri = scheme;
  e.value = value;
  e.message_data = g_bytes_get_data (message, &e.message_data_size);
  if (mode & 4)
    e.message_data_size = 0;

  ok = gc_cmaf_write_emsg (out, &e, &error);
  check_outcome (ok, error, out);
  if (ok)
    CHECK (be32 (out->data + 4) == out->len - 4);
}

static void
fuzz_annexb (Script *s)
{
  g_autoptr (GBytes) au = take_blob (s);
  g_autoptr (GByteArray) out = prefilled ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) avcc_error = NULL;
  g_autoptr (GBytes) avcc = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (au, &size);
  gboolean ok;

  ok = gc_h264_annexb_to_avc (data, size, out, &error);
  check_outcome (ok, error, out);
  if (ok) {
    g_autofree guint8 *avc = g_memdup2 (out->data + 4, out->len - 4);

    /* What we convert is always well-formed with 4-byte lengths. */
    gc_h264_avc_is_keyframe (avc, out->len - 4, 4);
    CHECK (out->len - 4 <= size + 4 * (size / 3 + 1));
  }

  avcc = gc_h264_avcc_from_annexb (data, size, &avcc_error);
  CHECK ((avcc == NULL) == (avcc_error != NULL));
  if (avcc != NULL) {
    GcCmafTrack t = {
        .codec = GC_CMAF_CODEC_H264,
        .track_id = 1,
        .timescale = 90000,
        .width = 64,
        .height = 64,
    };
    g_autoptr (GByteArray) init = g_byte_array_new ();
    g_autofree gchar *codec = NULL;
    guint nal_length_size = 0;

    t.codec_data = g_bytes_get_data (avcc, &t.codec_data_size);
    /* What we build, we must accept. */
    CHECK (gc_h264_avcc_parse (t.codec_data, t.codec_data_size, NULL, NULL,
                               NULL, &nal_length_size, NULL));
    CHECK (nal_length_size == 4);
    CHECK (gc_cmaf_write_init (init, &t, NULL));
    check_boxes (init->data, 0, init->len);
    codec = gc_cmaf_codec_string (&t, NULL);
    CHECK (codec != NULL && strlen (codec) == 11);
  }
}

static void
fuzz_avcc_and_keyframe (Script *s)
{
  g_autoptr (GBytes) blob = take_blob (s);
  g_autoptr (GError) error = NULL;
  guint8 profile = 0, constraints = 0, level = 0;
  guint nal_length_size = 0;
  guint keyframe_length_size = take_u8 (s) % 6;
  gsize size;
  const guint8 *data = g_bytes_get_data (blob, &size);
  gboolean ok;

  ok = gc_h264_avcc_parse (data, size, &profile, &constraints, &level,
                           &nal_length_size, &error);
  CHECK (ok == (error == NULL));
  if (ok)
    CHECK (nal_length_size == 1 || nal_length_size == 2 ||
           nal_length_size == 4);

  gc_h264_avc_is_keyframe (data, size, keyframe_length_size);
}

static guint32
synchsafe (const guint8 *p)
{
  return (p[0] << 21) | (p[1] << 14) | (p[2] << 7) | p[3];
}

static void
fuzz_id3 (Script *s)
{
  g_autofree gchar *description = take_string (s);
  g_autofree gchar *value = take_string (s);
  g_autoptr (GBytes) tag = gc_id3_tag_new_txxx (description, value);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  GcCmafEmsg e = {.timescale = 1000, .scheme_id_uri = GC_CMAF_EMSG_SCHEME_ID3};
  gsize size;
  const guint8 *data = g_bytes_get_data (tag, &size);

  CHECK (size == 20 + 2 + strlen (description) + strlen (value));
  CHECK (synchsafe (data + 6) == size - 10);
  CHECK (synchsafe (data + 14) == size - 20);

  e.message_data = data;
  e.message_data_size = size;
  CHECK (gc_cmaf_write_emsg (out, &e, NULL));
  CHECK (be32 (out->data) == out->len);
}

static void
fuzz_styp (Script *s)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();

  gc_cmaf_write_styp (out);
  CHECK (out->len == 28 && be32 (out->data) == 28);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* Misuse of the API by this harness should crash, not scroll by. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Script s = {data, size, 0};
  guint ops = 0;

  /* A bound on the work per input keeps executions fast. */
  while (s.pos < s.size && ops++ < 32) {
    switch (take_u8 (&s) % 7) {
      case 0:
        fuzz_init (&s);
        break;
      case 1:
        fuzz_fragment (&s);
        break;
      case 2:
        fuzz_emsg (&s);
        break;
      case 3:
        fuzz_annexb (&s);
        break;
      case 4:
        fuzz_avcc_and_keyframe (&s);
        break;
      case 5:
        fuzz_id3 (&s);
        break;
      default:
        fuzz_styp (&s);
        break;
    }
  }
  return 0;
}

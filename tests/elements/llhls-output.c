/* llhls-output.c — reads back what llhlssink wrote, for the element tests:
 * media playlists parsed into segments and parts, CMAF files walked box by box. */

#include "llhls-output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

/* ------------------------------------------------------------------------ */
/* Media playlists                                                          */

static void
pl_part_free (gpointer p)
{
  PlPart *part = p;

  g_free (part->uri);
  g_free (part);
}

static void
pl_segment_free (gpointer p)
{
  PlSegment *seg = p;

  g_free (seg->uri);
  g_free (seg->map);
  g_free (seg->pdt);
  g_ptr_array_unref (seg->parts);
  g_free (seg);
}

void
playlist_free (Playlist *pl)
{
  g_free (pl->text);
  g_free (pl->playlist_type);
  g_ptr_array_unref (pl->segments);
  g_free (pl);
}

/* The value of attribute @name in a tag line, without quotes. */
gchar *
attr_value (const gchar *line, const gchar *name)
{
  g_autofree gchar *key = g_strdup_printf ("%s=", name);
  const gchar *p = line;
  gsize len;

  while ((p = strstr (p, key))) {
    if (p > line && (p[-1] == ':' || p[-1] == ','))
      break;
    p++;
  }
  if (!p)
    return NULL;
  p += strlen (key);
  if (*p == '"')
    return g_strndup (p + 1, strcspn (p + 1, "\""));
  len = strcspn (p, ",");
  return g_strndup (p, len);
}

static gdouble
attr_double (const gchar *line, const gchar *name)
{
  g_autofree gchar *v = attr_value (line, name);

  return v ? g_ascii_strtod (v, NULL) : -1.0;
}

static PlSegment *
pl_open_segment (PlSegment **cur)
{
  if (!*cur) {
    *cur = g_new0 (PlSegment, 1);
    (*cur)->parts = g_ptr_array_new_with_free_func (pl_part_free);
  }
  return *cur;
}

Playlist *
playlist_parse (const gchar *text)
{
  Playlist *pl = g_new0 (Playlist, 1);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  PlSegment *cur = NULL;

  pl->text = g_strdup (text);
  pl->segments = g_ptr_array_new_with_free_func (pl_segment_free);
  fail_unless (g_str_has_prefix (text, "#EXTM3U\n"), "not a playlist:\n%s",
               text);
  for (guint i = 0; lines[i]; i++) {
    const gchar *l = lines[i];

    if (g_str_has_prefix (l, "#EXT-X-TARGETDURATION:")) {
      pl->target_duration = atoi (l + strlen ("#EXT-X-TARGETDURATION:"));
    } else if (g_str_has_prefix (l, "#EXT-X-PART-INF:")) {
      pl->part_target = attr_double (l, "PART-TARGET");
    } else if (g_str_has_prefix (l, "#EXT-X-MEDIA-SEQUENCE:")) {
      pl->media_sequence =
          g_ascii_strtoull (l + strlen ("#EXT-X-MEDIA-SEQUENCE:"), NULL, 10);
    } else if (g_str_has_prefix (l, "#EXT-X-PLAYLIST-TYPE:")) {
      pl->playlist_type = g_strdup (l + strlen ("#EXT-X-PLAYLIST-TYPE:"));
    } else if (g_str_equal (l, "#EXT-X-ENDLIST")) {
      pl->endlist = TRUE;
    } else if (g_str_has_prefix (l, "#EXT-X-PRELOAD-HINT:")) {
      pl->preload_hint = TRUE;
    } else if (g_str_equal (l, "#EXT-X-DISCONTINUITY")) {
      pl_open_segment (&cur)->discontinuity = TRUE;
    } else if (g_str_has_prefix (l, "#EXT-X-MAP:")) {
      pl_open_segment (&cur)->map = attr_value (l, "URI");
    } else if (g_str_has_prefix (l, "#EXT-X-PROGRAM-DATE-TIME:")) {
      pl_open_segment (&cur)->pdt =
          g_strdup (l + strlen ("#EXT-X-PROGRAM-DATE-TIME:"));
    } else if (g_str_has_prefix (l, "#EXT-X-PART:")) {
      PlPart *part = g_new0 (PlPart, 1);
      g_autofree gchar *ind = attr_value (l, "INDEPENDENT");

      part->duration = attr_double (l, "DURATION");
      part->uri = attr_value (l, "URI");
      part->independent = g_strcmp0 (ind, "YES") == 0;
      g_ptr_array_add (pl_open_segment (&cur)->parts, part);
    } else if (g_str_has_prefix (l, "#EXTINF:")) {
      pl_open_segment (&cur)->duration =
          g_ascii_strtod (l + strlen ("#EXTINF:"), NULL);
    } else if (l[0] && l[0] != '#') {
      pl_open_segment (&cur)->uri = g_strdup (l);
      cur->complete = TRUE;
      g_ptr_array_add (pl->segments, cur);
      cur = NULL;
    }
  }
  if (cur && cur->parts->len > 0)
    g_ptr_array_add (pl->segments, cur);
  else if (cur)
    pl_segment_free (cur);
  for (guint i = 0; i < pl->segments->len; i++)
    ((PlSegment *)g_ptr_array_index (pl->segments, i))->msn =
        pl->media_sequence + i;
  return pl;
}

PlSegment *
pl_segment (const Playlist *pl, guint i)
{
  fail_unless (i < pl->segments->len, "playlist has %u segments:\n%s",
               pl->segments->len, pl->text);
  return g_ptr_array_index (pl->segments, i);
}

PlSegment *
pl_find_msn (const Playlist *pl, guint64 msn)
{
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = g_ptr_array_index (pl->segments, i);
    if (seg->msn == msn)
      return seg;
  }
  return NULL;
}

PlPart *
pl_part (const PlSegment *seg, guint i)
{
  fail_unless (i < seg->parts->len,
               "segment %" G_GUINT64_FORMAT " lists %u parts", seg->msn,
               seg->parts->len);
  return g_ptr_array_index (seg->parts, i);
}

guint
pl_complete_count (const Playlist *pl)
{
  guint n = 0;

  for (guint i = 0; i < pl->segments->len; i++)
    n += ((PlSegment *)g_ptr_array_index (pl->segments, i))->complete;
  return n;
}

guint
count_substrings (const gchar *text, const gchar *needle)
{
  guint n = 0;

  for (const gchar *p = text; (p = strstr (p, needle)); p += strlen (needle))
    n++;
  return n;
}

/* Milliseconds since the epoch of "YYYY-MM-DDTHH:MM:SS.mmmZ"; -1 for any
 * other form. */
gint64
pdt_to_ms (const gchar *pdt)
{
  gint y, mo, d, h, mi, s, ms;
  g_autoptr (GDateTime) dt = NULL;

  if (!pdt ||
      !g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                             "[0-9]{2}\\.[0-9]{3}Z$",
                             pdt, 0, 0) ||
      sscanf (pdt, "%d-%d-%dT%d:%d:%d.%d", &y, &mo, &d, &h, &mi, &s, &ms) != 7)
    return -1;
  dt = g_date_time_new_utc (y, mo, d, h, mi, s);
  return dt ? g_date_time_to_unix (dt) * 1000 + ms : -1;
}

/* ------------------------------------------------------------------------ */
/* CMAF boxes                                                               */

static GBytes *
read_file (const gchar *path)
{
  g_autoptr (GError) err = NULL;
  gchar *data = NULL;
  gsize len = 0;

  fail_unless (g_file_get_contents (path, &data, &len, &err), "%s",
               err ? err->message : path);
  return g_bytes_new_take (data, len);
}

/* Byte-wise big-endian reads: box fields are not aligned. */
static guint32
be32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) |
         p[3];
}

static guint64
be64 (const guint8 *p)
{
  return ((guint64)be32 (p) << 32) | be32 (p + 4);
}

typedef struct {
  gchar type[5];
  const guint8 *data; /* payload, after the 8-byte header */
  gsize size;         /* payload size */
} Mp4Box;

/* Reads the box at *@pos of @data; FALSE when it does not fit. */
static gboolean
mp4_next_box (const guint8 *data, gsize len, gsize *pos, Mp4Box *box)
{
  guint32 size;

  if (*pos >= len || len - *pos < 8)
    return FALSE;
  size = be32 (data + *pos);
  if (size < 8 || size > len - *pos)
    return FALSE;
  memcpy (box->type, data + *pos + 4, 4);
  box->type[4] = 0;
  box->data = data + *pos + 8;
  box->size = size - 8;
  *pos += size;
  return TRUE;
}

static gboolean
mp4_child (const guint8 *data, gsize len, const gchar *type, Mp4Box *box)
{
  gsize pos = 0;

  while (mp4_next_box (data, len, &pos, box)) {
    if (g_str_equal (box->type, type))
      return TRUE;
  }
  return FALSE;
}

void
mp4_media_clear (Mp4Media *m)
{
  g_clear_pointer (&m->error, g_free);
}

/* Reads one moof; checks that its trun points exactly at the mdat that
 * follows it and that the mdat holds exactly the samples' bytes. */
static gboolean
mp4_read_moof (const Mp4Box *moof, const Mp4Box *mdat, Mp4Media *m)
{
  Mp4Box traf, tfdt, trun;
  const guint8 *p;
  guint32 flags, count, offset = 0;
  guint64 bytes = 0;
  gsize need;

  if (!mp4_child (moof->data, moof->size, "traf", &traf) ||
      !mp4_child (traf.data, traf.size, "tfdt", &tfdt) ||
      !mp4_child (traf.data, traf.size, "trun", &trun) || trun.size < 8) {
    m->error = g_strdup ("moof without traf/tfdt/trun");
    return FALSE;
  }
  if (m->n_fragments == 0)
    m->tfdt = tfdt.data[0] == 1 ? be64 (tfdt.data + 4) : be32 (tfdt.data + 4);
  p = trun.data;
  flags = be32 (p) & 0xffffff;
  count = be32 (p + 4);
  p += 8;
  if (flags & 0x1) {
    offset = be32 (p);
    p += 4;
  }
  if (flags & 0x4) {
    if (m->n_fragments == 0)
      m->first_flags = be32 (p);
    p += 4;
  }
  need = (gsize)count * (4 * (!!(flags & 0x100) + !!(flags & 0x200) +
                              !!(flags & 0x400) + !!(flags & 0x800)));
  if (count == 0 || (gsize)(p - trun.data) + need != trun.size ||
      !(flags & 0x200)) {
    m->error = g_strdup_printf ("trun of %u samples is malformed", count);
    return FALSE;
  }
  for (guint i = 0; i < count; i++) {
    if (flags & 0x100) {
      m->duration += be32 (p);
      p += 4;
    }
    bytes += be32 (p);
    p += 4;
    if (flags & 0x400) {
      if (i == 0 && m->n_fragments == 0 && !(flags & 0x4))
        m->first_flags = be32 (p);
      p += 4;
    }
    if (flags & 0x800)
      p += 4;
  }
  if (!mdat || !g_str_equal (mdat->type, "mdat")) {
    m->error = g_strdup ("moof not followed by mdat");
    return FALSE;
  }
  if (mdat->size != bytes || offset != moof->size + 8 + 8) {
    m->error = g_strdup_printf ("mdat of %zu bytes for %" G_GUINT64_FORMAT
                                " sample bytes, data offset %u",
                                mdat->size, bytes, offset);
    return FALSE;
  }
  m->n_samples += count;
  m->n_fragments++;
  return TRUE;
}

/* Walks a part or segment file: top-level boxes must tile it exactly, in
 * the order [styp] ([emsg...] moof mdat)+. */
void
mp4_read_media (const gchar *path, Mp4Media *m)
{
  g_autoptr (GBytes) b = NULL;
  gsize len, pos = 0;
  const guint8 *data;
  Mp4Box box, next;

  memset (m, 0, sizeof *m);
  b = read_file (path);
  data = g_bytes_get_data (b, &len);
  while (pos < len) {
    if (!mp4_next_box (data, len, &pos, &box)) {
      m->error = g_strdup_printf ("bad box at byte %zu", pos);
      return;
    }
    if (!m->first_box[0])
      memcpy (m->first_box, box.type, 5);
    if (g_str_equal (box.type, "emsg")) {
      m->n_emsg++;
    } else if (g_str_equal (box.type, "moof")) {
      gsize mdat_pos = pos;
      if (!mp4_next_box (data, len, &mdat_pos, &next) ||
          !mp4_read_moof (&box, &next, m)) {
        if (!m->error)
          m->error = g_strdup ("moof without mdat");
        return;
      }
      pos = mdat_pos;
    } else if (!g_str_equal (box.type, "styp") || pos != box.size + 8) {
      m->error = g_strdup_printf ("unexpected box '%s'", box.type);
      return;
    }
  }
  if (m->n_fragments == 0)
    m->error = g_strdup ("no fragment");
}

void
mp4_emsg_clear (Mp4Emsg *e)
{
  g_clear_pointer (&e->scheme, g_free);
  g_clear_pointer (&e->value, g_free);
  g_clear_pointer (&e->message, g_bytes_unref);
}

/* The first top-level box of a file, which must be a version 1 emsg. */
void
mp4_read_first_emsg (const gchar *path, Mp4Emsg *e)
{
  g_autoptr (GBytes) b = read_file (path);
  gsize len, pos = 0, at;
  const guint8 *data = g_bytes_get_data (b, &len);
  Mp4Box box;

  fail_unless (mp4_next_box (data, len, &pos, &box));
  fail_unless_equals_string (box.type, "emsg");
  fail_unless_equals_int (box.data[0], 1);
  fail_unless (box.size > 4 + 4 + 8 + 4 + 4 + 2);
  e->timescale = be32 (box.data + 4);
  e->presentation_time = be64 (box.data + 8);
  at = 24;
  e->scheme = g_strndup ((const gchar *)box.data + at, box.size - at);
  at += strlen (e->scheme) + 1;
  fail_unless (at < box.size);
  e->value = g_strndup ((const gchar *)box.data + at, box.size - at);
  at += strlen (e->value) + 1;
  fail_unless (at <= box.size);
  e->message = g_bytes_new (box.data + at, box.size - at);
}

/* Width and height of the avc1 sample entry of an init segment. */
void
mp4_read_avc1_size (const gchar *path, guint *width, guint *height)
{
  static const gchar *boxes[] = {"moov", "trak", "mdia", "minf", "stbl"};
  g_autoptr (GBytes) b = read_file (path);
  gsize len;
  const guint8 *data = g_bytes_get_data (b, &len);
  Mp4Box box = {"", data, len}, avc1;

  for (guint i = 0; i < G_N_ELEMENTS (boxes); i++)
    fail_unless (mp4_child (box.data, box.size, boxes[i], &box), "%s: no %s",
                 path, boxes[i]);
  fail_unless (mp4_child (box.data, box.size, "stsd", &box));
  /* stsd: FullBox header and entry_count, then the sample entries. */
  fail_unless (mp4_child (box.data + 8, box.size - 8, "avc1", &avc1));
  /* VisualSampleEntry: 24 bytes of reserved and pre-defined fields. */
  *width = (avc1.data[24] << 8 | avc1.data[25]);
  *height = (avc1.data[26] << 8 | avc1.data[27]);
}

void
test_remove_tree (const gchar *path)
{
  GDir *dir;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) ||
      !g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_unlink (path);
    return;
  }
  dir = g_dir_open (path, 0, NULL);
  if (dir) {
    const gchar *name;
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      test_remove_tree (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

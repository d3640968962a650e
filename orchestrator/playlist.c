/* playlist.c — parses an LL-HLS media playlist into lines tagged with the segment they belong to.
 * Rendering walks those lines again, so whatever the writer put in a playlist survives the origin untouched. */

#include "playlist.h"

#include <math.h>
#include <string.h>

GQuark
gc_playlist_error_quark (void)
{
  return g_quark_from_static_string ("gc-playlist-error-quark");
}

/* The tags the origin treats specially; everything else is copied as is. */
typedef enum {
  TAG_OTHER = 0,
  TAG_EXTM3U,
  TAG_VERSION,
  TAG_TARGETDURATION,
  TAG_MEDIA_SEQUENCE,
  TAG_SERVER_CONTROL,
  TAG_PART_INF,
  TAG_ENDLIST,
  TAG_SKIP,
  TAG_RENDITION_REPORT,
  TAG_PRELOAD_HINT,
  TAG_MAP,
  TAG_DATERANGE,
  TAG_EXTINF,
  TAG_PART,
  TAG_URI,
  TAG_BLANK,
} Tag;

/* Which part of the playlist a line belongs to. Playlist tags apply to the
 * whole playlist wherever they appear; segment lines belong to the segment
 * whose URI follows them; trailer lines come after the newest part. */
typedef enum {
  SCOPE_PLAYLIST,
  SCOPE_SEGMENT,
  SCOPE_TRAILER,
} Scope;

typedef struct {
  const gchar *text; /* points into GcPlaylist.text */
  Tag tag;
  Scope scope;
  guint segment; /* index into GcPlaylist.segments when SCOPE_SEGMENT */
} Line;

typedef struct {
  gdouble duration; /* EXTINF; 0 while the segment is still growing */
  gboolean complete;
  guint n_parts;
  gdouble parts_duration;
} Segment;

struct _GcPlaylist {
  gchar *text;      /* NUL-separated copy of the input lines */
  GArray *lines;    /* Line */
  GArray *segments; /* Segment; the last one may be incomplete */
  GPtrArray *part_uris;

  gint version; /* 0: no EXT-X-VERSION */
  guint target_duration;
  gint64 media_sequence;
  gdouble part_target;
  gdouble can_skip_until;
  gdouble hold_back;
  gdouble part_hold_back;
  gboolean endlist;
  gchar *preload_hint;
};

/* Values beyond these are refused so that msn arithmetic never overflows and
 * hold timeouts stay meaningful. */
#define MAX_MSN ((gint64)1 << 52)
#define MAX_TARGET_DURATION 3600
#define MAX_SECONDS 86400.0

typedef struct {
  const gchar *prefix;
  Tag tag;
  Scope scope;
} TagInfo;

static const TagInfo tag_table[] = {
    {"#EXTM3U", TAG_EXTM3U, SCOPE_PLAYLIST},
    {"#EXT-X-VERSION:", TAG_VERSION, SCOPE_PLAYLIST},
    {"#EXT-X-TARGETDURATION:", TAG_TARGETDURATION, SCOPE_PLAYLIST},
    {"#EXT-X-MEDIA-SEQUENCE:", TAG_MEDIA_SEQUENCE, SCOPE_PLAYLIST},
    {"#EXT-X-SERVER-CONTROL:", TAG_SERVER_CONTROL, SCOPE_PLAYLIST},
    {"#EXT-X-PART-INF:", TAG_PART_INF, SCOPE_PLAYLIST},
    {"#EXT-X-DISCONTINUITY-SEQUENCE:", TAG_OTHER, SCOPE_PLAYLIST},
    {"#EXT-X-PLAYLIST-TYPE:", TAG_OTHER, SCOPE_PLAYLIST},
    {"#EXT-X-INDEPENDENT-SEGMENTS", TAG_OTHER, SCOPE_PLAYLIST},
    {"#EXT-X-START:", TAG_OTHER, SCOPE_PLAYLIST},
    {"#EXT-X-DEFINE:", TAG_OTHER, SCOPE_PLAYLIST},
    {"#EXT-X-I-FRAMES-ONLY", TAG_OTHER, SCOPE_PLAYLIST},
    {"#EXT-X-ENDLIST", TAG_ENDLIST, SCOPE_TRAILER},
    {"#EXT-X-SKIP:", TAG_SKIP, SCOPE_PLAYLIST},
    {"#EXT-X-RENDITION-REPORT:", TAG_RENDITION_REPORT, SCOPE_TRAILER},
    {"#EXT-X-PRELOAD-HINT:", TAG_PRELOAD_HINT, SCOPE_TRAILER},
    {"#EXT-X-MAP:", TAG_MAP, SCOPE_SEGMENT},
    {"#EXT-X-DATERANGE:", TAG_DATERANGE, SCOPE_SEGMENT},
    {"#EXTINF:", TAG_EXTINF, SCOPE_SEGMENT},
    {"#EXT-X-PART:", TAG_PART, SCOPE_SEGMENT},
};

static gboolean
tag_matches (const gchar *line, const gchar *prefix)
{
  gsize n = strlen (prefix);

  if (strncmp (line, prefix, n) != 0)
    return FALSE;
  /* "#EXTM3U" must not match "#EXTM3UX", "#EXT-X-ENDLIST" not "...LISTX" */
  if (prefix[n - 1] != ':' && line[n] != '\0')
    return FALSE;
  return TRUE;
}

static void
classify (const gchar *text, Tag *tag, Scope *scope)
{
  if (text[0] == '\0') {
    *tag = TAG_BLANK;
    *scope = SCOPE_SEGMENT;
    return;
  }
  if (text[0] != '#') {
    *tag = TAG_URI;
    *scope = SCOPE_SEGMENT;
    return;
  }
  for (guint i = 0; i < G_N_ELEMENTS (tag_table); i++) {
    if (tag_matches (text, tag_table[i].prefix)) {
      *tag = tag_table[i].tag;
      *scope = tag_table[i].scope;
      return;
    }
  }
  /* Unknown tags and comments stay with the segment they precede, which is
   * where segment tags (PROGRAM-DATE-TIME, DISCONTINUITY, KEY...) live. */
  *tag = TAG_OTHER;
  *scope = SCOPE_SEGMENT;
}

/* Finds attribute @name in an attribute list (RFC 8216bis 4.2) and returns
 * its value without quotes, or NULL. Tolerates any garbage: a value that
 * cannot be delimited ends the search. */
static gchar *
attr_get (const gchar *list, const gchar *name)
{
  const gchar *p = list;
  gsize name_len = strlen (name);

  while (*p != '\0') {
    const gchar *key = p;
    const gchar *eq = p;
    const gchar *value;
    const gchar *end;
    gboolean quoted;

    while (*eq != '\0' && *eq != '=' && *eq != ',')
      eq++;
    if (*eq != '=')
      return NULL;
    value = eq + 1;
    quoted = (*value == '"');
    if (quoted) {
      end = strchr (value + 1, '"');
      if (end == NULL)
        return NULL;
      end++;
    } else {
      end = value;
      while (*end != '\0' && *end != ',')
        end++;
    }
    if ((gsize)(eq - key) == name_len && strncmp (key, name, name_len) == 0) {
      if (quoted)
        return g_strndup (value + 1, end - value - 2);
      return g_strndup (value, end - value);
    }
    if (*end == ',')
      end++;
    else if (*end != '\0')
      return NULL;
    p = end;
  }
  return NULL;
}

static gboolean
parse_int (const gchar *s, gint64 max, gint64 *out)
{
  guint64 v;

  if (s == NULL || !g_ascii_isdigit (s[0]))
    return FALSE;
  if (!g_ascii_string_to_unsigned (s, 10, 0, (guint64)max, &v, NULL))
    return FALSE;
  *out = (gint64)v;
  return TRUE;
}

/* Parses a decimal-floating-point; stops at @stop (',' for EXTINF). */
static gboolean
parse_seconds (const gchar *s, gchar stop, gdouble *out)
{
  gchar *end = NULL;
  gdouble v;

  if (s == NULL || !(g_ascii_isdigit (s[0]) || s[0] == '.'))
    return FALSE;
  v = g_ascii_strtod (s, &end);
  if (end == s || (*end != '\0' && *end != stop))
    return FALSE;
  if (!isfinite (v) || v < 0 || v > MAX_SECONDS)
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
parse_attr_seconds (const gchar *list, const gchar *name, gdouble *out)
{
  g_autofree gchar *value = attr_get (list, name);

  if (value == NULL)
    return FALSE;
  return parse_seconds (value, '\0', out);
}

static Segment *
current_segment (GcPlaylist *pl)
{
  if (pl->segments->len == 0 ||
      g_array_index (pl->segments, Segment, pl->segments->len - 1).complete) {
    Segment s = {0};
    g_array_append_val (pl->segments, s);
  }
  return &g_array_index (pl->segments, Segment, pl->segments->len - 1);
}

static gboolean
malformed (GError **error, const gchar *what)
{
  g_set_error (error, GC_PLAYLIST_ERROR, GC_PLAYLIST_ERROR_MALFORMED,
               "malformed %s", what);
  return FALSE;
}

static gboolean
parse_line (GcPlaylist *pl, Line *line, gdouble *pending_extinf, GError **error)
{
  const gchar *t = line->text;
  const gchar *value = strchr (t, ':');
  gint64 n;

  value = value ? value + 1 : "";
  switch (line->tag) {
    case TAG_VERSION:
      if (!parse_int (value, 100, &n))
        return malformed (error, "EXT-X-VERSION");
      pl->version = (gint)n;
      break;
    case TAG_TARGETDURATION:
      if (!parse_int (value, MAX_TARGET_DURATION, &n) || n == 0)
        return malformed (error, "EXT-X-TARGETDURATION");
      pl->target_duration = (guint)n;
      break;
    case TAG_MEDIA_SEQUENCE:
      if (!parse_int (value, MAX_MSN, &n))
        return malformed (error, "EXT-X-MEDIA-SEQUENCE");
      pl->media_sequence = n;
      break;
    case TAG_PART_INF:
      if (!parse_attr_seconds (value, "PART-TARGET", &pl->part_target) ||
          pl->part_target <= 0)
        return malformed (error, "EXT-X-PART-INF");
      break;
    case TAG_SERVER_CONTROL:
      /* Absent attributes keep their zero default. */
      parse_attr_seconds (value, "CAN-SKIP-UNTIL", &pl->can_skip_until);
      parse_attr_seconds (value, "HOLD-BACK", &pl->hold_back);
      parse_attr_seconds (value, "PART-HOLD-BACK", &pl->part_hold_back);
      break;
    case TAG_ENDLIST:
      pl->endlist = TRUE;
      break;
    case TAG_PRELOAD_HINT: {
      g_autofree gchar *type = attr_get (value, "TYPE");

      if (g_strcmp0 (type, "PART") == 0) {
        g_free (pl->preload_hint);
        pl->preload_hint = attr_get (value, "URI");
      }
      break;
    }
    case TAG_EXTINF:
      if (!parse_seconds (value, ',', pending_extinf))
        return malformed (error, "EXTINF");
      break;
    case TAG_PART: {
      Segment *s = current_segment (pl);
      g_autofree gchar *uri = attr_get (value, "URI");
      gdouble duration;

      if (uri == NULL || !parse_attr_seconds (value, "DURATION", &duration))
        return malformed (error, "EXT-X-PART");
      s->n_parts++;
      s->parts_duration += duration;
      g_ptr_array_add (pl->part_uris, g_steal_pointer (&uri));
      break;
    }
    case TAG_URI: {
      Segment *s;

      if (*pending_extinf < 0)
        return malformed (error, "segment URI without EXTINF");
      s = current_segment (pl);
      s->duration = *pending_extinf;
      s->complete = TRUE;
      *pending_extinf = -1;
      break;
    }
    default:
      break;
  }
  return TRUE;
}

/**
 * gc_playlist_parse:
 * @text: (array length=length): playlist text, UTF-8, no NUL bytes
 * @length: bytes in @text
 *
 * Returns: (transfer full) (nullable): the parsed playlist, or NULL with
 * @error set when @text is not a media playlist the origin can serve.
 */
GcPlaylist *
gc_playlist_parse (const gchar *text, gsize length, GError **error)
{
  g_autoptr (GcPlaylist) pl = NULL;
  gchar *p;
  gchar *end;
  gdouble pending_extinf = -1;

  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length > GC_PLAYLIST_MAX_SIZE || memchr (text, '\0', length) != NULL ||
      length < 7 || strncmp (text, "#EXTM3U", 7) != 0) {
    g_set_error (error, GC_PLAYLIST_ERROR, GC_PLAYLIST_ERROR_NOT_A_PLAYLIST,
                 "not an M3U8 playlist");
    return NULL;
  }

  pl = g_new0 (GcPlaylist, 1);
  pl->text = g_strndup (text, length);
  pl->lines = g_array_new (FALSE, TRUE, sizeof (Line));
  pl->segments = g_array_new (FALSE, TRUE, sizeof (Segment));
  pl->part_uris = g_ptr_array_new_with_free_func (g_free);

  p = pl->text;
  end = pl->text + length;
  while (p < end) {
    gchar *nl = memchr (p, '\n', end - p);
    gchar *next = nl ? nl + 1 : end;
    Line line = {0};

    if (nl)
      *nl = '\0';
    if (next - 1 > p && nl && nl[-1] == '\r')
      nl[-1] = '\0';
    /* A final newline does not make an extra empty line. */
    if (nl == NULL || p < nl || next < end) {
      line.text = p;
      classify (p, &line.tag, &line.scope);
      /* Whatever follows "#EXTM3U" on the first line, it is the header. */
      if (p == pl->text) {
        line.tag = TAG_EXTM3U;
        line.scope = SCOPE_PLAYLIST;
      }
      if (!parse_line (pl, &line, &pending_extinf, error))
        return NULL;
      line.segment = pl->segments->len;
      if (line.scope == SCOPE_SEGMENT && pl->segments->len > 0 &&
          !g_array_index (pl->segments, Segment, pl->segments->len - 1)
               .complete)
        line.segment = pl->segments->len - 1;
      /* A URI line belongs to the segment it just completed. */
      if (line.tag == TAG_URI)
        line.segment = pl->segments->len - 1;
      g_array_append_val (pl->lines, line);
    }
    p = next;
  }

  if (pl->target_duration == 0) {
    g_set_error (error, GC_PLAYLIST_ERROR, GC_PLAYLIST_ERROR_MALFORMED,
                 "no EXT-X-TARGETDURATION: not a media playlist");
    return NULL;
  }
  return g_steal_pointer (&pl);
}

void
gc_playlist_free (GcPlaylist *playlist)
{
  if (playlist == NULL)
    return;
  g_free (playlist->text);
  g_array_unref (playlist->lines);
  g_array_unref (playlist->segments);
  g_ptr_array_unref (playlist->part_uris);
  g_free (playlist->preload_hint);
  g_free (playlist);
}

gint64
gc_playlist_get_media_sequence (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, 0);
  return playlist->media_sequence;
}

guint
gc_playlist_get_target_duration (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, 0);
  return playlist->target_duration;
}

gdouble
gc_playlist_get_part_target (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, 0);
  return playlist->part_target;
}

gdouble
gc_playlist_get_can_skip_until (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, 0);
  return playlist->can_skip_until;
}

gboolean
gc_playlist_has_endlist (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, FALSE);
  return playlist->endlist;
}

guint
gc_playlist_get_n_segments (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, 0);
  return playlist->segments->len;
}

static guint
n_complete (const GcPlaylist *pl)
{
  guint n = pl->segments->len;

  if (n > 0 && !g_array_index (pl->segments, Segment, n - 1).complete)
    n--;
  return n;
}

gint64
gc_playlist_get_last_complete_msn (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, -1);
  return playlist->media_sequence + (gint64)n_complete (playlist) - 1;
}

void
gc_playlist_get_live_edge (const GcPlaylist *playlist, gint64 *msn,
                           gint64 *part)
{
  const Segment *last;
  guint n;

  g_return_if_fail (playlist != NULL);

  n = playlist->segments->len;
  if (n == 0) {
    *msn = playlist->media_sequence - 1;
    *part = -1;
    return;
  }
  last = &g_array_index (playlist->segments, Segment, n - 1);
  *msn = playlist->media_sequence + n - 1;
  *part = (gint64)last->n_parts - 1;
}

const gchar *
gc_playlist_get_preload_hint (const GcPlaylist *playlist)
{
  g_return_val_if_fail (playlist != NULL, NULL);
  return playlist->preload_hint;
}

gboolean
gc_playlist_satisfies (const GcPlaylist *playlist, gint64 msn, gint64 part)
{
  gint64 edge_msn;
  gint64 edge_part;
  const Segment *last;

  g_return_val_if_fail (playlist != NULL, FALSE);

  /* A finished playlist will never hold more: answer with what there is. */
  if (playlist->endlist)
    return TRUE;
  if (part < 0)
    return gc_playlist_get_last_complete_msn (playlist) >= msn;

  if (playlist->segments->len == 0)
    return FALSE;
  gc_playlist_get_live_edge (playlist, &edge_msn, &edge_part);
  if (edge_msn != msn)
    return edge_msn > msn;
  last =
      &g_array_index (playlist->segments, Segment, playlist->segments->len - 1);
  /* A complete segment that lists no parts holds all of its media. */
  if (last->complete && last->n_parts == 0)
    return TRUE;
  return edge_part >= part;
}

gboolean
gc_playlist_lists_part (const GcPlaylist *playlist, const gchar *uri)
{
  g_return_val_if_fail (playlist != NULL, FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);

  /* Newest parts are at the end and are the ones asked for. */
  for (guint i = playlist->part_uris->len; i > 0; i--) {
    if (strcmp (g_ptr_array_index (playlist->part_uris, i - 1), uri) == 0)
      return TRUE;
  }
  return FALSE;
}

guint
gc_playlist_count_skippable (const GcPlaylist *playlist, gdouble skip_until)
{
  gdouble total = 0;
  gdouble end = 0;
  guint complete;
  guint n = 0;

  g_return_val_if_fail (playlist != NULL, 0);

  if (skip_until <= 0)
    return 0;
  complete = n_complete (playlist);
  for (guint i = 0; i < playlist->segments->len; i++) {
    const Segment *s = &g_array_index (playlist->segments, Segment, i);
    total += s->complete ? s->duration : s->parts_duration;
  }
  /* A segment is skipped only when all of it lies before the skip boundary,
   * and at least one complete segment always stays. */
  for (guint i = 0; i + 1 < complete; i++) {
    end += g_array_index (playlist->segments, Segment, i).duration;
    if (end > total - skip_until)
      break;
    n++;
  }
  return n;
}

static void
append_seconds (GString *out, const gchar *name, gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, ",%s=%s", name,
                          g_ascii_formatd (buf, sizeof buf, "%.3f", value));
}

static void
append_server_control (GString *out, const GcPlaylist *pl, gdouble skip_until)
{
  g_string_append (out, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES");
  if (skip_until > 0) {
    append_seconds (out, "CAN-SKIP-UNTIL", skip_until);
    g_string_append (out, ",CAN-SKIP-DATERANGES=YES");
  }
  if (pl->hold_back > 0)
    append_seconds (out, "HOLD-BACK", pl->hold_back);
  if (pl->part_hold_back > 0)
    append_seconds (out, "PART-HOLD-BACK", pl->part_hold_back);
  else if (pl->part_target > 0)
    /* Required with EXT-X-PART-INF; three part targets is the RFC minimum. */
    append_seconds (out, "PART-HOLD-BACK", 3 * pl->part_target);
  g_string_append_c (out, '\n');
}

static gboolean
has_tag (const GcPlaylist *pl, Tag tag)
{
  for (guint i = 0; i < pl->lines->len; i++) {
    if (g_array_index (pl->lines, Line, i).tag == tag)
      return TRUE;
  }
  return FALSE;
}

gchar *
gc_playlist_render (const GcPlaylist *playlist, GcPlaylistSkip skip,
                    gdouble skip_until, const GcRenditionReport *reports,
                    guint n_reports)
{
  GString *out;
  guint n_skip = 0;
  gboolean have_version;
  gboolean have_control;
  gboolean skip_emitted = FALSE;
  const gchar *skipped_map = NULL;
  gboolean kept_map = FALSE;

  g_return_val_if_fail (playlist != NULL, NULL);
  g_return_val_if_fail (reports != NULL || n_reports == 0, NULL);

  if (skip != GC_PLAYLIST_SKIP_NONE)
    n_skip = gc_playlist_count_skippable (playlist, skip_until);
  have_version = has_tag (playlist, TAG_VERSION);
  have_control = has_tag (playlist, TAG_SERVER_CONTROL);

  /* The first kept segment must still know its init section. */
  for (guint i = 0; i < playlist->lines->len && n_skip > 0; i++) {
    const Line *l = &g_array_index (playlist->lines, Line, i);

    if (l->tag == TAG_MAP && l->scope == SCOPE_SEGMENT) {
      if (l->segment < n_skip)
        skipped_map = l->text;
      else if (l->segment == n_skip)
        kept_map = TRUE;
    }
  }

  out = g_string_sized_new (strlen (playlist->text) + 256);
  for (guint i = 0; i < playlist->lines->len; i++) {
    const Line *l = &g_array_index (playlist->lines, Line, i);

    switch (l->tag) {
      case TAG_VERSION:
        g_string_append_printf (out, "#EXT-X-VERSION:%d\n",
                                n_skip > 0 ? MAX (playlist->version, 9)
                                           : playlist->version);
        continue;
      case TAG_SERVER_CONTROL:
        append_server_control (out, playlist, skip_until);
        continue;
      case TAG_SKIP:
      case TAG_RENDITION_REPORT:
        /* The writer's own, if any, are replaced by the origin's. */
        continue;
      case TAG_EXTM3U:
        g_string_append (out, "#EXTM3U\n");
        if (!have_version && n_skip > 0)
          g_string_append (out, "#EXT-X-VERSION:9\n");
        continue;
      case TAG_TARGETDURATION:
        g_string_append (out, l->text);
        g_string_append_c (out, '\n');
        if (!have_control)
          append_server_control (out, playlist, skip_until);
        continue;
      default:
        break;
    }

    if (l->scope == SCOPE_SEGMENT && l->segment < n_skip) {
      /* Date ranges survive a v1 skip: only v2 clients can rebuild them. */
      if (l->tag == TAG_DATERANGE && skip != GC_PLAYLIST_SKIP_V2)
        g_string_append_printf (out, "%s\n", l->text);
      continue;
    }
    if (n_skip > 0 && !skip_emitted && l->scope == SCOPE_SEGMENT) {
      g_string_append_printf (
          out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%u%s\n", n_skip,
          skip == GC_PLAYLIST_SKIP_V2 ? ",RECENTLY-REMOVED-DATERANGES=\"\""
                                      : "");
      if (skipped_map != NULL && !kept_map)
        g_string_append_printf (out, "%s\n", skipped_map);
      skip_emitted = TRUE;
    }
    if (l->tag == TAG_BLANK)
      continue;
    g_string_append (out, l->text);
    g_string_append_c (out, '\n');
  }

  for (guint i = 0; i < n_reports; i++) {
    g_string_append_printf (
        out, "#EXT-X-RENDITION-REPORT:URI=\"%s\",LAST-MSN=%" G_GINT64_FORMAT,
        reports[i].uri, reports[i].last_msn);
    if (reports[i].last_part >= 0)
      g_string_append_printf (out, ",LAST-PART=%" G_GINT64_FORMAT,
                              reports[i].last_part);
    g_string_append_c (out, '\n');
  }
  return g_string_free (out, FALSE);
}

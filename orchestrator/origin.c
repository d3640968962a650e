/* origin.c — serves an llhlssink directory over HTTP with LL-HLS blocking reload.
 * Routes /live/<channel>/..., validates directives, decides what to hold, and sets the cache headers edges obey. */

#include "origin-private.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "http-util.h"
#include "media-path.h"
#include "origin-error.h"
#include "playback.h"

G_DEFINE_FINAL_TYPE (GcOrigin, gc_origin, G_TYPE_OBJECT)

/* Parts, segments and init sections never change under a name. */
#define IMMUTABLE "public, max-age=31536000, immutable"

void
gc_origin_limits_init (GcOriginLimits *limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_held_per_client = 64;
  limits->max_held_total = 10000;
  limits->cache_bytes = 64 * 1024 * 1024;
  limits->max_file_bytes = 32 * 1024 * 1024;
  limits->default_target_duration = 2;
}

static void
gc_origin_finalize (GObject *object)
{
  GcOrigin *origin = GC_ORIGIN (object);

  gc_origin_shutdown (origin);
  g_clear_object (&origin->playback);
  g_clear_pointer (&origin->cache, gc_part_cache_free);
  g_clear_pointer (&origin->held_per_client, g_hash_table_unref);
  if (origin->root_fd >= 0)
    close (origin->root_fd);
  g_free (origin->root);
  G_OBJECT_CLASS (gc_origin_parent_class)->finalize (object);
}

static void
gc_origin_class_init (GcOriginClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_origin_finalize;
}

static void
gc_origin_init (GcOrigin *origin)
{
  origin->watch_kind = GC_ORIGIN_WATCH_ROOT;
  origin->root_fd = -1;
  origin->root_wd = -1;
  origin->held_per_client =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * gc_origin_new:
 * @media_dir: the folder holding one llhlssink folder per channel
 * @limits: (nullable): limits, or NULL for the defaults
 *
 * Returns: (transfer full) (nullable): a new origin, or NULL with @error.
 */
GcOrigin *
gc_origin_new (const gchar *media_dir, const GcOriginLimits *limits,
               GError **error)
{
  g_autoptr (GcOrigin) origin = NULL;
  g_autofree gchar *real = NULL;

  g_return_val_if_fail (media_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  origin = g_object_new (GC_TYPE_ORIGIN, NULL);
  if (limits != NULL)
    origin->limits = *limits;
  else
    gc_origin_limits_init (&origin->limits);
  if (origin->limits.default_target_duration == 0)
    origin->limits.default_target_duration = 2;

  /* The operator may give a symlink (/dev/shm/...): resolve it once; below
   * the root nothing is ever followed. */
  real = realpath (media_dir, NULL);
  if (real == NULL) {
    int errsv = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 "media folder %s: %s", media_dir, g_strerror (errsv));
    return NULL;
  }
  origin->root = g_steal_pointer (&real);
  origin->root_fd =
      open (origin->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (origin->root_fd < 0) {
    int errsv = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 "media folder %s: %s", origin->root, g_strerror (errsv));
    return NULL;
  }
  origin->cache = gc_part_cache_new (origin->limits.cache_bytes);
  origin->watch = gc_dir_watch_new (gc_origin_on_watch_event, origin, error);
  if (origin->watch == NULL)
    return NULL;
  origin->root_wd =
      gc_dir_watch_add (origin->watch, origin->root,
                        IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM,
                        &origin->watch_kind, error);
  if (origin->root_wd < 0)
    return NULL;
  gc_origin_channels_start (origin);
  return g_steal_pointer (&origin);
}

void
gc_origin_set_playback (GcOrigin *origin, GcPlayback *playback)
{
  g_return_if_fail (GC_IS_ORIGIN (origin));
  g_return_if_fail (playback == NULL || GC_IS_PLAYBACK (playback));

  g_set_object (&origin->playback, playback);
}

void
gc_origin_shutdown (GcOrigin *origin)
{
  g_return_if_fail (GC_IS_ORIGIN (origin));

  if (origin->channels != NULL) {
    g_autoptr (GError) error = g_error_new (
        GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_UNAVAILABLE, "shutting down");
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init (&it, origin->channels);
    while (g_hash_table_iter_next (&it, NULL, &value)) {
      GcOriginChannel *channel = value;
      GHashTableIter rit;
      gpointer rvalue;

      g_hash_table_iter_init (&rit, channel->renditions);
      while (g_hash_table_iter_next (&rit, NULL, &rvalue))
        gc_origin_held_fail_all (rvalue, error);
    }
  }
  gc_origin_channels_stop (origin);
  g_clear_pointer (&origin->watch, gc_dir_watch_free);
}

guint
gc_origin_get_n_held (GcOrigin *origin)
{
  g_return_val_if_fail (GC_IS_ORIGIN (origin), 0);
  return origin->n_held;
}

static gdouble
effective_skip_until (const GcPlaylist *playlist)
{
  gdouble v = gc_playlist_get_can_skip_until (playlist);

  /* RFC 8216bis 4.4.3.8: at least six target durations. */
  if (v <= 0)
    v = 6.0 * gc_playlist_get_target_duration (playlist);
  return v;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *)a, *(const gchar *const *)b);
}

/* Returns: (transfer full): the playlist of @rendition as served for
 * @skip, rendered at most once per change of the channel's playlists. */
static GBytes *
rendered_playlist (GcOriginRendition *rendition, GcPlaylistSkip skip)
{
  GcOriginChannel *channel = rendition->channel;
  const GcPlaylist *playlist = rendition->playlist;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GArray) reports = NULL;
  g_autoptr (GPtrArray) uris = NULL;
  GHashTableIter it;
  gpointer key;
  gpointer value;
  gchar *body;

  if (rendition->rendered[skip] != NULL)
    return g_bytes_ref (rendition->rendered[skip]);

  /* Rendition reports let a player switch renditions with one blocking
   * request (RFC 8216bis 4.4.5.4); ordered by name so that responses for the
   * same state are byte-identical. */
  names = g_ptr_array_new ();
  reports = g_array_new (FALSE, TRUE, sizeof (GcRenditionReport));
  uris = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&it, channel->renditions);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    GcOriginRendition *other = value;

    if (other != rendition && other->playlist != NULL &&
        !gc_playlist_has_endlist (other->playlist))
      g_ptr_array_add (names, key);
  }
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++) {
    GcOriginRendition *other =
        g_hash_table_lookup (channel->renditions, names->pdata[i]);
    GcRenditionReport report;
    gchar *uri = g_strdup_printf ("../%s/media.m3u8", other->name);

    g_ptr_array_add (uris, uri);
    report.uri = uri;
    gc_playlist_get_live_edge (other->playlist, &report.last_msn,
                               &report.last_part);
    g_array_append_val (reports, report);
  }

  body = gc_playlist_render (playlist, skip, effective_skip_until (playlist),
                             (const GcRenditionReport *)reports->data,
                             reports->len);
  rendition->rendered[skip] = g_bytes_new_take (body, strlen (body));
  return g_bytes_ref (rendition->rendered[skip]);
}

void
gc_origin_reply_playlist (GcOrigin *origin, GcOriginRendition *rendition,
                          SoupServerMessage *msg, const GcHlsQuery *query)
{
  const GcPlaylist *playlist = rendition->playlist;
  g_autoptr (GBytes) body = rendered_playlist (rendition, query->skip);
  g_autofree gchar *cache_control = NULL;
  /* Token channels: a query token goes into every URI, so the answer is
   * this viewer's alone (see ORIGIN.md, "Playback tokens"). */
  const gchar *token = gc_playback_request_query_token (msg);
  const gchar *scope = token != NULL ? "private" : "public";
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  SoupMessageBody *response = soup_server_message_get_response_body (msg);

  if (gc_hls_query_is_blocking (query)) {
    /* The directives are part of the URL, so an edge can keep this answer:
     * the same URL always gets the same playlist (or a later one). */
    gdouble part = gc_playlist_get_part_target (playlist);
    gdouble ttl =
        part > 0 ? 6 * part : gc_playlist_get_target_duration (playlist);

    cache_control =
        g_strdup_printf ("%s, max-age=%d", scope, MAX (1, (gint)lround (ttl)));
  } else {
    cache_control = g_strdup_printf ("%s, max-age=1", scope);
  }
  if (token != NULL) {
    GBytes *rewritten = gc_playback_rewrite_playlist (body, token);

    g_bytes_unref (body);
    body = rewritten;
  }
  soup_message_headers_replace (h, "Cache-Control", cache_control);
  soup_message_headers_set_content_type (h, "application/vnd.apple.mpegurl",
                                         NULL);
  gc_http_set_cors (msg);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_truncate (response);
  soup_message_body_append_bytes (response, body);
}

void
gc_origin_reply_media (SoupServerMessage *msg, const gchar *file, GBytes *bytes)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  soup_message_headers_replace (h, "Cache-Control", IMMUTABLE);
  soup_message_headers_set_content_type (h, "video/mp4", NULL);
  gc_http_set_cors (msg);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_truncate (body);
  soup_message_body_append_bytes (body, bytes);
}

/* Parses "part-<msn>.<index>.m4s". */
static gboolean
parse_part_name (const gchar *file, gint64 *msn, gint64 *part)
{
  guint64 m;
  guint64 p;
  g_auto (GStrv) fields = NULL;

  if (!g_str_has_prefix (file, "part-") || !g_str_has_suffix (file, ".m4s"))
    return FALSE;
  fields = g_strsplit (file + 5, ".", -1);
  if (g_strv_length (fields) != 3 ||
      !g_ascii_string_to_unsigned (fields[0], 10, 0, G_MAXINT32, &m, NULL) ||
      !g_ascii_string_to_unsigned (fields[1], 10, 0, G_MAXINT32, &p, NULL))
    return FALSE;
  *msn = (gint64)m;
  *part = (gint64)p;
  return TRUE;
}

/* Whether @file is a part the writer has not published yet but is about to:
 * the playlist's preload hint, or a part beyond the live edge. */
gboolean
gc_origin_part_is_upcoming (GcOriginRendition *rendition, const gchar *file)
{
  const GcPlaylist *playlist = rendition->playlist;
  gint64 msn;
  gint64 part;
  gint64 edge_msn;
  gint64 edge_part;

  if (playlist == NULL || gc_playlist_has_endlist (playlist))
    return FALSE;
  if (g_strcmp0 (gc_playlist_get_preload_hint (playlist), file) == 0)
    return TRUE;
  if (!parse_part_name (file, &msn, &part))
    return FALSE;
  gc_playlist_get_live_edge (playlist, &edge_msn, &edge_part);
  return msn > edge_msn || (msn == edge_msn && part > edge_part);
}

/* Only the very next part may be waited for: anything further is a client
 * bug and must not occupy a held slot for three target durations. */
static gboolean
part_is_next (GcOriginRendition *rendition, const gchar *file)
{
  const GcPlaylist *playlist = rendition->playlist;
  gint64 msn;
  gint64 part;
  gint64 edge_msn;
  gint64 edge_part;

  if (!gc_origin_part_is_upcoming (rendition, file))
    return FALSE;
  if (g_strcmp0 (gc_playlist_get_preload_hint (playlist), file) == 0)
    return TRUE;
  if (!parse_part_name (file, &msn, &part))
    return FALSE;
  gc_playlist_get_live_edge (playlist, &edge_msn, &edge_part);
  return (msn == edge_msn && part == edge_part + 1) ||
         (msn == edge_msn + 1 && part == 0);
}

static void
serve_playlist (GcOrigin *origin, SoupServerMessage *msg,
                GcOriginRendition *rendition, GError **error)
{
  GUri *uri = soup_server_message_get_uri (msg);
  GcHlsQuery query;
  const GcPlaylist *playlist;

  if (!gc_hls_query_parse (g_uri_get_query (uri), &query, error))
    return;
  playlist = rendition->playlist;

  if (!gc_hls_query_is_blocking (&query)) {
    if (playlist == NULL) {
      g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                   "no media playlist yet");
      return;
    }
    gc_origin_reply_playlist (origin, rendition, msg, &query);
    return;
  }

  if (playlist != NULL &&
      gc_playlist_satisfies (playlist, query.msn, query.part)) {
    gc_origin_reply_playlist (origin, rendition, msg, &query);
    return;
  }
  /* RFC 8216bis 6.2.5.2: more than two segments beyond the last one is a
   * client error, not something to wait for. The last segment is the
   * newest one the playlist shows, complete or still growing parts: a
   * player joining while segment 0 grows may rightly ask for segment 2. */
  {
    gint64 last = -1, last_part = -1;

    if (playlist)
      gc_playlist_get_live_edge (playlist, &last, &last_part);

    if (query.msn > last + 2) {
      g_set_error (
          error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_BAD_REQUEST,
          "_HLS_msn=%" G_GINT64_FORMAT
          " is more than two segments beyond the last (%" G_GINT64_FORMAT ")",
          query.msn, last);
      return;
    }
  }
  gc_origin_hold (origin, rendition, msg, GC_ORIGIN_HELD_PLAYLIST, &query, NULL,
                  error);
}

static void
serve_media (GcOrigin *origin, SoupServerMessage *msg,
             GcOriginRendition *rendition, const gchar *file, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) local = NULL;

  bytes = gc_origin_rendition_read_file (rendition, file, &local);
  if (bytes != NULL) {
    gc_origin_reply_media (msg, file, bytes);
    return;
  }
  if (g_error_matches (local, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND) &&
      part_is_next (rendition, file)) {
    gc_origin_hold (origin, rendition, msg, GC_ORIGIN_HELD_PART, NULL, file,
                    error);
    return;
  }
  g_propagate_error (error, g_steal_pointer (&local));
}

static void
serve_multivariant (GcOrigin *origin, SoupServerMessage *msg,
                    GcOriginChannel *channel, GError **error)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  const gchar *token = gc_playback_request_query_token (msg);
  g_autoptr (GBytes) rewritten = NULL;

  if (channel->multivariant == NULL) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no multivariant playlist yet");
    return;
  }
  if (token != NULL)
    rewritten = gc_playback_rewrite_playlist (channel->multivariant, token);
  soup_message_headers_replace (h, "Cache-Control",
                                token != NULL ? "private, max-age=1"
                                              : "public, max-age=1");
  soup_message_headers_set_content_type (h, "application/vnd.apple.mpegurl",
                                         NULL);
  gc_http_set_cors (msg);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_truncate (body);
  soup_message_body_append_bytes (
      body, rewritten != NULL ? rewritten : channel->multivariant);
}

static void
route (GcOrigin *origin, SoupServerMessage *msg, const gchar *rel,
       GError **error)
{
  g_auto (GStrv) parts = gc_media_path_split (rel, error);
  GcOriginChannel *channel;
  GcOriginRendition *rendition;
  guint n;

  if (parts == NULL)
    return;
  /* Before anything is looked up: without a token, a token channel does
   * not even say which of its files exist. */
  if (origin->playback != NULL &&
      !gc_playback_check_request (origin->playback, msg, parts[0], error))
    return;
  n = g_strv_length (parts);
  channel = gc_origin_lookup_channel (origin, parts[0]);
  if (channel == NULL || n < 2) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no such channel");
    return;
  }
  if (n == 2) {
    if (strcmp (parts[1], "index.m3u8") == 0) {
      serve_multivariant (origin, msg, channel, error);
      return;
    }
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no such file");
    return;
  }
  rendition = g_hash_table_lookup (channel->renditions, parts[1]);
  if (rendition == NULL) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no such rendition");
    return;
  }
  if (strcmp (parts[2], "media.m3u8") == 0)
    serve_playlist (origin, msg, rendition, error);
  else if (g_str_has_suffix (parts[2], ".m4s") ||
           g_str_has_suffix (parts[2], ".mp4"))
    serve_media (origin, msg, rendition, parts[2], error);
  else
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no such file");
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  GcOrigin *origin = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  /* The raw, still percent-encoded path: decoding is the attacker's tool. */
  const gchar *raw = g_uri_get_path (soup_server_message_get_uri (msg));
  g_autoptr (GError) error = NULL;

  if (method == SOUP_METHOD_OPTIONS) {
    gc_http_reply_preflight (msg);
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    g_set_error (&error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_METHOD,
                 "method not allowed");
  } else if (origin->channels == NULL) {
    g_set_error (&error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_UNAVAILABLE,
                 "shutting down");
  } else if (!g_str_has_prefix (raw, "/live/")) {
    g_set_error (&error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no such channel");
  } else {
    route (origin, msg, raw + strlen ("/live/"), &error);
  }
  if (error != NULL)
    gc_http_reply_error (msg, error);
}

void
gc_origin_attach (GcOrigin *origin, SoupServer *server, const gchar *mount)
{
  g_return_if_fail (GC_IS_ORIGIN (origin));
  g_return_if_fail (SOUP_IS_SERVER (server));
  g_return_if_fail (g_strcmp0 (mount, "/live") == 0);

  soup_server_add_handler (server, mount, on_request, g_object_ref (origin),
                           g_object_unref);
}

gint64
gc_origin_get_last_part_time (GcOrigin *origin, const gchar *name)
{
  GcOriginChannel *channel;
  GHashTableIter it;
  gpointer value;
  gint64 newest = 0;

  g_return_val_if_fail (GC_IS_ORIGIN (origin), 0);

  channel = origin->channels ? gc_origin_lookup_channel (origin, name) : NULL;
  if (channel == NULL)
    return 0;
  g_hash_table_iter_init (&it, channel->renditions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    GcOriginRendition *r = value;

    newest = MAX (newest, r->last_part_time);
  }
  return newest;
}

void
gc_origin_append_metrics (GcOrigin *origin, GString *out)
{
  GHashTableIter it;
  gpointer value;

  g_return_if_fail (GC_IS_ORIGIN (origin));
  g_return_if_fail (out != NULL);

  g_string_append_printf (
      out,
      "# HELP glasscast_origin_blocked_requests Requests held right now "
      "(blocking reloads and preload hints).\n"
      "# TYPE glasscast_origin_blocked_requests gauge\n"
      "glasscast_origin_blocked_requests %u\n"
      "# HELP glasscast_origin_held_requests_total Requests ever held.\n"
      "# TYPE glasscast_origin_held_requests_total counter\n"
      "glasscast_origin_held_requests_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_origin_held_timeouts_total Held requests answered "
      "503 after three target durations.\n"
      "# TYPE glasscast_origin_held_timeouts_total counter\n"
      "glasscast_origin_held_timeouts_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_origin_held_rejected_total Requests refused a hold "
      "by the per-client or total limit.\n"
      "# TYPE glasscast_origin_held_rejected_total counter\n"
      "glasscast_origin_held_rejected_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_origin_held_abandoned_total Held requests whose "
      "client went away.\n"
      "# TYPE glasscast_origin_held_abandoned_total counter\n"
      "glasscast_origin_held_abandoned_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_origin_cache_bytes Bytes in the part cache.\n"
      "# TYPE glasscast_origin_cache_bytes gauge\n"
      "glasscast_origin_cache_bytes %" G_GSIZE_FORMAT "\n"
      "# HELP glasscast_origin_cache_hits_total Media requests served from "
      "memory.\n"
      "# TYPE glasscast_origin_cache_hits_total counter\n"
      "glasscast_origin_cache_hits_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_origin_cache_misses_total Media requests that read "
      "the disk.\n"
      "# TYPE glasscast_origin_cache_misses_total counter\n"
      "glasscast_origin_cache_misses_total %" G_GUINT64_FORMAT "\n",
      origin->n_held, origin->held_total, origin->held_timeouts,
      origin->held_rejected, origin->held_abandoned,
      gc_part_cache_get_size (origin->cache),
      gc_part_cache_get_hits (origin->cache),
      gc_part_cache_get_misses (origin->cache));

  g_string_append (out, "# HELP glasscast_origin_last_part_timestamp_seconds "
                        "Wall-clock time the newest part of a rendition "
                        "appeared.\n"
                        "# TYPE glasscast_origin_last_part_timestamp_seconds "
                        "gauge\n");
  if (origin->channels == NULL)
    return;
  g_hash_table_iter_init (&it, origin->channels);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    GcOriginChannel *channel = value;
    GHashTableIter rit;
    gpointer rvalue;

    g_hash_table_iter_init (&rit, channel->renditions);
    while (g_hash_table_iter_next (&rit, NULL, &rvalue)) {
      GcOriginRendition *r = rvalue;

      /* Names are [A-Za-z0-9._-] only: safe as label values. */
      if (r->last_part_time > 0)
        g_string_append_printf (
            out,
            "glasscast_origin_last_part_timestamp_seconds{channel=\"%s\","
            "rendition=\"%s\"} %.3f\n",
            channel->name, r->name, r->last_part_time / 1e6);
    }
  }
}

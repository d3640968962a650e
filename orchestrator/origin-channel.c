/* origin-channel.c — keeps the origin's picture of the media folder current: channels, renditions, playlists.
 * Driven only by inotify: a rename into a rendition folder fills the part cache and wakes the held requests. */

#include "origin-private.h"

#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "media-path.h"
#include "origin-error.h"

#define ROOT_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM)
#define CHANNEL_MASK                                                           \
  (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CLOSE_WRITE |      \
   IN_DELETE_SELF | IN_MOVE_SELF)
#define RENDITION_MASK                                                         \
  (IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | \
   IN_MOVE_SELF)

static gboolean
is_media_file (const gchar *name)
{
  return g_str_has_suffix (name, ".m4s") || g_str_has_suffix (name, ".mp4");
}

gchar *
gc_origin_rendition_cache_key (GcOriginRendition *rendition, const gchar *file)
{
  return g_strdup_printf ("%s/%s/%s", rendition->channel->name, rendition->name,
                          file);
}

guint
gc_origin_rendition_target_duration (GcOriginRendition *rendition)
{
  if (rendition->playlist != NULL)
    return gc_playlist_get_target_duration (rendition->playlist);
  return rendition->channel->origin->limits.default_target_duration;
}

static GBytes *
read_from_disk (GcOriginRendition *rendition, const gchar *file, GError **error)
{
  const gchar *components[] = {rendition->channel->name, rendition->name, file,
                               NULL};
  GcOrigin *origin = rendition->channel->origin;

  return gc_media_path_read (origin->root_fd, components,
                             origin->limits.max_file_bytes, error);
}

/* Parts, segments and init sections never change once renamed into place,
 * so whatever is read once is good until the file leaves the folder. */
GBytes *
gc_origin_rendition_read_file (GcOriginRendition *rendition, const gchar *file,
                               GError **error)
{
  GcOrigin *origin = rendition->channel->origin;
  g_autofree gchar *key = gc_origin_rendition_cache_key (rendition, file);
  g_autoptr (GBytes) bytes = gc_part_cache_lookup (origin->cache, key);

  if (bytes != NULL)
    return g_steal_pointer (&bytes);
  bytes = read_from_disk (rendition, file, error);
  if (bytes != NULL && is_media_file (file))
    gc_part_cache_insert (origin->cache, key, bytes);
  return g_steal_pointer (&bytes);
}

static void
rendition_load_playlist (GcOriginRendition *rendition)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = read_from_disk (rendition, "media.m3u8", &error);
  GcPlaylist *playlist;
  gsize size;
  const gchar *data;

  if (bytes == NULL) {
    if (!g_error_matches (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND))
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL",
                        rendition->channel->name, "GC_RENDITION",
                        rendition->name, "MESSAGE",
                        "cannot read media playlist: %s", error->message);
    return;
  }
  data = g_bytes_get_data (bytes, &size);
  playlist = gc_playlist_parse (data, size, &error);
  if (playlist == NULL) {
    /* Keep serving the previous playlist: held clients time out at worst. */
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL",
                      rendition->channel->name, "GC_RENDITION", rendition->name,
                      "MESSAGE", "ignoring unreadable media playlist: %s",
                      error->message);
    return;
  }
  g_clear_pointer (&rendition->playlist, gc_playlist_free);
  rendition->playlist = playlist;
  gc_origin_channel_playlists_changed (rendition->channel);
}

/* Every rendition's served playlist reports its siblings: any change in
 * the channel makes all of them stale. */
void
gc_origin_channel_playlists_changed (GcOriginChannel *channel)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, channel->renditions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    GcOriginRendition *r = value;

    for (guint i = 0; i < G_N_ELEMENTS (r->rendered); i++)
      g_clear_pointer (&r->rendered[i], g_bytes_unref);
  }
}

static void
rendition_file_appeared (GcOriginRendition *rendition, const gchar *name)
{
  GcOrigin *origin = rendition->channel->origin;

  if (strcmp (name, "media.m3u8") == 0) {
    rendition_load_playlist (rendition);
    gc_origin_held_wake (rendition, NULL);
    return;
  }
  if (is_media_file (name)) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *key = gc_origin_rendition_cache_key (rendition, name);
    g_autoptr (GBytes) bytes = read_from_disk (rendition, name, &error);

    if (bytes == NULL) {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "GC_CHANNEL",
                        rendition->channel->name, "MESSAGE",
                        "new media file unreadable: %s", error->message);
      return;
    }
    gc_part_cache_insert (origin->cache, key, bytes);
    if (g_str_has_prefix (name, "part-"))
      rendition->last_part_time = g_get_real_time ();
    gc_origin_held_wake (rendition, name);
  }
}

static void
rendition_free (gpointer data)
{
  GcOriginRendition *rendition = data;
  GcOrigin *origin = rendition->channel->origin;
  g_autoptr (GError) error =
      g_error_new (GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                   "rendition %s is gone", rendition->name);
  g_autofree gchar *prefix =
      g_strdup_printf ("%s/%s/", rendition->channel->name, rendition->name);

  gc_origin_held_fail_all (rendition, error);
  if (rendition->wd >= 0 && origin->watch != NULL)
    gc_dir_watch_remove (origin->watch, rendition->wd);
  gc_part_cache_remove_prefix (origin->cache, prefix);
  g_clear_pointer (&rendition->playlist, gc_playlist_free);
  for (guint i = 0; i < G_N_ELEMENTS (rendition->rendered); i++)
    g_clear_pointer (&rendition->rendered[i], g_bytes_unref);
  g_free (rendition->name);
  g_free (rendition);
}

static gboolean
is_plain_dir (const gchar *path)
{
  GStatBuf st;

  return g_lstat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static void
rendition_add (GcOriginChannel *channel, const gchar *name)
{
  GcOrigin *origin = channel->origin;
  GcOriginRendition *rendition;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;

  if (!gc_media_path_component_is_valid (name) ||
      g_hash_table_contains (channel->renditions, name))
    return;
  path = g_build_filename (origin->root, channel->name, name, NULL);
  if (!is_plain_dir (path))
    return;

  rendition = g_new0 (GcOriginRendition, 1);
  rendition->watch_kind = GC_ORIGIN_WATCH_RENDITION;
  rendition->channel = channel;
  rendition->name = g_strdup (name);
  g_queue_init (&rendition->held);
  rendition->wd =
      gc_dir_watch_add (origin->watch, path, RENDITION_MASK, rendition, &error);
  if (rendition->wd < 0) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL",
                      channel->name, "MESSAGE", "%s", error->message);
    rendition_free (rendition);
    return;
  }
  g_hash_table_insert (channel->renditions, rendition->name, rendition);
  /* Watch first, then read: nothing renamed in between is missed. */
  rendition_load_playlist (rendition);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", channel->name,
                    "GC_RENDITION", name, "MESSAGE", "watching rendition %s/%s",
                    channel->name, name);
}

static void
channel_load_multivariant (GcOriginChannel *channel)
{
  GcOrigin *origin = channel->origin;
  const gchar *components[] = {channel->name, "index.m3u8", NULL};
  g_autoptr (GError) error = NULL;
  GBytes *bytes = gc_media_path_read (origin->root_fd, components,
                                      origin->limits.max_file_bytes, &error);

  if (bytes == NULL)
    return;
  g_clear_pointer (&channel->multivariant, g_bytes_unref);
  channel->multivariant = bytes;
}

static void
channel_scan (GcOriginChannel *channel)
{
  g_autofree gchar *path =
      g_build_filename (channel->origin->root, channel->name, NULL);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    rendition_add (channel, name);
  channel_load_multivariant (channel);
}

static void
channel_free (gpointer data)
{
  GcOriginChannel *channel = data;
  GcOrigin *origin = channel->origin;

  g_hash_table_unref (channel->renditions);
  if (channel->wd >= 0 && origin->watch != NULL)
    gc_dir_watch_remove (origin->watch, channel->wd);
  g_clear_pointer (&channel->multivariant, g_bytes_unref);
  g_free (channel->name);
  g_free (channel);
}

static void
channel_add (GcOrigin *origin, const gchar *name)
{
  GcOriginChannel *channel;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;

  if (!gc_media_path_component_is_valid (name) ||
      g_hash_table_contains (origin->channels, name))
    return;
  path = g_build_filename (origin->root, name, NULL);
  if (!is_plain_dir (path))
    return;

  channel = g_new0 (GcOriginChannel, 1);
  channel->watch_kind = GC_ORIGIN_WATCH_CHANNEL;
  channel->origin = origin;
  channel->name = g_strdup (name);
  channel->renditions =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, rendition_free);
  channel->wd =
      gc_dir_watch_add (origin->watch, path, CHANNEL_MASK, channel, &error);
  if (channel->wd < 0) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL", name,
                      "MESSAGE", "%s", error->message);
    channel_free (channel);
    return;
  }
  g_hash_table_insert (origin->channels, channel->name, channel);
  channel_scan (channel);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", name,
                    "MESSAGE", "watching channel %s", name);
}

static void
root_scan (GcOrigin *origin)
{
  g_autoptr (GDir) dir = g_dir_open (origin->root, 0, NULL);
  const gchar *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    channel_add (origin, name);
}

void
gc_origin_channels_start (GcOrigin *origin)
{
  origin->channels =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, channel_free);
  root_scan (origin);
}

void
gc_origin_channels_stop (GcOrigin *origin)
{
  g_clear_pointer (&origin->channels, g_hash_table_unref);
}

GcOriginChannel *
gc_origin_lookup_channel (GcOrigin *origin, const gchar *name)
{
  return g_hash_table_lookup (origin->channels, name);
}

GcOriginRendition *
gc_origin_lookup_rendition (GcOrigin *origin, const gchar *channel,
                            const gchar *rendition)
{
  GcOriginChannel *c = g_hash_table_lookup (origin->channels, channel);

  return c ? g_hash_table_lookup (c->renditions, rendition) : NULL;
}

/* After lost events, re-read everything: playlists and the folder tree. */
static void
rescan_all (GcOrigin *origin)
{
  GHashTableIter it;
  gpointer value;

  root_scan (origin);
  g_hash_table_iter_init (&it, origin->channels);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    GcOriginChannel *channel = value;
    GHashTableIter rit;
    gpointer rvalue;

    channel_scan (channel);
    g_hash_table_iter_init (&rit, channel->renditions);
    while (g_hash_table_iter_next (&rit, NULL, &rvalue)) {
      rendition_load_playlist (rvalue);
      gc_origin_held_wake (rvalue, NULL);
    }
  }
}

static void
on_root_event (GcOrigin *origin, const gchar *name, guint32 mask)
{
  if (name == NULL || !(mask & IN_ISDIR))
    return;
  if (mask & (IN_CREATE | IN_MOVED_TO))
    channel_add (origin, name);
  else if (mask & (IN_DELETE | IN_MOVED_FROM))
    g_hash_table_remove (origin->channels, name);
}

static void
on_channel_event (GcOriginChannel *channel, const gchar *name, guint32 mask)
{
  if (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
    if (mask & IN_IGNORED)
      channel->wd = -1;
    g_hash_table_remove (channel->origin->channels, channel->name);
    return;
  }
  if (name == NULL)
    return;
  if (mask & IN_ISDIR) {
    if (mask & (IN_CREATE | IN_MOVED_TO))
      rendition_add (channel, name);
    else if (mask & (IN_DELETE | IN_MOVED_FROM))
      g_hash_table_remove (channel->renditions, name);
    gc_origin_channel_playlists_changed (channel);
    return;
  }
  if (strcmp (name, "index.m3u8") == 0) {
    if (mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
      channel_load_multivariant (channel);
    else if (mask & (IN_DELETE | IN_MOVED_FROM))
      g_clear_pointer (&channel->multivariant, g_bytes_unref);
  }
}

static void
on_rendition_event (GcOriginRendition *rendition, const gchar *name,
                    guint32 mask)
{
  GcOriginChannel *channel = rendition->channel;

  if (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
    if (mask & IN_IGNORED)
      rendition->wd = -1;
    g_hash_table_remove (channel->renditions, rendition->name);
    gc_origin_channel_playlists_changed (channel);
    return;
  }
  /* Temporary files (".name.tmp") are never part of the stream. */
  if (name == NULL || name[0] == '.')
    return;
  if (mask & (IN_MOVED_TO | IN_CLOSE_WRITE)) {
    rendition_file_appeared (rendition, name);
  } else if (mask & (IN_DELETE | IN_MOVED_FROM)) {
    g_autofree gchar *key = gc_origin_rendition_cache_key (rendition, name);

    gc_part_cache_remove (channel->origin->cache, key);
  }
}

void
gc_origin_on_watch_event (gpointer cookie, const gchar *name, guint32 mask,
                          gpointer user_data)
{
  GcOrigin *origin = user_data;

  if (cookie == NULL) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "inotify queue overflow: rescanning the media folder");
    rescan_all (origin);
    return;
  }
  switch (*(GcOriginWatchKind *)cookie) {
    case GC_ORIGIN_WATCH_ROOT:
      if (mask & IN_IGNORED) {
        origin->root_wd = -1;
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                          "media folder %s disappeared", origin->root);
      }
      on_root_event (origin, name, mask);
      break;
    case GC_ORIGIN_WATCH_CHANNEL:
      on_channel_event (cookie, name, mask);
      break;
    case GC_ORIGIN_WATCH_RENDITION:
      on_rendition_event (cookie, name, mask);
      break;
  }
}

/* origin.h — GcOrigin serves an llhlssink folder tree over HTTP with the server side of LL-HLS
 * (RFC 8216bis 6.2.5): blocking reload, preload hints, delta updates, rendition reports. */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define GC_TYPE_ORIGIN (gc_origin_get_type ())
G_DECLARE_FINAL_TYPE (GcOrigin, gc_origin, GC, ORIGIN, GObject)

/* orchestrator/playback.h */
struct _GcPlayback;

typedef struct {
  guint max_held_per_client;     /* held requests per client address */
  guint max_held_total;          /* held requests in all */
  gsize cache_bytes;             /* bound of the in-memory part cache */
  gsize max_file_bytes;          /* largest media file served */
  guint default_target_duration; /* seconds, before a playlist exists */
} GcOriginLimits;

/* Fills @limits with the defaults documented in examples/glasscast.ini. */
void gc_origin_limits_init (GcOriginLimits *limits);

/* Starts watching @media_dir (which must exist) for channels.
 * Returns: (transfer full) (nullable): the origin, or NULL with @error. */
GcOrigin *gc_origin_new (const gchar *media_dir, const GcOriginLimits *limits,
                         GError **error);

/* Serves the channels at @mount ("/live") on @server. */
void gc_origin_attach (GcOrigin *origin, SoupServer *server,
                       const gchar *mount);

/* Checks playback tokens (orchestrator/playback.h) on every request of
 * playback=token channels, and writes query tokens into their playlists.
 * @playback: (nullable): NULL serves every channel publicly. */
void gc_origin_set_playback (GcOrigin *origin, struct _GcPlayback *playback);

/* Answers every held request with 503 and stops watching: for shutdown. */
void gc_origin_shutdown (GcOrigin *origin);

/* Number of requests held right now. */
guint gc_origin_get_n_held (GcOrigin *origin);

/* g_get_real_time() when the newest part of any rendition of @channel
 * appeared, or 0 if none has. */
gint64 gc_origin_get_last_part_time (GcOrigin *origin, const gchar *channel);

/* Appends the origin's metrics in Prometheus text format to @out. */
void gc_origin_append_metrics (GcOrigin *origin, GString *out);

G_END_DECLS

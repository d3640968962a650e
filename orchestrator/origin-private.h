/* origin-private.h — the state GcOrigin shares between its files: channels, renditions, held requests.
 * All of it belongs to the main context; nothing here is touched from another thread. */

#pragma once

#include "dir-watch.h"
#include "hls-query.h"
#include "origin.h"
#include "part-cache.h"
#include "playlist.h"

G_BEGIN_DECLS

typedef struct _GcOriginChannel GcOriginChannel;
typedef struct _GcOriginRendition GcOriginRendition;
typedef struct _GcOriginHeld GcOriginHeld;

/* What a dir-watch cookie points to: every watched struct starts with one. */
typedef enum {
  GC_ORIGIN_WATCH_ROOT = 1,
  GC_ORIGIN_WATCH_CHANNEL,
  GC_ORIGIN_WATCH_RENDITION,
} GcOriginWatchKind;

struct _GcOrigin {
  GObject parent_instance;

  GcOriginWatchKind watch_kind; /* GC_ORIGIN_WATCH_ROOT: root cookie */
  gchar *root;
  int root_fd;
  GcOriginLimits limits;
  GcDirWatch *watch;
  gint root_wd;
  GHashTable *channels; /* name -> GcOriginChannel */
  GcPartCache *cache;
  struct _GcPlayback *playback; /* (nullable) playback token checks */

  GHashTable *held_per_client; /* address -> count (GUINT_TO_POINTER) */
  guint n_held;
  guint64 held_total;
  guint64 held_timeouts;
  guint64 held_rejected;
  guint64 held_abandoned;
};

struct _GcOriginChannel {
  GcOriginWatchKind watch_kind; /* GC_ORIGIN_WATCH_CHANNEL */
  GcOrigin *origin;
  gchar *name;
  gint wd;
  GHashTable *renditions; /* name -> GcOriginRendition */
  GBytes *multivariant;   /* (nullable) index.m3u8 */
};

struct _GcOriginRendition {
  GcOriginWatchKind watch_kind; /* GC_ORIGIN_WATCH_RENDITION */
  GcOriginChannel *channel;
  gchar *name;
  gint wd;
  GcPlaylist *playlist;  /* (nullable) until media.m3u8 appears */
  gint64 last_part_time; /* g_get_real_time() of the newest part, or 0 */
  /* The playlist as served, per GcPlaylistSkip: rendered once per change of
   * this rendition or a sibling (rendition reports), shared by every
   * response until then. */
  GBytes *rendered[GC_PLAYLIST_SKIP_V2 + 1];
  GQueue held; /* GcOriginHeld, oldest first */
};

typedef enum {
  GC_ORIGIN_HELD_PLAYLIST, /* blocking playlist reload */
  GC_ORIGIN_HELD_PART,     /* preload hint: a part not written yet */
} GcOriginHeldKind;

struct _GcOriginHeld {
  GcOrigin *origin;
  GcOriginRendition *rendition;
  GList link; /* in rendition->held; data points to this */
  SoupServerMessage *msg;
  GcOriginHeldKind kind;
  GcHlsQuery query; /* GC_ORIGIN_HELD_PLAYLIST */
  gchar *file;      /* GC_ORIGIN_HELD_PART */
  gchar *client;
  guint timeout_id;
  gulong finished_id;
  gulong disconnected_id;
  GSource *hangup_source;
};

/* origin-channel.c */
void gc_origin_channels_start (GcOrigin *origin);
void gc_origin_channels_stop (GcOrigin *origin);
GcOriginChannel *gc_origin_lookup_channel (GcOrigin *origin, const gchar *name);
GcOriginRendition *gc_origin_lookup_rendition (GcOrigin *origin,
                                               const gchar *channel,
                                               const gchar *rendition);
void gc_origin_channel_playlists_changed (GcOriginChannel *channel);
void gc_origin_on_watch_event (gpointer cookie, const gchar *name, guint32 mask,
                               gpointer user_data);
gchar *gc_origin_rendition_cache_key (GcOriginRendition *rendition,
                                      const gchar *file);
GBytes *gc_origin_rendition_read_file (GcOriginRendition *rendition,
                                       const gchar *file, GError **error);
guint gc_origin_rendition_target_duration (GcOriginRendition *rendition);

/* origin-hold.c */
gboolean gc_origin_hold (GcOrigin *origin, GcOriginRendition *rendition,
                         SoupServerMessage *msg, GcOriginHeldKind kind,
                         const GcHlsQuery *query, const gchar *file,
                         GError **error);
void gc_origin_held_wake (GcOriginRendition *rendition, const gchar *file);
void gc_origin_held_fail_all (GcOriginRendition *rendition,
                              const GError *error);

/* origin.c */
void gc_origin_reply_playlist (GcOrigin *origin, GcOriginRendition *rendition,
                               SoupServerMessage *msg, const GcHlsQuery *query);
void gc_origin_reply_media (SoupServerMessage *msg, const gchar *file,
                            GBytes *bytes);
gboolean gc_origin_part_is_upcoming (GcOriginRendition *rendition,
                                     const gchar *file);
gboolean gc_origin_part_is_past (GcOriginRendition *rendition,
                                 const gchar *file);

G_END_DECLS

/* channel.h — GcChannel, one live channel: its settings, its WHIP session, its worker process and health.
 * State belongs to the main context; the worker's events arrive there too. */

#pragma once

#include <gio/gio.h>

#include "config.h"
#include "whip-sdp.h"

G_BEGIN_DECLS

#define GC_TYPE_CHANNEL (gc_channel_get_type ())
G_DECLARE_FINAL_TYPE (GcChannel, gc_channel, GC, CHANNEL, GObject)

typedef enum {
  GC_CHANNEL_STATE_OFFLINE,    /* no worker */
  GC_CHANNEL_STATE_STARTING,   /* worker started, offer not answered yet */
  GC_CHANNEL_STATE_CONNECTING, /* answered; ICE/DTLS under way */
  GC_CHANNEL_STATE_LIVE,       /* media arriving */
  GC_CHANNEL_STATE_STOPPING,   /* publisher left or DELETE: finalising */
} GcChannelState;

const gchar *gc_channel_state_to_string (GcChannelState state);

/* The latest "stats" event of the worker; fields < 0 are unknown. */
typedef struct {
  gdouble bitrate;       /* video, bit/s */
  gdouble audio_bitrate; /* bit/s */
  gdouble fps;
  gint64 width;
  gint64 height;
  gdouble keyframe_interval; /* s between the last two keyframes */
  gint64 packets_received;
  gint64 packets_lost;
  gdouble packet_loss; /* lost / (lost + received), 0..1 */
  gdouble jitter;      /* s */
  gint64 updated;      /* g_get_real_time() of the event; 0: none */
} GcChannelStats;

/* Returns: (transfer full): a channel from @settings; @config (the whole
 * configuration, for workers) must outlive it. */
GcChannel *gc_channel_new (const GcChannelConfig *settings,
                           const GcConfig *config);

const gchar *gc_channel_get_name (GcChannel *channel);
gboolean gc_channel_is_enabled (GcChannel *channel);
/* Returns: (nullable): the stream key hash; NULL: nobody may publish. */
const gchar *gc_channel_get_key_hash (GcChannel *channel);
/* Returns: (nullable): the username (lower-case) of the account owning the
 * channel (its broadcaster); NULL: no owner, only the admin manages it. */
const gchar *gc_channel_get_owner (GcChannel *channel);
/* Whether this channel came from the admin API (stored in data-dir). */
gboolean gc_channel_is_dynamic (GcChannel *channel);
void gc_channel_set_dynamic (GcChannel *channel, gboolean dynamic);

GcChannelState gc_channel_get_state (GcChannel *channel);
/* g_get_real_time() when the channel last went live or offline; 0: never. */
gint64 gc_channel_get_since (GcChannel *channel);
const GcChannelStats *gc_channel_get_stats (GcChannel *channel);
/* Worker exits by GcWorkerExit, for /metrics. */
guint64 gc_channel_get_exits (GcChannel *channel, guint why);
guint64 gc_channel_get_sessions (GcChannel *channel);

/* Returns: (nullable): the current WHIP session id (the last segment of
 * its Location), its ETag (quoted) and offer. */
const gchar *gc_channel_get_session_id (GcChannel *channel);
const gchar *gc_channel_get_etag (GcChannel *channel);
const GcWhipOffer *gc_channel_get_offer (GcChannel *channel);

/* Starts a worker, hands it @sdp (already checked into @offer, taken) and
 * waits for its answer. Fails at once with GC_CHANNEL_ERROR_CONFLICT if a
 * session exists. Cancelling @cancellable (the publisher hung up) stops
 * the worker. */
void gc_channel_publish_async (GcChannel *channel, const gchar *sdp,
                               GcWhipOffer *offer, GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
/* Returns: (transfer full) (nullable): the SDP answer. */
gchar *gc_channel_publish_finish (GcChannel *channel, GAsyncResult *result,
                                  GError **error);

/* Ends session @session_id (DELETE): the worker finalises the playlists and
 * exits. GC_CHANNEL_ERROR_NOT_FOUND if it is not the current session. */
gboolean gc_channel_end_session (GcChannel *channel, const gchar *session_id,
                                 GError **error);

/* Relays the candidates of @frag (trickle ICE, PATCH) to the worker. */
gboolean gc_channel_trickle (GcChannel *channel, const gchar *session_id,
                             const GcWhipFragment *frag, GError **error);

/* Stops the worker, if any, for glasscastd's shutdown. Returns whether one
 * was running ("exited" will follow: see gc_channel_get_state()). */
gboolean gc_channel_shutdown (GcChannel *channel);

G_END_DECLS

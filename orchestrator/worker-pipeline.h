/* worker-pipeline.h — GcWorkerPipeline, the one GStreamer pipeline of a channel worker: built from a
 * gst-launch description, driven by protocol messages, reporting back as protocol messages. */

#pragma once

#include <gst/gst.h>

#include "worker-protocol.h"

G_BEGIN_DECLS

typedef struct _GcWorkerPipeline GcWorkerPipeline;

/* What the worker's command line sets on whipserversrc, and the values of
 * the pipeline's placeholders. */
typedef struct {
  gchar *channel;
  gchar *location;
  gchar *redis;       /* (nullable) the chat service's Redis ({redis}) */
  gchar *chat_events; /* (nullable) its events channel of this channel's room
                         ({chat-events}) */
  gchar *ice_address;
  gchar *stun_server;
  gchar *turn_server; /* a secret: never logged */
  guint udp_port_min;
  guint udp_port_max;
} GcWorkerSettings;

/* @emit is called on the main context with each message for glasscastd;
 * @finished once, with the process exit status, when the pipeline is
 * done (EOS after stop, or a fatal error). */
typedef void (*GcWorkerEmitFunc) (GcWorkerMsg *msg, gpointer user_data);
typedef void (*GcWorkerFinishedFunc) (gint status, gpointer user_data);

/* Builds @description (placeholders replaced, see
 * gc_worker_pipeline_expand()) and sets it PLAYING. Returns: (transfer full) (nullable): the pipeline, or NULL
 * with @error (a parse error, no whipserversrc, a state change failure). */
GcWorkerPipeline *gc_worker_pipeline_new (const gchar *description,
                                          const GcWorkerSettings *settings,
                                          GcWorkerEmitFunc emit,
                                          GcWorkerFinishedFunc finished,
                                          gpointer user_data, GError **error);
void gc_worker_pipeline_free (GcWorkerPipeline *pipeline);

/* Handles one message from glasscastd (offer, candidate, restart, inject,
 * stop). */
void gc_worker_pipeline_handle (GcWorkerPipeline *pipeline, GcWorkerMsg *msg);

/* Ends the session (as "stop"): EOS through the pipeline, then finished. */
void gc_worker_pipeline_stop (GcWorkerPipeline *pipeline, const gchar *why);

/* Returns: (transfer full): a "stats" message for the last interval. */
GcWorkerMsg *gc_worker_pipeline_take_stats (GcWorkerPipeline *pipeline);

/* Returns: (transfer full): @description with {location}, {channel},
 * {redis} and {chat-events} replaced by their values in @settings, quoted
 * for gst_parse_launch ("" when unset). Exposed for tests. */
gchar *gc_worker_pipeline_expand (const gchar *description,
                                  const GcWorkerSettings *settings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcWorkerPipeline, gc_worker_pipeline_free)

G_END_DECLS

/* worker-stats.h — GcWorkerStats, the health a channel worker reports once a second: bitrate, fps,
 * resolution and keyframe interval from whipserversrc's src pads; packet loss and jitter from webrtcbin. */

#pragma once

#include <gst/gst.h>

#include "worker-protocol.h"

G_BEGIN_DECLS

typedef struct _GcWorkerStats GcWorkerStats;

GcWorkerStats *gc_worker_stats_new (void);
void gc_worker_stats_free (GcWorkerStats *stats);

/* Counts what leaves @pad (a video_%u or audio_%u src pad of whipserversrc).
 * Called from any thread. */
void gc_worker_stats_watch_pad (GcWorkerStats *stats, GstPad *pad);

/* Asks @webrtc (nullable) for its RTP statistics; the reply is used by the
 * next gc_worker_stats_take(). */
void gc_worker_stats_poll (GcWorkerStats *stats, GstElement *webrtc);

/* Returns: (transfer full): a "stats" message for the time since the last
 * call; resets the per-interval counters. */
GcWorkerMsg *gc_worker_stats_take (GcWorkerStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcWorkerStats, gc_worker_stats_free)

G_END_DECLS

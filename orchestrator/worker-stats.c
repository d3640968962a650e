/* worker-stats.c — counts bytes, frames and keyframes on the worker's src pads (streaming threads) and
 * reads webrtcbin's get-stats (its own thread); the main loop takes one snapshot a second. */

#include "worker-stats.h"

#include <gst/webrtc/webrtc.h>

typedef struct {
  gboolean is_video;
  guint64 bytes;
  guint64 frames;
  GstClockTime last_key;     /* pts of the newest keyframe */
  GstClockTime key_interval; /* between the newest two */
  gint width;
  gint height;
} PadCounters;

struct _GcWorkerStats {
  GMutex lock; /* guards everything below: pads count on streaming threads */
  GPtrArray *pads; /* PadCounters */
  gint64 since;    /* monotonic µs of the last take */
  gboolean have_rtp;
  gint64 packets_received;
  gint64 packets_lost;
  gdouble jitter;
};

GcWorkerStats *
gc_worker_stats_new (void)
{
  GcWorkerStats *stats = g_new0 (GcWorkerStats, 1);

  g_mutex_init (&stats->lock);
  stats->pads = g_ptr_array_new_with_free_func (g_free);
  stats->since = g_get_monotonic_time ();
  return stats;
}

void
gc_worker_stats_free (GcWorkerStats *stats)
{
  if (stats == NULL)
    return;
  /* Probes hold pointers into pads: the pipeline is gone by now. */
  g_ptr_array_unref (stats->pads);
  g_mutex_clear (&stats->lock);
  g_free (stats);
}

typedef struct {
  GcWorkerStats *stats;
  PadCounters *counters;
} Probe;

static GstPadProbeReturn
on_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Probe *p = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  PadCounters *c = p->counters;

  g_mutex_lock (&p->stats->lock);
  c->bytes += gst_buffer_get_size (buf);
  c->frames++;
  if (c->is_video &&
      !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT) &&
      GST_BUFFER_PTS_IS_VALID (buf)) {
    if (GST_CLOCK_TIME_IS_VALID (c->last_key) &&
        GST_BUFFER_PTS (buf) > c->last_key)
      c->key_interval = GST_BUFFER_PTS (buf) - c->last_key;
    c->last_key = GST_BUFFER_PTS (buf);
  }
  g_mutex_unlock (&p->stats->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_caps (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Probe *p = user_data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;
  GstStructure *s;

  if (GST_EVENT_TYPE (ev) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (ev, &caps);
  s = gst_caps_get_structure (caps, 0);
  g_mutex_lock (&p->stats->lock);
  gst_structure_get_int (s, "width", &p->counters->width);
  gst_structure_get_int (s, "height", &p->counters->height);
  g_mutex_unlock (&p->stats->lock);
  return GST_PAD_PROBE_OK;
}

void
gc_worker_stats_watch_pad (GcWorkerStats *stats, GstPad *pad)
{
  PadCounters *c = g_new0 (PadCounters, 1);
  Probe *p;

  g_return_if_fail (stats != NULL && GST_IS_PAD (pad));

  c->is_video = g_str_has_prefix (GST_PAD_NAME (pad), "video");
  c->last_key = GST_CLOCK_TIME_NONE;
  c->key_interval = GST_CLOCK_TIME_NONE;
  g_mutex_lock (&stats->lock);
  g_ptr_array_add (stats->pads, c);
  g_mutex_unlock (&stats->lock);
  p = g_new0 (Probe, 1);
  p->stats = stats;
  p->counters = c;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, p, g_free);
  p = g_new0 (Probe, 1);
  p->stats = stats;
  p->counters = c;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_caps, p,
                     g_free);
}

static gboolean
sum_inbound (GQuark field, const GValue *value, gpointer user_data)
{
  GcWorkerStats *stats = user_data;
  const GstStructure *s;
  GstWebRTCStatsType type;
  gint64 lost = 0;
  guint64 received = 0;
  gdouble jitter = 0;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL) ||
      type != GST_WEBRTC_STATS_INBOUND_RTP)
    return TRUE;
  gst_structure_get_int64 (s, "packets-lost", &lost);
  gst_structure_get_uint64 (s, "packets-received", &received);
  gst_structure_get_double (s, "jitter", &jitter);
  stats->packets_lost += MAX (lost, 0);
  stats->packets_received += (gint64)received;
  stats->jitter = MAX (stats->jitter, jitter);
  return TRUE;
}

static void
on_rtp_stats (GstPromise *promise, gpointer user_data)
{
  GcWorkerStats *stats = user_data;
  const GstStructure *reply;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return;
  reply = gst_promise_get_reply (promise);
  if (reply == NULL)
    return;
  g_mutex_lock (&stats->lock);
  stats->have_rtp = TRUE;
  stats->packets_lost = 0;
  stats->packets_received = 0;
  stats->jitter = 0;
  gst_structure_foreach (reply, sum_inbound, stats);
  g_mutex_unlock (&stats->lock);
}

void
gc_worker_stats_poll (GcWorkerStats *stats, GstElement *webrtc)
{
  GstPromise *promise;

  g_return_if_fail (stats != NULL);

  if (webrtc == NULL)
    return;
  promise = gst_promise_new_with_change_func (on_rtp_stats, stats, NULL);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

GcWorkerMsg *
gc_worker_stats_take (GcWorkerStats *stats)
{
  GcWorkerMsg *msg = gc_worker_msg_new (GC_WORKER_MSG_STATS);
  gint64 now = g_get_monotonic_time ();
  gdouble seconds;
  gboolean video_seen = FALSE;
  gboolean audio_seen = FALSE;
  guint64 audio_bytes = 0;

  g_return_val_if_fail (stats != NULL, msg);

  g_mutex_lock (&stats->lock);
  seconds = MAX (now - stats->since, 1) / 1e6;
  stats->since = now;
  for (guint i = 0; i < stats->pads->len; i++) {
    PadCounters *c = stats->pads->pdata[i];

    if (!c->is_video) {
      audio_seen = TRUE;
      audio_bytes += c->bytes;
      c->bytes = c->frames = 0;
      continue;
    }
    /* The first video rendition speaks for the channel. */
    if (!video_seen) {
      video_seen = TRUE;
      gc_worker_msg_set_double (msg, "bitrate", c->bytes * 8 / seconds);
      gc_worker_msg_set_double (msg, "fps", c->frames / seconds);
      if (c->width > 0 && c->height > 0) {
        gc_worker_msg_set_int (msg, "width", c->width);
        gc_worker_msg_set_int (msg, "height", c->height);
      }
      if (GST_CLOCK_TIME_IS_VALID (c->key_interval))
        gc_worker_msg_set_double (msg, "keyframe_interval",
                                  (gdouble)c->key_interval / GST_SECOND);
    }
    c->bytes = c->frames = 0;
  }
  if (audio_seen)
    gc_worker_msg_set_double (msg, "audio_bitrate", audio_bytes * 8 / seconds);
  if (stats->have_rtp) {
    gint64 expected = stats->packets_lost + stats->packets_received;

    gc_worker_msg_set_int (msg, "packets_received", stats->packets_received);
    gc_worker_msg_set_int (msg, "packets_lost", stats->packets_lost);
    gc_worker_msg_set_double (
        msg, "packet_loss",
        expected > 0 ? (gdouble)stats->packets_lost / (gdouble)expected : 0.0);
    gc_worker_msg_set_double (msg, "jitter", stats->jitter);
  }
  g_mutex_unlock (&stats->lock);
  return msg;
}

/* worker-pipeline.c — the channel worker's pipeline: gst-launch description in, whipserversrc's offer/stop
 * signals driven from protocol messages, its state changes, bus errors and EOS out as protocol messages. */

#include "worker-pipeline.h"

#include <string.h>

#include "channel-error.h"
#include "worker-stats.h"

/* After "stop", EOS must reach the sinks within this, else we end without
 * it (glasscastd SIGKILLs at its stop-timeout, 5 s by default). */
#define STOP_DEADLINE_MS 4000
/* Same strings as llhlssink's GST_LL_HLS_TIMED_METADATA and whipserversrc's
 * GST_WHIP_SERVER_SRC_ANSWER: the worker loads both as plugins only. */
#define TIMED_METADATA "glasscast/timed-metadata"

struct _GcWorkerPipeline {
  GstElement *pipeline;
  GstElement *src; /* whipserversrc */
  GcWorkerSettings settings;
  GcWorkerEmitFunc emit;
  GcWorkerFinishedFunc finished;
  gpointer user_data;
  guint bus_watch;
  guint stop_timer;
  gboolean stopping;
  gboolean done;
  GcWorkerStats *stats;
  GMutex inject_lock; /* guards injects: taken on the video streaming thread */
  GQueue injects;     /* GstStructure */
  gboolean inject_probe;
};

gchar *
gc_worker_pipeline_expand (const gchar *description,
                           const GcWorkerSettings *settings)
{
  GString *out = g_string_new (NULL);
  const gchar *p = description;

  /* An unset value becomes "": a pipeline that names {redis} still parses
   * on a node without Redis (chatstamp then only stamps capture times). */
  const struct {
    const gchar *name;
    const gchar *value;
  } placeholders[] = {
      {"{location}", settings->location},
      {"{channel}", settings->channel},
      {"{redis}", settings->redis},
      {"{chat-events}", settings->chat_events},
  };

  while (*p != '\0') {
    const gchar *value = NULL;
    gsize skip = 0;

    for (guint i = 0; i < G_N_ELEMENTS (placeholders); i++) {
      if (g_str_has_prefix (p, placeholders[i].name)) {
        value = placeholders[i].value ? placeholders[i].value : "";
        skip = strlen (placeholders[i].name);
        break;
      }
    }
    if (skip == 0) {
      g_string_append_c (out, *p++);
      continue;
    }
    /* gst-launch strings: double quotes, backslash escapes. */
    g_string_append_c (out, '"');
    for (const gchar *v = value; *v != '\0'; v++) {
      if (*v == '"' || *v == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *v);
    }
    g_string_append_c (out, '"');
    p += skip;
  }
  return g_string_free (out, FALSE);
}

static void
emit_error (GcWorkerPipeline *wp, gint64 id, const gchar *code,
            const gchar *message)
{
  g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (GC_WORKER_MSG_ERROR);

  if (id >= 0)
    gc_worker_msg_set_int (msg, "id", id);
  gc_worker_msg_set_string (msg, "code", code);
  gc_worker_msg_set_string (msg, "message", message);
  wp->emit (msg, wp->user_data);
}

static void
finish (GcWorkerPipeline *wp, gint status)
{
  if (wp->done)
    return;
  wp->done = TRUE;
  g_clear_handle_id (&wp->stop_timer, g_source_remove);
  gst_element_set_state (wp->pipeline, GST_STATE_NULL);
  wp->finished (status, wp->user_data);
}

/* ------------------------------------------------------------ lookups */

static gboolean
is_factory (const GValue *value, gconstpointer name)
{
  GstElement *e = g_value_get_object (value);
  GstElementFactory *f = gst_element_get_factory (e);

  return f == NULL || g_strcmp0 (GST_OBJECT_NAME (f), name) != 0;
}

/* Returns: (transfer full) (nullable): the first element of @bin made by
 * factory @name, at any depth. */
static GstElement *
find_by_factory (GstElement *bin, const gchar *name)
{
  g_autoptr (GstIterator) it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue found = G_VALUE_INIT;
  GstElement *e = NULL;

  if (gst_iterator_find_custom (it, (GCompareFunc)is_factory, &found,
                                (gpointer)name)) {
    e = g_value_dup_object (&found);
    g_value_unset (&found);
  }
  return e;
}

/* ------------------------------------------------------------ state */

typedef struct {
  GcWorkerPipeline *wp;
  gint state;
  gchar *reason;
} StateChange;

static const gchar *
state_nick (gint state)
{
  GType type = g_type_from_name ("GstWhipServerSrcState");
  g_autoptr (GEnumClass) klass = NULL;
  GEnumValue *v;

  if (type == 0)
    return "unknown";
  klass = g_type_class_ref (type);
  v = g_enum_get_value (klass, state);
  return v ? v->value_nick : "unknown";
}

static gboolean
report_state (gpointer user_data)
{
  StateChange *sc = user_data;
  g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (GC_WORKER_MSG_STATE);

  gc_worker_msg_set_string (msg, "state", state_nick (sc->state));
  gc_worker_msg_set_string (msg, "reason", sc->reason);
  sc->wp->emit (msg, sc->wp->user_data);
  return G_SOURCE_REMOVE;
}

static void
state_change_free (gpointer data)
{
  StateChange *sc = data;

  g_free (sc->reason);
  g_free (sc);
}

/* Any thread: whipserversrc announces from its signalling and streaming
 * threads. */
static void
on_src_state (GstElement *src, gint state, const gchar *reason,
              gpointer user_data)
{
  StateChange *sc = g_new0 (StateChange, 1);

  sc->wp = user_data;
  sc->state = state;
  sc->reason = g_strdup (reason);
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, report_state, sc,
                              state_change_free);
}

/* GstWhipServerSrcState: 0 idle, 1 connecting, 2 live, 3 ended, 4 failed. */
static gint
src_state (GcWorkerPipeline *wp)
{
  gint state = 0;

  g_object_get (wp->src, "state", &state, NULL);
  return state;
}

/* ------------------------------------------------------------ inject */

static GstPadProbeReturn
on_video_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GcWorkerPipeline *wp = user_data;
  GQueue events = G_QUEUE_INIT;
  GstStructure *s;

  g_mutex_lock (&wp->inject_lock);
  events = wp->injects;
  g_queue_init (&wp->injects);
  g_mutex_unlock (&wp->inject_lock);
  /* Pushed in stream order just before this buffer, from its own streaming
   * thread: llhlssink stamps it with this buffer's running time. */
  while ((s = g_queue_pop_head (&events)) != NULL)
    gst_pad_push_event (pad,
                        gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s));
  return GST_PAD_PROBE_OK;
}

static void
on_src_pad_added (GstElement *src, GstPad *pad, gpointer user_data)
{
  GcWorkerPipeline *wp = user_data;
  gboolean first_video = FALSE;

  gc_worker_stats_watch_pad (wp->stats, pad);
  g_mutex_lock (&wp->inject_lock);
  if (!wp->inject_probe && g_str_has_prefix (GST_PAD_NAME (pad), "video")) {
    wp->inject_probe = TRUE;
    first_video = TRUE;
  }
  g_mutex_unlock (&wp->inject_lock);
  if (first_video)
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_video_buffer, wp,
                       NULL);
}

/* ------------------------------------------------------------ offer */

typedef struct {
  GcWorkerPipeline *wp;
  gint64 id;
  GstStructure *reply; /* (nullable) */
} OfferReply;

static void
offer_reply_free (gpointer data)
{
  OfferReply *r = data;

  if (r->reply != NULL)
    gst_structure_free (r->reply);
  g_free (r);
}

static gboolean
report_offer (gpointer user_data)
{
  OfferReply *r = user_data;
  GcWorkerPipeline *wp = r->wp;
  guint status = 500;
  const gchar *answer;

  if (r->reply != NULL)
    gst_structure_get_uint (r->reply, "status", &status);
  answer = r->reply ? gst_structure_get_string (r->reply, "answer") : NULL;
  if (status == 201 && answer != NULL) {
    g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (GC_WORKER_MSG_ANSWER);

    gc_worker_msg_set_int (msg, "id", r->id);
    gc_worker_msg_set_string (msg, "sdp", answer);
    gc_worker_msg_set_string (
        msg, "session", gst_structure_get_string (r->reply, "session-id"));
    wp->emit (msg, wp->user_data);
    return G_SOURCE_REMOVE;
  }
  {
    const gchar *why =
        r->reply ? gst_structure_get_string (r->reply, "error") : NULL;
    const gchar *code = status == 400   ? "bad_sdp"
                        : status == 406 ? "unsupported"
                        : status == 409 ? "busy"
                        : status == 503 ? "unavailable"
                                        : "internal";

    emit_error (wp, r->id, code, why ? why : "whipserversrc gave no answer");
  }
  return G_SOURCE_REMOVE;
}

/* whipserversrc's thread: hand the reply to the main context. */
static void
on_offer_reply (GstPromise *promise, gpointer user_data)
{
  OfferReply *r = user_data;
  OfferReply *copy = g_new0 (OfferReply, 1);
  const GstStructure *reply;

  copy->wp = r->wp;
  copy->id = r->id;
  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED &&
      (reply = gst_promise_get_reply (promise)) != NULL)
    copy->reply = gst_structure_copy (reply);
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, report_offer, copy,
                              offer_reply_free);
}

static void
handle_offer (GcWorkerPipeline *wp, GcWorkerMsg *msg)
{
  OfferReply *r = g_new0 (OfferReply, 1);
  GstPromise *promise;

  r->wp = wp;
  r->id = gc_worker_msg_get_int (msg, "id", 0);
  promise = gst_promise_new_with_change_func (on_offer_reply, r, g_free);
  g_signal_emit_by_name (wp->src, "offer",
                         gc_worker_msg_get_string (msg, "sdp"), promise);
  gst_promise_unref (promise);
}

static void
handle_candidate (GcWorkerPipeline *wp, GcWorkerMsg *msg)
{
  g_autoptr (GstElement) webrtc = find_by_factory (wp->pipeline, "webrtcbin");
  const gchar *candidate = gc_worker_msg_get_string (msg, "candidate");

  /* whipserversrc has no signal for remote candidates yet; its webrtcbin
   * takes them directly. End-of-candidates needs nothing: libnice keeps
   * checking what it has. */
  if (webrtc == NULL || candidate == NULL)
    return;
  g_signal_emit_by_name (webrtc, "add-ice-candidate",
                         (guint)gc_worker_msg_get_int (msg, "mline", 0),
                         candidate);
}

static void
handle_inject (GcWorkerPipeline *wp, GcWorkerMsg *msg)
{
  const gchar *description = gc_worker_msg_get_string (msg, "description");
  GstStructure *s =
      gst_structure_new (TIMED_METADATA, "text", G_TYPE_STRING,
                         gc_worker_msg_get_string (msg, "text"), NULL);

  if (description != NULL)
    gst_structure_set (s, "description", G_TYPE_STRING, description, NULL);
  g_mutex_lock (&wp->inject_lock);
  g_queue_push_tail (&wp->injects, s);
  g_mutex_unlock (&wp->inject_lock);
}

void
gc_worker_pipeline_handle (GcWorkerPipeline *wp, GcWorkerMsg *msg)
{
  g_return_if_fail (wp != NULL && msg != NULL);

  if (wp->done)
    return;
  switch (gc_worker_msg_get_msg_type (msg)) {
    case GC_WORKER_MSG_OFFER:
      handle_offer (wp, msg);
      break;
    case GC_WORKER_MSG_CANDIDATE:
      handle_candidate (wp, msg);
      break;
    case GC_WORKER_MSG_RESTART:
      emit_error (wp, gc_worker_msg_get_int (msg, "id", -1), "unsupported",
                  "ICE restart is not supported");
      break;
    case GC_WORKER_MSG_INJECT:
      handle_inject (wp, msg);
      break;
    case GC_WORKER_MSG_STOP:
      gc_worker_pipeline_stop (wp, gc_worker_msg_get_string (msg, "reason"));
      break;
    default:
      g_log_structured (
          G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL", wp->settings.channel,
          "MESSAGE", "ignoring \"%s\" from glasscastd",
          gc_worker_msg_type_to_string (gc_worker_msg_get_msg_type (msg)));
      break;
  }
}

/* ------------------------------------------------------------ stop */

static gboolean
on_stop_deadline (gpointer user_data)
{
  GcWorkerPipeline *wp = user_data;

  wp->stop_timer = 0;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL",
                    wp->settings.channel, "MESSAGE",
                    "no EOS %d ms after stop: ending without it",
                    STOP_DEADLINE_MS);
  finish (wp, 0);
  return G_SOURCE_REMOVE;
}

void
gc_worker_pipeline_stop (GcWorkerPipeline *wp, const gchar *why)
{
  gint state;

  g_return_if_fail (wp != NULL);

  if (wp->stopping || wp->done)
    return;
  wp->stopping = TRUE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL",
                    wp->settings.channel, "MESSAGE", "stopping: %s",
                    why ? why : "asked to");
  state = src_state (wp);
  if (state != 0)
    g_signal_emit_by_name (wp->src, "stop");
  /* Before media (idle, connecting) there are no src pads for EOS to
   * travel and nothing to finalise. */
  if (state < 2) {
    finish (wp, 0);
    return;
  }
  wp->stop_timer = g_timeout_add (STOP_DEADLINE_MS, on_stop_deadline, wp);
}

/* ------------------------------------------------------------ bus */

static gboolean
on_bus (GstBus *bus, GstMessage *message, gpointer user_data)
{
  GcWorkerPipeline *wp = user_data;

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_EOS:
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL",
                        wp->settings.channel, "MESSAGE",
                        "end of stream: playlists finalised");
      finish (wp, 0);
      break;
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) error = NULL;
      g_autofree gchar *debug = NULL;
      g_autofree gchar *text = NULL;

      gst_message_parse_error (message, &error, &debug);
      text = g_strdup_printf ("%s: %s", GST_OBJECT_NAME (message->src),
                              error->message);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL",
                        wp->settings.channel, "GC_DEBUG", debug ? debug : "",
                        "MESSAGE", "pipeline error: %s", text);
      emit_error (wp, -1, "pipeline", text);
      finish (wp, 1);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ life */

static void
set_if_given (GstElement *e, const gchar *property, const gchar *value)
{
  if (value != NULL)
    g_object_set (e, property, value, NULL);
}

GcWorkerPipeline *
gc_worker_pipeline_new (const gchar *description,
                        const GcWorkerSettings *settings, GcWorkerEmitFunc emit,
                        GcWorkerFinishedFunc finished, gpointer user_data,
                        GError **error)
{
  g_autoptr (GcWorkerPipeline) wp = g_new0 (GcWorkerPipeline, 1);
  g_autofree gchar *expanded = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GstBus) bus = NULL;
  GstElement *parsed;

  g_return_val_if_fail (description != NULL && settings != NULL, NULL);

  wp->settings = *settings;
  wp->emit = emit;
  wp->finished = finished;
  wp->user_data = user_data;
  wp->stats = gc_worker_stats_new ();
  g_mutex_init (&wp->inject_lock);
  g_queue_init (&wp->injects);

  expanded = gc_worker_pipeline_expand (description, settings);
  parsed = gst_parse_launch_full (expanded, NULL, GST_PARSE_FLAG_FATAL_ERRORS,
                                  &local);
  if (parsed == NULL) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_INTERNAL,
                 "channel pipeline: %s", local->message);
    return NULL;
  }
  if (!GST_IS_PIPELINE (parsed)) {
    wp->pipeline = gst_pipeline_new (settings->channel);
    gst_bin_add (GST_BIN (wp->pipeline), parsed);
  } else {
    wp->pipeline = parsed;
  }
  wp->src = find_by_factory (wp->pipeline, "whipserversrc");
  if (wp->src == NULL) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_INTERNAL,
                 "channel pipeline has no whipserversrc");
    return NULL;
  }
  set_if_given (wp->src, "ice-address", settings->ice_address);
  set_if_given (wp->src, "stun-server", settings->stun_server);
  set_if_given (wp->src, "turn-server", settings->turn_server);
  if (settings->udp_port_min != 0)
    g_object_set (wp->src, "min-rtp-port", settings->udp_port_min,
                  "max-rtp-port", settings->udp_port_max, NULL);
  g_signal_connect (wp->src, "state-changed", G_CALLBACK (on_src_state), wp);
  g_signal_connect (wp->src, "pad-added", G_CALLBACK (on_src_pad_added), wp);

  bus = gst_element_get_bus (wp->pipeline);
  wp->bus_watch = gst_bus_add_watch (bus, on_bus, wp);
  if (gst_element_set_state (wp->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_INTERNAL,
                 "channel pipeline refused to start (see the worker's log)");
    return NULL;
  }
  return g_steal_pointer (&wp);
}

GcWorkerMsg *
gc_worker_pipeline_take_stats (GcWorkerPipeline *wp)
{
  g_autoptr (GstElement) webrtc = NULL;

  g_return_val_if_fail (wp != NULL, NULL);

  /* The reply lands in the next interval's snapshot: a second late at
   * most, and the main loop never waits for webrtcbin. */
  if (!wp->done) {
    webrtc = find_by_factory (wp->pipeline, "webrtcbin");
    gc_worker_stats_poll (wp->stats, webrtc);
  }
  return gc_worker_stats_take (wp->stats);
}

void
gc_worker_pipeline_free (GcWorkerPipeline *wp)
{
  if (wp == NULL)
    return;
  g_clear_handle_id (&wp->stop_timer, g_source_remove);
  g_clear_handle_id (&wp->bus_watch, g_source_remove);
  if (wp->pipeline != NULL)
    gst_element_set_state (wp->pipeline, GST_STATE_NULL);
  gst_clear_object (&wp->src);
  gst_clear_object (&wp->pipeline);
  g_queue_clear_full (&wp->injects, (GDestroyNotify)gst_structure_free);
  g_mutex_clear (&wp->inject_lock);
  g_clear_pointer (&wp->stats, gc_worker_stats_free);
  g_free (wp);
}

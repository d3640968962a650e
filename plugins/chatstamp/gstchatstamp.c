/* gstchatstamp.c — chatstamp: gives every buffer its wall-clock capture time
 * and puts chat messages, tips and moderation actions into the stream as
 * timed metadata at the media time they happened. */

/**
 * SECTION:element-chatstamp
 * @title: chatstamp
 *
 * Sits in a channel pipeline in front of `llhlssink` and does two things.
 *
 * First, it makes sure every buffer carries its wall-clock capture time as a
 * #GstReferenceTimestampMeta with caps `timestamp/x-unix` (ns since the Unix
 * epoch), which `llhlssink` writes as EXT-X-PROGRAM-DATE-TIME. A meta that
 * is already there is kept; else one is made from a `timestamp/x-ntp` meta
 * (RTCP sender reports, as rtpjitterbuffer and webrtcbin add when
 * `add-reference-timestamp-meta` is set); else from the pipeline clock: the
 * running time is mapped to the wall clock through the element's clock and
 * base time, measured once when the first buffer arrives and kept, so
 * consecutive stamps differ exactly by the running time between them. The
 * #GstChatStamp:source property changes that order.
 *
 * Second, it injects sparse events — chat messages, tips, moderation
 * actions — as serialized custom downstream events named
 * "glasscast/timed-metadata" (see GST_LL_HLS_TIMED_METADATA in
 * plugins/llhls/gstllhlssink.h), which `llhlssink` writes as `emsg` ID3
 * boxes in the part covering their time. Each event has `running-time` (the
 * wall-clock stamp mapped to running time through the stamps of the buffers,
 * i.e. the same mapping as the program date time), `text` (the JSON payload
 * as given), `description` "glasscast" and an increasing `id`. An event is
 * pushed just before the first buffer whose capture time is at or after its
 * stamp; an event whose time has already passed goes out at once (or with
 * the next buffer if the streaming thread is busy), carrying its own
 * running time, so `llhlssink` puts it in the next part. Events come from
 * the #GstChatStamp::inject action signal, and from a Redis pub/sub channel
 * (#GstChatStamp:redis-url, #GstChatStamp:redis-channel) read on a thread of
 * the element's own; connection problems are element warnings and the
 * element reconnects with backoff. The message format is in
 * plugins/chatstamp/README.md.
 *
 * One chatstamp per elementary stream (it is an in-place #GstBaseTransform).
 * `llhlssink` copies a timed-metadata event into every video rendition
 * whichever pad it arrives on, so give events to one chatstamp per
 * `llhlssink`, the one on the video stream: the audio stream's chatstamp
 * only stamps capture times.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency ! h264parse ! \
 *     chatstamp ! llhlssink location=/tmp/x
 * ]| Program date times from the pipeline clock.
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency ! h264parse ! \
 *     chatstamp redis-url=unix:/run/redis/redis.sock redis-channel='gc:chat:room:{demo}:events' ! \
 *     llhlssink name=s location=/tmp/live \
 *     audiotestsrc is-live=true ! audioconvert ! avenc_aac ! aacparse ! chatstamp ! s.
 * ]| A channel whose chat messages and tips become `emsg` boxes.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstchatstamp.h"
#include "chatstampredis.h"

#include <json-glib/json-glib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_chat_stamp_debug);
#define GST_CAT_DEFAULT gst_chat_stamp_debug

/* The structure name llhlssink looks for (GST_LL_HLS_TIMED_METADATA); the
 * plugins are built separately, so the string is repeated here. */
#define CHAT_STAMP_TIMED_METADATA "glasscast/timed-metadata"
#define CHAT_STAMP_DESCRIPTION "glasscast"
/* Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
#define NTP_UNIX_OFFSET (G_GUINT64_CONSTANT (2208988800) * GST_SECOND)

#define DEFAULT_SOURCE GST_CHAT_STAMP_SOURCE_AUTO
#define DEFAULT_REDIS_URL NULL
#define DEFAULT_REDIS_CHANNEL NULL

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_REDIS_URL,
  PROP_REDIS_CHANNEL,
};

enum {
  SIGNAL_INJECT,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

/* An event waiting for the buffer at its time. */
typedef struct {
  gint64 wall; /* ns since the epoch */
  guint id;
  gchar *json;
} ChatStampEvent;

struct _GstChatStamp {
  GstBaseTransform parent;

  /* Properties, guarded by the object lock. */
  GstChatStampSource source;
  gchar *redis_url;
  gchar *redis_channel;

  /* Shared by the streaming thread, inject callers and the Redis thread;
   * guarded by `lock`, which is never held while pushing. */
  GMutex lock;
  GQueue pending;     /* ChatStampEvent*, ordered by wall, then id */
  gboolean have_last; /* a buffer was stamped since start or flush */
  gint64 last_rt;     /* running time of the last stamped buffer */
  gint64 last_wall;   /* and its capture time, ns since the epoch */
  guint next_id;

  /* Streaming thread only. */
  gboolean have_clock_map;
  gint64 wall_offset; /* capture time = running time + wall_offset */

  /* Started and stopped by start/stop (pad activation). */
  ChatStampRedis *redis;
  /* Redis thread only: warn once per outage, not on every retry. */
  gboolean redis_warned;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_chat_stamp_parent_class parent_class
G_DEFINE_TYPE (GstChatStamp, gst_chat_stamp, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (chatstamp, "chatstamp", GST_RANK_NONE,
                             GST_TYPE_CHAT_STAMP);

GType
gst_chat_stamp_source_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_CHAT_STAMP_SOURCE_AUTO,
       "Keep timestamp/x-unix, else convert timestamp/x-ntp, else the clock",
       "auto"},
      {GST_CHAT_STAMP_SOURCE_NTP,
       "Prefer timestamp/x-ntp (RTCP sender reports), else as auto", "ntp"},
      {GST_CHAT_STAMP_SOURCE_CLOCK,
       "Always the pipeline clock, replacing upstream timestamp/x-unix",
       "clock"},
      {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstChatStampSource", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
chat_stamp_event_free (ChatStampEvent *e)
{
  g_free (e->json);
  g_free (e);
}

/* ------------------------------------------------------ capture time */

static GstCaps *
chat_stamp_unix_caps (void)
{
  static GstStaticCaps caps = GST_STATIC_CAPS ("timestamp/x-unix");

  return gst_static_caps_get (&caps);
}

static GstCaps *
chat_stamp_ntp_caps (void)
{
  static GstStaticCaps caps = GST_STATIC_CAPS ("timestamp/x-ntp");

  return gst_static_caps_get (&caps);
}

static gboolean
chat_stamp_drop_unix_meta (GstBuffer *buffer, GstMeta **meta,
                           gpointer user_data)
{
  GstCaps *unix_caps = user_data;

  if ((*meta)->info->api == GST_REFERENCE_TIMESTAMP_META_API_TYPE &&
      gst_caps_is_equal (((GstReferenceTimestampMeta *)*meta)->reference,
                         unix_caps))
    *meta = NULL;
  return TRUE;
}

/* Capture time of running time @rt through the pipeline clock. The offset
 * between the two is measured once, so the stamps never jitter with the
 * moment a buffer happens to be processed. */
static gint64
gst_chat_stamp_clock_time (GstChatStamp *self, GstClockTime rt)
{
  if (!self->have_clock_map) {
    g_autoptr (GstClock) clock = gst_element_get_clock (GST_ELEMENT (self));
    GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));

    if (clock && GST_CLOCK_TIME_IS_VALID (base)) {
      GstClockTime cnow = gst_clock_get_time (clock);
      gint64 now = g_get_real_time () * 1000;
      /* Running time `rt` is clock time base + rt, which was
       * (cnow - base - rt) before now. */
      self->wall_offset = now - ((gint64)cnow - (gint64)base);
    } else {
      /* No clock (not in a pipeline): the first buffer is "now". */
      self->wall_offset = g_get_real_time () * 1000 - (gint64)rt;
    }
    self->have_clock_map = TRUE;
    GST_DEBUG_OBJECT (
        self, "running time 0 is %" G_GINT64_FORMAT " ns after the epoch",
        self->wall_offset);
  }
  return (gint64)rt + self->wall_offset;
}

/* Makes sure @buffer (writable) carries a timestamp/x-unix meta and returns
 * its value. */
static gint64
gst_chat_stamp_stamp (GstChatStamp *self, GstBuffer *buffer, GstClockTime rt)
{
  GstCaps *unix_caps = chat_stamp_unix_caps ();
  GstReferenceTimestampMeta *unix_meta, *ntp_meta;
  GstChatStampSource source;
  gint64 wall;

  GST_OBJECT_LOCK (self);
  source = self->source;
  GST_OBJECT_UNLOCK (self);

  unix_meta = gst_buffer_get_reference_timestamp_meta (buffer, unix_caps);
  ntp_meta =
      gst_buffer_get_reference_timestamp_meta (buffer, chat_stamp_ntp_caps ());
  /* An NTP time before 1970 is no sender report (rtpjitterbuffer leaves 0
   * when it has none yet). */
  if (ntp_meta && ntp_meta->timestamp <= NTP_UNIX_OFFSET)
    ntp_meta = NULL;

  if (unix_meta && source == GST_CHAT_STAMP_SOURCE_AUTO)
    return (gint64)unix_meta->timestamp;
  if (unix_meta && source == GST_CHAT_STAMP_SOURCE_NTP && !ntp_meta)
    return (gint64)unix_meta->timestamp;

  if (unix_meta)
    gst_buffer_foreach_meta (buffer, chat_stamp_drop_unix_meta, unix_caps);
  if (ntp_meta && source != GST_CHAT_STAMP_SOURCE_CLOCK)
    wall = (gint64)(ntp_meta->timestamp - NTP_UNIX_OFFSET);
  else
    wall = gst_chat_stamp_clock_time (self, rt);
  if (wall < 0)
    wall = 0;
  gst_buffer_add_reference_timestamp_meta (buffer, unix_caps, (guint64)wall,
                                           GST_CLOCK_TIME_NONE);
  return wall;
}

/* ------------------------------------------------------ events */

/* Called with self->lock held and have_last set: the running time of an
 * event, through the last buffer's own capture time so that it lines up
 * with the program date time written for that buffer. */
static GstEvent *
gst_chat_stamp_event_new (GstChatStamp *self, const ChatStampEvent *e)
{
  gint64 rt = self->last_rt + (e->wall - self->last_wall);

  return gst_event_new_custom (
      GST_EVENT_CUSTOM_DOWNSTREAM,
      gst_structure_new (CHAT_STAMP_TIMED_METADATA, "running-time",
                         G_TYPE_UINT64, (guint64)MAX (rt, 0), "text",
                         G_TYPE_STRING, e->json, "description", G_TYPE_STRING,
                         CHAT_STAMP_DESCRIPTION, "id", G_TYPE_UINT, e->id,
                         NULL));
}

/* Called with self->lock held: the events due by the last buffer's capture
 * time (all of them when @all), removed from the queue, as GstEvents. */
static GQueue
gst_chat_stamp_take_due (GstChatStamp *self, gboolean all)
{
  GQueue due = G_QUEUE_INIT;

  if (!self->have_last)
    return due;
  while (!g_queue_is_empty (&self->pending)) {
    ChatStampEvent *e = g_queue_peek_head (&self->pending);
    if (!all && e->wall > self->last_wall)
      break;
    g_queue_pop_head (&self->pending);
    g_queue_push_tail (&due, gst_chat_stamp_event_new (self, e));
    chat_stamp_event_free (e);
  }
  return due;
}

static void
gst_chat_stamp_push_events (GstChatStamp *self, GQueue *events)
{
  GstPad *srcpad = GST_BASE_TRANSFORM_SRC_PAD (self);
  GstEvent *ev;

  while ((ev = g_queue_pop_head (events))) {
    GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT,
                    gst_event_get_structure (ev));
    if (!gst_pad_push_event (srcpad, ev))
      GST_DEBUG_OBJECT (self, "timed metadata event not handled downstream");
  }
}

void
gst_chat_stamp_inject (GstChatStamp *self, const gchar *json,
                       gint64 wallclock_ns)
{
  GstPad *sinkpad;
  ChatStampEvent *e;
  GList *l;
  gboolean past;

  g_return_if_fail (GST_IS_CHAT_STAMP (self));
  g_return_if_fail (json != NULL);

  e = g_new0 (ChatStampEvent, 1);
  e->wall = wallclock_ns;
  e->json = g_strdup (json);

  g_mutex_lock (&self->lock);
  e->id = ++self->next_id;
  /* Stamps arrive nearly in order: search from the tail. */
  for (l = self->pending.tail; l; l = l->prev) {
    if (((ChatStampEvent *)l->data)->wall <= e->wall)
      break;
  }
  if (l)
    g_queue_insert_after (&self->pending, l, e);
  else
    g_queue_push_head (&self->pending, e);
  past = self->have_last && e->wall <= self->last_wall;
  /* The log line says where the event will go: before the next buffer when
   * it is already past (tests read it to tell a late arrival from a
   * misplaced event). */
  if (past)
    GST_DEBUG_OBJECT (self,
                      "event %u at %" G_GINT64_FORMAT
                      " ns already past: the last buffer was captured at "
                      "%" G_GINT64_FORMAT " ns",
                      e->id, e->wall, self->last_wall);
  else
    GST_DEBUG_OBJECT (self, "event %u at %" G_GINT64_FORMAT " ns", e->id,
                      e->wall);
  g_mutex_unlock (&self->lock);

  if (!past)
    return;
  /* An event in the past need not wait for a buffer. Pushing it from this
   * thread is safe only while no buffer is on its way through the element,
   * which the sink pad's stream lock says; if a buffer is, the streaming
   * thread sends the event with it or with the next one. Never wait here:
   * the caller may be the application's main loop. */
  sinkpad = GST_BASE_TRANSFORM_SINK_PAD (self);
  if (GST_PAD_STREAM_TRYLOCK (sinkpad)) {
    GQueue due;

    g_mutex_lock (&self->lock);
    due = gst_chat_stamp_take_due (self, FALSE);
    g_mutex_unlock (&self->lock);
    gst_chat_stamp_push_events (self, &due);
    GST_PAD_STREAM_UNLOCK (sinkpad);
  }
}

static void
gst_chat_stamp_inject_signal (GstChatStamp *self, const gchar *json,
                              gint64 wallclock_ms)
{
  gst_chat_stamp_inject (self, json, wallclock_ms * (gint64)GST_MSECOND);
}

/* ------------------------------------------------------ Redis */

static gboolean
chat_stamp_json_ts (JsonObject *o, gint64 *ms)
{
  JsonNode *n = o ? json_object_get_member (o, "ts") : NULL;

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      *ms = json_node_get_int (n);
      return TRUE;
    case G_TYPE_DOUBLE:
      *ms = (gint64)json_node_get_double (n);
      return TRUE;
    default:
      return FALSE;
  }
}

/* The string member @name, else @def (also when it is of another JSON
 * type: json-glib's own getter would raise a critical). */
static const gchar *
chat_stamp_json_string (JsonObject *o, const gchar *name, const gchar *def)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_STRING)
    return def;
  return json_node_get_string (n);
}

static JsonObject *
chat_stamp_json_child (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* On the Redis thread: one published message. */
static void
gst_chat_stamp_redis_message (const gchar *payload, gpointer user_data)
{
  GstChatStamp *self = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = NULL;
  JsonNode *root;
  JsonObject *o;
  const gchar *kind;
  gint64 ms;

  if (!json_parser_load_from_data (parser, payload, -1, &err)) {
    GST_WARNING_OBJECT (self, "ignoring a Redis message that is no JSON: %s",
                        err->message);
    return;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    GST_WARNING_OBJECT (self, "ignoring a Redis message that is no object");
    return;
  }
  o = json_node_get_object (root);
  /* The chat service's envelopes name themselves with `kind`; held messages
   * are not shown to viewers and resync is internal to the nodes. */
  kind = chat_stamp_json_string (o, "kind",
                                 chat_stamp_json_string (o, "type", ""));
  if (g_str_equal (kind, "held") || g_str_equal (kind, "resync"))
    return;
  if (!chat_stamp_json_ts (o, &ms) &&
      !chat_stamp_json_ts (chat_stamp_json_child (o, "message"), &ms) &&
      !chat_stamp_json_ts (chat_stamp_json_child (o, "tip"), &ms)) {
    GST_DEBUG_OBJECT (self, "message without ts, stamped on arrival");
    ms = g_get_real_time () / 1000;
  }
  gst_chat_stamp_inject (self, payload, ms * (gint64)GST_MSECOND);
}

/* On the Redis thread: the connection came up (@error NULL) or failed. */
static void
gst_chat_stamp_redis_status (const gchar *error, gpointer user_data)
{
  GstChatStamp *self = user_data;

  if (!error) {
    GST_INFO_OBJECT (self, "subscribed to Redis");
    self->redis_warned = FALSE;
    return;
  }
  GST_DEBUG_OBJECT (self, "%s", error);
  if (!self->redis_warned) {
    /* The stream goes on without events, and the element keeps trying. */
    GST_ELEMENT_WARNING (self, RESOURCE, READ, ("%s", error),
                         ("retrying with backoff"));
    self->redis_warned = TRUE;
  }
}

/* ------------------------------------------------------ GstBaseTransform */

static gboolean
gst_chat_stamp_start (GstBaseTransform *trans)
{
  GstChatStamp *self = GST_CHAT_STAMP (trans);
  g_autofree gchar *url = NULL;
  g_autofree gchar *channel = NULL;
  g_autoptr (GError) err = NULL;

  self->have_clock_map = FALSE;
  g_mutex_lock (&self->lock);
  self->have_last = FALSE;
  g_mutex_unlock (&self->lock);

  GST_OBJECT_LOCK (self);
  url = g_strdup (self->redis_url);
  channel = g_strdup (self->redis_channel);
  GST_OBJECT_UNLOCK (self);
  if (!url || !*url)
    return TRUE;
  if (!channel || !*channel) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
                         ("redis-url is set but redis-channel is not"),
                         ("not subscribing to Redis"));
    return TRUE;
  }
  self->redis_warned = FALSE;
  self->redis =
      chat_stamp_redis_start (url, channel, gst_chat_stamp_redis_message,
                              gst_chat_stamp_redis_status, self, &err);
  if (!self->redis)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("%s", err->message),
                         ("not subscribing to Redis"));
  return TRUE;
}

static gboolean
gst_chat_stamp_stop (GstBaseTransform *trans)
{
  GstChatStamp *self = GST_CHAT_STAMP (trans);

  g_clear_pointer (&self->redis, chat_stamp_redis_stop);
  g_mutex_lock (&self->lock);
  g_queue_clear_full (&self->pending, (GDestroyNotify)chat_stamp_event_free);
  self->have_last = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_chat_stamp_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstChatStamp *self = GST_CHAT_STAMP (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS: {
      /* Events still ahead of the stream end go out now, at their own
       * times; llhlssink writes overdue metadata into the last part. */
      GQueue due;
      g_mutex_lock (&self->lock);
      due = gst_chat_stamp_take_due (self, TRUE);
      g_mutex_unlock (&self->lock);
      gst_chat_stamp_push_events (self, &due);
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      /* Running times restart with the new segment; waiting events stay
       * queued by wall-clock time and map through the next buffer. */
      g_mutex_lock (&self->lock);
      self->have_last = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static GstFlowReturn
gst_chat_stamp_transform_ip (GstBaseTransform *trans, GstBuffer *buffer)
{
  GstChatStamp *self = GST_CHAT_STAMP (trans);
  /* Capture time is presentation time; DTS only when there is no PTS. */
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID (buffer) ? GST_BUFFER_PTS (buffer)
                                                     : GST_BUFFER_DTS (buffer);
  GstClockTime rt;
  gint64 wall;
  GQueue due;

  if (trans->segment.format != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID (ts))
    return GST_FLOW_OK;
  rt = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, ts);
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return GST_FLOW_OK;

  wall = gst_chat_stamp_stamp (self, buffer, rt);

  g_mutex_lock (&self->lock);
  self->have_last = TRUE;
  self->last_rt = (gint64)rt;
  self->last_wall = wall;
  due = gst_chat_stamp_take_due (self, FALSE);
  g_mutex_unlock (&self->lock);
  /* transform_ip runs before the buffer is pushed: these go out first. */
  gst_chat_stamp_push_events (self, &due);
  return GST_FLOW_OK;
}

/* ------------------------------------------------------ GObject */

static void
gst_chat_stamp_set_property (GObject *object, guint prop_id,
                             const GValue *value, GParamSpec *pspec)
{
  GstChatStamp *self = GST_CHAT_STAMP (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SOURCE:
      self->source = g_value_get_enum (value);
      break;
    case PROP_REDIS_URL:
      g_free (self->redis_url);
      self->redis_url = g_value_dup_string (value);
      break;
    case PROP_REDIS_CHANNEL:
      g_free (self->redis_channel);
      self->redis_channel = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_chat_stamp_get_property (GObject *object, guint prop_id, GValue *value,
                             GParamSpec *pspec)
{
  GstChatStamp *self = GST_CHAT_STAMP (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SOURCE:
      g_value_set_enum (value, self->source);
      break;
    case PROP_REDIS_URL:
      g_value_set_string (value, self->redis_url);
      break;
    case PROP_REDIS_CHANNEL:
      g_value_set_string (value, self->redis_channel);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_chat_stamp_finalize (GObject *object)
{
  GstChatStamp *self = GST_CHAT_STAMP (object);

  g_queue_clear_full (&self->pending, (GDestroyNotify)chat_stamp_event_free);
  g_mutex_clear (&self->lock);
  g_clear_pointer (&self->redis_url, g_free);
  g_clear_pointer (&self->redis_channel, g_free);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_chat_stamp_class_init (GstChatStampClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_chat_stamp_set_property;
  gobject_class->get_property = gst_chat_stamp_get_property;
  gobject_class->finalize = gst_chat_stamp_finalize;

  /**
   * GstChatStamp:source:
   *
   * Where capture times come from.
   */
  g_object_class_install_property (
      gobject_class, PROP_SOURCE,
      g_param_spec_enum (
          "source", "Capture time source",
          "Where a buffer's wall-clock capture time (timestamp/x-unix "
          "reference timestamp meta) comes from: auto keeps one that is "
          "there, else converts timestamp/x-ntp (RTCP sender reports), else "
          "maps the running time through the pipeline clock; ntp prefers "
          "timestamp/x-ntp over an existing timestamp/x-unix; clock always "
          "uses the pipeline clock",
          GST_TYPE_CHAT_STAMP_SOURCE, DEFAULT_SOURCE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstChatStamp:redis-url:
   *
   * Redis server to subscribe to; NULL for none.
   */
  g_object_class_install_property (
      gobject_class, PROP_REDIS_URL,
      g_param_spec_string (
          "redis-url", "Redis URL",
          "Redis server whose pub/sub channel redis-channel carries the "
          "channel's chat events: unix:/path/to/redis.sock, "
          "tcp://host:port or host:port; none when unset. Read when the "
          "element starts (READY to PAUSED)",
          DEFAULT_REDIS_URL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY));

  /**
   * GstChatStamp:redis-channel:
   *
   * Redis pub/sub channel of the stream's events.
   */
  g_object_class_install_property (
      gobject_class, PROP_REDIS_CHANNEL,
      g_param_spec_string (
          "redis-channel", "Redis channel",
          "Redis pub/sub channel to SUBSCRIBE to; each message is a JSON "
          "object with a ts member (ms since the epoch, the time the chat "
          "service accepted it) and is injected as timed metadata at that "
          "time (see plugins/chatstamp/README.md)",
          DEFAULT_REDIS_CHANNEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY));

  /**
   * GstChatStamp::inject:
   * @chatstamp: the element
   * @json_payload: the event, written as the ID3 TXXX text
   * @wallclock_ms: when it happened, ms since the Unix epoch
   *
   * Injects a timed-metadata event at the media time of @wallclock_ms: it
   * is pushed downstream just before the first buffer captured at or after
   * that time, or at once if that time has passed. Any thread; never
   * waits for the streaming thread.
   */
  signals[SIGNAL_INJECT] = g_signal_new_class_handler (
      "inject", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_chat_stamp_inject_signal), NULL, NULL, NULL, G_TYPE_NONE,
      2, G_TYPE_STRING, G_TYPE_INT64);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (
      element_class, "Chat stamp", "Filter/Metadata",
      "Stamps buffers with their wall-clock capture time and injects chat "
      "messages and tips as timed metadata at their media time",
      "Glasscast");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_chat_stamp_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_chat_stamp_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_chat_stamp_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_chat_stamp_transform_ip);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_CHAT_STAMP_SOURCE, 0);
  GST_DEBUG_CATEGORY_INIT (gst_chat_stamp_debug, "chatstamp", 0,
                           "Wall-clock capture time and chat events");
}

static void
gst_chat_stamp_init (GstChatStamp *self)
{
  self->source = DEFAULT_SOURCE;
  g_mutex_init (&self->lock);
  g_queue_init (&self->pending);
  /* Not passthrough: the meta needs a writable buffer (a new GstBuffer
   * sharing the memory, when another holder has it). */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}

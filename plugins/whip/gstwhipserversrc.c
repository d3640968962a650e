/* gstwhipserversrc.c — whipserversrc: one WHIP publisher's session around a
 * webrtcbin, its depayload/parse chains, src pads, keyframe requests and EOS. */

/**
 * SECTION:element-whipserversrc
 * @title: whipserversrc
 *
 * Receives one WebRTC publisher over WHIP (RFC 9725), e.g. a browser or
 * OBS, and exposes its media, depayloaded and parsed but not decoded, on
 * sometimes pads: `video_%u` (H.264, `alignment=au`, `avc` or
 * `byte-stream` as downstream prefers) and `audio_%u` (Opus).
 *
 * Signalling comes either through the element's own HTTP endpoint, when
 * `port` is set (`POST` an `application/sdp` offer to any path: `201
 * Created` with `Location`, `ETag` and the complete SDP answer; `DELETE` on
 * the Location ends the session; `OPTIONS` and CORS for browsers; `PATCH`
 * is answered 405 as there is no trickle ICE), or through the "offer"
 * action signal, which is how glasscastd's channel worker relays the
 * publisher's POST. Answers carry every ICE candidate, so no trickle is
 * needed. Offers are checked before webrtcbin sees them: malformed SDP is
 * refused with 400 and a reason, offers without H.264 with 406, a second
 * publisher with 409, a wrong `bearer-token` with 401.
 *
 * The element negotiates H.264 for passthrough (packetization-mode 1,
 * Constrained Baseline or Main preferred), Opus for audio, and puts
 * `x-google-start-bitrate` / `x-google-min-bitrate` in the answer so
 * Chromium starts near `start-bitrate` instead of 300 kbit/s.
 *
 * Keyframes: a force-key-unit event sent upstream on a `video_%u` pad (as
 * llhlssink does at segment boundaries) becomes an RTCP FIR
 * (`all-headers=TRUE`) or PLI to the publisher; one is also sent when the
 * first video packet arrives. WebRTC senders make no periodic keyframes.
 *
 * When the publisher leaves (DELETE, the "stop" action signal, ICE or DTLS
 * failure, or no media for `timeout` seconds) EOS is pushed out of every
 * src pad and webrtcbin is shut down, so the pipeline ends with EOS. One
 * element takes one publisher per run; set it to READY and back to PLAYING
 * to take another.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 whipserversrc port=8889 name=w w.video_0 ! queue ! llhlssink name=s location=/tmp/live \
 *     w.audio_0 ! queue ! opusdec ! audioconvert ! avenc_aac ! aacparse ! s.
 * ]| A WHIP ingest at http://127.0.0.1:8889/whip feeding an LL-HLS channel
 * in /tmp/live; publish with OBS (WHIP output) or
 * `gc-whip-publish http://127.0.0.1:8889/whip --test-source`.
 * |[
 * gst-launch-1.0 whipserversrc port=8889 address=0.0.0.0 bearer-token=s3cret name=w \
 *     w.video_0 ! queue ! h264parse ! mp4mux ! filesink location=ingest.mp4 -e
 * ]| Records a publisher that must send `Authorization: Bearer s3cret`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhipserversrc.h"
#include "whiphttp.h"
#include "whipsdp.h"

#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

GST_DEBUG_CATEGORY (gst_whip_server_src_debug);
#define GST_CAT_DEFAULT gst_whip_server_src_debug

#define DEFAULT_PORT -1
#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_BEARER_TOKEN NULL
/* webrtcbin's 200 ms is glass-to-glass latency on every frame. On a LAN
 * or a good uplink jitter stays well under 50 ms; raise it for lossy
 * publishers, whose retransmissions need jitterbuffer time to arrive. */
#define DEFAULT_LATENCY 50
#define DEFAULT_START_BITRATE 2500
#define DEFAULT_MIN_BITRATE 1000
#define DEFAULT_MIN_RTP_PORT 0
#define DEFAULT_MAX_RTP_PORT 0
#define DEFAULT_TIMEOUT 10
/* How long the answer waits for ICE gathering (STUN/TURN can be slow). */
#define GATHER_TIMEOUT_MS 5000

enum {
  PROP_0,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_ADDRESS,
  PROP_BEARER_TOKEN,
  PROP_LATENCY,
  PROP_START_BITRATE,
  PROP_MIN_BITRATE,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_MIN_RTP_PORT,
  PROP_MAX_RTP_PORT,
  PROP_ICE_ADDRESS,
  PROP_TIMEOUT,
  PROP_STATE,
  PROP_SESSION_ID,
  N_PROPS
};

enum { SIGNAL_OFFER, SIGNAL_STOP, SIGNAL_STATE_CHANGED, N_SIGNALS };

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* One depayload/parse chain behind a src pad. Created in webrtcbin's
 * pad-added; owned by the element's `chains` list. */
typedef struct {
  GstWhipServerSrc *self;
  gboolean is_video;
  GstElement *elements[3]; /* depayloader, parser, capsfilter (or NULL) */
  GstPad *depay_sink;
  GstPad *ghost;
  gboolean seen; /* guarded by the element's lock */
  guint keyframe_requests;
} WhipChain;

struct _GstWhipServerSrc {
  GstBin parent;

  /* Properties, guarded by the object lock. */
  gint port;
  gint bound_port;
  gchar *address;
  gchar *bearer_token;
  guint latency;
  guint start_bitrate;
  guint min_bitrate;
  gchar *stun_server;
  gchar *turn_server;
  guint min_rtp_port;
  guint max_rtp_port;
  gchar *ice_address;
  guint timeout;

  /* The signalling thread runs `context` from NULL->READY to READY->NULL:
   * the HTTP endpoint, the watchdog and every session teardown live there.
   * Set and cleared only by the state-change thread while it is stopped. */
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  WhipHttp *http;
  GSource *watchdog;

  /* The session, guarded by `lock`. */
  GMutex lock;
  GstWhipServerSrcState state;
  gboolean busy;      /* an offer is being answered or a session ran */
  GstElement *webrtc; /* this session's webrtcbin, a child of ours */
  gchar *session_id;
  GstSDPMessage *offer;      /* the narrowed offer being answered */
  GstPromise *offer_promise; /* replied once the answer is complete */
  gboolean answer_ready;     /* local description set */
  GPtrArray *candidates;     /* WhipSdpCandidate*, gathered so far */
  guint n_expected;          /* m-lines accepted: pads to expect */
  guint n_pads;
  guint video_count, audio_count;
  GList *chains;      /* WhipChain* */
  gint64 answered_at; /* monotonic µs */
  gint64 last_data;   /* monotonic µs of the last RTP packet */
  gint ended;         /* atomic: set once the session is being torn down */
};

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE (
    "video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-h264, stream-format = (string) { avc, "
                     "byte-stream }, alignment = (string) au"));

static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
                             GST_STATIC_CAPS ("audio/x-opus"));

#define gst_whip_server_src_parent_class parent_class
G_DEFINE_TYPE (GstWhipServerSrc, gst_whip_server_src, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (whipserversrc, "whipserversrc", GST_RANK_NONE,
                             GST_TYPE_WHIP_SERVER_SRC);

GType
gst_whip_server_src_state_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_WHIP_SERVER_SRC_STATE_IDLE, "Waiting for a publisher", "idle"},
      {GST_WHIP_SERVER_SRC_STATE_CONNECTING,
       "Answered; ICE and DTLS in progress", "connecting"},
      {GST_WHIP_SERVER_SRC_STATE_LIVE, "Media arriving", "live"},
      {GST_WHIP_SERVER_SRC_STATE_ENDED, "Publisher left; EOS sent", "ended"},
      {GST_WHIP_SERVER_SRC_STATE_FAILED, "Connection failed; EOS sent",
       "failed"},
      {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhipServerSrcState", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------ state */

static const gchar *
state_nick (GstWhipServerSrcState state)
{
  GEnumValue *v = g_enum_get_value (
      g_type_class_peek (GST_TYPE_WHIP_SERVER_SRC_STATE), state);

  return v ? v->value_nick : "?";
}

/* Announces a state: property notify, "state-changed" and a bus message.
 * Called without the lock, from any thread. */
static void
gst_whip_server_src_set_state (GstWhipServerSrc *self,
                               GstWhipServerSrcState state, const gchar *reason)
{
  GstStructure *s;

  g_mutex_lock (&self->lock);
  if (self->state == state) {
    g_mutex_unlock (&self->lock);
    return;
  }
  self->state = state;
  g_mutex_unlock (&self->lock);

  GST_INFO_OBJECT (self, "state %s: %s", state_nick (state), reason);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, state, reason);
  s = gst_structure_new (GST_WHIP_SERVER_SRC_STATE_MESSAGE, "state",
                         GST_TYPE_WHIP_SERVER_SRC_STATE, state, "reason",
                         G_TYPE_STRING, reason, NULL);
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self), s));
}

static void
reply_offer (GstPromise *promise, guint status, const gchar *answer,
             const gchar *session_id, const gchar *error)
{
  GstStructure *s = gst_structure_new (GST_WHIP_SERVER_SRC_ANSWER, "status",
                                       G_TYPE_UINT, status, NULL);

  if (answer)
    gst_structure_set (s, "answer", G_TYPE_STRING, answer, NULL);
  if (session_id)
    gst_structure_set (s, "session-id", G_TYPE_STRING, session_id, NULL);
  if (error)
    gst_structure_set (s, "error", G_TYPE_STRING, error, NULL);
  gst_promise_reply (promise, s);
}

/* ------------------------------------------------------------ teardown */

/* Removes a child that may be running: locked, to NULL, out of the bin. */
static void
remove_child (GstWhipServerSrc *self, GstElement *child)
{
  gst_element_set_locked_state (child, TRUE);
  gst_element_set_state (child, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (self), child);
}

/* Shuts the session's webrtcbin down and ends every src pad with EOS.
 * Not from webrtcbin's own threads (setting it to NULL joins them): the
 * signalling thread or the state-change thread.
 *
 * webrtcbin goes first: while its nicesinks exist the pipeline never sees
 * EOS on the bus, and the EOS must find them gone when it reaches the
 * sinks. */
static void
gst_whip_server_src_teardown (GstWhipServerSrc *self, GstElement *webrtc,
                              GstWhipServerSrcState end_state,
                              const gchar *reason)
{
  GstPromise *promise;
  GList *pads = NULL;
  gboolean announced;

  g_mutex_lock (&self->lock);
  if (webrtc != self->webrtc || !webrtc) {
    g_mutex_unlock (&self->lock);
    return;
  }
  g_atomic_int_set (&self->ended, 1);
  self->webrtc = NULL;
  promise = g_steal_pointer (&self->offer_promise);
  announced = self->state != GST_WHIP_SERVER_SRC_STATE_IDLE;
  /* A session that never got its answer out leaves the element free for
   * the publisher's next try. */
  if (!announced) {
    self->busy = FALSE;
    g_atomic_int_set (&self->ended, 0);
  }
  for (GList *l = self->chains; l; l = l->next)
    pads = g_list_prepend (pads,
                           gst_object_ref (((WhipChain *)l->data)->depay_sink));
  g_mutex_unlock (&self->lock);

  GST_DEBUG_OBJECT (self, "tearing down session: %s", reason);
  if (promise) {
    reply_offer (promise, 500, NULL, NULL, reason);
    gst_promise_unref (promise);
  }
  g_signal_handlers_disconnect_by_data (webrtc, self);
  remove_child (self, webrtc);
  gst_object_unref (webrtc);

  for (GList *l = pads; l; l = l->next)
    gst_pad_send_event (l->data, gst_event_new_eos ());
  g_list_free_full (pads, gst_object_unref);

  if (!announced)
    return;
  gst_whip_server_src_set_state (self, end_state, reason);

  /* Nothing downstream saw this session (no src pad, no EOS): take the
   * next publisher, so gst-launch survives a publisher that never
   * connected. */
  g_mutex_lock (&self->lock);
  announced = self->chains == NULL && self->context != NULL;
  if (announced) {
    self->busy = FALSE;
    self->n_expected = 0;
    g_atomic_int_set (&self->ended, 0);
  }
  g_mutex_unlock (&self->lock);
  if (announced)
    gst_whip_server_src_set_state (self, GST_WHIP_SERVER_SRC_STATE_IDLE,
                                   "ready for another publisher");
}

typedef struct {
  GstWhipServerSrc *self;
  GstElement *webrtc;
  GstWhipServerSrcState state;
  gchar *reason;
} WhipTeardown;

static gboolean
teardown_in_context (gpointer data)
{
  WhipTeardown *t = data;

  gst_whip_server_src_teardown (t->self, t->webrtc, t->state, t->reason);
  return G_SOURCE_REMOVE;
}

static void
whip_teardown_free (WhipTeardown *t)
{
  gst_object_unref (t->self);
  gst_object_unref (t->webrtc);
  g_free (t->reason);
  g_free (t);
}

/* Ends the session run by @webrtc (if still current) from any thread: the
 * work happens in the signalling thread. */
static void
gst_whip_server_src_end (GstWhipServerSrc *self, GstElement *webrtc,
                         GstWhipServerSrcState state, const gchar *reason)
{
  WhipTeardown *t;
  GSource *idle;

  g_mutex_lock (&self->lock);
  if (!webrtc || webrtc != self->webrtc || !self->context) {
    g_mutex_unlock (&self->lock);
    return;
  }
  t = g_new0 (WhipTeardown, 1);
  t->self = gst_object_ref (self);
  t->webrtc = gst_object_ref (webrtc);
  t->state = state;
  t->reason = g_strdup (reason);
  idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_HIGH);
  g_source_set_callback (idle, teardown_in_context, t,
                         (GDestroyNotify)whip_teardown_free);
  g_source_attach (idle, self->context);
  g_source_unref (idle);
  g_mutex_unlock (&self->lock);
}

/* The current session's webrtcbin, or NULL. */
static GstElement *
current_webrtc (GstWhipServerSrc *self)
{
  GstElement *webrtc;

  g_mutex_lock (&self->lock);
  webrtc = self->webrtc ? gst_object_ref (self->webrtc) : NULL;
  g_mutex_unlock (&self->lock);
  return webrtc;
}

/* ------------------------------------------------------------ chains */

static void
gst_whip_server_src_request_keyframe (WhipChain *chain, gboolean all_headers,
                                      guint count)
{
  GstEvent *ev = gst_video_event_new_upstream_force_key_unit (
      GST_CLOCK_TIME_NONE, all_headers, count);

  chain->keyframe_requests++;
  GST_DEBUG_OBJECT (chain->ghost, "keyframe request %u (%s)",
                    chain->keyframe_requests, all_headers ? "FIR" : "PLI");
  /* Upstream of the depayloader is webrtcbin's rtpsession, which turns
   * the event into RTCP feedback to the publisher. */
  gst_pad_push_event (chain->depay_sink, ev);
}

static GstPadProbeReturn
on_rtp_data (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WhipChain *chain = user_data;
  GstWhipServerSrc *self = chain->self;
  gboolean first, live;

  if (g_atomic_int_get (&self->ended))
    return GST_PAD_PROBE_DROP;

  g_mutex_lock (&self->lock);
  self->last_data = g_get_monotonic_time ();
  first = !chain->seen;
  chain->seen = TRUE;
  live = self->state == GST_WHIP_SERVER_SRC_STATE_CONNECTING;
  g_mutex_unlock (&self->lock);

  if (live)
    gst_whip_server_src_set_state (self, GST_WHIP_SERVER_SRC_STATE_LIVE,
                                   "media is arriving");
  /* Most senders start with a keyframe, but one lost packet would leave
   * us waiting for the next, which WebRTC senders only send when asked. */
  if (first && chain->is_video)
    gst_whip_server_src_request_keyframe (chain, TRUE, 0);
  return GST_PAD_PROBE_OK;
}

/* Keyframe requests from downstream skip the parser and depayloader and go
 * straight to the RTP session, once. */
static GstPadProbeReturn
on_upstream_event (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WhipChain *chain = user_data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  gboolean all_headers = TRUE;
  guint count = 0;

  if (!gst_video_event_is_force_key_unit (ev))
    return GST_PAD_PROBE_OK;
  gst_video_event_parse_upstream_force_key_unit (ev, NULL, &all_headers,
                                                 &count);
  gst_whip_server_src_request_keyframe (chain, all_headers, count);
  return GST_PAD_PROBE_DROP;
}

/* A src pad nobody linked (gst-launch taking only video_0) drops its
 * data: NOT_LINKED would travel back into webrtcbin and stop it all. */
static GstPadProbeReturn
drop_if_unlinked (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  return gst_pad_is_linked (pad) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
drop_everything (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  return GST_PAD_PROBE_DROP;
}

static WhipChain *
make_chain (GstWhipServerSrc *self, gboolean is_video, GError **error)
{
  WhipChain *chain = g_new0 (WhipChain, 1);
  const gchar *names[3] = {"rtpopusdepay", "opusparse", NULL};

  chain->self = self;
  chain->is_video = is_video;
  if (is_video) {
    names[0] = "rtph264depay";
    names[1] = "h264parse";
    names[2] = "capsfilter";
  }
  for (guint i = 0; i < 3 && names[i]; i++) {
    chain->elements[i] = gst_element_factory_make (names[i], NULL);
    if (!chain->elements[i]) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                   "element %s is missing", names[i]);
      for (guint j = 0; j < i; j++)
        gst_object_unref (chain->elements[j]);
      g_free (chain);
      return NULL;
    }
  }
  if (is_video) {
    GstCaps *caps = gst_caps_from_string (
        "video/x-h264, stream-format = (string) { avc, byte-stream }, "
        "alignment = (string) au");

    /* After a loss, ask for a keyframe and drop the broken GOP rather
     * than hand llhlssink undecodable frames. */
    g_object_set (chain->elements[0], "request-keyframe", TRUE,
                  "wait-for-keyframe", TRUE, NULL);
    g_object_set (chain->elements[2], "caps", caps, NULL);
    gst_caps_unref (caps);
  }
  return chain;
}

static void
chain_free (WhipChain *chain)
{
  g_clear_object (&chain->depay_sink);
  g_clear_object (&chain->ghost);
  g_free (chain);
}

/* webrtcbin has a new src pad: one SSRC of one m-line. Runs in one of
 * webrtcbin's streaming threads. */
static void
on_webrtc_pad_added (GstElement *webrtc, GstPad *pad, GstWhipServerSrc *self)
{
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GError) err = NULL;
  const gchar *enc = NULL;
  gboolean is_video;
  WhipChain *chain;
  GstElement *last = NULL;
  g_autoptr (GstPad) target = NULL;
  g_autofree gchar *name = NULL;
  GstPadTemplate *templ;
  gboolean all_pads;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps && !gst_caps_is_empty (caps))
    enc = gst_structure_get_string (gst_caps_get_structure (caps, 0),
                                    "encoding-name");

  if (g_strcmp0 (enc, "H264") == 0) {
    is_video = TRUE;
  } else if (g_strcmp0 (enc, "OPUS") == 0) {
    is_video = FALSE;
  } else {
    GST_WARNING_OBJECT (self, "ignoring stream %" GST_PTR_FORMAT, caps);
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
        drop_everything, NULL, NULL);
    return;
  }

  chain = make_chain (self, is_video, &err);
  if (!chain) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN, ("%s", err->message),
                       (NULL));
    return;
  }

  for (guint i = 0; i < 3 && chain->elements[i]; i++) {
    gst_bin_add (GST_BIN (self), chain->elements[i]);
    last = chain->elements[i];
    if (i > 0)
      gst_element_link (chain->elements[i - 1], chain->elements[i]);
  }
  for (guint i = 0; i < 3 && chain->elements[i]; i++)
    gst_element_sync_state_with_parent (chain->elements[i]);
  chain->depay_sink = gst_element_get_static_pad (chain->elements[0], "sink");
  target = gst_element_get_static_pad (last, "src");

  g_mutex_lock (&self->lock);
  name = is_video ? g_strdup_printf ("video_%u", self->video_count++)
                  : g_strdup_printf ("audio_%u", self->audio_count++);
  self->chains = g_list_append (self->chains, chain);
  all_pads = ++self->n_pads == self->n_expected;
  g_mutex_unlock (&self->lock);

  templ = gst_static_pad_template_get (is_video ? &video_template
                                                : &audio_template);
  chain->ghost =
      gst_object_ref (gst_ghost_pad_new_from_template (name, target, templ));
  gst_object_unref (templ);

  gst_pad_add_probe (chain->depay_sink,
                     GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     on_rtp_data, chain, NULL);
  if (is_video)
    gst_pad_add_probe (target, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                       on_upstream_event, chain, NULL);

  gst_pad_add_probe (chain->ghost,
                     GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     drop_if_unlinked, NULL, NULL);
  /* Exposed before data flows, so gst-launch links it first. */
  gst_pad_set_active (chain->ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (self), chain->ghost);
  if (gst_pad_link (pad, chain->depay_sink) != GST_PAD_LINK_OK)
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
                       ("cannot link %" GST_PTR_FORMAT, caps));
  GST_INFO_OBJECT (self, "exposed %s for %" GST_PTR_FORMAT, name, caps);
  if (all_pads)
    gst_element_no_more_pads (GST_ELEMENT (self));
}

/* ------------------------------------------------------------ webrtcbin */

/* libnice leaves loopback out of its candidates; a host (or a network
 * namespace) with nothing else must name 127.0.0.1 explicitly. */
static gboolean
host_has_only_loopback (void)
{
  struct ifaddrs *ifs = NULL;
  gboolean only_lo = TRUE;

  if (getifaddrs (&ifs) != 0)
    return FALSE;
  for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) ||
        (i->ifa_flags & IFF_LOOPBACK))
      continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      only_lo = FALSE;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)i->ifa_addr;
      if (!IN6_IS_ADDR_LINKLOCAL (&a6->sin6_addr))
        only_lo = FALSE;
    }
  }
  freeifaddrs (ifs);
  return only_lo;
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const gchar *candidate,
                  GstWhipServerSrc *self)
{
  g_mutex_lock (&self->lock);
  if (webrtc == self->webrtc)
    g_ptr_array_add (self->candidates,
                     whip_sdp_candidate_new (mline, candidate));
  g_mutex_unlock (&self->lock);
}

static guint
count_candidates (const gchar *sdp)
{
  guint n = 0;

  for (const gchar *p = sdp; (p = strstr (p, "a=candidate:")); p++)
    n++;
  return n;
}

/* Replies to the offer once the answer is set and ICE gathering has
 * finished (or @force: gathering took too long). */
static void
maybe_send_answer (GstWhipServerSrc *self, GstElement *webrtc, gboolean force)
{
  GstWebRTCICEGatheringState gathering;
  GstWebRTCSessionDescription *desc = NULL;
  GstPromise *promise = NULL;
  g_autofree gchar *answer = NULL;
  g_autofree gchar *id = NULL;
  guint start, min;

  g_object_get (webrtc, "ice-gathering-state", &gathering, NULL);
  if (!force && gathering != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  g_object_get (webrtc, "local-description", &desc, NULL);
  if (!desc)
    return;

  GST_OBJECT_LOCK (self);
  start = self->start_bitrate;
  min = self->min_bitrate;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  if (webrtc == self->webrtc && self->answer_ready && self->offer_promise) {
    promise = g_steal_pointer (&self->offer_promise);
    answer = whip_sdp_answer_finish (desc->sdp, self->offer, self->candidates,
                                     start, min);
    id = g_strdup (self->session_id);
    self->answered_at = g_get_monotonic_time ();
  }
  g_mutex_unlock (&self->lock);
  gst_webrtc_session_description_free (desc);
  if (!promise)
    return;

  if (count_candidates (answer) == 0) {
    reply_offer (promise, 500, NULL, NULL,
                 "no ICE candidates: no usable local address (see the "
                 "ice-address property)");
    gst_promise_unref (promise);
    gst_whip_server_src_end (self, webrtc, GST_WHIP_SERVER_SRC_STATE_FAILED,
                             "no ICE candidates");
    return;
  }
  GST_INFO_OBJECT (self, "answering session %s (%s)", id,
                   force ? "gathering timed out" : "gathering complete");
  GST_LOG_OBJECT (self, "answer:\n%s", answer);
  /* Announced before the reply, so a DELETE racing it finds a session. */
  gst_whip_server_src_set_state (self, GST_WHIP_SERVER_SRC_STATE_CONNECTING,
                                 "answer sent");
  reply_offer (promise, 201, answer, id, NULL);
  gst_promise_unref (promise);
}

static void
on_gathering_state (GstElement *webrtc, GParamSpec *pspec,
                    GstWhipServerSrc *self)
{
  maybe_send_answer (self, webrtc, FALSE);
}

static void
on_connection_state (GstElement *webrtc, GParamSpec *pspec,
                     GstWhipServerSrc *self)
{
  GstWebRTCPeerConnectionState pc;
  GstWebRTCICEConnectionState ice;

  g_object_get (webrtc, "connection-state", &pc, "ice-connection-state", &ice,
                NULL);
  GST_DEBUG_OBJECT (self, "peer connection %d, ICE %d", pc, ice);
  if (ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED ||
      pc == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    gst_whip_server_src_end (self, webrtc, GST_WHIP_SERVER_SRC_STATE_FAILED,
                             "ICE/DTLS connection failed");
  else if (pc == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
    gst_whip_server_src_end (self, webrtc, GST_WHIP_SERVER_SRC_STATE_ENDED,
                             "peer connection closed");
}

/* A step of answering failed: reply and drop this webrtcbin. */
static void
negotiation_failed (GstWhipServerSrc *self, GstElement *webrtc, guint status,
                    const gchar *what, const GstStructure *reply)
{
  GstPromise *promise = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *message = NULL;

  if (reply)
    gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL);
  message = g_strdup_printf ("%s%s%s", what, err ? ": " : "",
                             err ? err->message : "");
  GST_WARNING_OBJECT (self, "%s", message);

  g_mutex_lock (&self->lock);
  if (webrtc == self->webrtc)
    promise = g_steal_pointer (&self->offer_promise);
  g_mutex_unlock (&self->lock);
  if (promise) {
    reply_offer (promise, status, NULL, NULL, message);
    gst_promise_unref (promise);
  }
  gst_whip_server_src_end (self, webrtc, GST_WHIP_SERVER_SRC_STATE_FAILED,
                           message);
}

/* State carried through webrtcbin's promise callbacks. */
typedef struct {
  GstWhipServerSrc *self;
  GstElement *webrtc;
} WhipOp;

static WhipOp *
whip_op_new (GstWhipServerSrc *self, GstElement *webrtc)
{
  WhipOp *op = g_new0 (WhipOp, 1);

  op->self = gst_object_ref (self);
  op->webrtc = gst_object_ref (webrtc);
  return op;
}

static void
whip_op_free (WhipOp *op)
{
  gst_object_unref (op->self);
  gst_object_unref (op->webrtc);
  g_free (op);
}

static const GstStructure *
promise_result (GstPromise *promise)
{
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return NULL;
  return gst_promise_get_reply (promise);
}

static gboolean
gather_timeout (gpointer data)
{
  WhipOp *op = data;

  maybe_send_answer (op->self, op->webrtc, TRUE);
  return G_SOURCE_REMOVE;
}

static void
on_local_description_set (GstPromise *promise, gpointer data)
{
  WhipOp *op = data;
  const GstStructure *reply = promise_result (promise);
  GSource *timeout;

  if (reply && gst_structure_has_field (reply, "error")) {
    negotiation_failed (op->self, op->webrtc, 500,
                        "cannot set the local description", reply);
    return;
  }
  g_mutex_lock (&op->self->lock);
  op->self->answer_ready = TRUE;
  if (op->self->context) {
    timeout = g_timeout_source_new (GATHER_TIMEOUT_MS);
    g_source_set_callback (timeout, gather_timeout,
                           whip_op_new (op->self, op->webrtc),
                           (GDestroyNotify)whip_op_free);
    g_source_attach (timeout, op->self->context);
    g_source_unref (timeout);
  }
  g_mutex_unlock (&op->self->lock);
  maybe_send_answer (op->self, op->webrtc, FALSE);
}

static void
on_answer_created (GstPromise *promise, gpointer data)
{
  WhipOp *op = data;
  const GstStructure *reply = promise_result (promise);
  GstWebRTCSessionDescription *answer = NULL;
  GstPromise *next;

  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                       &answer, NULL);
  if (!answer) {
    negotiation_failed (op->self, op->webrtc, 400, "cannot answer this offer",
                        reply);
    return;
  }
  next = gst_promise_new_with_change_func (on_local_description_set,
                                           whip_op_new (op->self, op->webrtc),
                                           (GDestroyNotify)whip_op_free);
  g_signal_emit_by_name (op->webrtc, "set-local-description", answer, next);
  gst_promise_unref (next);
  gst_webrtc_session_description_free (answer);
}

static void
on_remote_description_set (GstPromise *promise, gpointer data)
{
  WhipOp *op = data;
  const GstStructure *reply = promise_result (promise);
  GstPromise *next;

  if (reply && gst_structure_has_field (reply, "error")) {
    negotiation_failed (op->self, op->webrtc, 400, "offer refused by webrtcbin",
                        reply);
    return;
  }
  next = gst_promise_new_with_change_func (on_answer_created,
                                           whip_op_new (op->self, op->webrtc),
                                           (GDestroyNotify)whip_op_free);
  g_signal_emit_by_name (op->webrtc, "create-answer", NULL, next);
  gst_promise_unref (next);
}

static gboolean
object_has_property (gpointer object, const gchar *name)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (object), name) !=
         NULL;
}

/* A webrtcbin configured from the properties, not yet added. */
static GstElement *
make_webrtc (GstWhipServerSrc *self)
{
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);
  GObject *ice = NULL;
  g_auto (GStrv) addresses = NULL;

  if (!webrtc)
    return NULL;

  GST_OBJECT_LOCK (self);
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
                "latency", self->latency, NULL);
  if (self->stun_server)
    g_object_set (webrtc, "stun-server", self->stun_server, NULL);
  if (self->turn_server)
    g_object_set (webrtc, "turn-server", self->turn_server, NULL);
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice && (self->min_rtp_port || self->max_rtp_port) &&
      object_has_property (ice, "min-rtp-port")) {
    /* Set max first: the agent checks min <= max on each set. */
    g_object_set (ice, "max-rtp-port",
                  self->max_rtp_port ? self->max_rtp_port : 65535,
                  "min-rtp-port", self->min_rtp_port, NULL);
  }
  /* A server has no business asking the router to open ports (and
   * libnice's UPnP discovery only delays gathering and logs warnings). */
  if (ice && object_has_property (ice, "agent")) {
    GObject *agent = NULL;

    g_object_get (ice, "agent", &agent, NULL);
    if (agent && object_has_property (agent, "upnp"))
      g_object_set (agent, "upnp", FALSE, NULL);
    g_clear_object (&agent);
  }
  if (self->ice_address && *self->ice_address)
    addresses = g_strsplit (self->ice_address, ",", 16);
  GST_OBJECT_UNLOCK (self);

  if (!addresses && host_has_only_loopback ()) {
    GST_INFO_OBJECT (self, "only loopback on this host: using 127.0.0.1");
    addresses = g_strsplit ("127.0.0.1", ",", 1);
  }
  for (guint i = 0; ice && addresses && addresses[i]; i++) {
    gboolean ok = FALSE;

    g_strstrip (addresses[i]);
    g_signal_emit_by_name (ice, "add-local-ip-address", addresses[i], &ok);
    if (!ok)
      GST_WARNING_OBJECT (self, "ICE agent refused address %s", addresses[i]);
  }
  g_clear_object (&ice);

  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_webrtc_pad_added),
                    self);
  g_signal_connect (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate),
                    self);
  g_signal_connect (webrtc, "notify::ice-gathering-state",
                    G_CALLBACK (on_gathering_state), self);
  g_signal_connect (webrtc, "notify::ice-connection-state",
                    G_CALLBACK (on_connection_state), self);
  g_signal_connect (webrtc, "notify::connection-state",
                    G_CALLBACK (on_connection_state), self);
  return webrtc;
}

/* ------------------------------------------------------------ offer/stop */

/* The "offer" action signal: checks @sdp, starts answering it and replies
 * on @promise (see GST_WHIP_SERVER_SRC_ANSWER). */
static void
gst_whip_server_src_offer_bytes (GstWhipServerSrc *self, const guint8 *sdp,
                                 gsize size, GstPromise *promise)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (WhipSdpOffer) offer = NULL;
  GstWebRTCSessionDescription *desc;
  GstElement *webrtc;
  GstPromise *next;
  const gchar *busy = NULL;

  GST_LOG_OBJECT (self, "offer:\n%.*s", (int)MIN (size, G_MAXINT), sdp);
  offer = whip_sdp_offer_parse (sdp, size, &err);
  if (!offer) {
    GST_INFO_OBJECT (self, "offer refused: %s", err->message);
    reply_offer (promise, err->code == WHIP_SDP_ERROR_UNSUPPORTED ? 406 : 400,
                 NULL, NULL, err->message);
    return;
  }

  g_mutex_lock (&self->lock);
  if (!self->context)
    busy = "whipserversrc is not running";
  else if (self->busy && self->state == GST_WHIP_SERVER_SRC_STATE_IDLE)
    busy = "another offer is being answered";
  else if (self->busy && self->state <= GST_WHIP_SERVER_SRC_STATE_LIVE)
    busy = "a publisher is already connected";
  else if (self->busy)
    busy = "this session has ended; the element takes one publisher per run";
  if (busy) {
    g_mutex_unlock (&self->lock);
    reply_offer (promise, self->context ? 409 : 503, NULL, NULL, busy);
    return;
  }
  self->busy = TRUE;
  g_mutex_unlock (&self->lock);

  webrtc = make_webrtc (self);
  if (!webrtc) {
    g_mutex_lock (&self->lock);
    self->busy = FALSE;
    g_mutex_unlock (&self->lock);
    reply_offer (promise, 500, NULL, NULL,
                 "webrtcbin is missing (gstreamer1.0-plugins-bad, "
                 "gstreamer1.0-nice)");
    return;
  }

  g_mutex_lock (&self->lock);
  self->webrtc = gst_object_ref (webrtc);
  self->offer_promise = gst_promise_ref (promise);
  self->answer_ready = FALSE;
  g_free (self->session_id);
  self->session_id = g_uuid_string_random ();
  g_ptr_array_set_size (self->candidates, 0);
  self->n_expected = offer->n_video + offer->n_audio;
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION_ID]);

  gst_bin_add (GST_BIN (self), webrtc);
  gst_element_sync_state_with_parent (webrtc);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->offer, gst_sdp_message_free);
  gst_sdp_message_copy (offer->sdp, &self->offer);
  g_mutex_unlock (&self->lock);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER,
                                             g_steal_pointer (&offer->sdp));
  next = gst_promise_new_with_change_func (on_remote_description_set,
                                           whip_op_new (self, webrtc),
                                           (GDestroyNotify)whip_op_free);
  g_signal_emit_by_name (webrtc, "set-remote-description", desc, next);
  gst_promise_unref (next);
  gst_webrtc_session_description_free (desc);
}

static void
gst_whip_server_src_offer (GstWhipServerSrc *self, const gchar *sdp,
                           GstPromise *promise)
{
  g_return_if_fail (promise != NULL);

  if (!sdp) {
    reply_offer (promise, 400, NULL, NULL, "empty offer");
    return;
  }
  gst_whip_server_src_offer_bytes (self, (const guint8 *)sdp, strlen (sdp),
                                   promise);
}

static void
gst_whip_server_src_stop (GstWhipServerSrc *self)
{
  g_autoptr (GstElement) webrtc = current_webrtc (self);

  gst_whip_server_src_end (self, webrtc, GST_WHIP_SERVER_SRC_STATE_ENDED,
                           "stopped by the application");
}

/* An application's EOS (gst-launch-1.0 -e, Ctrl-C) ends the session like
 * "stop": sent into webrtcbin it would only stop its nicesrcs and error
 * out on not-linked pads. */
static gboolean
gst_whip_server_src_send_event (GstElement *element, GstEvent *event)
{
  GstWhipServerSrc *self = GST_WHIP_SERVER_SRC (element);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    g_autoptr (GstElement) webrtc = current_webrtc (self);

    gst_event_unref (event);
    gst_whip_server_src_end (self, webrtc, GST_WHIP_SERVER_SRC_STATE_ENDED,
                             "EOS from the application");
    return TRUE;
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

/* ------------------------------------------------------------ HTTP glue */

static void
http_offer (gpointer user_data, const guint8 *sdp, gsize size,
            GstPromise *promise)
{
  gst_whip_server_src_offer_bytes (user_data, sdp, size, promise);
}

static gboolean
http_end (gpointer user_data, const gchar *session_id)
{
  GstWhipServerSrc *self = user_data;
  GstElement *webrtc = NULL;

  g_mutex_lock (&self->lock);
  if (self->webrtc && g_strcmp0 (self->session_id, session_id) == 0)
    webrtc = gst_object_ref (self->webrtc);
  g_mutex_unlock (&self->lock);
  if (!webrtc)
    return FALSE;
  /* We are in the signalling thread: tear down now, so the EOS is on its
   * way before the publisher gets its 200. */
  gst_whip_server_src_teardown (self, webrtc, GST_WHIP_SERVER_SRC_STATE_ENDED,
                                "publisher sent DELETE");
  gst_object_unref (webrtc);
  return TRUE;
}

/* RFC 9725 4.6: ICE servers for the publisher, as Link headers, from
 * webrtcbin-style "stun://host:port" and "turn://user:pass@host:port". */
static gchar **
ice_server_links (const gchar *stun, const gchar *turn)
{
  GPtrArray *links = g_ptr_array_new ();

  if (stun && g_str_has_prefix (stun, "stun://"))
    g_ptr_array_add (links, g_strdup_printf ("<stun:%s>; rel=\"ice-server\"",
                                             stun + strlen ("stun://")));
  if (turn) {
    g_autoptr (GUri) uri = g_uri_parse (turn, G_URI_FLAGS_HAS_PASSWORD, NULL);

    if (uri && g_uri_get_host (uri) && g_uri_get_user (uri)) {
      g_ptr_array_add (
          links,
          g_strdup_printf (
              "<%s:%s:%d>; rel=\"ice-server\"; username=\"%s\"; "
              "credential=\"%s\"; credential-type=\"password\"",
              g_str_equal (g_uri_get_scheme (uri), "turns") ? "turns" : "turn",
              g_uri_get_host (uri),
              g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 3478,
              g_uri_get_user (uri),
              g_uri_get_password (uri) ? g_uri_get_password (uri) : ""));
    }
  }
  g_ptr_array_add (links, NULL);
  return (gchar **)g_ptr_array_free (links, FALSE);
}

/* ------------------------------------------------------------ thread */

static gboolean
watchdog_tick (gpointer data)
{
  GstWhipServerSrc *self = data;
  gint64 now = g_get_monotonic_time ();
  GstElement *webrtc = NULL;
  GstWhipServerSrcState end_state = GST_WHIP_SERVER_SRC_STATE_ENDED;
  g_autofree gchar *reason = NULL;
  guint timeout;

  GST_OBJECT_LOCK (self);
  timeout = self->timeout;
  GST_OBJECT_UNLOCK (self);
  if (timeout == 0)
    return G_SOURCE_CONTINUE;

  g_mutex_lock (&self->lock);
  if (self->webrtc && self->state == GST_WHIP_SERVER_SRC_STATE_CONNECTING &&
      now - self->answered_at > timeout * G_USEC_PER_SEC) {
    webrtc = gst_object_ref (self->webrtc);
    end_state = GST_WHIP_SERVER_SRC_STATE_FAILED;
    reason = g_strdup_printf ("no media within %u s of the answer", timeout);
  } else if (self->webrtc && self->state == GST_WHIP_SERVER_SRC_STATE_LIVE &&
             now - self->last_data > timeout * G_USEC_PER_SEC) {
    webrtc = gst_object_ref (self->webrtc);
    reason = g_strdup_printf ("no media for %u s: publisher gone", timeout);
  }
  g_mutex_unlock (&self->lock);

  if (webrtc) {
    gst_whip_server_src_teardown (self, webrtc, end_state, reason);
    gst_object_unref (webrtc);
  }
  return G_SOURCE_CONTINUE;
}

static gpointer
signalling_thread (gpointer data)
{
  GstWhipServerSrc *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
gst_whip_server_src_start (GstWhipServerSrc *self)
{
  static const WhipHttpCallbacks callbacks = {http_offer, http_end};
  g_autoptr (GError) err = NULL;
  g_autofree gchar *address = NULL;
  g_autofree gchar *token = NULL;
  g_auto (GStrv) links = NULL;
  GMainContext *context = g_main_context_new ();
  WhipHttp *http = NULL;
  gint port;

  GST_OBJECT_LOCK (self);
  port = self->port;
  address = g_strdup (self->address);
  token = g_strdup (self->bearer_token);
  links = ice_server_links (self->stun_server, self->turn_server);
  GST_OBJECT_UNLOCK (self);

  if (port >= 0) {
    http = whip_http_new (context, address ? address : DEFAULT_ADDRESS, port,
                          token, (const gchar *const *)links, &callbacks, self,
                          &err);
    if (!http) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
                         ("Cannot listen on %s:%d", address, port),
                         ("%s", err->message));
      g_main_context_unref (context);
      return FALSE;
    }
    GST_OBJECT_LOCK (self);
    self->bound_port = whip_http_get_port (http);
    GST_OBJECT_UNLOCK (self);
    GST_INFO_OBJECT (self, "WHIP endpoint on http://%s:%u/", address,
                     whip_http_get_port (http));
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOUND_PORT]);
  }

  self->watchdog = g_timeout_source_new (500);
  g_source_set_callback (self->watchdog, watchdog_tick, self, NULL);
  g_source_attach (self->watchdog, context);

  g_mutex_lock (&self->lock);
  self->context = context;
  self->http = http;
  self->loop = g_main_loop_new (context, FALSE);
  g_mutex_unlock (&self->lock);
  self->thread = g_thread_new ("whipserversrc", signalling_thread, self);
  return TRUE;
}

static void
gst_whip_server_src_stop_thread (GstWhipServerSrc *self)
{
  GMainContext *context;

  if (!self->thread)
    return;
  g_main_loop_quit (self->loop);
  g_thread_join (self->thread);
  self->thread = NULL;

  g_mutex_lock (&self->lock);
  context = g_steal_pointer (&self->context);
  g_mutex_unlock (&self->lock);

  g_clear_pointer (&self->http, whip_http_free);
  g_source_destroy (self->watchdog);
  g_clear_pointer (&self->watchdog, g_source_unref);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_main_context_unref (context);

  GST_OBJECT_LOCK (self);
  self->bound_port = -1;
  GST_OBJECT_UNLOCK (self);
}

/* Back to a fresh IDLE element: no webrtcbin, no chains, no src pads. */
static void
gst_whip_server_src_reset (GstWhipServerSrc *self)
{
  g_autoptr (GstElement) webrtc = current_webrtc (self);
  GList *chains;

  gst_whip_server_src_teardown (self, webrtc, GST_WHIP_SERVER_SRC_STATE_ENDED,
                                "element stopped");

  g_mutex_lock (&self->lock);
  chains = g_steal_pointer (&self->chains);
  g_mutex_unlock (&self->lock);
  for (GList *l = chains; l; l = l->next) {
    WhipChain *chain = l->data;

    gst_element_remove_pad (GST_ELEMENT (self), chain->ghost);
    for (guint i = 0; i < 3 && chain->elements[i]; i++)
      remove_child (self, chain->elements[i]);
  }
  g_list_free_full (chains, (GDestroyNotify)chain_free);

  g_mutex_lock (&self->lock);
  self->busy = FALSE;
  self->answer_ready = FALSE;
  self->n_pads = self->n_expected = 0;
  self->video_count = self->audio_count = 0;
  g_clear_pointer (&self->session_id, g_free);
  g_ptr_array_set_size (self->candidates, 0);
  g_atomic_int_set (&self->ended, 0);
  g_mutex_unlock (&self->lock);
  gst_whip_server_src_set_state (self, GST_WHIP_SERVER_SRC_STATE_IDLE,
                                 "element stopped");
}

static GstStateChangeReturn
gst_whip_server_src_change_state (GstElement *element,
                                  GstStateChange transition)
{
  GstWhipServerSrc *self = GST_WHIP_SERVER_SRC (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY &&
      !gst_whip_server_src_start (self))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      gst_whip_server_src_stop_thread (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* A live source: nothing to preroll until a publisher comes. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_whip_server_src_reset (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_whip_server_src_reset (self);
      gst_whip_server_src_stop_thread (self);
      break;
    default:
      break;
  }
  return ret;
}

/* ------------------------------------------------------------ GObject */

static void
gst_whip_server_src_set_property (GObject *object, guint prop_id,
                                  const GValue *value, GParamSpec *pspec)
{
  GstWhipServerSrc *self = GST_WHIP_SERVER_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      break;
    case PROP_BEARER_TOKEN:
      g_free (self->bearer_token);
      self->bearer_token = g_value_dup_string (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
      break;
    case PROP_START_BITRATE:
      self->start_bitrate = g_value_get_uint (value);
      break;
    case PROP_MIN_BITRATE:
      self->min_bitrate = g_value_get_uint (value);
      break;
    case PROP_STUN_SERVER:
      g_free (self->stun_server);
      self->stun_server = g_value_dup_string (value);
      break;
    case PROP_TURN_SERVER:
      g_free (self->turn_server);
      self->turn_server = g_value_dup_string (value);
      break;
    case PROP_MIN_RTP_PORT:
      self->min_rtp_port = g_value_get_uint (value);
      break;
    case PROP_MAX_RTP_PORT:
      self->max_rtp_port = g_value_get_uint (value);
      break;
    case PROP_ICE_ADDRESS:
      g_free (self->ice_address);
      self->ice_address = g_value_dup_string (value);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_whip_server_src_get_property (GObject *object, guint prop_id, GValue *value,
                                  GParamSpec *pspec)
{
  GstWhipServerSrc *self = GST_WHIP_SERVER_SRC (object);

  switch (prop_id) {
    case PROP_STATE:
      g_mutex_lock (&self->lock);
      g_value_set_enum (value, self->state);
      g_mutex_unlock (&self->lock);
      return;
    case PROP_SESSION_ID:
      g_mutex_lock (&self->lock);
      g_value_set_string (value, self->session_id);
      g_mutex_unlock (&self->lock);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_BOUND_PORT:
      g_value_set_int (value, self->bound_port);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    case PROP_START_BITRATE:
      g_value_set_uint (value, self->start_bitrate);
      break;
    case PROP_MIN_BITRATE:
      g_value_set_uint (value, self->min_bitrate);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, self->stun_server);
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, self->turn_server);
      break;
    case PROP_MIN_RTP_PORT:
      g_value_set_uint (value, self->min_rtp_port);
      break;
    case PROP_MAX_RTP_PORT:
      g_value_set_uint (value, self->max_rtp_port);
      break;
    case PROP_ICE_ADDRESS:
      g_value_set_string (value, self->ice_address);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_whip_server_src_finalize (GObject *object)
{
  GstWhipServerSrc *self = GST_WHIP_SERVER_SRC (object);

  g_free (self->address);
  if (self->bearer_token)
    memset (self->bearer_token, 0, strlen (self->bearer_token));
  g_free (self->bearer_token);
  g_free (self->stun_server);
  g_free (self->turn_server);
  g_free (self->ice_address);
  g_free (self->session_id);
  g_clear_pointer (&self->offer, gst_sdp_message_free);
  g_ptr_array_unref (self->candidates);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_whip_server_src_class_init (GstWhipServerSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  /* Read when the element leaves NULL or when an offer arrives. */
  const GParamFlags rw_ready = rw | GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_whip_server_src_set_property;
  gobject_class->get_property = gst_whip_server_src_get_property;
  gobject_class->finalize = gst_whip_server_src_finalize;
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_whip_server_src_change_state);
  element_class->send_event =
      GST_DEBUG_FUNCPTR (gst_whip_server_src_send_event);

  properties[PROP_PORT] = g_param_spec_int (
      "port", "Port",
      "TCP port of the element's own WHIP HTTP endpoint: 0 lets the OS "
      "choose (read it back from bound-port), -1 runs no HTTP endpoint "
      "(offers then come through the \"offer\" action signal). Taken when "
      "the element leaves NULL",
      -1, 65535, DEFAULT_PORT, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_BOUND_PORT] = g_param_spec_int (
      "bound-port", "Bound port",
      "TCP port the WHIP HTTP endpoint listens on while the element is not "
      "in NULL, or -1",
      -1, 65535, -1, ro);
  properties[PROP_ADDRESS] = g_param_spec_string (
      "address", "Address",
      "IP address the WHIP HTTP endpoint listens on (0.0.0.0 or :: for "
      "every interface)",
      DEFAULT_ADDRESS, rw_ready);
  properties[PROP_BEARER_TOKEN] = g_param_spec_string (
      "bearer-token", "Bearer token",
      "When set, every POST, DELETE and PATCH must carry "
      "\"Authorization: Bearer <token>\" (else 401). Compared in constant "
      "time, never logged, write-only",
      DEFAULT_BEARER_TOKEN,
      G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  properties[PROP_LATENCY] = g_param_spec_uint (
      "latency", "Latency",
      "Jitterbuffer latency in ms (webrtcbin's latency). Every ms is "
      "glass-to-glass latency; the default suits LAN and good uplinks, raise "
      "it for lossy publishers so retransmissions arrive in time",
      0, 10000, DEFAULT_LATENCY, rw_ready);
  properties[PROP_START_BITRATE] = g_param_spec_uint (
      "start-bitrate", "Start bitrate",
      "x-google-start-bitrate hint in the answer, in kbit/s: where Chromium "
      "starts its bandwidth estimate instead of ~300 kbit/s (0 = no hint)",
      0, 100000, DEFAULT_START_BITRATE, rw_ready);
  properties[PROP_MIN_BITRATE] = g_param_spec_uint (
      "min-bitrate", "Minimum bitrate",
      "x-google-min-bitrate hint in the answer, in kbit/s: the floor of "
      "Chromium's estimate (0 = no hint)",
      0, 100000, DEFAULT_MIN_BITRATE, rw_ready);
  properties[PROP_STUN_SERVER] = g_param_spec_string (
      "stun-server", "STUN server",
      "STUN server for server-reflexive candidates, stun://host:port "
      "(passed to webrtcbin; also sent to the publisher as a Link header)",
      NULL, rw_ready);
  properties[PROP_TURN_SERVER] = g_param_spec_string (
      "turn-server", "TURN server",
      "TURN server, turn(s)://user:password@host:port (passed to webrtcbin; "
      "also sent to the publisher as a Link header)",
      NULL, rw_ready);
  properties[PROP_MIN_RTP_PORT] = g_param_spec_uint (
      "min-rtp-port", "Minimum RTP port",
      "Lowest local UDP port for ICE candidates (0 = any); with "
      "max-rtp-port, the range a firewall must open",
      0, 65535, DEFAULT_MIN_RTP_PORT, rw_ready);
  properties[PROP_MAX_RTP_PORT] = g_param_spec_uint (
      "max-rtp-port", "Maximum RTP port",
      "Highest local UDP port for ICE candidates (0 = 65535)", 0, 65535,
      DEFAULT_MAX_RTP_PORT, rw_ready);
  properties[PROP_ICE_ADDRESS] = g_param_spec_string (
      "ice-address", "ICE address",
      "Comma-separated local IP addresses ICE may use; unset = every "
      "interface except loopback (or 127.0.0.1 on a loopback-only host)",
      NULL, rw_ready);
  properties[PROP_TIMEOUT] = g_param_spec_uint (
      "timeout", "Timeout",
      "Seconds without media after which the publisher is considered gone "
      "(or, right after the answer, failed) and EOS is sent; 0 = never",
      0, 3600, DEFAULT_TIMEOUT, rw);
  properties[PROP_STATE] = g_param_spec_enum (
      "state", "State", "Where the publisher's session is",
      GST_TYPE_WHIP_SERVER_SRC_STATE, GST_WHIP_SERVER_SRC_STATE_IDLE, ro);
  properties[PROP_SESSION_ID] = g_param_spec_string (
      "session-id", "Session id",
      "Id of the current (or last) session: the last segment of its "
      "Location, its ETag",
      NULL, ro);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  /**
   * GstWhipServerSrc::offer:
   * @src: the element
   * @sdp: the publisher's SDP offer
   * @promise: replied with a %GST_WHIP_SERVER_SRC_ANSWER structure
   *
   * Asynchronous: returns at once; @promise is replied from another thread
   * once the answer is complete (ICE gathered), or at once on error. Wait
   * on it with gst_promise_wait() for a synchronous call.
   */
  signals[SIGNAL_OFFER] = g_signal_new_class_handler (
      "offer", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_whip_server_src_offer), NULL, NULL, NULL, G_TYPE_NONE, 2,
      G_TYPE_STRING, GST_TYPE_PROMISE);
  /**
   * GstWhipServerSrc::stop:
   * @src: the element
   *
   * Ends the session as a DELETE would: EOS on every src pad.
   */
  signals[SIGNAL_STOP] = g_signal_new_class_handler (
      "stop", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_whip_server_src_stop), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstWhipServerSrc::state-changed:
   * @src: the element
   * @state: the new #GstWhipServerSrcState
   * @reason: why, for logs
   *
   * Emitted from internal threads; the same change is posted on the bus as
   * a %GST_WHIP_SERVER_SRC_STATE_MESSAGE element message.
   */
  signals[SIGNAL_STATE_CHANGED] =
      g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass),
                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                    GST_TYPE_WHIP_SERVER_SRC_STATE, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (
      element_class, "WHIP server source", "Source/Network/WebRTC",
      "Receives one WebRTC publisher over WHIP (RFC 9725) and exposes its "
      "H.264 and Opus, depayloaded and parsed",
      "Glasscast");
  gst_type_mark_as_plugin_api (GST_TYPE_WHIP_SERVER_SRC_STATE, 0);
  GST_DEBUG_CATEGORY_INIT (gst_whip_server_src_debug, "whipserversrc", 0,
                           "WHIP server source");
}

static void
gst_whip_server_src_init (GstWhipServerSrc *self)
{
  self->port = DEFAULT_PORT;
  self->bound_port = -1;
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->latency = DEFAULT_LATENCY;
  self->start_bitrate = DEFAULT_START_BITRATE;
  self->min_bitrate = DEFAULT_MIN_BITRATE;
  self->min_rtp_port = DEFAULT_MIN_RTP_PORT;
  self->max_rtp_port = DEFAULT_MAX_RTP_PORT;
  self->timeout = DEFAULT_TIMEOUT;
  self->state = GST_WHIP_SERVER_SRC_STATE_IDLE;
  self->candidates =
      g_ptr_array_new_with_free_func ((GDestroyNotify)whip_sdp_candidate_free);
  g_mutex_init (&self->lock);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

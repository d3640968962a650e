/* test-whipserversrc.c — specification of whipserversrc as a WHIP publisher
 * sees it: a webrtcbin client (and gc-whip-publish) on 127.0.0.1 posting to
 * the element's HTTP endpoint, and what comes out of its src pads. */

#define GST_USE_UNSTABLE_API

#include <gst/check/gstcheck.h>
#include <openssl/crypto.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <signal.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The element, with every src pad ending in a counting fakesink             */

typedef struct {
  guint buffers;
  guint keyframes;
  gboolean eos;
  GstCaps *caps;
} PadStats;

typedef struct {
  GstElement *pipeline;
  GstElement *src;
  GMutex lock;
  GCond cond;
  PadStats video, audio; /* guarded by lock */
  gboolean leave_audio_unlinked;
} Server;

static GstPadProbeReturn
count_data (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Server *s = g_object_get_data (G_OBJECT (pad), "server");
  PadStats *st = user_data;

  g_mutex_lock (&s->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    st->buffers++;
    if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
      st->keyframes++;
  } else {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS)
      st->eos = TRUE;
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gst_event_parse_caps (ev, &caps);
      gst_caps_replace (&st->caps, caps);
    }
  }
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  return GST_PAD_PROBE_OK;
}

static void
on_src_pad (GstElement *src, GstPad *pad, Server *s)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gboolean video = g_str_has_prefix (GST_PAD_NAME (pad), "video_");

  if (!video && s->leave_audio_unlinked) {
    gst_object_unref (sinkpad);
    gst_object_unref (sink);
    return;
  }
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  g_object_set_data (G_OBJECT (sinkpad), "server", s);
  gst_pad_add_probe (
      sinkpad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      count_data, video ? &s->video : &s->audio, NULL);
  gst_bin_add (GST_BIN (s->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
}

/* whipserversrc on 127.0.0.1, an OS-chosen port, @props appended. */
static Server *
server_new_full (const gchar *props, gboolean link_audio)
{
  Server *s = g_new0 (Server, 1);
  g_autofree gchar *desc = g_strdup_printf (
      "whipserversrc name=w port=0 ice-address=127.0.0.1 %s", props);
  g_autoptr (GError) err = NULL;

  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->leave_audio_unlinked = !link_audio;
  /* A lone element parses to itself, not a pipeline. */
  s->src = gst_parse_launch (desc, &err);
  fail_unless (s->src != NULL, "%s", err ? err->message : desc);
  s->pipeline = gst_pipeline_new (NULL);
  gst_bin_add (GST_BIN (s->pipeline), gst_object_ref (s->src));
  g_signal_connect (s->src, "pad-added", G_CALLBACK (on_src_pad), s);
  fail_if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING) ==
           GST_STATE_CHANGE_FAILURE);
  return s;
}

static Server *
server_new (const gchar *props)
{
  return server_new_full (props, TRUE);
}

static gchar *
server_url (Server *s)
{
  gint port = -1;

  g_object_get (s->src, "bound-port", &port, NULL);
  fail_unless (port > 0);
  return g_strdup_printf ("http://127.0.0.1:%d/whip", port);
}

static void
server_free (Server *s)
{
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  gst_object_unref (s->src);
  gst_object_unref (s->pipeline);
  gst_caps_replace (&s->video.caps, NULL);
  gst_caps_replace (&s->audio.caps, NULL);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

typedef gboolean (*ServerCheck) (Server *s, gpointer data);

/* Waits up to @seconds for @check (called with the lock held). */
static gboolean
server_wait (Server *s, ServerCheck check, gpointer data, guint seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  gboolean ok;

  g_mutex_lock (&s->lock);
  while (!(ok = check (s, data)) && g_cond_wait_until (&s->cond, &s->lock, end))
    ;
  g_mutex_unlock (&s->lock);
  return ok;
}

static gboolean
media_flowing (Server *s, gpointer data)
{
  guint n = GPOINTER_TO_UINT (data);

  return s->video.buffers >= n && s->audio.buffers >= n;
}

static gboolean
video_flowing (Server *s, gpointer data)
{
  return s->video.buffers >= GPOINTER_TO_UINT (data);
}

static gboolean
keyframes_above (Server *s, gpointer data)
{
  return s->video.keyframes > GPOINTER_TO_UINT (data);
}

static gboolean
all_eos (Server *s, gpointer data)
{
  return s->video.eos && (s->audio.eos || s->audio.buffers == 0);
}

/* ------------------------------------------------------------------------ */
/* A WHIP client: webrtcbin sending H.264 and Opus from test sources        */

typedef struct {
  GstElement *pipeline;
  GstElement *webrtc;
} Client;

static Client *
client_new (void)
{
  Client *c = g_new0 (Client, 1);
  g_autoptr (GError) err = NULL;
  GObject *ice = NULL, *agent = NULL;
  gboolean ok = FALSE;

  /* key-int-max far beyond any test: every keyframe after the first is
   * one the server asked for. */
  c->pipeline = gst_parse_launch (
      "webrtcbin name=webrtc bundle-policy=max-bundle "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast "
      "bitrate=300 key-int-max=10000 ! video/x-h264,profile=constrained-"
      "baseline ! rtph264pay config-interval=-1 aggregate-mode=zero-latency ! "
      "application/x-rtp,media=video,encoding-name=H264,payload=96,"
      "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true ! webrtc. "
      "audiotestsrc is-live=true ! audioconvert ! audioresample ! opusenc ! "
      "rtpopuspay ! application/x-rtp,media=audio,encoding-name=OPUS,"
      "payload=111 ! webrtc.",
      &err);
  fail_unless (c->pipeline != NULL, "%s", err ? err->message : "?");
  c->webrtc = gst_bin_get_by_name (GST_BIN (c->pipeline), "webrtc");
  g_object_get (c->webrtc, "ice-agent", &ice, NULL);
  g_object_get (ice, "agent", &agent, NULL);
  g_object_set (agent, "upnp", FALSE, NULL);
  g_signal_emit_by_name (ice, "add-local-ip-address", "127.0.0.1", &ok);
  fail_unless (ok);
  g_object_unref (agent);
  g_object_unref (ice);
  fail_if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) ==
           GST_STATE_CHANGE_FAILURE);
  return c;
}

static void
client_free (Client *c)
{
  gst_element_set_state (c->pipeline, GST_STATE_NULL);
  gst_object_unref (c->webrtc);
  gst_object_unref (c->pipeline);
  g_free (c);
}

static const GstStructure *
wait_promise (GstPromise *promise)
{
  fail_unless_equals_int (gst_promise_wait (promise),
                          GST_PROMISE_RESULT_REPLIED);
  return gst_promise_get_reply (promise);
}

/* The complete offer, every candidate gathered, as WHIP wants it. */
static gchar *
client_offer (Client *c)
{
  GArray *transceivers = NULL;
  GstPromise *promise = gst_promise_new ();
  GstWebRTCSessionDescription *offer = NULL;
  GstWebRTCICEGatheringState gathering;
  gint64 end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  gchar *text;

  g_signal_emit_by_name (c->webrtc, "get-transceivers", &transceivers);
  fail_unless_equals_int (transceivers->len, 2);
  for (guint i = 0; i < transceivers->len; i++)
    g_object_set (g_array_index (transceivers, GstWebRTCRTPTransceiver *, i),
                  "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                  NULL);
  g_array_unref (transceivers);

  g_signal_emit_by_name (c->webrtc, "create-offer", NULL, promise);
  gst_structure_get (wait_promise (promise), "offer",
                     GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  fail_unless (offer != NULL);
  promise = gst_promise_new ();
  g_signal_emit_by_name (c->webrtc, "set-local-description", offer, promise);
  wait_promise (promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (offer);

  do {
    g_usleep (10000);
    g_object_get (c->webrtc, "ice-gathering-state", &gathering, NULL);
  } while (gathering != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE &&
           g_get_monotonic_time () < end);
  fail_unless_equals_int (gathering, GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE);

  g_object_get (c->webrtc, "local-description", &offer, NULL);
  text = gst_sdp_message_as_text (offer->sdp);
  gst_webrtc_session_description_free (offer);
  return text;
}

static void
client_take_answer (Client *c, const gchar *answer)
{
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise = gst_promise_new ();
  const GstStructure *reply;

  gst_sdp_message_new (&sdp);
  fail_unless_equals_int (gst_sdp_message_parse_buffer ((const guint8 *)answer,
                                                        strlen (answer), sdp),
                          GST_SDP_OK);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (c->webrtc, "set-remote-description", desc, promise);
  reply = wait_promise (promise);
  fail_if (reply && gst_structure_has_field (reply, "error"));
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                      */

typedef struct {
  guint status;
  gchar *body;
  gchar *location; /* absolute */
  gchar *etag;
  gchar *content_type;
  gchar *www_authenticate;
} Reply;

static void
reply_free (Reply *r)
{
  g_free (r->body);
  g_free (r->location);
  g_free (r->etag);
  g_free (r->content_type);
  g_free (r->www_authenticate);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static Reply *
http (const gchar *method, const gchar *url, const gchar *token,
      const gchar *type, const gchar *body)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) bytes = NULL;
  SoupMessageHeaders *h;
  Reply *r = g_new0 (Reply, 1);
  const gchar *v;

  fail_unless (msg != NULL);
  if (token) {
    g_autofree gchar *auth = g_strdup_printf ("Bearer %s", token);
    soup_message_headers_replace (soup_message_get_request_headers (msg),
                                  "Authorization", auth);
  }
  if (body) {
    g_autoptr (GBytes) req = g_bytes_new (body, strlen (body));
    soup_message_set_request_body_from_bytes (msg, type, req);
  }
  bytes = soup_session_send_and_read (session, msg, NULL, &err);
  fail_unless (bytes != NULL, "%s %s: %s", method, url,
               err ? err->message : "?");
  r->status = soup_message_get_status (msg);
  r->body =
      g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  h = soup_message_get_response_headers (msg);
  if ((v = soup_message_headers_get_one (h, "Location")))
    r->location = g_uri_resolve_relative (url, v, G_URI_FLAGS_NONE, NULL);
  r->etag = g_strdup (soup_message_headers_get_one (h, "ETag"));
  r->content_type = g_strdup (soup_message_headers_get_content_type (h, NULL));
  r->www_authenticate =
      g_strdup (soup_message_headers_get_one (h, "WWW-Authenticate"));
  return r;
}

static Reply *
post_offer (const gchar *url, const gchar *token, const gchar *sdp)
{
  return http ("POST", url, token, "application/sdp", sdp);
}

/* Publishes @c to @s and waits until audio and video come out. */
static Reply *
publish (Server *s, Client *c, const gchar *token)
{
  g_autofree gchar *url = server_url (s);
  g_autofree gchar *offer = client_offer (c);
  Reply *r = post_offer (url, token, offer);

  fail_unless_equals_int (r->status, 201);
  client_take_answer (c, r->body);
  fail_unless (server_wait (s, media_flowing, GUINT_TO_POINTER (10), 10),
               "no media: video %u audio %u buffers", s->video.buffers,
               s->audio.buffers);
  return r;
}

/* An offer as a browser would send it, from @media lines on. */
#define OFFER_HEAD                                                             \
  "v=0\r\n"                                                                    \
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"                             \
  "s=-\r\n"                                                                    \
  "t=0 0\r\n"                                                                  \
  "a=group:BUNDLE 0\r\n"
#define OFFER_TRANSPORT                                                        \
  "c=IN IP4 0.0.0.0\r\n"                                                       \
  "a=ice-ufrag:h5Zb\r\n"                                                       \
  "a=ice-pwd:Hw3tgjIk2hC3dFyl0mJr47CY\r\n"                                     \
  "a=fingerprint:sha-256 "                                                     \
  "49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:"   \
  "70:03:E7:43:91:73:23:5E\r\n"                                                \
  "a=setup:actpass\r\n"                                                        \
  "a=mid:0\r\n"                                                                \
  "a=sendonly\r\n"                                                             \
  "a=rtcp-mux\r\n"

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

GST_START_TEST (test_publisher_media_comes_out_parsed) {
  Server *s = server_new ("");
  Client *c = client_new ();
  g_autoptr (Reply) r = publish (s, c, NULL);
  GstStructure *st;
  const gchar *format;
  gint state;

  fail_unless (r->location != NULL);
  fail_unless (r->etag != NULL);
  fail_unless_equals_string (r->content_type, "application/sdp");
  fail_unless (strstr (r->body, "a=candidate:") != NULL);
  fail_unless (strstr (r->body, "a=end-of-candidates") != NULL);
  fail_unless (strstr (r->body, "x-google-start-bitrate=2500") != NULL);

  g_mutex_lock (&s->lock);
  st = gst_caps_get_structure (s->video.caps, 0);
  fail_unless (gst_structure_has_name (st, "video/x-h264"));
  fail_unless_equals_string (gst_structure_get_string (st, "alignment"), "au");
  format = gst_structure_get_string (st, "stream-format");
  fail_unless (g_strcmp0 (format, "avc") == 0 ||
               g_strcmp0 (format, "byte-stream") == 0);
  fail_unless (s->video.keyframes >= 1);
  fail_unless (gst_structure_has_name (
      gst_caps_get_structure (s->audio.caps, 0), "audio/x-opus"));
  g_mutex_unlock (&s->lock);

  g_object_get (s->src, "state", &state, NULL);
  fail_unless_equals_int (state, 2 /* live */);

  client_free (c);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_force_key_unit_upstream_brings_keyframe) {
  Server *s = server_new ("");
  Client *c = client_new ();
  g_autoptr (Reply) r = publish (s, c, NULL);
  GstPad *pad = gst_element_get_static_pad (s->src, "video_0");
  GstPad *peer = gst_pad_get_peer (pad);
  guint before;

  fail_unless_equals_int (r->status, 201);
  /* Let the first keyframe request (at start) be answered first. */
  fail_unless (server_wait (s, video_flowing, GUINT_TO_POINTER (40), 10));
  g_mutex_lock (&s->lock);
  before = s->video.keyframes;
  g_mutex_unlock (&s->lock);

  fail_unless (
      gst_pad_push_event (peer, gst_video_event_new_upstream_force_key_unit (
                                    GST_CLOCK_TIME_NONE, TRUE, 1)));
  fail_unless (server_wait (s, keyframes_above, GUINT_TO_POINTER (before), 3),
               "no keyframe after force-key-unit");

  gst_object_unref (peer);
  gst_object_unref (pad);
  client_free (c);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_unlinked_audio_pad_does_not_stop_video) {
  Server *s = server_new_full ("", FALSE);
  Client *c = client_new ();
  g_autofree gchar *url = server_url (s);
  g_autofree gchar *offer = client_offer (c);
  g_autoptr (Reply) r = post_offer (url, NULL, offer);

  fail_unless_equals_int (r->status, 201);
  client_take_answer (c, r->body);
  /* Two seconds of video while audio_0 has nowhere to go. */
  fail_unless (server_wait (s, video_flowing, GUINT_TO_POINTER (60), 10),
               "video stopped at %u buffers", s->video.buffers);

  client_free (c);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_wrong_bearer_token_is_401) {
  Server *s = server_new ("bearer-token=s3cret");
  g_autofree gchar *url = server_url (s);
  g_autoptr (Reply) wrong = post_offer (url, "guess", "v=0\r\n");
  g_autoptr (Reply) none = post_offer (url, NULL, "v=0\r\n");
  g_autoptr (Reply) right = post_offer (url, "s3cret", "v=0\r\n");

  fail_unless_equals_int (wrong->status, 401);
  fail_unless_equals_string (wrong->www_authenticate, "Bearer");
  fail_unless_equals_int (none->status, 401);
  /* The right token gets past authentication to the SDP check. */
  fail_unless_equals_int (right->status, 400);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_malformed_sdp_is_400_with_reason) {
  Server *s = server_new ("");
  g_autofree gchar *url = server_url (s);
  g_autoptr (Reply) garbage = post_offer (url, NULL, "hello, WHIP");
  g_autoptr (Reply) no_ice =
      post_offer (url, NULL,
                  OFFER_HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                             "c=IN IP4 0.0.0.0\r\n"
                             "a=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
                             "a=rtpmap:96 H264/90000\r\n");
  g_autoptr (Reply) wrong_type =
      http ("POST", url, NULL, "text/plain", "v=0\r\n");
  gint state;

  fail_unless_equals_int (garbage->status, 400);
  fail_unless (strstr (garbage->body, "v=0") != NULL, "%s", garbage->body);
  fail_unless_equals_int (no_ice->status, 400);
  fail_unless (strstr (no_ice->body, "ice-ufrag") != NULL, "%s", no_ice->body);
  fail_unless_equals_int (wrong_type->status, 415);
  g_object_get (s->src, "state", &state, NULL);
  fail_unless_equals_int (state, 0 /* idle */);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_offer_without_h264_is_406) {
  Server *s = server_new ("");
  g_autofree gchar *url = server_url (s);
  g_autoptr (Reply) r = post_offer (
      url, NULL,
      OFFER_HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" OFFER_TRANSPORT
                 "a=rtpmap:96 VP8/90000\r\n"
                 "a=rtpmap:97 rtx/90000\r\n"
                 "a=fmtp:97 apt=96\r\n");
  gint state;

  fail_unless_equals_int (r->status, 406);
  fail_unless (strstr (r->body, "H.264") != NULL, "%s", r->body);
  g_object_get (s->src, "state", &state, NULL);
  fail_unless_equals_int (state, 0 /* idle */);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_delete_ends_src_pads_with_eos) {
  Server *s = server_new ("");
  Client *c = client_new ();
  g_autoptr (Reply) r = publish (s, c, NULL);
  g_autoptr (Reply) del = http ("DELETE", r->location, NULL, NULL, NULL);
  g_autoptr (Reply) again = NULL;
  g_autoptr (GstBus) bus = gst_element_get_bus (s->pipeline);
  g_autoptr (GstMessage) eos = NULL;
  gint state;

  fail_unless_equals_int (del->status, 200);
  fail_unless (server_wait (s, all_eos, NULL, 5), "no EOS on the src pads");
  g_object_get (s->src, "state", &state, NULL);
  fail_unless_equals_int (state, 3 /* ended */);
  /* With webrtcbin gone, the EOS reaches the bus and gst-launch ends. */
  eos = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_EOS);
  fail_unless (eos != NULL, "no EOS message on the bus");
  again = http ("DELETE", r->location, NULL, NULL, NULL);
  fail_unless_equals_int (again->status, 404);

  client_free (c);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_second_publisher_is_409) {
  Server *s = server_new ("");
  Client *c = client_new ();
  Client *c2 = client_new ();
  g_autoptr (Reply) r = publish (s, c, NULL);
  g_autofree gchar *url = server_url (s);
  g_autofree gchar *offer = client_offer (c2);
  g_autoptr (Reply) other = post_offer (url, NULL, offer);

  fail_unless_equals_int (r->status, 201);
  fail_unless_equals_int (other->status, 409);
  fail_unless (strlen (other->body) > 1);

  client_free (c2);
  client_free (c);
  server_free (s);
}
GST_END_TEST;

GST_START_TEST (test_offer_action_signal_answers) {
  Server *s = server_new ("port=-1");
  Client *c = client_new ();
  g_autofree gchar *offer = client_offer (c);
  GstPromise *promise = gst_promise_new ();
  const GstStructure *reply;
  guint status = 0;
  gint port;

  g_object_get (s->src, "bound-port", &port, NULL);
  fail_unless_equals_int (port, -1);

  g_signal_emit_by_name (s->src, "offer", offer, promise);
  reply = wait_promise (promise);
  fail_unless (gst_structure_get_uint (reply, "status", &status));
  fail_unless_equals_int (status, 201);
  fail_unless (gst_structure_get_string (reply, "session-id") != NULL);
  client_take_answer (c, gst_structure_get_string (reply, "answer"));
  gst_promise_unref (promise);
  fail_unless (server_wait (s, media_flowing, GUINT_TO_POINTER (10), 10));

  g_signal_emit_by_name (s->src, "stop");
  fail_unless (server_wait (s, all_eos, NULL, 5));

  client_free (c);
  server_free (s);
}
GST_END_TEST;

/* gc-whip-publish (examples/) is an independent client that behaves like
 * OBS: a pre-encoded MP4 published with a bearer token, Ctrl-C -> DELETE. */
GST_START_TEST (test_gc_whip_publish_interoperates) {
  const gchar *exe = g_getenv ("GC_WHIP_PUBLISH");
  g_autofree gchar *dir = g_dir_make_tmp ("whip-test-XXXXXX", NULL);
  g_autofree gchar *mp4 = g_build_filename (dir, "in.mp4", NULL);
  g_autofree gchar *make = g_strdup_printf (
      "videotestsrc num-buffers=300 ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! x264enc speed-preset=ultrafast key-int-max=30 "
      "bitrate=300 ! video/x-h264,profile=constrained-baseline ! h264parse ! "
      "mp4mux name=m ! filesink location=%s "
      "audiotestsrc num-buffers=400 ! audioconvert ! avenc_aac ! aacparse ! m.",
      mp4);
  g_autoptr (GstElement) maker = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) done = NULL;
  Server *s;
  g_autofree gchar *url = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) err = NULL;

  fail_unless (exe != NULL, "GC_WHIP_PUBLISH not set");
  maker = gst_parse_launch (make, &err);
  fail_unless (maker != NULL, "%s", err ? err->message : "?");
  bus = gst_element_get_bus (maker);
  gst_element_set_state (maker, GST_STATE_PLAYING);
  done = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
                                     GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (done && GST_MESSAGE_TYPE (done) == GST_MESSAGE_EOS);
  gst_element_set_state (maker, GST_STATE_NULL);

  s = server_new ("bearer-token=key-123");
  url = server_url (s);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &err, exe, url, "--token",
                           "key-123", "--file", mp4, "--ice-address",
                           "127.0.0.1", NULL);
  fail_unless (proc != NULL, "%s", err ? err->message : "?");

  fail_unless (server_wait (s, media_flowing, GUINT_TO_POINTER (20), 10),
               "no media from gc-whip-publish: video %u audio %u",
               s->video.buffers, s->audio.buffers);
  g_subprocess_send_signal (proc, SIGINT);
  fail_unless (server_wait (s, all_eos, NULL, 5), "Ctrl-C did not DELETE");
  fail_unless (g_subprocess_wait (proc, NULL, &err));
  fail_unless (g_subprocess_get_if_exited (proc));
  fail_unless_equals_int (g_subprocess_get_exit_status (proc), 0);

  server_free (s);
  g_unlink (mp4);
  g_rmdir (dir);
}
GST_END_TEST;

static Suite *
whipserversrc_suite (void)
{
  Suite *s = suite_create ("whipserversrc");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_publisher_media_comes_out_parsed);
  tcase_add_test (tc, test_force_key_unit_upstream_brings_keyframe);
  tcase_add_test (tc, test_unlinked_audio_pad_does_not_stop_video);
  tcase_add_test (tc, test_wrong_bearer_token_is_401);
  tcase_add_test (tc, test_malformed_sdp_is_400_with_reason);
  tcase_add_test (tc, test_offer_without_h264_is_406);
  tcase_add_test (tc, test_delete_ends_src_pads_with_eos);
  tcase_add_test (tc, test_second_publisher_is_409);
  tcase_add_test (tc, test_offer_action_signal_answers);
  tcase_add_test (tc, test_gc_whip_publish_interoperates);
  return s;
}

int
main (int argc, char **argv)
{
  /* First, before DTLS touches OpenSSL: no OpenSSL clean-up at exit, which
   * races threads still ending (plugins/whip/README.md, "Process exit"). */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (whipserversrc_suite (), "whipserversrc",
                              __FILE__);
}

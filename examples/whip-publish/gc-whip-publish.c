/* gc-whip-publish.c — a small WHIP (RFC 9725) publisher on webrtcbin and
 * libsoup that behaves as OBS does: one POST, no trickle, DELETE to stop. */

/*
 * Usage:
 *   gc-whip-publish URL [--token T] (--file F | --test-source) [--duration S]
 *
 * It uses only what RFC 9725 asks of a client: gather every ICE candidate,
 * POST the offer as application/sdp with "Authorization: Bearer", expect
 * 201 Created with a Location and an SDP answer, and DELETE the Location
 * (with the same token) on Ctrl-C, at the end of the file or after
 * --duration seconds. A file is sent as is: H.264 passes through (parsebin
 * finds it in MP4, MKV or a raw .h264 stream), Opus too; other audio is
 * re-encoded to Opus. Pacing follows the file's timestamps.
 *
 * Exit status: 0 after a clean DELETE, 1 when the server refused the offer
 * or the connection failed, 2 on usage errors.
 */

#define GST_USE_UNSTABLE_API

#include <gst/gst.h>
#include <openssl/crypto.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <glib-unix.h>
#include <libsoup/soup.h>

#include <stdlib.h>
#include <string.h>

typedef struct {
  gchar *url;
  gchar *token;
  gchar *file;
  gboolean test_source;
  guint duration;
  gchar *ice_address;

  GMainLoop *loop;
  SoupSession *http;
  GstElement *pipeline;
  GstElement *webrtc;
  gboolean offered;       /* main thread only */
  gchar *location;        /* the session URL, once the server answered */
  gint streams_open;      /* atomic: payloader chains not yet at EOS */
  gint streams;           /* atomic: streams linked to webrtcbin */
  gint streams_with_caps; /* atomic: ... that have their caps */
  gint negotiating;       /* atomic: the offer is being made */
  gint connected;         /* atomic: ICE and DTLS are up */
  gint exit_status;
  gboolean stopping;
} Publisher;

static void publisher_stop (Publisher *pub, gint status);

/* ------------------------------------------------------------ HTTP */

static void
add_auth (Publisher *pub, SoupMessage *msg)
{
  g_autofree gchar *value = NULL;

  if (!pub->token)
    return;
  value = g_strdup_printf ("Bearer %s", pub->token);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
                                "Authorization", value);
}

static void
on_deleted (GObject *source, GAsyncResult *res, gpointer data)
{
  Publisher *pub = data;
  SoupMessage *msg =
      soup_session_get_async_result_message (SOUP_SESSION (source), res);
  g_autoptr (GError) err = NULL;
  GBytes *body =
      soup_session_send_and_read_finish (SOUP_SESSION (source), res, &err);

  g_clear_pointer (&body, g_bytes_unref);
  if (err)
    g_printerr ("DELETE failed: %s\n", err->message);
  else
    g_print ("DELETE %s: %u\n", pub->location, soup_message_get_status (msg));
  g_main_loop_quit (pub->loop);
}

static void
on_answer (GObject *source, GAsyncResult *res, gpointer data)
{
  Publisher *pub = data;
  SoupMessage *msg =
      soup_session_get_async_result_message (SOUP_SESSION (source), res);
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) body =
      soup_session_send_and_read_finish (SOUP_SESSION (source), res, &err);
  const gchar *location;
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *answer;
  gsize len = 0;
  const gchar *text;

  if (err) {
    g_printerr ("POST %s failed: %s\n", pub->url, err->message);
    publisher_stop (pub, 1);
    return;
  }
  text = body ? g_bytes_get_data (body, &len) : NULL;
  if (soup_message_get_status (msg) != SOUP_STATUS_CREATED) {
    g_printerr ("server refused the offer: %u %.*s\n",
                soup_message_get_status (msg), (int)len, text ? text : "");
    publisher_stop (pub, 1);
    return;
  }
  location = soup_message_headers_get_one (
      soup_message_get_response_headers (msg), "Location");
  if (!location || !text) {
    g_printerr ("201 without Location or answer\n");
    publisher_stop (pub, 1);
    return;
  }
  /* The Location may be relative to the endpoint (RFC 9725 4.2). */
  pub->location =
      g_uri_resolve_relative (pub->url, location, G_URI_FLAGS_NONE, NULL);
  g_print ("session %s\n", pub->location ? pub->location : location);

  gst_sdp_message_new (&sdp);
  if (gst_sdp_message_parse_buffer ((const guint8 *)text, len, sdp) !=
      GST_SDP_OK) {
    gst_sdp_message_free (sdp);
    g_printerr ("answer is not SDP\n");
    publisher_stop (pub, 1);
    return;
  }
  answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (pub->webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
}

/* Runs in the main thread once ICE gathering is complete. */
static gboolean
post_offer (gpointer data)
{
  Publisher *pub = data;
  GstWebRTCSessionDescription *offer = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;

  if (pub->offered || pub->stopping)
    return G_SOURCE_REMOVE;
  g_object_get (pub->webrtc, "local-description", &offer, NULL);
  if (!offer)
    return G_SOURCE_REMOVE;
  pub->offered = TRUE;
  text = gst_sdp_message_as_text (offer->sdp);
  gst_webrtc_session_description_free (offer);

  msg = soup_message_new (SOUP_METHOD_POST, pub->url);
  if (!msg) {
    g_printerr ("invalid URL %s\n", pub->url);
    publisher_stop (pub, 2);
    return G_SOURCE_REMOVE;
  }
  add_auth (pub, msg);
  body = g_bytes_new_take (g_steal_pointer (&text), strlen (text));
  soup_message_set_request_body_from_bytes (msg, "application/sdp", body);
  soup_session_send_and_read_async (pub->http, msg, G_PRIORITY_DEFAULT, NULL,
                                    on_answer, pub);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------ webrtcbin */

static void
on_gathering_state (GstElement *webrtc, GParamSpec *pspec, Publisher *pub)
{
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    g_idle_add (post_offer, pub);
}

static gboolean
stop_failed (gpointer data)
{
  publisher_stop (data, 1);
  return G_SOURCE_REMOVE;
}

static void
on_connection_state (GstElement *webrtc, GParamSpec *pspec, Publisher *pub)
{
  GstWebRTCPeerConnectionState state;
  g_autofree gchar *nick = NULL;

  g_object_get (webrtc, "connection-state", &state, NULL);
  nick = g_enum_to_string (GST_TYPE_WEBRTC_PEER_CONNECTION_STATE, state);
  g_print ("connection %s\n", nick);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    g_atomic_int_set (&pub->connected, 1);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    g_idle_add (stop_failed, pub);
}

static void
on_offer_created (GstPromise *promise, gpointer data)
{
  Publisher *pub = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *offer = NULL;

  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                       &offer, NULL);
  if (!offer) {
    g_printerr ("webrtcbin made no offer\n");
    g_idle_add (stop_failed, pub);
    return;
  }
  g_signal_emit_by_name (pub->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
}

static gboolean
create_offer (gpointer data)
{
  Publisher *pub = data;
  GstPromise *promise;
  GArray *transceivers = NULL;

  /* A WHIP offer only sends (RFC 9725 4.2). */
  g_signal_emit_by_name (pub->webrtc, "get-transceivers", &transceivers);
  for (guint i = 0; transceivers && i < transceivers->len; i++)
    g_object_set (g_array_index (transceivers, GstWebRTCRTPTransceiver *, i),
                  "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                  NULL);
  g_clear_pointer (&transceivers, g_array_unref);

  promise = gst_promise_new_with_change_func (on_offer_created, pub, NULL);

  g_signal_emit_by_name (pub->webrtc, "create-offer", NULL, promise);
  gst_promise_unref (promise);
  return G_SOURCE_REMOVE;
}

/* The offer describes every stream once each has its caps. parsebin
 * exposes all of a file's streams before any data flows, so when the first
 * caps arrive every stream is already counted. */
static GstPadProbeReturn
on_stream_caps (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Publisher *pub = data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  if (g_atomic_int_add (&pub->streams_with_caps, 1) + 1 ==
          g_atomic_int_get (&pub->streams) &&
      g_atomic_int_compare_and_exchange (&pub->negotiating, 0, 1))
    g_idle_add (create_offer, pub);
  return GST_PAD_PROBE_REMOVE;
}

/* webrtcbin queues what it is given before the connection is up and sends
 * it in one burst once DTLS is done; the receiver's jitterbuffer then
 * squeezes those timestamps together and later jumps (a discontinuity in
 * the LL-HLS output). Media starts when the connection does, as in OBS. */
static GstPadProbeReturn
drop_until_connected (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Publisher *pub = data;

  return g_atomic_int_get (&pub->connected) ? GST_PAD_PROBE_REMOVE
                                            : GST_PAD_PROBE_DROP;
}

static void
watch_stream (Publisher *pub, GstPad *webrtc_sink)
{
  g_atomic_int_inc (&pub->streams);
  gst_pad_add_probe (webrtc_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                     on_stream_caps, pub, NULL);
  gst_pad_add_probe (webrtc_sink,
                     GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     drop_until_connected, pub, NULL);
}

/* ------------------------------------------------------------ media */

/* The payloader caps webrtcbin turns into the offer: with FIR/PLI feedback,
 * so the server's keyframe requests reach the encoder (or are at least
 * understood). */
#define VIDEO_RTP_CAPS                                                         \
  "application/x-rtp,media=video,encoding-name=H264,payload=96,"               \
  "clock-rate=90000,rtcp-fb-nack-pli=(boolean)true,"                           \
  "rtcp-fb-ccm-fir=(boolean)true,rtcp-fb-nack=(boolean)true"
#define AUDIO_RTP_CAPS                                                         \
  "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"              \
  "clock-rate=48000"

static gboolean
stop_at_end (gpointer data)
{
  publisher_stop (data, 0);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
on_stream_eos (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Publisher *pub = data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS &&
      g_atomic_int_dec_and_test (&pub->streams_open)) {
    g_print ("end of file\n");
    g_idle_add (stop_at_end, pub);
  }
  return GST_PAD_PROBE_OK;
}

/* One of parsebin's streams: pace it, payload it, give it to webrtcbin. */
static void
on_file_pad (GstElement *parsebin, GstPad *pad, Publisher *pub)
{
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  const gchar *desc;
  g_autoptr (GError) err = NULL;
  GstElement *bin;
  g_autoptr (GstPad) sink = NULL;
  g_autoptr (GstPad) src = NULL;

  if (g_str_equal (name, "video/x-h264"))
    desc =
        "queue ! clocksync ! h264parse ! rtph264pay config-interval=-1 "
        "aggregate-mode=zero-latency ! capsfilter caps=\"" VIDEO_RTP_CAPS "\"";
  else if (g_str_equal (name, "audio/x-opus"))
    desc = "queue ! clocksync ! rtpopuspay ! capsfilter caps=\"" AUDIO_RTP_CAPS
           "\"";
  else if (g_str_equal (name, "audio/mpeg"))
    desc = "queue ! clocksync ! avdec_aac ! audioconvert ! audioresample ! "
           "opusenc ! rtpopuspay ! capsfilter caps=\"" AUDIO_RTP_CAPS "\"";
  else {
    g_printerr ("skipping %s (only H.264 video is sent as is)\n", name);
    return;
  }
  bin = gst_parse_bin_from_description (desc, TRUE, &err);
  if (!bin) {
    g_printerr ("%s\n", err->message);
    return;
  }
  gst_bin_add (GST_BIN (pub->pipeline), bin);
  sink = gst_element_get_static_pad (bin, "sink");
  src = gst_element_get_static_pad (bin, "src");
  g_atomic_int_inc (&pub->streams_open);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_stream_eos,
                     pub, NULL);
  {
    g_autoptr (GstPad) webrtc_sink =
        gst_element_request_pad_simple (pub->webrtc, "sink_%u");
    gst_pad_link (src, webrtc_sink);
    watch_stream (pub, webrtc_sink);
  }
  gst_element_sync_state_with_parent (bin);
  gst_pad_link (pad, sink);
}

static gboolean
build_pipeline (Publisher *pub, GError **error)
{
  if (pub->test_source) {
    pub->pipeline = gst_parse_launch (
        "webrtcbin name=webrtc bundle-policy=max-bundle "
        "videotestsrc is-live=true pattern=ball ! "
        "video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! "
        "x264enc tune=zerolatency speed-preset=ultrafast bitrate=1500 "
        "key-int-max=60 ! video/x-h264,profile=constrained-baseline ! "
        "rtph264pay config-interval=-1 aggregate-mode=zero-latency "
        "! " VIDEO_RTP_CAPS " ! webrtc. "
        "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! "
        "opusenc ! rtpopuspay ! " AUDIO_RTP_CAPS " ! webrtc.",
        error);
    if (!pub->pipeline)
      return FALSE;
    pub->webrtc = gst_bin_get_by_name (GST_BIN (pub->pipeline), "webrtc");
    {
      GstIterator *it = gst_element_iterate_sink_pads (pub->webrtc);
      GValue v = G_VALUE_INIT;

      while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
        watch_stream (pub, g_value_get_object (&v));
        g_value_reset (&v);
      }
      g_value_unset (&v);
      gst_iterator_free (it);
    }
  } else {
    GstElement *src = gst_element_factory_make ("filesrc", NULL);
    GstElement *parse = gst_element_factory_make ("parsebin", NULL);

    pub->pipeline = gst_pipeline_new ("publisher");
    pub->webrtc = gst_element_factory_make ("webrtcbin", "webrtc");
    if (!src || !parse || !pub->webrtc) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                   "filesrc, parsebin or webrtcbin missing");
      return FALSE;
    }
    g_object_set (src, "location", pub->file, NULL);
    g_object_set (pub->webrtc, "bundle-policy",
                  GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
    gst_bin_add_many (GST_BIN (pub->pipeline), src, parse,
                      gst_object_ref (pub->webrtc), NULL);
    gst_element_link (src, parse);
    g_signal_connect (parse, "pad-added", G_CALLBACK (on_file_pad), pub);
  }

  {
    GObject *ice = NULL, *agent = NULL;
    gboolean ok = TRUE;

    g_object_get (pub->webrtc, "ice-agent", &ice, NULL);
    /* libnice's UPnP port mapping is of no use to a publisher behind a
     * WHIP server's ICE; it only delays gathering. */
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
      g_object_get (ice, "agent", &agent, NULL);
    if (agent &&
        g_object_class_find_property (G_OBJECT_GET_CLASS (agent), "upnp"))
      g_object_set (agent, "upnp", FALSE, NULL);
    g_clear_object (&agent);
    if (pub->ice_address)
      g_signal_emit_by_name (ice, "add-local-ip-address", pub->ice_address,
                             &ok);
    g_object_unref (ice);
    if (!ok) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "cannot use ICE address %s", pub->ice_address);
      return FALSE;
    }
  }
  g_signal_connect (pub->webrtc, "notify::ice-gathering-state",
                    G_CALLBACK (on_gathering_state), pub);
  g_signal_connect (pub->webrtc, "notify::connection-state",
                    G_CALLBACK (on_connection_state), pub);
  return TRUE;
}

/* ------------------------------------------------------------ lifecycle */

static void
publisher_stop (Publisher *pub, gint status)
{
  g_autoptr (SoupMessage) msg = NULL;

  if (pub->stopping)
    return;
  pub->stopping = TRUE;
  pub->exit_status = status;
  if (!pub->location) {
    g_main_loop_quit (pub->loop);
    return;
  }
  msg = soup_message_new (SOUP_METHOD_DELETE, pub->location);
  add_auth (pub, msg);
  soup_session_send_and_read_async (pub->http, msg, G_PRIORITY_DEFAULT, NULL,
                                    on_deleted, pub);
}

static gboolean
on_signal (gpointer data)
{
  publisher_stop (data, 0);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_duration (gpointer data)
{
  publisher_stop (data, 0);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus (GstBus *bus, GstMessage *message, gpointer data)
{
  Publisher *pub = data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *dbg = NULL;

    gst_message_parse_error (message, &err, &dbg);
    g_printerr ("error from %s: %s\n", GST_OBJECT_NAME (message->src),
                err->message);
    publisher_stop (pub, 1);
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  Publisher pub = {0};
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) err = NULL;
  GOptionEntry entries[] = {
      {"token", 't', 0, G_OPTION_ARG_STRING, &pub.token,
       "Bearer token (stream key)", "TOKEN"},
      {"file", 'f', 0, G_OPTION_ARG_FILENAME, &pub.file,
       "Pre-encoded media file to send (H.264 passes through)", "FILE"},
      {"test-source", 0, 0, G_OPTION_ARG_NONE, &pub.test_source,
       "Send a 640x360 test pattern and tone instead of a file", NULL},
      {"duration", 'd', 0, G_OPTION_ARG_INT, &pub.duration,
       "Stop (DELETE) after this many seconds (default: until Ctrl-C or the "
       "end of the file)",
       "SECONDS"},
      {"ice-address", 0, 0, G_OPTION_ARG_STRING, &pub.ice_address,
       "Local IP address ICE uses (e.g. 127.0.0.1 on a loopback-only host)",
       "ADDRESS"},
      {NULL},
  };
  GstBus *bus;

  /* First, before DTLS touches OpenSSL: no OpenSSL clean-up at exit, which
   * races threads still ending (plugins/whip/README.md, "Process exit"). */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
  ctx = g_option_context_new ("URL - publish to a WHIP endpoint");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  if (argc != 2 || (!pub.file == !pub.test_source)) {
    g_printerr ("usage: %s URL [--token T] (--file F | --test-source) "
                "[--duration S]\n",
                argv[0]);
    return 2;
  }
  pub.url = g_strdup (argv[1]);

  if (!build_pipeline (&pub, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  pub.loop = g_main_loop_new (NULL, FALSE);
  pub.http = soup_session_new ();
  bus = gst_element_get_bus (pub.pipeline);
  gst_bus_add_watch (bus, on_bus, &pub);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_signal, &pub);
  g_unix_signal_add (SIGTERM, on_signal, &pub);
  if (pub.duration)
    g_timeout_add_seconds (pub.duration, on_duration, &pub);

  if (gst_element_set_state (pub.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("cannot start the pipeline\n");
    return 1;
  }
  g_main_loop_run (pub.loop);

  gst_element_set_state (pub.pipeline, GST_STATE_NULL);
  gst_object_unref (pub.webrtc);
  gst_object_unref (pub.pipeline);
  g_object_unref (pub.http);
  g_main_loop_unref (pub.loop);
  g_free (pub.location);
  g_free (pub.url);
  g_free (pub.token);
  g_free (pub.file);
  g_free (pub.ice_address);
  return pub.exit_status;
}

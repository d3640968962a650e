/* hls-count-frames.c — decodes a URI with uridecodebin3 and counts what comes out.
 * Integration tests use it to prove an llhlssink VOD folder plays frame-exact through hlsdemux2. */

/* Usage: hls-count-frames URI [TIMEOUT_SECONDS]
 *
 * Every decoded video stream goes to a fakesink whose sink pad counts buffers;
 * every audio stream to one that counts samples. At EOS it prints
 *
 *   video_frames=N audio_samples=M audio_rate=R video_duration=S audio_duration=S
 *
 * (durations in seconds, from the first buffer's PTS to the last buffer's end)
 * and exits 0. An error message, a timeout or no stream at all exits non-zero,
 * so a test can never pass on a pipeline that silently did nothing. */

#include <gst/audio/audio.h>
#include <gst/gst.h>
#include <stdlib.h>

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline;
  int exit_code;

  /* Written by the streaming threads' pad probes, read after the loop ends;
   * guarded by lock. */
  GMutex lock;
  guint64 video_frames;
  guint64 audio_samples;
  gint audio_rate;
  GstClockTime video_first, video_end;
  GstClockTime audio_first, audio_end;
  guint video_streams, audio_streams;
} Counter;

static void
note_span (GstBuffer *buf, GstClockTime *first, GstClockTime *end)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return;
  if (!GST_CLOCK_TIME_IS_VALID (*first) || pts < *first)
    *first = pts;
  if (GST_BUFFER_DURATION_IS_VALID (buf))
    pts += GST_BUFFER_DURATION (buf);
  if (!GST_CLOCK_TIME_IS_VALID (*end) || pts > *end)
    *end = pts;
}

static GstPadProbeReturn
count_video (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Counter *c = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  g_mutex_lock (&c->lock);
  c->video_frames++;
  note_span (buf, &c->video_first, &c->video_end);
  g_mutex_unlock (&c->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
count_audio (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Counter *c = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstAudioInfo ainfo;

  if (caps == NULL || !gst_audio_info_from_caps (&ainfo, caps) ||
      GST_AUDIO_INFO_BPF (&ainfo) == 0) {
    g_printerr ("audio buffer without usable caps\n");
    return GST_PAD_PROBE_OK;
  }
  g_mutex_lock (&c->lock);
  c->audio_samples += gst_buffer_get_size (buf) / GST_AUDIO_INFO_BPF (&ainfo);
  c->audio_rate = GST_AUDIO_INFO_RATE (&ainfo);
  note_span (buf, &c->audio_first, &c->audio_end);
  g_mutex_unlock (&c->lock);
  return GST_PAD_PROBE_OK;
}

static GstStreamType
pad_stream_type (GstPad *pad)
{
  g_autoptr (GstStream) stream = gst_pad_get_stream (pad);
  g_autoptr (GstCaps) caps = NULL;
  const gchar *name;

  if (stream != NULL &&
      gst_stream_get_stream_type (stream) != GST_STREAM_TYPE_UNKNOWN)
    return gst_stream_get_stream_type (stream);
  caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_is_empty (caps))
    return GST_STREAM_TYPE_UNKNOWN;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_has_prefix (name, "video/"))
    return GST_STREAM_TYPE_VIDEO;
  if (g_str_has_prefix (name, "audio/"))
    return GST_STREAM_TYPE_AUDIO;
  return GST_STREAM_TYPE_UNKNOWN;
}

static void
on_pad_added (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  Counter *c = user_data;
  GstStreamType type = pad_stream_type (pad);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr (GstPad) sinkpad = NULL;

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (c->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");

  g_mutex_lock (&c->lock);
  if (type & GST_STREAM_TYPE_VIDEO) {
    c->video_streams++;
    gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_video, c,
                       NULL);
  } else if (type & GST_STREAM_TYPE_AUDIO) {
    c->audio_streams++;
    gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_audio, c,
                       NULL);
  }
  g_mutex_unlock (&c->lock);

  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK) {
    g_printerr ("could not link %s\n", GST_PAD_NAME (pad));
    c->exit_code = 4;
    g_main_loop_quit (c->loop);
  }
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  Counter *c = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("ERROR from %s: %s\n%s\n", GST_OBJECT_NAME (msg->src),
                  err->message, dbg ? dbg : "");
      c->exit_code = 2;
      g_main_loop_quit (c->loop);
      break;
    }
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *dbg = NULL;

      gst_message_parse_warning (msg, &err, &dbg);
      g_printerr ("WARNING from %s: %s\n", GST_OBJECT_NAME (msg->src),
                  err->message);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (c->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  Counter *c = user_data;

  g_printerr ("timeout: no EOS\n");
  c->exit_code = 3;
  g_main_loop_quit (c->loop);
  return G_SOURCE_REMOVE;
}

static double
span_seconds (GstClockTime first, GstClockTime end)
{
  if (!GST_CLOCK_TIME_IS_VALID (first) || !GST_CLOCK_TIME_IS_VALID (end))
    return 0.0;
  return (double)(end - first) / GST_SECOND;
}

int
main (int argc, char **argv)
{
  Counter c = {
      0,
  };
  GstElement *decodebin;
  g_autoptr (GstBus) bus = NULL;
  guint timeout_s = 60;

  gst_init (&argc, &argv);
  if (argc < 2) {
    g_printerr ("usage: %s URI [TIMEOUT_SECONDS]\n", argv[0]);
    return 64;
  }
  if (argc > 2)
    timeout_s = (guint)strtoul (argv[2], NULL, 10);

  g_mutex_init (&c.lock);
  c.video_first = c.video_end = c.audio_first = c.audio_end =
      GST_CLOCK_TIME_NONE;
  c.loop = g_main_loop_new (NULL, FALSE);
  c.pipeline = gst_pipeline_new ("count");
  decodebin = gst_element_factory_make ("uridecodebin3", NULL);
  if (decodebin == NULL) {
    g_printerr ("uridecodebin3 is not available\n");
    return 5;
  }
  g_object_set (decodebin, "uri", argv[1], NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_pad_added), &c);
  gst_bin_add (GST_BIN (c.pipeline), decodebin);

  bus = gst_element_get_bus (c.pipeline);
  gst_bus_add_watch (bus, on_bus_message, &c);
  g_timeout_add_seconds (timeout_s, on_timeout, &c);

  if (gst_element_set_state (c.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("could not start the pipeline\n");
    c.exit_code = 2;
  } else {
    g_main_loop_run (c.loop);
  }
  gst_element_set_state (c.pipeline, GST_STATE_NULL);

  g_mutex_lock (&c.lock);
  g_print ("video_frames=%" G_GUINT64_FORMAT " audio_samples=%" G_GUINT64_FORMAT
           " audio_rate=%d video_duration=%.6f audio_duration=%.6f"
           " video_streams=%u audio_streams=%u\n",
           c.video_frames, c.audio_samples, c.audio_rate,
           span_seconds (c.video_first, c.video_end),
           span_seconds (c.audio_first, c.audio_end), c.video_streams,
           c.audio_streams);
  if (c.exit_code == 0 && c.video_streams + c.audio_streams == 0) {
    g_printerr ("no stream was decoded\n");
    c.exit_code = 6;
  }
  g_mutex_unlock (&c.lock);

  gst_object_unref (c.pipeline);
  g_main_loop_unref (c.loop);
  g_mutex_clear (&c.lock);
  return c.exit_code;
}

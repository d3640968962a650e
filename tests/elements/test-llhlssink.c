/* test-llhlssink.c — specification of llhlssink as seen from its folder: the
 * playlists, parts, segments and CMAF boxes it writes for synthetic H.264
 * and AAC input pushed through GstHarness. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>

#include "llhls-output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstHarness, gst_harness_teardown)

#define FRAME_RATE 30
#define AUDIO_RATE 48000
#define AAC_FRAME_SAMPLES 1024
#define VIDEO_TIMESCALE 90000
/* Keyframe interval meaning "only the first frame is a keyframe". */
#define NO_GOP G_MAXUINT

/* Each test writes into its own folder, tmpdir, made by setup() under
 * suite_dir. suite_dir is made and removed in the runner process, so it goes
 * away even when a failed check or a crash ends a test's process early. */
static gchar *suite_dir;
static gchar *tmpdir;

static void
suite_setup (void)
{
  g_autoptr (GError) err = NULL;

  suite_dir = g_dir_make_tmp ("llhlssink-test-XXXXXX", &err);
  fail_unless (suite_dir != NULL, "cannot make a temp folder: %s",
               err ? err->message : "?");
}

static void
suite_teardown (void)
{
  test_remove_tree (suite_dir);
  g_clear_pointer (&suite_dir, g_free);
}

static void
setup (void)
{
  tmpdir = g_build_filename (suite_dir, "test-XXXXXX", NULL);
  fail_unless (g_mkdtemp (tmpdir) != NULL, "cannot make a temp folder: %s",
               g_strerror (errno));
}

static void
teardown (void)
{
  test_remove_tree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

static gchar *
rendition_path (const gchar *rendition, const gchar *name)
{
  return g_build_filename (tmpdir, rendition, name, NULL);
}

static gboolean
rendition_has_file (const gchar *rendition, const gchar *name)
{
  g_autofree gchar *path = rendition_path (rendition, name);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

static GBytes *
rendition_read (const gchar *rendition, const gchar *name)
{
  g_autofree gchar *path = rendition_path (rendition, name);
  g_autoptr (GError) err = NULL;
  gchar *data = NULL;
  gsize len = 0;

  fail_unless (g_file_get_contents (path, &data, &len, &err), "%s",
               err ? err->message : path);
  return g_bytes_new_take (data, len);
}

/* Regular files whose name starts with @prefix in a rendition's folder. */
static guint
rendition_count_files (const gchar *rendition, const gchar *prefix)
{
  g_autofree gchar *path = g_build_filename (tmpdir, rendition, NULL);
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;
  guint n = 0;

  fail_unless (dir != NULL, "no folder %s", path);
  while ((name = g_dir_read_name (dir))) {
    if (g_str_has_prefix (name, prefix))
      n++;
  }
  g_dir_close (dir);
  return n;
}

/* Regular files anywhere under @path. */
static guint
count_regular_files (const gchar *path)
{
  GDir *dir;
  const gchar *name;
  guint n = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return g_file_test (path, G_FILE_TEST_IS_REGULAR) ? 1 : 0;
  dir = g_dir_open (path, 0, NULL);
  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree gchar *child = g_build_filename (path, name, NULL);
    n += count_regular_files (child);
  }
  if (dir)
    g_dir_close (dir);
  return n;
}

/* ------------------------------------------------------------------------ */
/* Synthetic input                                                          */

/* Baseline-profile SPS (level 3.0 and 3.1) and a PPS: only the avcC
 * structure and the NAL types matter to the element. */
static const guint8 sps_level30[] = {
    0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x00, 0x00,
    0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x58, 0xb9, 0x20};
static const guint8 sps_level31[] = {
    0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xec, 0x04, 0x40, 0x00,
    0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc6, 0x0c, 0xa8};
static const guint8 pps[] = {0x68, 0xce, 0x3c, 0x80};

static void
append_be16 (GByteArray *a, guint16 v)
{
  guint8 b[2] = {v >> 8, v & 0xff};

  g_byte_array_append (a, b, 2);
}

/* An AVCDecoderConfigurationRecord with one SPS and one PPS and 4-byte NAL
 * lengths. */
static GstBuffer *
avcc_new (const guint8 *sps, gsize sps_size)
{
  GByteArray *a = g_byte_array_new ();
  const guint8 head[] = {1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1};
  const guint8 n_pps = 1;
  gsize size;

  g_byte_array_append (a, head, sizeof head);
  append_be16 (a, sps_size);
  g_byte_array_append (a, sps, sps_size);
  g_byte_array_append (a, &n_pps, 1);
  append_be16 (a, sizeof pps);
  g_byte_array_append (a, pps, sizeof pps);
  size = a->len;
  return gst_buffer_new_wrapped (g_byte_array_free (a, FALSE), size);
}

/* H.264 caps as h264parse gives them; above 360 lines the codec_data
 * carries a different SPS, like a real encoder at another size. */
static GstCaps *
h264_caps_new (gint width, gint height)
{
  g_autoptr (GstBuffer) codec_data =
      height > 360 ? avcc_new (sps_level31, sizeof sps_level31)
                   : avcc_new (sps_level30, sizeof sps_level30);

  return gst_caps_new_simple ("video/x-h264", "stream-format", G_TYPE_STRING,
                              "avc", "alignment", G_TYPE_STRING, "au", "width",
                              G_TYPE_INT, width, "height", G_TYPE_INT, height,
                              "framerate", GST_TYPE_FRACTION, FRAME_RATE, 1,
                              "codec_data", GST_TYPE_BUFFER, codec_data, NULL);
}

static GstClockTime
frame_pts (guint i)
{
  return gst_util_uint64_scale (i, GST_SECOND, FRAME_RATE);
}

/* One access unit: a single slice NAL unit behind a 4-byte length, an IDR
 * slice (type 5) for a keyframe, a non-IDR slice (type 1) with
 * GST_BUFFER_FLAG_DELTA_UNIT otherwise. */
static GstBuffer *
h264_access_unit_new (GstClockTime pts, GstClockTime duration, gboolean key)
{
  gsize nal_size = key ? 600 : 120;
  guint8 *data = g_malloc (4 + nal_size);
  GstBuffer *buf;

  GST_WRITE_UINT32_BE (data, nal_size);
  data[4] = key ? 0x65 : 0x41;
  memset (data + 5, key ? 0x88 : 0x9a, nal_size - 1);
  buf = gst_buffer_new_wrapped (data, 4 + nal_size);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = duration;
  if (!key)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  return buf;
}

/* Frame @i of a 30 fps stream, its timestamps shifted by @offset. */
static GstFlowReturn
push_video_frame (GstHarness *h, guint i, gboolean key, GstClockTimeDiff offset)
{
  GstClockTime pts = frame_pts (i) + offset;

  return gst_harness_push (
      h, h264_access_unit_new (pts, frame_pts (i + 1) - frame_pts (i), key));
}

/* Frames [from, to) with a keyframe every @gop frames (from frame 0). */
static void
push_video (GstHarness *h, guint from, guint to, guint gop)
{
  for (guint i = from; i < to; i++)
    fail_unless_equals_int (push_video_frame (h, i, i % gop == 0, 0),
                            GST_FLOW_OK);
}

static GstCaps *
aac_caps_new (gboolean with_codec_data)
{
  /* AudioSpecificConfig: AAC-LC, 48 kHz, 2 channels. */
  static const guint8 asc[] = {0x11, 0x90};
  GstCaps *caps = gst_caps_new_simple ("audio/mpeg", "mpegversion", G_TYPE_INT,
                                       4, "stream-format", G_TYPE_STRING, "raw",
                                       "rate", G_TYPE_INT, AUDIO_RATE,
                                       "channels", G_TYPE_INT, 2, NULL);

  if (with_codec_data) {
    g_autoptr (GstBuffer) cd = gst_buffer_new_memdup (asc, sizeof asc);
    gst_caps_set_simple (caps, "codec_data", GST_TYPE_BUFFER, cd, NULL);
  }
  return caps;
}

static GstClockTime
aac_pts (guint i)
{
  return gst_util_uint64_scale ((guint64)i * AAC_FRAME_SAMPLES, GST_SECOND,
                                AUDIO_RATE);
}

/* AAC frame @i: 1024 samples of raw AAC (the element never decodes it). */
static GstFlowReturn
push_audio_frame (GstHarness *h, guint i)
{
  guint8 *data = g_malloc (64);
  GstBuffer *buf;

  memset (data, 0x21, 64);
  buf = gst_buffer_new_wrapped (data, 64);
  GST_BUFFER_PTS (buf) = aac_pts (i);
  GST_BUFFER_DTS (buf) = aac_pts (i);
  GST_BUFFER_DURATION (buf) = aac_pts (i + 1) - aac_pts (i);
  return gst_harness_push (h, buf);
}

/* Pushes AAC frames from *@next while they start before @end. */
static void
push_audio_until (GstHarness *h, guint *next, GstClockTime end)
{
  while (aac_pts (*next) < end) {
    fail_unless_equals_int (push_audio_frame (h, *next), GST_FLOW_OK);
    (*next)++;
  }
}

/* ------------------------------------------------------------------------ */
/* The element                                                              */

/* An llhlssink writing into tmpdir, with @props ("name=value ...") set. */
static GstElement *
ll_hls_sink_new (const gchar *props)
{
  GstElement *sink = gst_element_factory_make ("llhlssink", NULL);
  g_auto (GStrv) pairs = g_strsplit (props ? props : "", " ", -1);

  fail_unless (sink != NULL, "llhlssink not found (GST_PLUGIN_PATH?)");
  gst_object_ref_sink (sink);
  g_object_set (sink, "location", tmpdir, NULL);
  for (guint i = 0; pairs[i]; i++) {
    g_auto (GStrv) kv = g_strsplit (pairs[i], "=", 2);
    if (!kv[0] || !*kv[0])
      continue;
    fail_unless (kv[1] != NULL, "bad property %s", pairs[i]);
    gst_util_set_object_arg (G_OBJECT (sink), kv[0], kv[1]);
  }
  return sink;
}

/* A harness feeding the request pad @pad of @sink; @caps (transfer full,
 * nullable) are set right away. */
static GstHarness *
ll_hls_harness_add (GstElement *sink, const gchar *pad, GstCaps *caps)
{
  GstHarness *h = gst_harness_new_with_element (sink, pad, NULL);

  if (caps)
    gst_harness_set_src_caps (h, caps);
  return h;
}

/* The common case: one 640x360 H.264 rendition on video_0. */
static GstHarness *
ll_hls_video_harness_new (const gchar *props)
{
  g_autoptr (GstElement) sink = ll_hls_sink_new (props);

  return ll_hls_harness_add (sink, "video_0", h264_caps_new (640, 360));
}

static GstBus *
ll_hls_sink_watch (GstElement *sink)
{
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (sink, bus);
  return bus;
}

static guint
count_force_key_unit_requests (GstHarness *h)
{
  GstEvent *ev;
  guint n = 0;

  while ((ev = gst_harness_try_pull_upstream_event (h))) {
    if (gst_video_event_is_force_key_unit (ev))
      n++;
    gst_event_unref (ev);
  }
  return n;
}

/* ------------------------------------------------------------------------ */
/* Reading the output                                                       */

static Playlist *
playlist_load (const gchar *rendition)
{
  g_autoptr (GBytes) b = rendition_read (rendition, "media.m3u8");
  g_autofree gchar *text =
      g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));

  return playlist_parse (text);
}

static void
assert_valid_media (const gchar *rendition, const gchar *name, Mp4Media *m)
{
  g_autofree gchar *path = rendition_path (rendition, name);

  mp4_read_media (path, m);
  fail_unless (m->error == NULL, "%s/%s: %s", rendition, name, m->error);
}

/* ------------------------------------------------------------------------ */
/* Segments                                                                 */

GST_START_TEST (test_segments_cut_on_grid_at_keyframes) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;

  /* 7 s with a keyframe every second: cuts at 2, 4 and 6 s. */
  push_video (h, 0, 7 * FRAME_RATE, FRAME_RATE);

  pl = playlist_load ("video_0");
  fail_unless_equals_int (pl->target_duration, 2);
  fail_unless_equals_int (pl_complete_count (pl), 3);
  for (guint i = 0; i < 3; i++) {
    PlSegment *seg = pl_segment (pl, i);
    fail_unless_equals_uint64 (seg->msn, i);
    fail_unless (ABS (seg->duration - 2.0) < 0.001,
                 "segment %u lasts %f s:\n%s", i, seg->duration, pl->text);
  }
}
GST_END_TEST;

GST_START_TEST (test_segment_starts_with_keyframe) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;

  push_video (h, 0, 7 * FRAME_RATE, FRAME_RATE);

  pl = playlist_load ("video_0");
  fail_unless_equals_int (pl->segments->len, 4);
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    fail_unless (pl_part (seg, 0)->independent,
                 "first part of segment %u not INDEPENDENT:\n%s", i, pl->text);
    if (seg->complete) {
      g_auto (Mp4Media) m = {0};
      assert_valid_media ("video_0", seg->uri, &m);
      fail_if (m.first_flags & SAMPLE_IS_NON_SYNC,
               "%s starts with a non-sync sample", seg->uri);
      fail_unless_equals_uint64 (m.tfdt, i * 2 * VIDEO_TIMESCALE);
      fail_unless_equals_int (m.n_samples, 2 * FRAME_RATE);
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_keyframe_requested_one_part_before_boundary) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 part-duration=200");
  GstClockTime asked_at = GST_CLOCK_TIME_NONE, running_time = 0;
  GstClockTime lead;
  GstEvent *ev;

  /* Only frame 0 is a keyframe: the element has to ask for the next one. */
  for (guint i = 0; i < 2 * FRAME_RATE && asked_at == GST_CLOCK_TIME_NONE;
       i++) {
    fail_unless_equals_int (push_video_frame (h, i, i == 0, 0), GST_FLOW_OK);
    while ((ev = gst_harness_try_pull_upstream_event (h))) {
      if (gst_video_event_is_force_key_unit (ev)) {
        gboolean all_headers;
        guint count;
        fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CUSTOM_UPSTREAM);
        fail_unless (gst_video_event_parse_upstream_force_key_unit (
            ev, &running_time, &all_headers, &count));
        asked_at = frame_pts (i);
      }
      gst_event_unref (ev);
    }
  }

  fail_unless (GST_CLOCK_TIME_IS_VALID (asked_at),
               "no force-key-unit before the 2 s boundary");
  fail_unless_equals_uint64 (running_time, 2 * GST_SECOND);
  /* One part target (200 ms) ahead of the boundary, to within a frame. */
  lead = 2 * GST_SECOND - asked_at;
  fail_unless (lead + frame_pts (1) + GST_MSECOND >= 200 * GST_MSECOND &&
                   lead <= 200 * GST_MSECOND + frame_pts (1) + GST_MSECOND,
               "asked %" GST_TIME_FORMAT " before the boundary",
               GST_TIME_ARGS (lead));
}
GST_END_TEST;

GST_START_TEST (test_no_keyframe_requests_when_disabled) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new (
      "target-duration=2 send-keyframe-requests=false");
  g_autoptr (Playlist) pl = NULL;

  push_video (h, 0, 5 * FRAME_RATE, NO_GOP);

  fail_unless_equals_int (count_force_key_unit_requests (h), 0);
  pl = playlist_load ("video_0");
  fail_unless (pl_complete_count (pl) >= 1);
}
GST_END_TEST;

GST_START_TEST (test_late_keyframes_cut_within_target_duration) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;

  /* No keyframe after the first, whatever the element asks for. */
  push_video (h, 0, 10 * FRAME_RATE, NO_GOP);

  pl = playlist_load ("video_0");
  fail_unless (pl_complete_count (pl) >= 3, "%s", pl->text);
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    if (!seg->complete)
      continue;
    fail_unless ((guint)(seg->duration + 0.5) <= pl->target_duration,
                 "EXTINF %f rounds above the target duration %u", seg->duration,
                 pl->target_duration);
  }
}
GST_END_TEST;

GST_START_TEST (test_segment_without_keyframe_is_not_independent) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;

  /* 7.5 s: every segment still lists its parts. */
  push_video (h, 0, 15 * FRAME_RATE / 2, NO_GOP);

  pl = playlist_load ("video_0");
  fail_unless (pl_complete_count (pl) >= 2, "%s", pl->text);
  fail_unless (pl_part (pl_segment (pl, 0), 0)->independent);
  for (guint i = 1; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    for (guint j = 0; j < seg->parts->len; j++)
      fail_if (pl_part (seg, j)->independent,
               "part %u.%u is INDEPENDENT without a keyframe:\n%s", i, j,
               pl->text);
    if (seg->complete) {
      g_auto (Mp4Media) m = {0};
      assert_valid_media ("video_0", seg->uri, &m);
      fail_unless (m.first_flags & SAMPLE_IS_NON_SYNC,
                   "%s claims a sync first sample", seg->uri);
    }
  }
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Parts                                                                    */

/* Every part at most PART-TARGET; non-final ones (not the last of a
 * complete segment) exactly @frames samples and @duration long, and at
 * least 85% of PART-TARGET unless they start with a keyframe. */
static void
assert_parts (const gchar *rendition, guint frames, gdouble duration)
{
  g_autoptr (Playlist) pl = playlist_load (rendition);

  fail_unless (ABS (pl->part_target - 0.2) < 1e-6, "PART-TARGET %f",
               pl->part_target);
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    for (guint j = 0; j < seg->parts->len; j++) {
      PlPart *part = pl_part (seg, j);
      gboolean final = seg->complete && j + 1 == seg->parts->len;
      g_auto (Mp4Media) m = {0};

      assert_valid_media (rendition, part->uri, &m);
      fail_unless (part->duration <= pl->part_target + 1e-5,
                   "%s lasts %f s, above PART-TARGET", part->uri,
                   part->duration);
      if (final)
        continue;
      fail_unless_equals_int (m.n_samples, frames);
      fail_unless (ABS (part->duration - duration) < 1e-4, "%s lasts %f s",
                   part->uri, part->duration);
      if (!part->independent)
        fail_unless (part->duration >= 0.85 * pl->part_target,
                     "%s lasts %f s, below 85%% of PART-TARGET", part->uri,
                     part->duration);
    }
  }
}

GST_START_TEST (test_video_parts_hold_six_frames) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 part-duration=200");

  push_video (h, 0, 5 * FRAME_RATE, FRAME_RATE);

  assert_parts ("video_0", 6, 0.2);
}
GST_END_TEST;

GST_START_TEST (test_audio_parts_hold_nine_frames) {
  g_autoptr (GstElement) sink =
      ll_hls_sink_new ("target-duration=2 part-duration=200");
  g_autoptr (GstHarness) h =
      ll_hls_harness_add (sink, "audio_0", aac_caps_new (TRUE));
  guint next = 0;

  push_audio_until (h, &next, 5 * GST_SECOND);

  /* 9 x 1024 samples at 48 kHz = 192 ms. */
  assert_parts ("audio_0", 9, 0.192);
}
GST_END_TEST;

GST_START_TEST (test_part_published_with_its_last_frame) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 part-duration=200");
  g_autoptr (Playlist) pl = NULL;

  push_video (h, 0, 5, FRAME_RATE);
  fail_if (rendition_has_file ("video_0", "part-0.0.m4s"),
           "part published after 5 of its 6 frames");

  push_video (h, 5, 6, FRAME_RATE);
  fail_unless (rendition_has_file ("video_0", "part-0.0.m4s"),
               "part not published with its 6th frame");
  pl = playlist_load ("video_0");
  fail_unless_equals_int (pl_segment (pl, 0)->parts->len, 1);
  fail_unless_equals_string (pl_part (pl_segment (pl, 0), 0)->uri,
                             "part-0.0.m4s");
  fail_unless (strstr (pl->text, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-0."
                                 "1.m4s\"") != NULL,
               "%s", pl->text);
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Program date time and timed metadata                                     */

GST_START_TEST (test_pdt_is_reference_timestamp_of_first_sample) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (GstCaps) unix_caps =
      gst_caps_new_empty_simple ("timestamp/x-unix");
  g_autoptr (Playlist) pl = NULL;
  const GstClockTime capture_base =
      G_GUINT64_CONSTANT (1700000000) * GST_SECOND + 123456789;

  for (guint i = 0; i < 7 * FRAME_RATE; i++) {
    GstBuffer *buf = h264_access_unit_new (
        frame_pts (i), frame_pts (i + 1) - frame_pts (i), i % FRAME_RATE == 0);
    gst_buffer_add_reference_timestamp_meta (
        buf, unix_caps, capture_base + frame_pts (i), GST_CLOCK_TIME_NONE);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }

  pl = playlist_load ("video_0");
  fail_unless_equals_int (pl->segments->len, 4);
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    GstClockTime captured = capture_base + frame_pts (i * 2 * FRAME_RATE);
    fail_unless (pdt_to_ms (seg->pdt) >= 0, "bad PDT '%s'", seg->pdt);
    fail_unless_equals_int64 (pdt_to_ms (seg->pdt),
                              (gint64)(captured / GST_MSECOND));
  }
}
GST_END_TEST;

static GstEvent *
timed_metadata_event_new (GstClockTime running_time, const gchar *text)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
                               gst_structure_new ("glasscast/timed-metadata",
                                                  "running-time", G_TYPE_UINT64,
                                                  (guint64)running_time, "text",
                                                  G_TYPE_STRING, text, NULL));
}

static gboolean
bytes_contain (GBytes *b, const gchar *needle)
{
  gsize len, n = strlen (needle);
  const guint8 *d = g_bytes_get_data (b, &len);

  for (gsize i = 0; i + n <= len; i++) {
    if (memcmp (d + i, needle, n) == 0)
      return TRUE;
  }
  return FALSE;
}

GST_START_TEST (test_emsg_written_in_part_of_its_running_time) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 part-duration=200");
  g_autoptr (Playlist) pl = NULL;
  g_auto (Mp4Emsg) e = {0};
  const gchar *text = "glasscast says hello";

  push_video (h, 0, 10, FRAME_RATE);
  /* 1.1 s falls in part 5 of segment 0: [1.0 s, 1.2 s). */
  fail_unless (gst_harness_push_event (
      h, timed_metadata_event_new (1100 * GST_MSECOND, text)));
  push_video (h, 10, 3 * FRAME_RATE, FRAME_RATE);

  {
    g_autofree gchar *path = rendition_path ("video_0", "part-0.5.m4s");
    mp4_read_first_emsg (path, &e);
  }
  fail_unless_equals_string (e.scheme, "https://aomedia.org/emsg/ID3");
  fail_unless_equals_int (e.timescale, VIDEO_TIMESCALE);
  fail_unless_equals_uint64 (e.presentation_time, 99000);
  fail_unless (g_bytes_get_size (e.message) > 10 &&
               memcmp (g_bytes_get_data (e.message, NULL), "ID3", 3) == 0);
  fail_unless (bytes_contain (e.message, "TXXX"));
  fail_unless (bytes_contain (e.message, text));

  pl = playlist_load ("video_0");
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    for (guint j = 0; j < seg->parts->len; j++) {
      g_auto (Mp4Media) m = {0};
      assert_valid_media ("video_0", pl_part (seg, j)->uri, &m);
      fail_unless_equals_int (m.n_emsg, i == 0 && j == 5 ? 1 : 0);
    }
  }
}
GST_END_TEST;

/* Records the preload hint of @rendition's playlist, if there is one. */
static void
note_preload_hint (const gchar *rendition, GHashTable *hints)
{
  g_autoptr (GBytes) b = NULL;
  const gchar *m;
  g_autofree gchar *text = NULL;

  if (!rendition_has_file (rendition, "media.m3u8"))
    return;
  b = rendition_read (rendition, "media.m3u8");
  text = g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  m = strstr (text, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"");
  if (m) {
    m += strlen ("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"");
    g_hash_table_add (hints, g_strndup (m, strcspn (m, "\"")));
  }
}

GST_START_TEST (test_preload_hint_names_a_part_that_appears) {
  g_autoptr (GstElement) sink = ll_hls_sink_new ("target-duration=2");
  g_autoptr (GstHarness) hv =
      ll_hls_harness_add (sink, "video_0", h264_caps_new (640, 360));
  g_autoptr (GstHarness) ha =
      ll_hls_harness_add (sink, "audio_0", aac_caps_new (TRUE));
  g_autoptr (GHashTable) hv_hints =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) ha_hints =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint next_audio = 0;
  const guint frames = 7 * FRAME_RATE;
  GHashTableIter it;
  gpointer name;

  /* Every state of the playlists a player could load, frame by frame,
   * across three segment boundaries. */
  for (guint i = 0; i < frames; i++) {
    fail_unless_equals_int (
        push_video_frame (hv, i, i % (2 * FRAME_RATE) == 0, 0), GST_FLOW_OK);
    note_preload_hint ("video_0", hv_hints);
    push_audio_until (ha, &next_audio, frame_pts (i + 1));
    note_preload_hint ("audio_0", ha_hints);
  }
  fail_unless (g_hash_table_size (hv_hints) > 20);

  /* Every hinted part was then written, but the one still pending. */
  for (guint r = 0; r < 2; r++) {
    const gchar *rendition = r == 0 ? "video_0" : "audio_0";
    guint missing = 0;
    g_hash_table_iter_init (&it, r == 0 ? hv_hints : ha_hints);
    while (g_hash_table_iter_next (&it, &name, NULL)) {
      if (!rendition_has_file (rendition, name))
        missing++;
    }
    fail_unless_equals_int (missing, 1);
  }
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* End of stream                                                            */

GST_START_TEST (test_eos_ends_playlist) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;

  push_video (h, 0, 5 * FRAME_RATE, FRAME_RATE);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  pl = playlist_load ("video_0");
  fail_unless (pl->endlist);
  fail_unless (g_str_has_suffix (pl->text, "#EXT-X-ENDLIST\n"), "%s", pl->text);
  fail_if (strstr (pl->text, "#EXT-X-PART:"), "%s", pl->text);
  fail_if (pl->preload_hint, "%s", pl->text);
  fail_unless_equals_int (pl_complete_count (pl), 3);
  fail_unless_equals_int (pl->segments->len, 3);
  fail_unless (ABS (pl_segment (pl, 2)->duration - 1.0) < 0.001);
}
GST_END_TEST;

GST_START_TEST (test_vod_eos_keeps_every_segment_and_drops_parts) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 playlist-type=vod");
  g_autoptr (Playlist) pl = NULL;

  /* More segments than the default window of 10. */
  push_video (h, 0, 23 * FRAME_RATE, FRAME_RATE);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  pl = playlist_load ("video_0");
  fail_unless_equals_string (pl->playlist_type, "VOD");
  fail_unless (pl->endlist);
  fail_unless_equals_uint64 (pl->media_sequence, 0);
  fail_unless_equals_int (pl->segments->len, 12);
  for (guint i = 0; i < 12; i++) {
    PlSegment *seg = pl_segment (pl, i);
    g_autofree gchar *uri = g_strdup_printf ("seg-%u.m4s", i);
    fail_unless (seg->complete);
    fail_unless_equals_string (seg->uri, uri);
    fail_unless (rendition_has_file ("video_0", uri));
  }
  fail_unless_equals_int (rendition_count_files ("video_0", "part-"), 0);
}
GST_END_TEST;

GST_START_TEST (test_restart_continues_existing_playlist) {
  g_autoptr (Playlist) pl = NULL;
  PlSegment *seg;

  {
    g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
    push_video (h, 0, 5 * FRAME_RATE, FRAME_RATE);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  }
  /* A new element on the same folder, as after a publisher reconnects. */
  {
    g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
    push_video (h, 0, 5 * FRAME_RATE, FRAME_RATE);

    pl = playlist_load ("video_0");
    fail_if (pl->endlist, "%s", pl->text);
    fail_unless_equals_uint64 (pl->media_sequence, 0);
    /* Segments 0..2 of the first run stay, numbering goes on at 3. */
    for (guint i = 0; i < 5; i++) {
      seg = pl_segment (pl, i);
      fail_unless_equals_uint64 (seg->msn, i);
      fail_unless (seg->complete, "%s", pl->text);
    }
    seg = pl_segment (pl, 3);
    fail_unless (seg->discontinuity, "%s", pl->text);
    fail_unless_equals_string (seg->map, "init-1.mp4");
    fail_unless (rendition_has_file ("video_0", "init-1.mp4"));
    fail_unless (rendition_has_file ("video_0", "seg-0.m4s"));
    fail_if (pl_segment (pl, 1)->discontinuity, "%s", pl->text);
    /* Parts of the first run are gone with their listing. */
    fail_if (rendition_has_file ("video_0", "part-0.0.m4s"));
  }
}
GST_END_TEST;

/* Copies the files of @rendition into a GHashTable name -> GBytes. */
static GHashTable *
snapshot_rendition (const gchar *rendition)
{
  g_autofree gchar *dir = g_build_filename (tmpdir, rendition, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify)g_bytes_unref);
  const gchar *name;

  fail_unless (d != NULL);
  while ((name = g_dir_read_name (d)))
    g_hash_table_insert (files, g_strdup (name),
                         rendition_read (rendition, name));
  return files;
}

static void
restore_rendition (const gchar *rendition, GHashTable *files)
{
  GHashTableIter it;
  gpointer name, bytes;

  g_hash_table_iter_init (&it, files);
  while (g_hash_table_iter_next (&it, &name, &bytes)) {
    g_autofree gchar *path = rendition_path (rendition, name);
    fail_unless (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), NULL));
  }
}

GST_START_TEST (test_restart_after_crash_completes_growing_segment) {
  g_autoptr (GHashTable) crashed = NULL;
  g_autoptr (Playlist) before = NULL;
  g_autoptr (Playlist) pl = NULL;
  PlSegment *seg;
  guint parts_seen;

  {
    g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
    /* Segment 1 is growing (4 of its parts out) when the writer dies. */
    push_video (h, 0, 2 * FRAME_RATE + 24, 2 * FRAME_RATE);
    crashed = snapshot_rendition ("video_0");
  }
  /* What a killed process leaves: the playlist and parts as they were. */
  restore_rendition ("video_0", crashed);
  before = playlist_load ("video_0");
  fail_if (before->endlist);
  parts_seen = pl_segment (before, 1)->parts->len;
  fail_unless_equals_int (parts_seen, 4);

  {
    g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
    push_video (h, 0, 3 * FRAME_RATE, 2 * FRAME_RATE);

    pl = playlist_load ("video_0");
    /* Segment 1 is complete now, made of the parts players saw. */
    seg = pl_segment (pl, 1);
    fail_unless (seg->complete, "%s", pl->text);
    fail_unless (ABS (seg->duration - 0.8) < 0.001, "%s", pl->text);
    fail_if (seg->discontinuity);
    {
      g_auto (Mp4Media) m = {0};
      assert_valid_media ("video_0", "seg-1.m4s", &m);
      fail_unless_equals_int (m.n_fragments, parts_seen);
      fail_unless_equals_int (m.n_samples, 24);
    }
    /* The new stream goes on at 2, behind a discontinuity. */
    seg = pl_segment (pl, 2);
    fail_unless_equals_uint64 (seg->msn, 2);
    fail_unless (seg->discontinuity, "%s", pl->text);
    fail_unless_equals_string (seg->map, "init-1.mp4");
  }
}
GST_END_TEST;

GST_START_TEST (test_unreadable_old_playlist_starts_afresh) {
  g_autoptr (GstHarness) h = NULL;
  g_autoptr (Playlist) pl = NULL;
  g_autofree gchar *dir = g_build_filename (tmpdir, "video_0", NULL);
  g_autofree gchar *path = g_build_filename (dir, "media.m3u8", NULL);

  fail_unless (g_mkdir_with_parents (dir, 0755) == 0);
  fail_unless (
      g_file_set_contents (path, "#EXTM3U\n#EXTINF:x,\nseg-9.m4s\n", -1, NULL));
  h = ll_hls_video_harness_new ("target-duration=2");
  push_video (h, 0, 3 * FRAME_RATE, FRAME_RATE);

  pl = playlist_load ("video_0");
  fail_unless_equals_uint64 (pl->media_sequence, 0);
  fail_unless_equals_uint64 (pl_segment (pl, 0)->msn, 0);
  fail_if (pl_segment (pl, 0)->discontinuity, "%s", pl->text);
}
GST_END_TEST;

GST_START_TEST (test_eos_message_once_all_pads_eos) {
  g_autoptr (GstElement) sink = ll_hls_sink_new ("target-duration=2");
  g_autoptr (GstBus) bus = ll_hls_sink_watch (sink);
  g_autoptr (GstHarness) hv =
      ll_hls_harness_add (sink, "video_0", h264_caps_new (640, 360));
  g_autoptr (GstHarness) ha =
      ll_hls_harness_add (sink, "audio_0", aac_caps_new (TRUE));
  g_autoptr (GstMessage) msg = NULL;
  guint next_audio = 0;

  push_video (hv, 0, FRAME_RATE, FRAME_RATE);
  push_audio_until (ha, &next_audio, GST_SECOND);

  fail_unless (gst_harness_push_event (hv, gst_event_new_eos ()));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_EOS);
  fail_unless (msg == NULL, "EOS posted while audio_0 still runs");

  fail_unless (gst_harness_push_event (ha, gst_event_new_eos ()));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "no EOS message once every pad is at EOS");
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (sink));
  gst_element_set_bus (sink, NULL);
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Discontinuities                                                          */

GST_START_TEST (test_caps_change_starts_new_init_segment) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;
  g_autofree gchar *init0 = rendition_path ("video_0", "init-0.mp4");
  g_autofree gchar *init1 = rendition_path ("video_0", "init-1.mp4");
  guint w, hgt;

  push_video (h, 0, 75, FRAME_RATE);
  gst_harness_set_src_caps (h, h264_caps_new (1280, 720));
  for (guint i = 75; i < 150; i++)
    fail_unless_equals_int (
        push_video_frame (h, i, (i - 75) % FRAME_RATE == 0, 0), GST_FLOW_OK);

  mp4_read_avc1_size (init0, &w, &hgt);
  fail_unless (w == 640 && hgt == 360, "init-0.mp4 is %ux%u", w, hgt);
  mp4_read_avc1_size (init1, &w, &hgt);
  fail_unless (w == 1280 && hgt == 720, "init-1.mp4 is %ux%u", w, hgt);

  pl = playlist_load ("video_0");
  /* [0, 2) and [2, 2.5) in the old format, then the new one from 2.5 s. */
  fail_unless_equals_string (pl_segment (pl, 0)->map, "init-0.mp4");
  fail_if (pl_segment (pl, 1)->discontinuity);
  fail_unless (pl_segment (pl, 1)->map == NULL);
  fail_unless (ABS (pl_segment (pl, 1)->duration - 0.5) < 0.001, "%s",
               pl->text);
  fail_unless (pl_segment (pl, 2)->discontinuity, "%s", pl->text);
  fail_unless_equals_string (pl_segment (pl, 2)->map, "init-1.mp4");
  fail_unless (strstr (pl->text, "#EXT-X-DISCONTINUITY\n"
                                 "#EXT-X-MAP:URI=\"init-1.mp4\"\n") != NULL);
}
GST_END_TEST;

GST_START_TEST (test_forward_timestamp_jump_is_discontinuity) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;
  g_auto (Mp4Media) m = {0};

  push_video (h, 0, 75, FRAME_RATE);
  /* From 2.5 s the source jumps 5 s ahead, restarting with a keyframe. */
  for (guint i = 75; i < 165; i++)
    fail_unless_equals_int (
        push_video_frame (h, i, (i - 75) % FRAME_RATE == 0, 5 * GST_SECOND),
        GST_FLOW_OK);

  pl = playlist_load ("video_0");
  fail_if (pl_segment (pl, 0)->discontinuity);
  fail_if (pl_segment (pl, 1)->discontinuity);
  fail_unless (ABS (pl_segment (pl, 1)->duration - 0.5) < 0.001, "%s",
               pl->text);
  fail_unless (pl_segment (pl, 2)->discontinuity, "%s", pl->text);
  fail_unless (pl_segment (pl, 2)->complete, "%s", pl->text);
  assert_valid_media ("video_0", pl_segment (pl, 2)->uri, &m);
  fail_unless_equals_uint64 (m.tfdt, 15 * VIDEO_TIMESCALE / 2);
  fail_if (m.first_flags & SAMPLE_IS_NON_SYNC);
}
GST_END_TEST;

GST_START_TEST (test_timestamp_jitter_is_not_discontinuity) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;
  guint64 prev_end = 0;

  /* As from a WebRTC jitter buffer: frames early and late by 20 ms, so some
   * go back in time by 7 ms. */
  for (guint i = 0; i < 5 * FRAME_RATE; i++) {
    GstClockTimeDiff jitter = (i % 2 ? -20 : 20) * GST_MSECOND;
    fail_unless_equals_int (push_video_frame (h, i, i % (2 * FRAME_RATE) == 0,
                                              40 * GST_MSECOND + jitter),
                            GST_FLOW_OK);
  }

  pl = playlist_load ("video_0");
  fail_unless_equals_int (pl_complete_count (pl), 2);
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    fail_if (seg->discontinuity, "%s", pl->text);
    for (guint j = 0; j < seg->parts->len; j++) {
      g_auto (Mp4Media) m = {0};
      assert_valid_media ("video_0", pl_part (seg, j)->uri, &m);
      /* Each part starts where the one before ended: no sample was given a
       * negative or made-up duration. */
      if (i > 0 || j > 0)
        fail_unless (m.tfdt + 1 >= prev_end && m.tfdt <= prev_end + 1,
                     "part %u.%u starts at %" G_GUINT64_FORMAT
                     ", the one before ended at %" G_GUINT64_FORMAT,
                     i, j, m.tfdt, prev_end);
      prev_end = m.tfdt + m.duration;
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_backward_timestamp_jump_is_discontinuity) {
  g_autoptr (GstHarness) h = ll_hls_video_harness_new ("target-duration=2");
  g_autoptr (Playlist) pl = NULL;

  push_video (h, 0, 90, FRAME_RATE);
  /* At 3 s the source restarts 2 s back in time, with a keyframe. */
  for (guint i = 90; i < 210; i++)
    fail_unless_equals_int (
        push_video_frame (h, i, (i - 90) % FRAME_RATE == 0, -2 * GST_SECOND),
        GST_FLOW_OK);

  pl = playlist_load ("video_0");
  fail_if (pl_segment (pl, 1)->discontinuity);
  fail_unless (pl_segment (pl, 2)->discontinuity, "%s", pl->text);
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    fail_if (i > 2 && seg->discontinuity, "%s", pl->text);
    for (guint j = 0; j < seg->parts->len; j++) {
      g_auto (Mp4Media) m = {0};
      assert_valid_media ("video_0", pl_part (seg, j)->uri, &m);
      fail_unless (pl_part (seg, j)->duration > 0);
    }
    if (seg->complete) {
      g_auto (Mp4Media) m = {0};
      assert_valid_media ("video_0", seg->uri, &m);
      fail_unless (seg->duration > 0);
      if (i == 2)
        fail_unless_equals_uint64 (m.tfdt, 1 * VIDEO_TIMESCALE);
    }
  }
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Renditions                                                               */

typedef struct {
  GstElement *sink;
  GstHarness *v0, *v1, *a0;
  guint next_audio;
} Ladder;

/* Two video renditions (640x360, 1280x720) and one AAC rendition. */
static void
ladder_init (Ladder *l, const gchar *props)
{
  l->sink = ll_hls_sink_new (props);
  l->v0 = ll_hls_harness_add (l->sink, "video_0", h264_caps_new (640, 360));
  l->v1 = ll_hls_harness_add (l->sink, "video_1", h264_caps_new (1280, 720));
  l->a0 = ll_hls_harness_add (l->sink, "audio_0", aac_caps_new (TRUE));
  l->next_audio = 0;
}

static void
ladder_clear (Ladder *l)
{
  g_clear_pointer (&l->a0, gst_harness_teardown);
  g_clear_pointer (&l->v1, gst_harness_teardown);
  g_clear_pointer (&l->v0, gst_harness_teardown);
  gst_clear_object (&l->sink);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ladder, ladder_clear)

/* Video frames [from, to) on every video pad still attached, audio up to
 * the same time, interleaved as a live source would deliver them. */
static void
ladder_push (Ladder *l, guint from, guint to)
{
  for (guint i = from; i < to; i++) {
    gboolean key = i % FRAME_RATE == 0;
    if (l->v0)
      fail_unless_equals_int (push_video_frame (l->v0, i, key, 0), GST_FLOW_OK);
    if (l->v1)
      fail_unless_equals_int (push_video_frame (l->v1, i, key, 0), GST_FLOW_OK);
    if (l->a0)
      push_audio_until (l->a0, &l->next_audio, frame_pts (i + 1));
  }
}

static gchar *
read_multivariant (void)
{
  g_autofree gchar *path = g_build_filename (tmpdir, "index.m3u8", NULL);
  gchar *text = NULL;

  fail_unless (g_file_get_contents (path, &text, NULL, NULL), "no index.m3u8");
  return text;
}

/* The EXT-X-STREAM-INF line whose URI is @uri, or NULL. */
static gchar *
stream_inf_for (const gchar *multivariant, const gchar *uri)
{
  g_auto (GStrv) lines = g_strsplit (multivariant, "\n", -1);

  for (guint i = 0; lines[i] && lines[i + 1]; i++) {
    if (g_str_has_prefix (lines[i], "#EXT-X-STREAM-INF:") &&
        g_str_equal (lines[i + 1], uri))
      return g_strdup (lines[i]);
  }
  return NULL;
}

GST_START_TEST (test_multivariant_lists_every_rendition) {
  g_auto (Ladder) l = {0};
  g_autofree gchar *text = NULL;
  const gchar *uris[] = {"video_0/media.m3u8", "video_1/media.m3u8"};
  const gchar *sizes[] = {"640x360", "1280x720"};

  ladder_init (&l, "target-duration=2");
  ladder_push (&l, 0, 3 * FRAME_RATE);

  text = read_multivariant ();
  fail_unless_equals_int (count_substrings (text, "#EXT-X-STREAM-INF:"), 2);
  fail_unless_equals_int (count_substrings (text, "#EXT-X-MEDIA:"), 1);
  fail_unless (strstr (text, "TYPE=AUDIO") &&
                   strstr (text, "GROUP-ID=\"audio\"") &&
                   strstr (text, "URI=\"audio_0/media.m3u8\""),
               "%s", text);
  for (guint i = 0; i < 2; i++) {
    g_autofree gchar *inf = stream_inf_for (text, uris[i]);
    g_autofree gchar *codecs = NULL, *resolution = NULL, *audio = NULL;

    fail_unless (inf != NULL, "%s not listed:\n%s", uris[i], text);
    codecs = attr_value (inf, "CODECS");
    resolution = attr_value (inf, "RESOLUTION");
    audio = attr_value (inf, "AUDIO");
    fail_unless (codecs && strstr (codecs, "avc1.") && strstr (codecs, "mp4a."),
                 "CODECS=\"%s\"", codecs);
    fail_unless_equals_string (resolution, sizes[i]);
    fail_unless_equals_string (audio, "audio");
  }
}
GST_END_TEST;

GST_START_TEST (test_renditions_share_segment_numbers_and_pdt) {
  g_auto (Ladder) l = {0};
  const gchar *names[] = {"video_0", "video_1", "audio_0"};
  Playlist *pls[3];
  const gint64 audio_frame_ms = 1024 * 1000 / AUDIO_RATE + 1;
  guint compared = 0;

  ladder_init (&l, "target-duration=2");
  ladder_push (&l, 0, 7 * FRAME_RATE);

  for (guint r = 0; r < 3; r++)
    pls[r] = playlist_load (names[r]);
  for (guint64 msn = 0; msn < 3; msn++) {
    gint64 pdt0, tfdt0_ms = 0;
    PlSegment *s0 = pl_find_msn (pls[0], msn);

    fail_unless (s0 && s0->complete);
    pdt0 = pdt_to_ms (s0->pdt);
    for (guint r = 0; r < 3; r++) {
      PlSegment *seg = pl_find_msn (pls[r], msn);
      g_auto (Mp4Media) m = {0};
      gint64 tfdt_ms;

      fail_unless (seg && seg->complete, "%s has no segment %" G_GUINT64_FORMAT,
                   names[r], msn);
      fail_unless (ABS (pdt_to_ms (seg->pdt) - pdt0) <= audio_frame_ms,
                   "segment %" G_GUINT64_FORMAT " of %s at %s, of %s at %s",
                   msn, names[r], seg->pdt, names[0], s0->pdt);
      assert_valid_media (names[r], seg->uri, &m);
      tfdt_ms =
          (gint64)(m.tfdt * 1000 / (r < 2 ? VIDEO_TIMESCALE : AUDIO_RATE));
      if (r == 0)
        tfdt0_ms = tfdt_ms;
      fail_unless (ABS (tfdt_ms - tfdt0_ms) <= audio_frame_ms,
                   "segment %" G_GUINT64_FORMAT
                   " of %s starts at %" G_GINT64_FORMAT
                   " ms, of video_0 at %" G_GINT64_FORMAT " ms",
                   msn, names[r], tfdt_ms, tfdt0_ms);
      compared++;
    }
  }
  fail_unless_equals_int (compared, 9);
  for (guint r = 0; r < 3; r++)
    playlist_free (pls[r]);
}
GST_END_TEST;

GST_START_TEST (test_released_pad_ends_its_rendition) {
  g_auto (Ladder) l = {0};
  g_autofree gchar *before = NULL, *after = NULL;
  g_autoptr (Playlist) gone = NULL;
  g_autoptr (Playlist) kept = NULL;
  guint64 kept_before;

  ladder_init (&l, "target-duration=2");
  ladder_push (&l, 0, 3 * FRAME_RATE);
  before = read_multivariant ();
  fail_unless (strstr (before, "video_1/media.m3u8"));
  {
    g_autoptr (Playlist) pl = playlist_load ("video_0");
    kept_before = pl_complete_count (pl);
  }

  /* Tearing the harness down releases its request pad, while playing. */
  g_clear_pointer (&l.v1, gst_harness_teardown);

  gone = playlist_load ("video_1");
  fail_unless (gone->endlist, "%s", gone->text);
  after = read_multivariant ();
  fail_if (strstr (after, "video_1"), "%s", after);
  fail_unless (strstr (after, "video_0/media.m3u8"), "%s", after);

  ladder_push (&l, 3 * FRAME_RATE, 7 * FRAME_RATE);
  kept = playlist_load ("video_0");
  fail_if (kept->endlist);
  fail_unless (pl_complete_count (kept) > kept_before, "%s", kept->text);
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Bad input                                                                */

GST_START_TEST (test_aac_without_codec_data_is_refused) {
  g_autoptr (GstElement) sink = ll_hls_sink_new ("target-duration=2");
  g_autoptr (GstBus) bus = ll_hls_sink_watch (sink);
  g_autoptr (GstHarness) h = ll_hls_harness_add (sink, "audio_0", NULL);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (sink, "audio_0");
  g_autoptr (GstMessage) msg = NULL;

  /* A sticky event: the push itself reports success whatever the answer. */
  gst_harness_push_event (h, gst_event_new_caps (aac_caps_new (FALSE)));

  fail_if (gst_pad_has_current_caps (pad), "caps without codec_data accepted");
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error on the bus");
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (sink));
  fail_unless_equals_int (count_regular_files (tmpdir), 0);
  gst_element_set_bus (sink, NULL);
}
GST_END_TEST;

GST_START_TEST (test_buffer_before_caps_is_not_negotiated) {
  g_autoptr (GstElement) sink = ll_hls_sink_new ("target-duration=2");
  g_autoptr (GstHarness) h = ll_hls_harness_add (sink, "video_0", NULL);

  /* stream-start only: no caps, no segment. GStreamer itself warns about
   * such an upstream; the element must still refuse the data. */
  gst_check_add_log_filter (
      "GStreamer", G_LOG_LEVEL_WARNING,
      g_regex_new ("Got data flow before segment event", 0, 0, NULL), NULL,
      NULL, NULL);
  fail_unless_equals_int (push_video_frame (h, 0, TRUE, 0),
                          GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (count_regular_files (tmpdir), 0);
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Live window                                                              */

GST_START_TEST (test_live_playlist_lists_window_segments) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 window=3 max-files=5");
  g_autoptr (Playlist) pl = NULL;

  /* 10 complete segments and half of the 11th. */
  push_video (h, 0, 41 * FRAME_RATE / 2, FRAME_RATE);

  pl = playlist_load ("video_0");
  fail_unless_equals_int (pl_complete_count (pl), 3);
  fail_unless_equals_uint64 (pl->media_sequence, 7);
  for (guint i = 0; i < 3; i++) {
    g_autofree gchar *uri = g_strdup_printf ("seg-%u.m4s", 7 + i);
    fail_unless_equals_string (pl_segment (pl, i)->uri, uri);
  }
  fail_unless_equals_int (pl->segments->len, 4);
  fail_if (pl_segment (pl, 3)->complete);
}
GST_END_TEST;

GST_START_TEST (test_live_deletes_segments_beyond_max_files) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 window=3 max-files=5");

  push_video (h, 0, 41 * FRAME_RATE / 2, FRAME_RATE);

  for (guint i = 0; i < 10; i++) {
    g_autofree gchar *name = g_strdup_printf ("seg-%u.m4s", i);
    fail_unless_equals_int (rendition_has_file ("video_0", name), i >= 5);
  }
  fail_unless_equals_int (rendition_count_files ("video_0", "seg-"), 5);
}
GST_END_TEST;

GST_START_TEST (test_parts_listed_only_near_live_edge) {
  g_autoptr (GstHarness) h =
      ll_hls_video_harness_new ("target-duration=2 window=6");
  g_autoptr (Playlist) pl = NULL;
  gdouble edge = 0, end = 0;

  push_video (h, 0, 41 * FRAME_RATE / 2, FRAME_RATE);

  pl = playlist_load ("video_0");
  fail_unless_equals_int (pl_complete_count (pl), 6);
  /* The live edge: the end of the last part published. */
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    if (seg->complete) {
      edge += seg->duration;
    } else {
      for (guint j = 0; j < seg->parts->len; j++)
        edge += pl_part (seg, j)->duration;
    }
  }
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    gboolean near;

    if (!seg->complete)
      continue;
    end += seg->duration;
    near = edge - end < 3 * pl->target_duration;
    fail_unless_equals_int (seg->parts->len > 0, near);
    for (guint j = 0; j < seg->parts->len; j++)
      fail_unless (rendition_has_file ("video_0", pl_part (seg, j)->uri));
  }
  /* Part files go one target duration after they left the playlist; those
   * of segment 4 (ended at 10 s, edge at 20.4 s) are long gone. */
  for (guint j = 0; j < 10; j++) {
    g_autofree gchar *name = g_strdup_printf ("part-4.%u.m4s", j);
    fail_if (rendition_has_file ("video_0", name), "%s still there", name);
  }
}
GST_END_TEST;

static Suite *
llhlssink_suite (void)
{
  Suite *s = suite_create ("llhlssink");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  tcase_add_unchecked_fixture (tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);

  tcase_add_test (tc, test_segments_cut_on_grid_at_keyframes);
  tcase_add_test (tc, test_segment_starts_with_keyframe);
  tcase_add_test (tc, test_keyframe_requested_one_part_before_boundary);
  tcase_add_test (tc, test_no_keyframe_requests_when_disabled);
  tcase_add_test (tc, test_late_keyframes_cut_within_target_duration);
  tcase_add_test (tc, test_segment_without_keyframe_is_not_independent);
  tcase_add_test (tc, test_video_parts_hold_six_frames);
  tcase_add_test (tc, test_audio_parts_hold_nine_frames);
  tcase_add_test (tc, test_part_published_with_its_last_frame);
  tcase_add_test (tc, test_preload_hint_names_a_part_that_appears);
  tcase_add_test (tc, test_pdt_is_reference_timestamp_of_first_sample);
  tcase_add_test (tc, test_emsg_written_in_part_of_its_running_time);
  tcase_add_test (tc, test_eos_ends_playlist);
  tcase_add_test (tc, test_vod_eos_keeps_every_segment_and_drops_parts);
  tcase_add_test (tc, test_eos_message_once_all_pads_eos);
  tcase_add_test (tc, test_restart_continues_existing_playlist);
  tcase_add_test (tc, test_unreadable_old_playlist_starts_afresh);
  tcase_add_test (tc, test_restart_after_crash_completes_growing_segment);
  tcase_add_test (tc, test_caps_change_starts_new_init_segment);
  tcase_add_test (tc, test_forward_timestamp_jump_is_discontinuity);
  tcase_add_test (tc, test_backward_timestamp_jump_is_discontinuity);
  tcase_add_test (tc, test_timestamp_jitter_is_not_discontinuity);
  tcase_add_test (tc, test_multivariant_lists_every_rendition);
  tcase_add_test (tc, test_renditions_share_segment_numbers_and_pdt);
  tcase_add_test (tc, test_released_pad_ends_its_rendition);
  tcase_add_test (tc, test_aac_without_codec_data_is_refused);
  tcase_add_test (tc, test_buffer_before_caps_is_not_negotiated);
  tcase_add_test (tc, test_live_playlist_lists_window_segments);
  tcase_add_test (tc, test_live_deletes_segments_beyond_max_files);
  tcase_add_test (tc, test_parts_listed_only_near_live_edge);
  return s;
}

GST_CHECK_MAIN (llhlssink);

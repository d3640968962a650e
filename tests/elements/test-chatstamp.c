/* test-chatstamp.c — specification of chatstamp: the capture-time meta every
 * buffer leaves with, where injected and Redis-published events enter the
 * stream, and the emsg llhlssink writes for them. */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <hiredis/hiredis.h>

#include "llhls-output.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstHarness, gst_harness_teardown)

#define FRAME_RATE 30
#define VIDEO_TIMESCALE 90000
#define NTP_UNIX_OFFSET (G_GUINT64_CONSTANT (2208988800) * GST_SECOND)
/* Capture time of frame 0 in the tests that give buffers their own. */
#define CAPTURE_BASE (G_GUINT64_CONSTANT (1700000000) * GST_SECOND)
#define CAPTURE_BASE_MS ((gint64)(CAPTURE_BASE / GST_MSECOND))

static gchar *tmpdir;

static void
setup (void)
{
  g_autoptr (GError) err = NULL;

  tmpdir = g_dir_make_tmp ("chatstamp-test-XXXXXX", &err);
  fail_unless (tmpdir != NULL, "cannot make a temp folder: %s",
               err ? err->message : "?");
}

static void
teardown (void)
{
  test_remove_tree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

/* ------------------------------------------------------------------------ */
/* Input and output                                                         */

static GstClockTime
frame_pts (guint i)
{
  return gst_util_uint64_scale (i, GST_SECOND, FRAME_RATE);
}

static GstCaps *
unix_caps (void)
{
  return gst_caps_new_empty_simple ("timestamp/x-unix");
}

/* Baseline SPS and PPS, enough for llhlssink's avcC. */
static const guint8 sps[] = {0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf,
                             0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00,
                             0x00, 0x03, 0x00, 0xf0, 0x3c, 0x58, 0xb9, 0x20};
static const guint8 pps[] = {0x68, 0xce, 0x3c, 0x80};

static GstCaps *
h264_caps_new (void)
{
  GByteArray *a = g_byte_array_new ();
  const guint8 head[] = {1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1};
  const guint8 sps_len[] = {0, sizeof sps}, pps_len[] = {0, sizeof pps};
  const guint8 n_pps = 1;
  g_autoptr (GstBuffer) codec_data = NULL;
  gsize size;

  g_byte_array_append (a, head, sizeof head);
  g_byte_array_append (a, sps_len, 2);
  g_byte_array_append (a, sps, sizeof sps);
  g_byte_array_append (a, &n_pps, 1);
  g_byte_array_append (a, pps_len, 2);
  g_byte_array_append (a, pps, sizeof pps);
  size = a->len;
  codec_data = gst_buffer_new_wrapped (g_byte_array_free (a, FALSE), size);
  return gst_caps_new_simple ("video/x-h264", "stream-format", G_TYPE_STRING,
                              "avc", "alignment", G_TYPE_STRING, "au", "width",
                              G_TYPE_INT, 640, "height", G_TYPE_INT, 360,
                              "framerate", GST_TYPE_FRACTION, FRAME_RATE, 1,
                              "codec_data", GST_TYPE_BUFFER, codec_data, NULL);
}

/* Frame @i of a 30 fps H.264 stream with a keyframe every second. */
static GstBuffer *
frame_new (guint i)
{
  gboolean key = i % FRAME_RATE == 0;
  gsize nal_size = key ? 600 : 120;
  guint8 *data = g_malloc (4 + nal_size);
  GstBuffer *buf;

  GST_WRITE_UINT32_BE (data, nal_size);
  data[4] = key ? 0x65 : 0x41;
  memset (data + 5, key ? 0x88 : 0x9a, nal_size - 1);
  buf = gst_buffer_new_wrapped (data, 4 + nal_size);
  GST_BUFFER_PTS (buf) = frame_pts (i);
  GST_BUFFER_DTS (buf) = frame_pts (i);
  GST_BUFFER_DURATION (buf) = frame_pts (i + 1) - frame_pts (i);
  if (!key)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  return buf;
}

/* Frame @i captured at CAPTURE_BASE + its PTS, as a source with its own
 * wall clock (chatstamp keeps it) would deliver it. */
static GstBuffer *
captured_frame_new (guint i)
{
  g_autoptr (GstCaps) caps = unix_caps ();
  GstBuffer *buf = frame_new (i);

  gst_buffer_add_reference_timestamp_meta (
      buf, caps, CAPTURE_BASE + frame_pts (i), GST_CLOCK_TIME_NONE);
  return buf;
}

/* Pushes captured frames [from, to) and drops what comes out. */
static void
push_captured (GstHarness *h, guint from, guint to)
{
  for (guint i = from; i < to; i++) {
    fail_unless_equals_int (gst_harness_push (h, captured_frame_new (i)),
                            GST_FLOW_OK);
    if (h->sinkpad)
      gst_buffer_unref (gst_harness_pull (h));
  }
}

static GstHarness *
chat_stamp_harness_new (const gchar *props)
{
  g_autofree gchar *desc =
      g_strdup_printf ("chatstamp name=cs %s", props ? props : "");
  GstHarness *h = gst_harness_new_parse (desc);

  gst_harness_set_src_caps (h, h264_caps_new ());
  return h;
}

/* The number of timestamp/x-unix metas on @buf; *@value the first one's. */
static guint
unix_meta_count (GstBuffer *buf, guint64 *value)
{
  g_autoptr (GstCaps) caps = unix_caps ();
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  while ((meta = gst_buffer_iterate_meta_filtered (
              buf, &state, GST_REFERENCE_TIMESTAMP_META_API_TYPE))) {
    GstReferenceTimestampMeta *r = (GstReferenceTimestampMeta *)meta;
    if (!gst_caps_is_equal (r->reference, caps))
      continue;
    if (n++ == 0 && value)
      *value = r->timestamp;
  }
  return n;
}

/* Pushes @buf and returns the one timestamp/x-unix value it comes out with. */
static guint64
push_and_read_unix_meta (GstHarness *h, GstBuffer *buf)
{
  g_autoptr (GstBuffer) out = NULL;
  guint64 value = 0;

  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  fail_unless_equals_int (unix_meta_count (out, &value), 1);
  return value;
}

/* The next timed-metadata event that came out, or NULL. */
static GstEvent *
try_pull_timed_metadata (GstHarness *h)
{
  GstEvent *ev;

  while ((ev = gst_harness_try_pull_event (h))) {
    const GstStructure *s = gst_event_get_structure (ev);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM && s &&
        gst_structure_has_name (s, "glasscast/timed-metadata"))
      return ev;
    gst_event_unref (ev);
  }
  return NULL;
}

static void
assert_timed_metadata (GstEvent *ev, GstClockTime running_time,
                       const gchar *text)
{
  const GstStructure *s;
  guint64 rt = 0;

  fail_unless (ev != NULL, "no timed metadata event");
  s = gst_event_get_structure (ev);
  fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
  fail_unless_equals_uint64 (rt, running_time);
  fail_unless_equals_string (gst_structure_get_string (s, "text"), text);
  fail_unless_equals_string (gst_structure_get_string (s, "description"),
                             "glasscast");
  fail_unless (gst_structure_has_field_typed (s, "id", G_TYPE_UINT));
}

static guint
event_id (GstEvent *ev)
{
  guint id = 0;

  fail_unless (
      gst_structure_get_uint (gst_event_get_structure (ev), "id", &id));
  return id;
}

static void
inject (GstHarness *h, const gchar *json, gint64 wallclock_ms)
{
  g_autoptr (GstElement) cs = gst_bin_get_by_name (GST_BIN (h->element), "cs");

  g_signal_emit_by_name (cs ? cs : h->element, "inject", json, wallclock_ms);
}

/* ------------------------------------------------------------------------ */
/* Capture time                                                             */

GST_START_TEST (test_clock_mapping_adds_unix_meta) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);
  g_autoptr (GstElement) cs = gst_bin_get_by_name (GST_BIN (h->element), "cs");
  GstBuffer *buf;
  gint64 before, after;
  guint64 stamp0, stamp1;

  /* Clock at 10 s, base time 2 s: running time 7 s was one second ago. */
  gst_element_set_base_time (cs, 2 * GST_SECOND);
  fail_unless (gst_harness_set_time (h, 10 * GST_SECOND));
  buf = frame_new (0);
  GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = 7 * GST_SECOND;
  before = g_get_real_time () * 1000;
  stamp0 = push_and_read_unix_meta (h, buf);
  after = g_get_real_time () * 1000;
  fail_unless ((gint64)stamp0 >= before - (gint64)GST_SECOND &&
                   (gint64)stamp0 <= after - (gint64)GST_SECOND,
               "capture time %" G_GUINT64_FORMAT " not one second before "
               "[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
               stamp0, before, after);

  /* The mapping is kept: later stamps follow the running time exactly,
   * whatever the clock says by then. */
  fail_unless (gst_harness_set_time (h, 20 * GST_SECOND));
  buf = frame_new (1);
  GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = 7500 * GST_MSECOND;
  stamp1 = push_and_read_unix_meta (h, buf);
  fail_unless_equals_uint64 (stamp1 - stamp0, 500 * GST_MSECOND);
}
GST_END_TEST;

GST_START_TEST (test_existing_unix_meta_is_kept) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);

  fail_unless_equals_uint64 (
      push_and_read_unix_meta (h, captured_frame_new (3)),
      CAPTURE_BASE + frame_pts (3));
}
GST_END_TEST;

static GstBuffer *
ntp_frame_new (guint i, guint64 ntp)
{
  g_autoptr (GstCaps) caps = gst_caps_new_empty_simple ("timestamp/x-ntp");
  GstBuffer *buf = frame_new (i);

  gst_buffer_add_reference_timestamp_meta (buf, caps, ntp, GST_CLOCK_TIME_NONE);
  return buf;
}

GST_START_TEST (test_ntp_meta_is_converted_to_unix) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);
  const guint64 ntp = NTP_UNIX_OFFSET + CAPTURE_BASE + 250 * GST_MSECOND;

  fail_unless_equals_uint64 (
      push_and_read_unix_meta (h, ntp_frame_new (0, ntp)),
      CAPTURE_BASE + 250 * GST_MSECOND);
}
GST_END_TEST;

GST_START_TEST (test_ntp_source_prefers_ntp_over_unix) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new ("source=ntp");
  const guint64 ntp = NTP_UNIX_OFFSET + CAPTURE_BASE + 250 * GST_MSECOND;
  GstBuffer *buf = ntp_frame_new (0, ntp);
  g_autoptr (GstCaps) caps = unix_caps ();

  gst_buffer_add_reference_timestamp_meta (buf, caps, 42 * GST_SECOND,
                                           GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (push_and_read_unix_meta (h, buf),
                             CAPTURE_BASE + 250 * GST_MSECOND);
}
GST_END_TEST;

GST_START_TEST (test_clock_source_replaces_unix_meta) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new ("source=clock");
  gint64 before = g_get_real_time () * 1000;
  guint64 stamped = push_and_read_unix_meta (h, captured_frame_new (0));

  fail_unless ((gint64)stamped >= before - (gint64)GST_SECOND &&
                   (gint64)stamped <=
                       g_get_real_time () * 1000 + (gint64)GST_SECOND,
               "clock source kept the upstream capture time");
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Injected events                                                          */

GST_START_TEST (test_inject_goes_out_before_first_buffer_at_its_time) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);
  const gchar *json = "{\"type\":\"message\",\"ts\":1700000001100}";
  GstEvent *ev;

  push_captured (h, 0, 10);
  inject (h, json, CAPTURE_BASE_MS + 1100);
  /* 1.1 s is frame 33's capture time: nothing before it, then the event
   * ahead of it (transform_ip pushes it before the buffer). */
  push_captured (h, 10, 33);
  ev = try_pull_timed_metadata (h);
  fail_unless (ev == NULL, "event went out before its time");
  push_captured (h, 33, 34);
  ev = try_pull_timed_metadata (h);
  assert_timed_metadata (ev, 1100 * GST_MSECOND, json);
  fail_unless_equals_int (event_id (ev), 1);
  gst_event_unref (ev);
}
GST_END_TEST;

GST_START_TEST (test_past_event_goes_out_at_once) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);
  GstEvent *ev;

  push_captured (h, 0, 30);
  inject (h, "{\"ts\":1700000000500}", CAPTURE_BASE_MS + 500);
  /* No further buffer: the event carries its own, earlier running time. */
  ev = try_pull_timed_metadata (h);
  assert_timed_metadata (ev, 500 * GST_MSECOND, "{\"ts\":1700000000500}");
  gst_event_unref (ev);
}
GST_END_TEST;

GST_START_TEST (test_events_go_out_in_time_order) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);
  const gint64 ms[] = {900, 300, 600};
  const guint expected_id[] = {2, 3, 1};
  const GstClockTime expected_rt[] = {300, 600, 900};

  push_captured (h, 0, 1);
  for (guint i = 0; i < G_N_ELEMENTS (ms); i++) {
    g_autofree gchar *json = g_strdup_printf ("{\"n\":%u}", i);
    inject (h, json, CAPTURE_BASE_MS + ms[i]);
  }
  push_captured (h, 1, 2 * FRAME_RATE);
  for (guint i = 0; i < G_N_ELEMENTS (expected_id); i++) {
    GstEvent *ev = try_pull_timed_metadata (h);
    g_autofree gchar *json = g_strdup_printf ("{\"n\":%u}", expected_id[i] - 1);
    assert_timed_metadata (ev, expected_rt[i] * GST_MSECOND, json);
    fail_unless_equals_int (event_id (ev), expected_id[i]);
    gst_event_unref (ev);
  }
  fail_unless (try_pull_timed_metadata (h) == NULL);
}
GST_END_TEST;

GST_START_TEST (test_event_injected_before_first_buffer_waits_for_it) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);
  GstEvent *ev;

  inject (h, "{}", CAPTURE_BASE_MS + 200);
  fail_unless (try_pull_timed_metadata (h) == NULL);
  push_captured (h, 0, 6);
  fail_unless (try_pull_timed_metadata (h) == NULL);
  push_captured (h, 6, 7);
  ev = try_pull_timed_metadata (h);
  assert_timed_metadata (ev, 200 * GST_MSECOND, "{}");
  gst_event_unref (ev);
}
GST_END_TEST;

GST_START_TEST (test_pending_events_go_out_before_eos) {
  g_autoptr (GstHarness) h = chat_stamp_harness_new (NULL);
  GstEvent *ev;

  push_captured (h, 0, 3);
  inject (h, "{}", CAPTURE_BASE_MS + 5000);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  ev = try_pull_timed_metadata (h);
  assert_timed_metadata (ev, 5 * GST_SECOND, "{}");
  gst_event_unref (ev);
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* With llhlssink                                                           */

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

GST_START_TEST (test_injected_event_is_emsg_in_its_part) {
  g_autofree gchar *desc = g_strdup_printf (
      "chatstamp name=cs ! s.video_0 llhlssink name=s location=%s "
      "target-duration=2 part-duration=200",
      tmpdir);
  g_autoptr (GstHarness) h = gst_harness_new_parse (desc);
  const gchar *json = "{\"type\":\"tip\",\"ts\":1700000001100,\"amount\":5}";
  g_autofree gchar *media =
      g_build_filename (tmpdir, "video_0", "media.m3u8", NULL);
  g_autofree gchar *text = NULL;
  g_autoptr (Playlist) pl = NULL;
  g_auto (Mp4Emsg) e = {0};

  gst_harness_set_src_caps (h, h264_caps_new ());
  push_captured (h, 0, 10);
  inject (h, json, CAPTURE_BASE_MS + 1100);
  push_captured (h, 10, 3 * FRAME_RATE);

  {
    /* 1.1 s falls in part 5 of segment 0: [1.0 s, 1.2 s). */
    g_autofree gchar *path =
        g_build_filename (tmpdir, "video_0", "part-0.5.m4s", NULL);
    mp4_read_first_emsg (path, &e);
  }
  fail_unless_equals_string (e.scheme, "https://aomedia.org/emsg/ID3");
  fail_unless_equals_int (e.timescale, VIDEO_TIMESCALE);
  fail_unless_equals_uint64 (e.presentation_time, 99000);
  fail_unless (bytes_contain (e.message, "TXXX"));
  fail_unless (bytes_contain (e.message, json));

  fail_unless (g_file_get_contents (media, &text, NULL, NULL));
  pl = playlist_parse (text);
  fail_unless_equals_int64 (pdt_to_ms (pl_segment (pl, 0)->pdt),
                            CAPTURE_BASE_MS);
  for (guint i = 0; i < pl->segments->len; i++) {
    PlSegment *seg = pl_segment (pl, i);
    for (guint j = 0; j < seg->parts->len; j++) {
      g_autofree gchar *path =
          g_build_filename (tmpdir, "video_0", pl_part (seg, j)->uri, NULL);
      g_auto (Mp4Media) m = {0};
      mp4_read_media (path, &m);
      fail_unless (m.error == NULL, "%s: %s", path, m.error);
      fail_unless_equals_int (m.n_emsg, i == 0 && j == 5 ? 1 : 0);
    }
  }
}
GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* Redis                                                                    */

static void
redis_child_setup (gpointer data)
{
  /* redis-server goes with the test process, even when a check fails. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts redis-server on a unix socket in tmpdir; FALSE when there is none. */
static gboolean
redis_server_start (GPid *pid, gchar **socket_path)
{
  g_autofree gchar *exe = g_find_program_in_path ("redis-server");
  g_autoptr (GError) err = NULL;
  gchar *path;

  if (!exe)
    return FALSE;
  path = g_build_filename (tmpdir, "r.sock", NULL);
  {
    const gchar *argv[] = {exe,  "--port", "0", "--unixsocket",
                           path, "--save", "",  "--appendonly",
                           "no", NULL};
    fail_unless (
        g_spawn_async (NULL, (gchar **)argv, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                       redis_child_setup, NULL, pid, &err),
        "cannot start redis-server: %s", err ? err->message : "?");
  }
  for (guint i = 0; i < 500 && !g_file_test (path, G_FILE_TEST_EXISTS); i++)
    g_usleep (10 * 1000);
  fail_unless (g_file_test (path, G_FILE_TEST_EXISTS),
               "redis-server made no socket");
  *socket_path = path;
  return TRUE;
}

static void
redis_server_stop (GPid pid)
{
  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  g_spawn_close_pid (pid);
}

/* PUBLISHes @payload once chatstamp has subscribed (PUBLISH reaches one). */
static void
redis_publish (const gchar *socket_path, const gchar *channel,
               const gchar *payload)
{
  redisContext *c = redisConnectUnix (socket_path);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  long long receivers = 0;

  fail_unless (c && !c->err, "cannot connect to redis-server");
  while (receivers == 0 && g_get_monotonic_time () < deadline) {
    redisReply *r = redisCommand (c, "PUBLISH %s %s", channel, payload);
    fail_unless (r && r->type == REDIS_REPLY_INTEGER);
    receivers = r->integer;
    freeReplyObject (r);
    if (receivers == 0)
      g_usleep (20 * 1000);
  }
  redisFree (c);
  fail_unless (receivers == 1, "chatstamp never subscribed");
}

static GstEvent *
wait_timed_metadata (GstHarness *h)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  GstEvent *ev;

  while (!(ev = try_pull_timed_metadata (h)) &&
         g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  return ev;
}

GST_START_TEST (test_redis_message_is_injected_at_its_ts) {
  g_autofree gchar *sock = NULL;
  g_autofree gchar *props = NULL;
  g_autoptr (GstHarness) h = NULL;
  const gchar *channel = "gc:chat:room:{test}:events";
  const gchar *held =
      "{\"node\":\"a\",\"kind\":\"held\",\"message\":{\"ts\":1700000000200}}";
  const gchar *envelope = "{\"node\":\"a\",\"kind\":\"message\",\"message\":"
                          "{\"id\":\"m1\",\"text\":\"hi\",\"ts\":"
                          "1700000000300}}";
  const gchar *flat = "{\"type\":\"tip\",\"ts\":1700000001000}";
  /* A kind that is no string is no kind (and no GLib critical: made fatal
   * below for every domain, json-glib's included): the event goes out by
   * its ts. */
  const gchar *odd_kind = "{\"kind\":[\"held\"],\"ts\":1700000000100}";
  GstEvent *ev;
  GPid pid;

  if (!redis_server_start (&pid, &sock)) {
    g_print ("SKIP test_redis_message_is_injected_at_its_ts: no redis-server "
             "in PATH\n");
    return;
  }
  props =
      g_strdup_printf ("redis-url=unix:%s redis-channel=\"%s\"", sock, channel);
  h = chat_stamp_harness_new (props);
  push_captured (h, 0, 12);

  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  redis_publish (sock, channel, odd_kind);
  ev = wait_timed_metadata (h);
  assert_timed_metadata (ev, 100 * GST_MSECOND, odd_kind);
  gst_event_unref (ev);

  /* Past stamps go out as soon as they arrive; a held message never. */
  redis_publish (sock, channel, held);
  redis_publish (sock, channel, envelope);
  ev = wait_timed_metadata (h);
  assert_timed_metadata (ev, 300 * GST_MSECOND, envelope);
  gst_event_unref (ev);

  /* A future stamp waits for the frame captured at 1 s. */
  redis_publish (sock, channel, flat);
  g_usleep (100 * 1000);
  fail_unless (try_pull_timed_metadata (h) == NULL);
  push_captured (h, 12, 31);
  ev = try_pull_timed_metadata (h);
  assert_timed_metadata (ev, GST_SECOND, flat);
  gst_event_unref (ev);

  g_clear_pointer (&h, gst_harness_teardown);
  redis_server_stop (pid);
}
GST_END_TEST;

static GstStaticPadTemplate harness_src = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate harness_sink = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GST_START_TEST (test_unreachable_redis_is_a_warning) {
  g_autofree gchar *props =
      g_strdup_printf ("redis-url=unix:%s/none.sock redis-channel=c", tmpdir);
  g_autoptr (GstBus) bus = gst_bus_new ();
  g_autoptr (GstHarness) h = gst_harness_new_empty ();
  g_autoptr (GstMessage) msg = NULL;
  g_autofree gchar *desc = g_strdup_printf ("chatstamp %s", props);
  g_autoptr (GstElement) cs = gst_parse_launch (desc, NULL);

  fail_unless (cs != NULL);
  gst_element_set_bus (cs, bus);
  gst_harness_add_element_full (h, cs, &harness_src, "sink", &harness_sink,
                                "src");
  gst_harness_set_src_caps (h, h264_caps_new ());
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND,
                                    GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING);
  /* The stream goes on. */
  fail_unless_equals_uint64 (
      push_and_read_unix_meta (h, captured_frame_new (0)), CAPTURE_BASE);
  gst_element_set_bus (cs, NULL);
}
GST_END_TEST;

/* glasscastd's default pipeline on a node without Redis: {redis} is "". */
GST_START_TEST (test_empty_redis_url_runs_without_redis) {
  g_autoptr (GstBus) bus = gst_bus_new ();
  g_autoptr (GstHarness) h = gst_harness_new_empty ();
  g_autoptr (GstMessage) msg = NULL;
  g_autoptr (GstElement) cs = gst_parse_launch (
      "chatstamp redis-url=\"\" redis-channel=\"gc:chat:room:{demo}:events\"",
      NULL);
  g_autofree gchar *url = NULL;

  fail_unless (cs != NULL);
  g_object_get (cs, "redis-url", &url, NULL);
  fail_unless (url == NULL || *url == '\0');
  gst_element_set_bus (cs, bus);
  gst_harness_add_element_full (h, cs, &harness_src, "sink", &harness_sink,
                                "src");
  gst_harness_set_src_caps (h, h264_caps_new ());
  fail_unless_equals_uint64 (
      push_and_read_unix_meta (h, captured_frame_new (0)), CAPTURE_BASE);
  msg = gst_bus_timed_pop_filtered (bus, 300 * GST_MSECOND,
                                    GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "unexpected %" GST_PTR_FORMAT, msg);
  gst_element_set_bus (cs, NULL);
}
GST_END_TEST;

static Suite *
chatstamp_suite (void)
{
  Suite *s = suite_create ("chatstamp");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 30);
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);

  tcase_add_test (tc, test_clock_mapping_adds_unix_meta);
  tcase_add_test (tc, test_existing_unix_meta_is_kept);
  tcase_add_test (tc, test_ntp_meta_is_converted_to_unix);
  tcase_add_test (tc, test_ntp_source_prefers_ntp_over_unix);
  tcase_add_test (tc, test_clock_source_replaces_unix_meta);
  tcase_add_test (tc, test_inject_goes_out_before_first_buffer_at_its_time);
  tcase_add_test (tc, test_past_event_goes_out_at_once);
  tcase_add_test (tc, test_events_go_out_in_time_order);
  tcase_add_test (tc, test_event_injected_before_first_buffer_waits_for_it);
  tcase_add_test (tc, test_pending_events_go_out_before_eos);
  tcase_add_test (tc, test_injected_event_is_emsg_in_its_part);
  tcase_add_test (tc, test_redis_message_is_injected_at_its_ts);
  tcase_add_test (tc, test_unreachable_redis_is_a_warning);
  tcase_add_test (tc, test_empty_redis_url_runs_without_redis);
  return s;
}

GST_CHECK_MAIN (chatstamp);

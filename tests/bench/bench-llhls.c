/* bench-llhls.c — measures llhlssink's CPU cost per rendition: pre-encoded
 * 1080p30 H.264 pushed through appsrc into llhlssink as fast as possible.
 *
 * Phase 1 encodes a short clip once (x264enc, not timed as packaging);
 * phase 2, the one measured, loops that clip through N appsrc into the N
 * video pads of one llhlssink. Everything the process spends in phase 2
 * (appsrc, llhlssink, file writes, the bench's own bookkeeping) counts: the
 * figure is an upper bound for the packager, never a flattering one.
 * It prints its conditions and results; it never judges them by exit
 * status (non-zero only when a pipeline fails). See docs/benchmarks.md. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#define WIDTH 1920
#define HEIGHT 1080
#define FPS_N 30
#define FPS_D 1
#define PUSH_BATCH 30

static gdouble opt_seconds = 120;
static gdouble opt_clip_seconds = 10;
static gint opt_renditions = 1;
static gint opt_bitrate = 6000;
static gchar *opt_preset = NULL;
static gchar *opt_output = NULL;
static gboolean opt_keep = FALSE;
static gboolean opt_no_count = FALSE;

static GOptionEntry entries[] = {
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
     "Media seconds to package per rendition (default 120)", "S"},
    {"renditions", 'r', 0, G_OPTION_ARG_INT, &opt_renditions,
     "Video renditions (appsrc -> video_%u pads of one llhlssink, all fed "
     "the same frames; default 1)",
     "N"},
    {"clip-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_clip_seconds,
     "Length of the pre-encoded clip that is looped (default 10)", "S"},
    {"bitrate", 0, 0, G_OPTION_ARG_INT, &opt_bitrate,
     "x264enc bitrate in kbit/s (default 6000)", "KBPS"},
    {"preset", 0, 0, G_OPTION_ARG_STRING, &opt_preset,
     "x264enc speed-preset for pre-encoding (default superfast)", "NAME"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
     "Parent folder of the output (default /dev/shm, else the tmp dir)", "DIR"},
    {"keep", 0, 0, G_OPTION_ARG_NONE, &opt_keep,
     "Keep the output folder instead of deleting it", NULL},
    {"no-count", 0, 0, G_OPTION_ARG_NONE, &opt_no_count,
     "Do not count published files with inotify during phase 2", NULL},
    {NULL},
};

/* ------------------------------------------------------------ the clip */

typedef struct {
  GPtrArray *frames; /* GstBuffer*, in decode order */
  GstCaps *caps;
  guint64 bytes;
  guint keyframes;
  guint reordered; /* frames shown before one decoded earlier: B-frames */
  guint gop;       /* frames between the first two keyframes, 0 if one */
  gint last_key;
  GstClockTime duration;
  GstClockTime ts_base; /* smallest DTS/PTS, mapped to 0 when pushing */
} Clip;

static gboolean
check_bus (GstElement *pipeline, const gchar *what)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gboolean ok = TRUE;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    g_printerr ("%s: error from %s: %s\n%s\n", what,
                GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
                dbg ? dbg : "");
    gst_message_unref (msg);
    ok = FALSE;
  }
  return ok;
}

static gboolean
encode_clip (Clip *clip, gdouble *encode_wall)
{
  guint n = (guint)(opt_clip_seconds * FPS_N / FPS_D + 0.5);
  g_autofree gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=%u pattern=smpte horizontal-speed=4 ! "
      "video/x-raw,format=I420,width=%u,height=%u,framerate=%u/%u ! "
      "x264enc bitrate=%d key-int-max=%u speed-preset=%s ! h264parse ! "
      "video/x-h264,stream-format=avc,alignment=au ! "
      "appsink name=sink sync=false max-buffers=0",
      n, WIDTH, HEIGHT, FPS_N, FPS_D, opt_bitrate, 2 * FPS_N / FPS_D,
      opt_preset);
  g_autoptr (GError) err = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &err);
  g_autoptr (GstElement) sink = NULL;
  gint64 t0 = g_get_monotonic_time ();
  GstSample *sample;
  GstClockTime max_pts = 0;
  gboolean ok;

  if (!pipeline) {
    g_printerr ("cannot build the encoding pipeline: %s\n", err->message);
    return FALSE;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  clip->frames =
      g_ptr_array_new_with_free_func ((GDestroyNotify)gst_mini_object_unref);
  clip->ts_base = GST_CLOCK_TIME_NONE;
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *buf = gst_sample_get_buffer (sample);
    GstClockTime pts = GST_BUFFER_PTS (buf);
    GstClockTime dts =
        GST_BUFFER_DTS_IS_VALID (buf) ? GST_BUFFER_DTS (buf) : pts;

    if (!clip->caps)
      clip->caps = gst_caps_ref (gst_sample_get_caps (sample));
    clip->bytes += gst_buffer_get_size (buf);
    if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      if (clip->keyframes == 1)
        clip->gop = clip->frames->len - (guint)clip->last_key;
      clip->last_key = (gint)clip->frames->len;
      clip->keyframes++;
    }
    if (clip->frames->len > 0 && pts < max_pts)
      clip->reordered++;
    max_pts = clip->frames->len > 0 ? MAX (max_pts, pts) : pts;
    clip->ts_base = MIN (clip->ts_base, MIN (pts, dts));
    g_ptr_array_add (clip->frames, gst_buffer_ref (buf));
    gst_sample_unref (sample);
  }
  ok = check_bus (pipeline, "pre-encoding");
  gst_element_set_state (pipeline, GST_STATE_NULL);
  *encode_wall = (g_get_monotonic_time () - t0) / 1e6;
  if (!ok || clip->frames->len == 0 || !clip->caps) {
    g_printerr ("pre-encoding produced no frames\n");
    return FALSE;
  }
  clip->duration =
      gst_util_uint64_scale (clip->frames->len, GST_SECOND * FPS_D, FPS_N);
  return TRUE;
}

/* ------------------------------------------------------------- feeding */

typedef struct {
  const Clip *clip;
  guint64 next;  /* index of the next frame, over all loops */
  guint64 total; /* frames to push */
} Feeder;

/* Runs in appsrc's streaming thread, which then pushes the frames into
 * llhlssink: one thread per rendition, as a live pipeline would have. */
static void
feeder_need_data (GstAppSrc *src, G_GNUC_UNUSED guint length,
                  gpointer user_data)
{
  Feeder *f = user_data;
  const Clip *clip = f->clip;

  for (guint i = 0; i < PUSH_BATCH && f->next < f->total; i++, f->next++) {
    guint idx = (guint)(f->next % clip->frames->len);
    guint64 loop = f->next / clip->frames->len;
    GstBuffer *orig = g_ptr_array_index (clip->frames, idx);
    GstBuffer *buf = gst_buffer_copy (orig); /* shares the memory */
    GstClockTime offset = loop * clip->duration - clip->ts_base;

    GST_BUFFER_PTS (buf) = GST_BUFFER_PTS (orig) + offset;
    GST_BUFFER_DTS (buf) =
        (GST_BUFFER_DTS_IS_VALID (orig) ? GST_BUFFER_DTS (orig)
                                        : GST_BUFFER_PTS (orig)) +
        offset;
    if (f->next > 0)
      GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_DISCONT);
    if (gst_app_src_push_buffer (src, buf) != GST_FLOW_OK)
      return;
  }
  if (f->next >= f->total)
    gst_app_src_end_of_stream (src);
}

/* ------------------------------------------------------ measurements */

typedef struct {
  gdouble user, sys;
  glong minflt, nvcsw, nivcsw;
} Usage;

static void
usage_now (Usage *u)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  u->user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  u->sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  u->minflt = ru.ru_minflt;
  u->nvcsw = ru.ru_nvcsw;
  u->nivcsw = ru.ru_nivcsw;
}

/* Bytes and calls of write(2)-like syscalls by this process so far. */
static void
io_now (guint64 *wchar, guint64 *syscw)
{
  g_autofree gchar *text = NULL;
  const gchar *p;

  *wchar = *syscw = 0;
  if (!g_file_get_contents ("/proc/self/io", &text, NULL, NULL))
    return;
  if ((p = strstr (text, "wchar:")))
    *wchar = g_ascii_strtoull (p + 6, NULL, 10);
  if ((p = strstr (text, "syscw:")))
    *syscw = g_ascii_strtoull (p + 6, NULL, 10);
}

/* tid -> nanoseconds on CPU (schedstat) and the thread's name. */
static GHashTable *
threads_now (void)
{
  GHashTable *h =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  DIR *d = opendir ("/proc/self/task");
  struct dirent *e;

  if (!d)
    return h;
  while ((e = readdir (d))) {
    g_autofree gchar *sp = NULL, *cp = NULL, *st = NULL, *comm = NULL;

    if (e->d_name[0] == '.')
      continue;
    sp = g_strdup_printf ("/proc/self/task/%s/schedstat", e->d_name);
    cp = g_strdup_printf ("/proc/self/task/%s/comm", e->d_name);
    if (!g_file_get_contents (sp, &st, NULL, NULL))
      continue;
    if (!g_file_get_contents (cp, &comm, NULL, NULL))
      comm = g_strdup ("?");
    g_strstrip (comm);
    g_hash_table_insert (h, g_strdup (e->d_name),
                         g_strdup_printf ("%s %s", st, comm));
  }
  closedir (d);
  return h;
}

static void
print_thread_cpu (GHashTable *before, GHashTable *after, gdouble total_cpu)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, after);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    g_autofree gchar *name = NULL;
    const gchar *prev = g_hash_table_lookup (before, k);
    guint64 ns_after = g_ascii_strtoull (v, NULL, 10);
    guint64 ns_before = prev ? g_ascii_strtoull (prev, NULL, 10) : 0;
    const gchar *sp = strrchr (v, ' ');
    gdouble s = (ns_after - ns_before) / 1e9;

    /* schedstat counts CPU time; rusage is user+sys at tick precision. */
    if (s < 0.001)
      continue;
    printf ("  thread %-7s %-20s %8.3f s  (%.0f%% of process CPU)\n",
            (const gchar *)k, sp ? sp + 1 : "?", s,
            total_cpu > 0 ? 100 * s / total_cpu : 0);
  }
}

/* ---------------------------------------------------------- conditions */

static gchar *
cpu_model (void)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    return g_strdup ("unknown");
  lines = g_strsplit (text, "\n", -1);
  for (gchar **l = lines; *l; l++) {
    const gchar *colon = strchr (*l, ':');
    if (g_str_has_prefix (*l, "model name") && colon)
      return g_strstrip (g_strdup (colon + 1));
  }
  return g_strdup ("unknown");
}

static gchar *
load_average (void)
{
  gchar *text = NULL;
  gchar **f;
  gchar *r;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return g_strdup ("?");
  f = g_strsplit (text, " ", 4);
  r = g_strdup_printf ("%s %s %s", f[0], f[1] ? f[1] : "",
                       f[1] && f[2] ? f[2] : "");
  g_strfreev (f);
  g_free (text);
  return r;
}

static const gchar *
fs_type (const gchar *path)
{
  static gchar other[32];
  struct statfs sfs;

  if (statfs (path, &sfs) != 0)
    return "unknown";
  switch ((unsigned long)sfs.f_type) {
    case 0x01021994UL:
      return "tmpfs";
    case 0xEF53UL:
      return "ext4";
    case 0x58465342UL:
      return "xfs";
    case 0x9123683EUL:
      return "btrfs";
    case 0x794C7630UL:
      return "overlayfs";
    default:
      g_snprintf (other, sizeof other, "0x%lx", (unsigned long)sfs.f_type);
      return other;
  }
}

static void
remove_tree (const gchar *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (d) {
    while ((name = g_dir_read_name (d))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
    g_dir_close (d);
  }
  g_rmdir (path);
}

/* -------------------------------------------------------------- phase 2 */

typedef struct {
  GMainLoop *loop;
  gboolean failed;
  gboolean done;
  Usage end_usage;
  gint64 end_wall;
  GHashTable *end_threads;
  guint64 end_wchar, end_syscw;
  /* inotify: files renamed into place (every llhlssink file is) */
  int inotify_fd;
  guint inotify_source;
  guint64 published, removed;
  gboolean overflow;
} Run;

/* Polled on a timer rather than on every event: waking the main thread per
 * file would cost more than the packaging it counts. */
static gboolean
drain_inotify (gpointer user_data)
{
  Run *run = user_data;
  int fd = run->inotify_fd;
  gchar buf[64 * 1024]
      __attribute__ ((aligned (__alignof__(struct inotify_event))));
  ssize_t n;

  while ((n = read (fd, buf, sizeof buf)) > 0) {
    for (gchar *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      if (ev->mask & IN_Q_OVERFLOW)
        run->overflow = TRUE;
      else if (ev->mask & IN_MOVED_TO)
        run->published++;
      else if (ev->mask & IN_DELETE)
        run->removed++;
      p += sizeof *ev + ev->len;
    }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus (G_GNUC_UNUSED GstBus *bus, GstMessage *msg, gpointer user_data)
{
  Run *run = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      /* Stop the clocks first: nothing after EOS is packaging. */
      usage_now (&run->end_usage);
      run->end_wall = g_get_monotonic_time ();
      io_now (&run->end_wchar, &run->end_syscw);
      run->end_threads = threads_now ();
      run->done = TRUE;
      g_main_loop_quit (run->loop);
      break;
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("packaging: error from %s: %s\n%s\n",
                  GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
                  dbg ? dbg : "");
      run->failed = TRUE;
      g_main_loop_quit (run->loop);
      break;
    }
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      g_printerr ("packaging: warning from %s: %s\n",
                  GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *model = NULL, *load_before = NULL, *load_after = NULL;
  g_autofree gchar *outdir = NULL, *gst_version = NULL;
  g_autofree gchar *pattern = NULL;
  g_autofree Feeder *feeders = NULL;
  g_autoptr (GHashTable) start_threads = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GstBus) bus = NULL;
  GstElement *pipeline, *sink;
  Clip clip = {0};
  Run run = {0};
  Usage u0;
  gint64 wall0;
  guint64 wchar0, syscw0, total_frames;
  gdouble encode_wall, bitrate, media_s, cpu, wall;
  guint part_ms, target_s, window, max_files;
  struct utsname un;
  const gchar *parent;
  int rc = 0;

  ctx = g_option_context_new ("- llhlssink packaging CPU benchmark");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  if (opt_renditions < 1 || opt_seconds <= 0 || opt_clip_seconds <= 0 ||
      opt_bitrate <= 0) {
    g_printerr ("--renditions, --seconds, --clip-seconds and --bitrate must "
                "be positive\n");
    return 2;
  }
  if (!opt_preset)
    opt_preset = g_strdup ("superfast");
  gst_init (&argc, &argv);

  /* Phase 1: the clip (not measured as packaging). */
  if (!encode_clip (&clip, &encode_wall))
    return 1;
  bitrate = clip.bytes * 8.0 / (clip.duration / (gdouble)GST_SECOND);

  /* Phase 2: the packaging pipeline. */
  parent = opt_output                                     ? opt_output
           : g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm"
                                                          : g_get_tmp_dir ();
  pattern = g_build_filename (parent, "bench-llhls-XXXXXX", NULL);
  outdir = g_mkdtemp (g_strdup (pattern));
  if (!outdir) {
    g_printerr ("cannot create a folder in %s: %s\n", parent,
                g_strerror (errno));
    return 1;
  }

  pipeline = gst_pipeline_new ("bench");
  sink = gst_element_factory_make ("llhlssink", "sink");
  if (!sink) {
    g_printerr ("no llhlssink element: set GST_PLUGIN_PATH to the folder of "
                "the built plugin (e.g. build/plugins/llhls)\n");
    remove_tree (outdir);
    return 1;
  }
  g_object_set (sink, "location", outdir, NULL);
  g_object_get (sink, "part-duration", &part_ms, "target-duration", &target_s,
                "window", &window, "max-files", &max_files, NULL);
  gst_bin_add (GST_BIN (pipeline), sink);

  total_frames = (guint64)(opt_seconds * FPS_N / FPS_D + 0.5);
  media_s = total_frames * (gdouble)FPS_D / FPS_N;
  feeders = g_new0 (Feeder, opt_renditions);
  run.inotify_fd = -1;
  if (!opt_no_count) {
    run.inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
    if (run.inotify_fd >= 0)
      inotify_add_watch (run.inotify_fd, outdir, IN_MOVED_TO | IN_DELETE);
  }
  for (gint i = 0; i < opt_renditions; i++) {
    g_autofree gchar *name = g_strdup_printf ("src%d", i);
    g_autofree gchar *pad_name = g_strdup_printf ("video_%d", i);
    g_autofree gchar *dir = g_build_filename (outdir, pad_name, NULL);
    GstAppSrcCallbacks cb = {.need_data = feeder_need_data};
    GstElement *src = gst_element_factory_make ("appsrc", name);
    g_autoptr (GstPad) srcpad = NULL, sinkpad = NULL;

    feeders[i].clip = &clip;
    feeders[i].total = total_frames;
    g_object_set (src, "format", GST_FORMAT_TIME, "is-live", FALSE,
                  "do-timestamp", FALSE, "caps", clip.caps, "max-bytes",
                  (guint64)8 * 1024 * 1024, NULL);
    gst_app_src_set_callbacks (GST_APP_SRC (src), &cb, &feeders[i], NULL);
    gst_bin_add (GST_BIN (pipeline), src);
    srcpad = gst_element_get_static_pad (src, "src");
    sinkpad = gst_element_request_pad_simple (sink, "video_%u");
    if (!sinkpad || gst_pad_link (srcpad, sinkpad) != GST_PAD_LINK_OK) {
      g_printerr ("cannot link %s to llhlssink\n", name);
      remove_tree (outdir);
      return 1;
    }
    /* The rendition folder exists before the run, so inotify sees its
     * first file too (llhlssink creates it the same way when missing). */
    g_mkdir_with_parents (dir, 0755);
    if (run.inotify_fd >= 0)
      inotify_add_watch (run.inotify_fd, dir, IN_MOVED_TO | IN_DELETE);
  }

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, &run);
  if (run.inotify_fd >= 0)
    run.inotify_source = g_timeout_add (20, drain_inotify, &run);

  model = cpu_model ();
  gst_version = gst_version_string ();
  load_before = load_average ();
  uname (&un);

  printf ("== llhlssink packaging CPU benchmark ==\n");
  printf ("conditions:\n");
  printf ("  cpu:            %s, %d cores online (%u usable)\n", model,
          (int)sysconf (_SC_NPROCESSORS_ONLN), g_get_num_processors ());
  printf ("  kernel:         %s %s\n", un.sysname, un.release);
  printf ("  gstreamer:      %s\n", gst_version);
  printf ("  load average:   %s (before phase 2; others may share the "
          "machine)\n",
          load_before);
  printf ("  video:          %ux%u %u/%u fps H.264 (x264enc "
          "speed-preset=%s bitrate=%d key-int-max=%u, videotestsrc smpte "
          "moving)\n",
          WIDTH, HEIGHT, FPS_N, FPS_D, opt_preset, opt_bitrate,
          2 * FPS_N / FPS_D);
  printf ("  clip:           %u frames, %.2f s, %u keyframes (every %u "
          "frames), %u reordered (B-frame) frames, pre-encoded in %.1f s\n",
          clip.frames->len, clip.duration / (gdouble)GST_SECOND, clip.keyframes,
          clip.gop, clip.reordered, encode_wall);
  printf ("  bitrate:        %.3f Mbit/s measured (%" G_GUINT64_FORMAT
          " bytes in the clip)\n",
          bitrate / 1e6, clip.bytes);
  printf ("  media:          %.1f s per rendition (clip looped), %d "
          "rendition(s), appsrc is-live=false, as fast as possible\n",
          media_s, opt_renditions);
  printf ("  llhlssink:      target-duration=%u s part-duration=%u ms "
          "window=%u max-files=%u (defaults)\n",
          target_s, part_ms, window, max_files);
  printf ("  output:         %s (%s)%s\n", outdir, fs_type (outdir),
          opt_no_count ? ""
                       : ", files counted with inotify (read every 20 ms)");
  fflush (stdout);

  /* Everything from here to EOS is phase 2. */
  start_threads = threads_now ();
  io_now (&wchar0, &syscw0);
  usage_now (&u0);
  wall0 = g_get_monotonic_time ();
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("packaging pipeline failed to start\n");
    run.failed = TRUE;
  } else {
    g_main_loop_run (loop);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  load_after = load_average ();
  if (run.inotify_fd >= 0)
    drain_inotify (&run); /* the clocks have stopped: count what is left */

  if (!run.failed && run.done) {
    Usage *u1 = &run.end_usage;
    gdouble per;
    guint64 wbytes = run.end_wchar - wchar0;
    guint64 in_bytes =
        (guint64)((gdouble)clip.bytes * total_frames / clip.frames->len) *
        opt_renditions;

    cpu = (u1->user - u0.user) + (u1->sys - u0.sys);
    wall = (run.end_wall - wall0) / 1e6;
    per = cpu / media_s / opt_renditions * 100;

    printf ("results (phase 2 only: set_state(PLAYING) to EOS):\n");
    printf ("  cpu:            %.3f s (user %.3f s, sys %.3f s; "
            "getrusage RUSAGE_SELF)\n",
            cpu, u1->user - u0.user, u1->sys - u0.sys);
    printf ("  wall:           %.3f s\n", wall);
    printf ("  speed:          %.1fx realtime per rendition (%.1f "
            "rendition-seconds packaged per wall second)\n",
            media_s / wall, media_s * opt_renditions / wall);
    printf ("  cpu per live rendition: %.3f %% of one core (cpu / media s "
            "/ renditions)\n",
            per);
    printf ("  cpu per frame:  %.1f us\n",
            cpu * 1e6 / ((gdouble)total_frames * opt_renditions));
    if (run.inotify_fd >= 0)
      printf ("  files written:  %" G_GUINT64_FORMAT
              " published (renamed into place), %" G_GUINT64_FORMAT
              " removed by retention%s\n",
              run.published, run.removed,
              run.overflow ? " (inotify queue overflowed: undercounted)" : "");
    printf ("  bytes written:  %" G_GUINT64_FORMAT
            " (%.2f MB) in %" G_GUINT64_FORMAT
            " write calls (/proc/self/io), %.2fx the %.2f MB pushed\n",
            wbytes, wbytes / 1e6, run.end_syscw - syscw0,
            in_bytes ? (gdouble)wbytes / in_bytes : 0, in_bytes / 1e6);
    printf ("  context switches: %ld voluntary, %ld involuntary; %ld minor "
            "faults\n",
            u1->nvcsw - u0.nvcsw, u1->nivcsw - u0.nivcsw,
            u1->minflt - u0.minflt);
    printf ("  load average:   %s (after)\n", load_after);
    printf ("  threads (CPU in phase 2, /proc/self/task/*/schedstat):\n");
    print_thread_cpu (start_threads, run.end_threads, cpu);
    printf ("SUMMARY llhls-cpu: %d x 1080p30 %.1f Mbit/s, %.0f s media: "
            "%.3f %% of one core per live rendition (cpu %.3f s, wall "
            "%.3f s, %.0fx realtime); goal < 1 %%: %s\n",
            opt_renditions, bitrate / 1e6, media_s, per, cpu, wall,
            media_s / wall, per < 1.0 ? "met" : "NOT met");
  } else {
    rc = 1;
  }

  if (run.end_threads)
    g_hash_table_unref (run.end_threads);
  if (run.inotify_source)
    g_source_remove (run.inotify_source);
  if (run.inotify_fd >= 0)
    close (run.inotify_fd);
  gst_bus_remove_watch (bus);
  gst_object_unref (pipeline);
  if (opt_keep)
    printf ("output kept in %s\n", outdir);
  else
    remove_tree (outdir);
  g_ptr_array_unref (clip.frames);
  gst_caps_unref (clip.caps);
  g_free (opt_preset);
  g_free (opt_output);
  return rc;
}

/* worker.c — spawns and supervises one glasscast-worker: stdin/stdout pipes carry JSON lines, a watchdog
 * kills it after missed heartbeats, and whatever happens to it, glasscastd only ever sees one "exited". */

#include "worker.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "channel-error.h"
#include "service.h" /* chat/: gc_chat_room_events_channel */

/* Until its first line a worker is loading GStreamer's registry, which can
 * take seconds on a cold cache; after that it beats every 500 ms. */
#define STARTUP_GRACE_MS 15000
#define WATCHDOG_TICK_MS 100
#define READ_CHUNK 16384

struct _GcWorker {
  GObject parent_instance;

  gchar *channel;
  guint heartbeat_timeout_ms;
  guint stop_timeout_ms;
  GSubprocess *process;
  gint pid;
  GOutputStream *in; /* the worker's stdin */
  GInputStream *out; /* the worker's stdout */
  GCancellable *cancellable;
  GcLineBuffer *lines;
  GQueue pending; /* GBytes, lines waiting to be written */
  gboolean writing;
  gint64 last_seen; /* monotonic µs of the last line; 0: none yet */
  gint64 last_tick; /* monotonic µs of the previous watchdog tick */
  gint64 started;
  guint watchdog_id;
  guint stop_timer_id;
  gboolean exited;
  gboolean killing; /* we sent SIGKILL: the exit carries kill_reason */
  GcWorkerExit kill_reason;
  gchar *kill_detail;
};

enum {
  SIGNAL_MESSAGE,
  SIGNAL_EXITED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GcWorker, gc_worker, G_TYPE_OBJECT)

const gchar *
gc_worker_exit_to_string (GcWorkerExit exit)
{
  switch (exit) {
    case GC_WORKER_EXIT_CLEAN:
      return "clean";
    case GC_WORKER_EXIT_FAILED:
      return "failed";
    case GC_WORKER_EXIT_CRASHED:
      return "crashed";
    case GC_WORKER_EXIT_HUNG:
      return "hung";
    case GC_WORKER_EXIT_STOP_TIMEOUT:
      return "stop_timeout";
    case GC_WORKER_EXIT_PROTOCOL:
      return "protocol";
    case GC_WORKER_EXIT_KILLED:
      return "killed";
  }
  return "unknown";
}

static void
gc_worker_dispose (GObject *object)
{
  GcWorker *worker = GC_WORKER (object);

  /* A worker nobody holds must not outlive its handle. */
  if (!worker->exited && worker->process != NULL)
    g_subprocess_force_exit (worker->process);
  worker->exited = TRUE;
  if (worker->cancellable != NULL)
    g_cancellable_cancel (worker->cancellable);
  g_clear_handle_id (&worker->watchdog_id, g_source_remove);
  g_clear_handle_id (&worker->stop_timer_id, g_source_remove);
  g_queue_clear_full (&worker->pending, (GDestroyNotify)g_bytes_unref);
  g_clear_object (&worker->in);
  g_clear_object (&worker->out);
  g_clear_object (&worker->process);
  g_clear_object (&worker->cancellable);
  G_OBJECT_CLASS (gc_worker_parent_class)->dispose (object);
}

static void
gc_worker_finalize (GObject *object)
{
  GcWorker *worker = GC_WORKER (object);

  g_clear_pointer (&worker->lines, gc_line_buffer_free);
  g_free (worker->channel);
  g_free (worker->kill_detail);
  G_OBJECT_CLASS (gc_worker_parent_class)->finalize (object);
}

static void
gc_worker_class_init (GcWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_worker_dispose;
  object_class->finalize = gc_worker_finalize;

  /**
   * GcWorker::message:
   * @msg: (type gpointer): the GcWorkerMsg, valid during the emission
   */
  signals[SIGNAL_MESSAGE] =
      g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  /**
   * GcWorker::exited:
   * @why: a GcWorkerExit
   * @detail: human-readable, e.g. "killed by signal 9"
   */
  signals[SIGNAL_EXITED] = g_signal_new (
      "exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
      NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
}

static void
gc_worker_init (GcWorker *worker)
{
  g_queue_init (&worker->pending);
  worker->lines = gc_line_buffer_new ();
  worker->cancellable = g_cancellable_new ();
}

/* glasscast-worker beside our own executable (the build folder, or the
 * installed bindir), else from PATH. */
static gchar *
default_program (void)
{
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);

  if (self != NULL) {
    g_autofree gchar *dir = g_path_get_dirname (self);
    gchar *sibling = g_build_filename (dir, "glasscast-worker", NULL);

    if (g_file_test (sibling, G_FILE_TEST_IS_EXECUTABLE))
      return sibling;
    g_free (sibling);
  }
  return g_strdup ("glasscast-worker");
}

/* In the child, between fork and exec: if glasscastd dies, so does the
 * worker (it gets SIGTERM, which finalises its playlists). */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void read_more (GcWorker *worker);

/* Ends the worker's life as glasscastd sees it: exactly once. */
static void
finish (GcWorker *worker, GcWorkerExit why, const gchar *detail)
{
  if (worker->exited)
    return;
  worker->exited = TRUE;
  worker->pid = 0;
  g_clear_handle_id (&worker->watchdog_id, g_source_remove);
  g_clear_handle_id (&worker->stop_timer_id, g_source_remove);
  g_queue_clear_full (&worker->pending, (GDestroyNotify)g_bytes_unref);
  g_log_structured (
      G_LOG_DOMAIN,
      why == GC_WORKER_EXIT_CLEAN ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING,
      "GC_CHANNEL", worker->channel, "GC_EXIT", gc_worker_exit_to_string (why),
      "MESSAGE", "worker ended: %s", detail);
  g_signal_emit (worker, signals[SIGNAL_EXITED], 0, (gint)why, detail);
}

static void
on_wait (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GcWorker) worker = user_data;
  g_autoptr (GError) error = NULL;
  GSubprocess *p = G_SUBPROCESS (source);
  g_autofree gchar *detail = NULL;
  GcWorkerExit why;

  if (!g_subprocess_wait_finish (p, result, &error))
    return; /* cancelled: disposed */
  if (worker->killing) {
    why = worker->kill_reason;
    detail = g_strdup (worker->kill_detail);
  } else if (g_subprocess_get_if_signaled (p)) {
    why = GC_WORKER_EXIT_CRASHED;
    detail =
        g_strdup_printf ("killed by signal %d", g_subprocess_get_term_sig (p));
  } else if (g_subprocess_get_exit_status (p) == 0) {
    why = GC_WORKER_EXIT_CLEAN;
    detail = g_strdup ("exited");
  } else {
    why = GC_WORKER_EXIT_FAILED;
    detail =
        g_strdup_printf ("exit status %d", g_subprocess_get_exit_status (p));
  }
  finish (worker, why, detail);
}

static void
kill_now (GcWorker *worker, GcWorkerExit why, const gchar *detail)
{
  if (worker->exited || worker->killing)
    return;
  worker->killing = TRUE;
  worker->kill_reason = why;
  worker->kill_detail = g_strdup (detail);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL",
                    worker->channel, "MESSAGE", "killing worker %d: %s",
                    worker->pid, detail);
  g_subprocess_force_exit (worker->process);
}

void
gc_worker_kill (GcWorker *worker, GcWorkerExit why)
{
  g_return_if_fail (GC_IS_WORKER (worker));
  kill_now (worker, why, gc_worker_exit_to_string (why));
}

static gboolean
on_watchdog (gpointer user_data)
{
  GcWorker *worker = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 gap = worker->last_tick ? now - worker->last_tick : 0;

  /* A tick that comes late means glasscastd's own main loop stalled (a busy
   * machine): heartbeats are then waiting, unread, in the pipe, and the
   * worker is not to blame. Judge only on a tick that came on time, after
   * the pipe's reads had their turn. */
  worker->last_tick = now;
  if (gap > (gint64)worker->heartbeat_timeout_ms * 1000 / 2)
    return G_SOURCE_CONTINUE;

  if (worker->last_seen == 0) {
    if (now - worker->started > (gint64)STARTUP_GRACE_MS * 1000)
      kill_now (worker, GC_WORKER_EXIT_HUNG, "no heartbeat since it started");
  } else if (now - worker->last_seen >
             (gint64)worker->heartbeat_timeout_ms * 1000) {
    kill_now (worker, GC_WORKER_EXIT_HUNG, "missed heartbeats");
  }
  return G_SOURCE_CONTINUE;
}

static void
handle_line (GcWorker *worker, const gchar *line, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcWorkerMsg) msg = gc_worker_msg_parse (line, len, &error);

  if (msg == NULL) {
    g_autofree gchar *detail =
        g_strdup_printf ("protocol error: %s", error->message);

    kill_now (worker, GC_WORKER_EXIT_PROTOCOL, detail);
    return;
  }
  worker->last_seen = g_get_monotonic_time ();
  if (gc_worker_msg_get_msg_type (msg) == GC_WORKER_MSG_HEARTBEAT)
    return;
  g_signal_emit (worker, signals[SIGNAL_MESSAGE], 0, msg);
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GcWorker) worker = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize size;
  const guint8 *data;
  gchar *line;
  gsize len;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result,
                                            &error);
  if (bytes == NULL || worker->exited) {
    /* Read errors and EOF are the process going away: on_wait() says
     * how. */
    return;
  }
  data = g_bytes_get_data (bytes, &size);
  if (size == 0)
    return; /* EOF */
  if (!gc_line_buffer_push (worker->lines, data, size)) {
    kill_now (worker, GC_WORKER_EXIT_PROTOCOL, "line over the limit");
    return;
  }
  while (!worker->exited && !worker->killing &&
         (line = gc_line_buffer_pop (worker->lines, &len)) != NULL) {
    handle_line (worker, line, len);
    g_free (line);
  }
  if (!worker->exited && !worker->killing)
    read_more (worker);
}

static void
read_more (GcWorker *worker)
{
  g_input_stream_read_bytes_async (worker->out, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   worker->cancellable, on_read,
                                   g_object_ref (worker));
}

static void write_next (GcWorker *worker);

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GcWorker) worker = user_data;
  g_autoptr (GError) error = NULL;

  worker->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL,
                                         &error)) {
    /* EPIPE: the worker is gone or going; on_wait() reports it. SIGPIPE is
     * ignored by glasscastd, so this is an error, not a death. */
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_queue_clear_full (&worker->pending, (GDestroyNotify)g_bytes_unref);
    return;
  }
  g_bytes_unref (g_queue_pop_head (&worker->pending));
  write_next (worker);
}

static void
write_next (GcWorker *worker)
{
  GBytes *line;

  if (worker->writing || worker->exited)
    return;
  line = g_queue_peek_head (&worker->pending);
  if (line == NULL)
    return;
  worker->writing = TRUE;
  g_output_stream_write_all_async (worker->in, g_bytes_get_data (line, NULL),
                                   g_bytes_get_size (line), G_PRIORITY_DEFAULT,
                                   worker->cancellable, on_written,
                                   g_object_ref (worker));
}

void
gc_worker_send (GcWorker *worker, GcWorkerMsg *msg)
{
  gchar *line;

  g_return_if_fail (GC_IS_WORKER (worker));
  g_return_if_fail (msg != NULL);

  if (worker->exited)
    return;
  line = gc_worker_msg_to_line (msg);
  g_queue_push_tail (&worker->pending, g_bytes_new_take (line, strlen (line)));
  write_next (worker);
}

static gboolean
on_stop_timeout (gpointer user_data)
{
  GcWorker *worker = user_data;

  worker->stop_timer_id = 0;
  kill_now (worker, GC_WORKER_EXIT_STOP_TIMEOUT,
            "still running after \"stop\"");
  return G_SOURCE_REMOVE;
}

void
gc_worker_stop (GcWorker *worker, const gchar *reason)
{
  g_autoptr (GcWorkerMsg) msg = NULL;

  g_return_if_fail (GC_IS_WORKER (worker));

  if (worker->exited || worker->stop_timer_id != 0)
    return;
  msg = gc_worker_msg_new (GC_WORKER_MSG_STOP);
  gc_worker_msg_set_string (msg, "reason", reason);
  gc_worker_send (worker, msg);
  worker->stop_timer_id =
      g_timeout_add (worker->stop_timeout_ms, on_stop_timeout, worker);
}

gint
gc_worker_get_pid (GcWorker *worker)
{
  g_return_val_if_fail (GC_IS_WORKER (worker), 0);
  return worker->exited ? 0 : worker->pid;
}

gboolean
gc_worker_has_exited (GcWorker *worker)
{
  g_return_val_if_fail (GC_IS_WORKER (worker), TRUE);
  return worker->exited;
}

/* "stun:host:port" (RFC 7064, as in Link headers) -> "stun://host:port"
 * (webrtcbin). */
static gchar *
stun_for_webrtcbin (const gchar *list)
{
  g_auto (GStrv) servers = g_strsplit (list, ",", 2);
  const gchar *first = g_strstrip (servers[0]);

  if (g_str_has_prefix (first, "stun:") && !g_str_has_prefix (first, "stun://"))
    return g_strdup_printf ("stun://%s", first + 5);
  return g_strdup (first);
}

/* "turn:host:port?transport=udp" + user + credential ->
 * "turn://user:credential@host:port" (webrtcbin). */
static gchar *
turn_for_webrtcbin (const GcWebrtcConfig *w)
{
  g_autofree gchar *user = NULL;
  g_autofree gchar *cred = NULL;
  const gchar *uri = w->turn_server;
  const gchar *scheme = "turn";
  const gchar *q;
  g_autofree gchar *hostport = NULL;

  if (g_str_has_prefix (uri, "turns:")) {
    scheme = "turns";
    uri += 6;
  } else if (g_str_has_prefix (uri, "turn:")) {
    uri += 5;
  }
  if (g_str_has_prefix (uri, "//"))
    return g_strdup (w->turn_server); /* already webrtcbin's form */
  q = strchr (uri, '?');
  hostport = q ? g_strndup (uri, (gsize)(q - uri)) : g_strdup (uri);
  user = g_uri_escape_string (w->turn_username ? w->turn_username : "", NULL,
                              FALSE);
  cred = g_uri_escape_string (w->turn_credential ? w->turn_credential : "",
                              NULL, FALSE);
  if (w->turn_username == NULL)
    return g_strdup_printf ("%s://%s", scheme, hostport);
  return g_strdup_printf ("%s://%s:%s@%s", scheme, user, cred, hostport);
}

GcWorker *
gc_worker_spawn (const GcConfig *config, const gchar *channel,
                 const gchar *pipeline, const gchar *location, GError **error)
{
  g_autoptr (GcWorker) worker = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autofree gchar *program = NULL;
  const GcWebrtcConfig *w;
  const gchar *pid_text;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (channel != NULL && pipeline != NULL, NULL);
  g_return_val_if_fail (location != NULL, NULL);

  w = &config->webrtc;
  worker = g_object_new (GC_TYPE_WORKER, NULL);
  worker->channel = g_strdup (channel);
  worker->heartbeat_timeout_ms = config->worker.heartbeat_timeout_ms;
  worker->stop_timeout_ms = config->worker.stop_timeout_ms;

  program = config->worker.program ? g_strdup (config->worker.program)
                                   : default_program ();
  argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup (program));
  g_ptr_array_add (argv, g_strdup ("--channel"));
  g_ptr_array_add (argv, g_strdup (channel));
  g_ptr_array_add (argv, g_strdup ("--location"));
  g_ptr_array_add (argv, g_strdup (location));
  g_ptr_array_add (argv, g_strdup ("--pipeline"));
  g_ptr_array_add (argv, g_strdup (pipeline));
  g_ptr_array_add (argv, g_strdup ("--log-level"));
  g_ptr_array_add (argv, g_strdup (config->log_level));
  if (w->ice_address != NULL) {
    g_ptr_array_add (argv, g_strdup ("--ice-address"));
    g_ptr_array_add (argv, g_strdup (w->ice_address));
  }
  if (w->stun_server != NULL) {
    g_ptr_array_add (argv, g_strdup ("--stun-server"));
    g_ptr_array_add (argv, stun_for_webrtcbin (w->stun_server));
  }
  if (w->udp_port_min != 0) {
    g_ptr_array_add (argv, g_strdup ("--udp-port-range"));
    g_ptr_array_add (
        argv, g_strdup_printf ("%u-%u", w->udp_port_min, w->udp_port_max));
  }
  /* For chatstamp: the address carries no password ([chat] redis= is
   * "unix:/path" or "host:port"), so the command line is fine. The room
   * of a channel is the channel's name. */
  if (config->chat.redis != NULL) {
    g_ptr_array_add (argv, g_strdup ("--redis"));
    g_ptr_array_add (argv, g_strdup (config->chat.redis));
  }
  g_ptr_array_add (argv, g_strdup ("--chat-events"));
  g_ptr_array_add (argv, gc_chat_room_events_channel (NULL, channel));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  if (config->plugin_path != NULL) {
    const gchar *inherited = g_getenv ("GST_PLUGIN_PATH");
    g_autofree gchar *path =
        inherited && *inherited
            ? g_strjoin (G_SEARCHPATH_SEPARATOR_S, config->plugin_path,
                         inherited, NULL)
            : g_strdup (config->plugin_path);

    g_subprocess_launcher_setenv (launcher, "GST_PLUGIN_PATH", path, TRUE);
  }
  /* The TURN credential is a secret: the environment of a process is
   * readable by its user only, its command line by everyone. */
  if (w->turn_server != NULL) {
    g_autofree gchar *turn = turn_for_webrtcbin (w);

    g_subprocess_launcher_setenv (launcher, "GC_WORKER_TURN_SERVER", turn,
                                  TRUE);
  } else {
    g_subprocess_launcher_unsetenv (launcher, "GC_WORKER_TURN_SERVER");
  }
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  worker->process = g_subprocess_launcher_spawnv (
      launcher, (const gchar *const *)argv->pdata, error);
  if (worker->process == NULL) {
    g_prefix_error (error, "cannot start %s: ", program);
    return NULL;
  }
  pid_text = g_subprocess_get_identifier (worker->process);
  worker->pid = pid_text ? atoi (pid_text) : 0;
  worker->in = g_object_ref (g_subprocess_get_stdin_pipe (worker->process));
  worker->out = g_object_ref (g_subprocess_get_stdout_pipe (worker->process));
  worker->started = g_get_monotonic_time ();
  g_subprocess_wait_async (worker->process, worker->cancellable, on_wait,
                           g_object_ref (worker));
  read_more (worker);
  worker->watchdog_id = g_timeout_add (WATCHDOG_TICK_MS, on_watchdog, worker);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", channel,
                    "MESSAGE", "worker %d started", worker->pid);
  return g_steal_pointer (&worker);
}

/* worker-main.c — main() of glasscast-worker, the process that runs one live channel's pipeline.
 * Reads JSON lines on stdin, writes them on stdout (heartbeat every 500 ms, stats every second). */

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <gst/gst.h>

#include "log.h"
#include "worker-pipeline.h"
#include "worker-protocol.h"

#define HEARTBEAT_MS 500
#define STATS_MS 1000

typedef struct {
  GMainLoop *loop;
  GcWorkerPipeline *pipeline; /* (nullable) until built */
  int out_fd;                 /* the protocol's stdout */
  GInputStream *in;
  GCancellable *cancellable; /* the pending stdin read, at exit */
  gboolean reading;
  GcLineBuffer *lines;
  gint64 heartbeat_seq;
  gint status;
  gboolean finished;
} Worker;

/* One line, all of it, from the main thread only. glasscastd reads
 * continuously; if it stops, it is about to kill us anyway. */
static void
emit (GcWorkerMsg *msg, gpointer user_data)
{
  Worker *w = user_data;
  g_autofree gchar *line = gc_worker_msg_to_line (msg);
  gsize len = strlen (line);
  gsize done = 0;

  while (done < len) {
    ssize_t n = write (w->out_fd, line + done, len - done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      /* glasscastd is gone: nothing left to serve. */
      _exit (w->finished ? w->status : 1);
    }
    done += (gsize)n;
  }
}

static void
on_finished (gint status, gpointer user_data)
{
  Worker *w = user_data;

  w->finished = TRUE;
  w->status = status;
  g_main_loop_quit (w->loop);
}

static gboolean
on_heartbeat (gpointer user_data)
{
  Worker *w = user_data;
  g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (GC_WORKER_MSG_HEARTBEAT);

  gc_worker_msg_set_int (msg, "seq", w->heartbeat_seq++);
  emit (msg, w);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stats (gpointer user_data)
{
  Worker *w = user_data;
  g_autoptr (GcWorkerMsg) msg = NULL;

  if (w->pipeline == NULL)
    return G_SOURCE_CONTINUE;
  msg = gc_worker_pipeline_take_stats (w->pipeline);
  emit (msg, w);
  return G_SOURCE_CONTINUE;
}

static void
stop (Worker *w, const gchar *why)
{
  if (w->pipeline != NULL)
    gc_worker_pipeline_stop (w->pipeline, why);
  else
    on_finished (0, w);
}

static gboolean
on_signal (gpointer user_data)
{
  stop (user_data, "signal");
  return G_SOURCE_CONTINUE;
}

static void read_more (Worker *w);

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Worker *w = user_data;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *data;
  gsize size;
  gchar *line;
  gsize len;

  w->reading = FALSE;
  bytes = g_input_stream_read_bytes_finish (w->in, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (bytes == NULL || g_bytes_get_size (bytes) == 0) {
    /* glasscastd closed our stdin: it is gone or wants us gone. */
    stop (w, "stdin closed");
    return;
  }
  data = g_bytes_get_data (bytes, &size);
  if (!gc_line_buffer_push (w->lines, data, size)) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "line from glasscastd over the limit");
    stop (w, "protocol error");
    return;
  }
  while ((line = gc_line_buffer_pop (w->lines, &len)) != NULL) {
    g_autoptr (GError) perr = NULL;
    g_autoptr (GcWorkerMsg) msg = gc_worker_msg_parse (line, len, &perr);

    g_free (line);
    if (msg == NULL) {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                        "bad line from glasscastd: %s", perr->message);
      continue;
    }
    if (w->pipeline != NULL)
      gc_worker_pipeline_handle (w->pipeline, msg);
  }
  read_more (w);
}

static void
read_more (Worker *w)
{
  w->reading = TRUE;
  g_input_stream_read_bytes_async (w->in, 16384, G_PRIORITY_DEFAULT,
                                   w->cancellable, on_read, w);
}

/* Keeps stdout for the protocol alone: anything a library prints goes to
 * stderr instead of corrupting a line. */
static int
claim_stdout (void)
{
  int fd = dup (STDOUT_FILENO);

  if (fd < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0)
    return -1;
  return fd;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *channel = NULL;
  g_autofree gchar *location = NULL;
  g_autofree gchar *description = NULL;
  g_autofree gchar *log_level = NULL;
  g_autofree gchar *ice_address = NULL;
  g_autofree gchar *stun_server = NULL;
  g_autofree gchar *ports = NULL;
  g_autofree gchar *redis = NULL;
  g_autofree gchar *chat_events = NULL;
  const GOptionEntry entries[] = {
      {"channel", 0, 0, G_OPTION_ARG_STRING, &channel, "Channel name", "NAME"},
      {"location", 0, 0, G_OPTION_ARG_FILENAME, &location,
       "The channel's LL-HLS folder ({location} in the pipeline)", "DIR"},
      {"pipeline", 0, 0, G_OPTION_ARG_STRING, &description,
       "gst-launch description with a whipserversrc", "DESC"},
      {"log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
       "error, warning, info or debug", "LEVEL"},
      {"ice-address", 0, 0, G_OPTION_ARG_STRING, &ice_address,
       "Local addresses ICE may use (whipserversrc ice-address)", "IP[,IP]"},
      {"stun-server", 0, 0, G_OPTION_ARG_STRING, &stun_server,
       "stun://host:port", "URI"},
      {"udp-port-range", 0, 0, G_OPTION_ARG_STRING, &ports,
       "Local UDP ports for ICE", "MIN-MAX"},
      {"redis", 0, 0, G_OPTION_ARG_STRING, &redis,
       "The chat service's Redis ({redis} in the pipeline)", "ADDRESS"},
      {"chat-events", 0, 0, G_OPTION_ARG_STRING, &chat_events,
       "The pub/sub channel of the channel's chat room ({chat-events})",
       "NAME"},
      G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- run one Glasscast channel");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  GcWorkerSettings settings = {0};
  Worker w = {0};
  guint heartbeat_id;
  guint stats_id;

  /* First, before DTLS or curl touch OpenSSL: no OpenSSL clean-up at exit,
   * which races threads still ending (plugins/whip/README.md, "Process
   * exit"). */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_option_context_set_description (
      ctx, "Started by glasscastd, one per live channel; speaks the JSON-lines "
           "protocol of orchestrator/WORKER-PROTOCOL.md on stdin/stdout.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("glasscast-worker: %s\n", error->message);
    return 2;
  }
  if (channel == NULL || location == NULL || description == NULL) {
    g_printerr ("glasscast-worker: --channel, --location and --pipeline are "
                "required\n");
    return 2;
  }
  if (!gc_log_init (log_level ? log_level : "info", &error)) {
    g_printerr ("glasscast-worker: %s\n", error->message);
    return 2;
  }
  w.out_fd = claim_stdout ();
  if (w.out_fd < 0) {
    g_printerr ("glasscast-worker: cannot set up stdout: %s\n",
                g_strerror (errno));
    return 1;
  }

  settings.channel = channel;
  settings.location = location;
  settings.redis = redis;
  settings.chat_events = chat_events;
  settings.ice_address = ice_address;
  settings.stun_server = stun_server;
  settings.turn_server = (gchar *)g_getenv ("GC_WORKER_TURN_SERVER");
  if (ports != NULL && sscanf (ports, "%u-%u", &settings.udp_port_min,
                               &settings.udp_port_max) != 2)
    settings.udp_port_min = settings.udp_port_max = 0;

  loop = g_main_loop_new (NULL, FALSE);
  w.loop = loop;
  w.lines = gc_line_buffer_new ();
  w.in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  w.cancellable = g_cancellable_new ();
  /* Beat from the first moment: glasscastd's watchdog starts now. */
  on_heartbeat (&w);
  heartbeat_id = g_timeout_add (HEARTBEAT_MS, on_heartbeat, &w);
  stats_id = g_timeout_add (STATS_MS, on_stats, &w);
  g_unix_signal_add (SIGTERM, on_signal, &w);
  g_unix_signal_add (SIGINT, on_signal, &w);

  w.pipeline = gc_worker_pipeline_new (description, &settings, emit,
                                       on_finished, &w, &error);
  if (w.pipeline == NULL) {
    g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (GC_WORKER_MSG_ERROR);

    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL", channel,
                      "MESSAGE", "%s", error->message);
    gc_worker_msg_set_string (msg, "code", "pipeline");
    gc_worker_msg_set_string (msg, "message", error->message);
    emit (msg, &w);
    return 1;
  }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", channel,
                    "MESSAGE", "worker ready");
  read_more (&w);
  g_main_loop_run (loop);

  g_source_remove (heartbeat_id);
  g_source_remove (stats_id);
  /* Let the pending stdin read finish (cancelled) so it frees its buffer. */
  g_cancellable_cancel (w.cancellable);
  while (w.reading)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&w.cancellable);
  g_clear_pointer (&w.pipeline, gc_worker_pipeline_free);
  g_clear_object (&w.in);
  gc_line_buffer_free (w.lines);
  close (w.out_fd);
  return w.status;
}

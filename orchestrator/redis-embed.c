/* redis-embed.c — starts, watches and stops glasscastd's own redis-server (one-node deployments, the demo).
 * No TCP port, no persistence: the chat's shared state is rebuilt from the nodes when Redis restarts. */

#include "redis-embed.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/un.h>

#include <glib/gstdio.h>

#define READY_TIMEOUT_US (5 * G_TIME_SPAN_SECOND)
#define STOP_TIMEOUT_US (2 * G_TIME_SPAN_SECOND)
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000
#define STABLE_US (30 * G_TIME_SPAN_SECOND)

struct _GcRedisEmbed {
  gchar *program;
  gchar *dir;
  gchar *socket_path;
  gchar *address;
  gchar *log_path;
  gchar *tmp_dir; /* (nullable) used when dir's socket path is too long */
  GSubprocess *process;
  GCancellable *cancellable;
  gint64 started_us;
  guint backoff_ms;
  guint restart_id;
};

static void start_async (GcRedisEmbed *redis);

/* The server goes with glasscastd, even when glasscastd is killed. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn (GcRedisEmbed *redis, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  const gchar *argv[] = {redis->program,
                         "--port",
                         "0",
                         "--unixsocket",
                         redis->socket_path,
                         "--unixsocketperm",
                         "700",
                         "--save",
                         "",
                         "--appendonly",
                         "no",
                         "--dir",
                         redis->dir,
                         "--daemonize",
                         "no",
                         "--loglevel",
                         "warning",
                         "--logfile",
                         "",
                         NULL};

  g_unlink (redis->socket_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, redis->log_path);
  g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDERR_MERGE);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

/* One PING over the socket; TRUE on +PONG. */
static gboolean
ping (const gchar *path)
{
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  gchar buf[16] = {0};
  gssize n;

  sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                       G_SOCKET_PROTOCOL_DEFAULT, NULL);
  if (sock == NULL)
    return FALSE;
  g_socket_set_timeout (sock, 1);
  addr = g_unix_socket_address_new (path);
  if (!g_socket_connect (sock, addr, NULL, NULL) ||
      g_socket_send (sock, "PING\r\n", 6, NULL, NULL) != 6)
    return FALSE;
  n = g_socket_receive (sock, buf, sizeof buf - 1, NULL, NULL);
  return n >= 5 && strncmp (buf, "+PONG", 5) == 0;
}

static gchar *
log_tail (const gchar *path)
{
  g_autofree gchar *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, NULL) || len == 0)
    return g_strdup ("(no output)");
  g_strstrip (text);
  len = strlen (text);
  return g_strdup (len > 400 ? text + len - 400 : text);
}

static gboolean
restart_cb (gpointer data)
{
  GcRedisEmbed *redis = data;
  g_autoptr (GError) error = NULL;

  redis->restart_id = 0;
  g_clear_object (&redis->process);
  redis->process = spawn (redis, &error);
  if (redis->process == NULL) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "cannot restart redis-server: %s", error->message);
    redis->backoff_ms = MIN (redis->backoff_ms * 2, BACKOFF_MAX_MS);
    redis->restart_id = g_timeout_add (redis->backoff_ms, restart_cb, redis);
    return G_SOURCE_REMOVE;
  }
  redis->started_us = g_get_monotonic_time ();
  start_async (redis);
  return G_SOURCE_REMOVE;
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  GcRedisEmbed *redis = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *tail = NULL;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* gc_redis_embed_free(): @redis may be gone */
  if (g_get_monotonic_time () - redis->started_us > STABLE_US)
    redis->backoff_ms = BACKOFF_MIN_MS;
  else
    redis->backoff_ms = MIN (redis->backoff_ms * 2, BACKOFF_MAX_MS);
  tail = log_tail (redis->log_path);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_REDIS",
                    redis->address, "MESSAGE",
                    "embedded redis-server exited (%s); restarting in %u ms",
                    tail, redis->backoff_ms);
  redis->restart_id = g_timeout_add (redis->backoff_ms, restart_cb, redis);
}

static void
start_async (GcRedisEmbed *redis)
{
  g_subprocess_wait_async (redis->process, redis->cancellable, on_exited,
                           redis);
}

GcRedisEmbed *
gc_redis_embed_start (const gchar *program, const gchar *dir, GError **error)
{
  g_autoptr (GcRedisEmbed) redis = g_new0 (GcRedisEmbed, 1);
  struct sockaddr_un sun;
  gint64 deadline;

  g_return_val_if_fail (program != NULL, NULL);
  g_return_val_if_fail (dir != NULL, NULL);

  redis->program = g_strdup (program);
  redis->dir = g_strdup (dir);
  redis->cancellable = g_cancellable_new ();
  redis->backoff_ms = BACKOFF_MIN_MS;
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    int errsv = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                 "cannot create %s: %s", dir, g_strerror (errsv));
    return NULL;
  }
  redis->socket_path = g_build_filename (dir, "redis.sock", NULL);
  if (strlen (redis->socket_path) >= sizeof sun.sun_path) {
    /* A deep data folder: unix socket paths are limited to 107 bytes. */
    redis->tmp_dir = g_dir_make_tmp ("glasscast-redis-XXXXXX", error);
    if (redis->tmp_dir == NULL)
      return NULL;
    g_free (redis->socket_path);
    redis->socket_path = g_build_filename (redis->tmp_dir, "redis.sock", NULL);
  }
  redis->address = g_strconcat ("unix:", redis->socket_path, NULL);
  redis->log_path = g_build_filename (dir, "redis.log", NULL);

  redis->process = spawn (redis, error);
  if (redis->process == NULL) {
    g_prefix_error (error, "cannot start %s: ", program);
    return NULL;
  }
  redis->started_us = g_get_monotonic_time ();
  deadline = redis->started_us + READY_TIMEOUT_US;
  while (!ping (redis->socket_path)) {
    if (g_subprocess_get_identifier (redis->process) == NULL ||
        g_get_monotonic_time () > deadline) {
      g_autofree gchar *tail = log_tail (redis->log_path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s did not start on %s: %s", program, redis->socket_path,
                   tail);
      return NULL;
    }
    g_usleep (20000);
  }
  start_async (redis);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_REDIS", redis->address,
                    "MESSAGE", "embedded redis-server running");
  return g_steal_pointer (&redis);
}

const gchar *
gc_redis_embed_get_address (GcRedisEmbed *redis)
{
  g_return_val_if_fail (redis != NULL, NULL);
  return redis->address;
}

GPid
gc_redis_embed_get_pid (GcRedisEmbed *redis)
{
  const gchar *id;

  g_return_val_if_fail (redis != NULL, 0);
  id = redis->process ? g_subprocess_get_identifier (redis->process) : NULL;
  return id ? (GPid)g_ascii_strtoll (id, NULL, 10) : 0;
}

void
gc_redis_embed_free (GcRedisEmbed *redis)
{
  if (redis == NULL)
    return;
  if (redis->cancellable != NULL)
    g_cancellable_cancel (redis->cancellable);
  if (redis->restart_id != 0)
    g_source_remove (redis->restart_id);
  if (redis->process != NULL &&
      g_subprocess_get_identifier (redis->process) != NULL) {
    gint64 deadline = g_get_monotonic_time () + STOP_TIMEOUT_US;

    g_subprocess_send_signal (redis->process, SIGTERM);
    /* GLib reaps children on its worker thread: the identifier goes once
     * the process is gone. */
    while (g_subprocess_get_identifier (redis->process) != NULL &&
           g_get_monotonic_time () < deadline)
      g_usleep (10000);
    if (g_subprocess_get_identifier (redis->process) != NULL) {
      g_subprocess_force_exit (redis->process);
      g_subprocess_wait (redis->process, NULL, NULL);
    }
  }
  g_clear_object (&redis->process);
  g_clear_object (&redis->cancellable);
  if (redis->socket_path != NULL)
    g_unlink (redis->socket_path);
  if (redis->tmp_dir != NULL)
    g_rmdir (redis->tmp_dir);
  g_free (redis->program);
  g_free (redis->dir);
  g_free (redis->socket_path);
  g_free (redis->address);
  g_free (redis->log_path);
  g_free (redis->tmp_dir);
  g_free (redis);
}

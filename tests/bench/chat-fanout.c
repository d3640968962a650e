/* chat-fanout.c — chat fan-out benchmark: one room, N WebSocket viewers on loopback, P publishers sending R
 * messages/s of S bytes in total; reports publish-to-delivery p50/p99, losses, server CPU and memory/connection.
 * The driver starts the server (chat-node: SoupServer upgrade + GcChatService) and the load generator (this
 * program with --loadgen) as separate processes, so neither shares a core's bookkeeping with the other. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wsframe.h"

/* ---- options ------------------------------------------------------------ */

static gchar *opt_node;
static gchar *opt_connections = (gchar *)"5000,10000";
static gint opt_seconds = 30;
static gint opt_publishers = 10;
static gdouble opt_rate = 10.0;
static gint opt_size = 100;
static gint opt_threads = 1;
static gint opt_sources = 4;
static gboolean opt_loadgen;
static gint opt_port;
static gint opt_count;

static GOptionEntry entries[] = {
    {"node", 0, 0, G_OPTION_ARG_FILENAME, &opt_node, "chat-node program",
     "PATH"},
    {"connections", 0, 0, G_OPTION_ARG_STRING, &opt_connections,
     "connection counts to run, comma-separated", "N,N"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &opt_seconds, "measurement per run",
     "S"},
    {"publishers", 0, 0, G_OPTION_ARG_INT, &opt_publishers, "publishers", "P"},
    {"rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_rate,
     "messages per second in total", "R"},
    {"size", 0, 0, G_OPTION_ARG_INT, &opt_size, "message text bytes", "B"},
    {"threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "server hub threads",
     "T"},
    {"sources", 0, 0, G_OPTION_ARG_INT, &opt_sources,
     "127.0.0.x source addresses", "K"},
    {"loadgen", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opt_loadgen, NULL,
     NULL},
    {"port", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_port, NULL, NULL},
    {"count", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_count, NULL,
     NULL},
    {NULL},
};

/* ---- load generator ----------------------------------------------------- */

typedef enum {
  C_CONNECTING,
  C_HANDSHAKE,
  C_OPEN,
  C_DEAD,
} ClientState;

typedef struct {
  int fd;
  ClientState state;
  gboolean publisher;
  GString *response; /* while handshaking */
  GcWsReader reader;
} Client;

typedef struct {
  int epfd;
  Client *clients;
  guint n;
  guint open;
  guint dead;
  gboolean measuring;
  guint64 delivered;
  GArray *latencies_us; /* guint32 */
  guint64 stray;        /* frames without our timestamp */
} Load;

static void
set_nonblock (int fd)
{
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
}

static gboolean
client_start (Load *l, guint i)
{
  Client *c = &l->clients[i];
  struct sockaddr_in src = {0}, dst = {0};
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = i};
  int one = 1;

  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return FALSE;
  set_nonblock (c->fd);
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl (0x7f000001 + i % MAX (opt_sources, 1));
  bind (c->fd, (struct sockaddr *)&src, sizeof src);
  dst.sin_family = AF_INET;
  dst.sin_port = htons ((guint16)opt_port);
  dst.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (c->fd, (struct sockaddr *)&dst, sizeof dst) != 0 &&
      errno != EINPROGRESS)
    return FALSE;
  c->state = C_CONNECTING;
  c->publisher = i < (guint)opt_publishers;
  gc_ws_reader_init (&c->reader, 1 << 20, FALSE);
  epoll_ctl (l->epfd, EPOLL_CTL_ADD, c->fd, &ev);
  return TRUE;
}

static void
client_fail (Load *l, Client *c)
{
  if (c->state == C_DEAD)
    return;
  if (g_getenv ("CHAT_FANOUT_DEBUG"))
    g_printerr ("client failed in state %d: %s\n", c->state,
                g_strerror (errno));
  if (c->state == C_OPEN)
    l->open--;
  c->state = C_DEAD;
  l->dead++;
  close (c->fd);
}

static gboolean
on_frame (GcWsOpcode op, guint8 *payload, gsize len, gpointer user_data)
{
  Load *l = user_data;
  const gchar *p;
  gint64 sent;
  gint64 lat;
  guint32 us;

  if (op != GC_WS_OP_TEXT)
    return TRUE;
  /* {"type":"message",...,"text":"t=<µs> <padding>",...} */
  p = g_strstr_len ((const gchar *)payload, (gssize)len, "\"text\":\"t=");
  if (p == NULL) {
    l->stray++;
    return TRUE;
  }
  sent = g_ascii_strtoll (p + 10, NULL, 10);
  lat = g_get_monotonic_time () - sent;
  if (!l->measuring)
    return TRUE;
  l->delivered++;
  us = (guint32)CLAMP (lat, 0, G_MAXUINT32);
  g_array_append_val (l->latencies_us, us);
  return TRUE;
}

static void
client_event (Load *l, guint i, guint32 events)
{
  Client *c = &l->clients[i];
  static guint8 buf[65536];

  if (c->state == C_DEAD)
    return;
  if (c->state == C_CONNECTING) {
    g_autofree gchar *req = NULL;
    g_autofree gchar *query =
        c->publisher ? g_strdup_printf ("?user=pub%u&roles=subscriber", i)
                     : g_strdup ("");
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    int err = 0;
    socklen_t elen = sizeof err;

    getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
      client_fail (l, c);
      return;
    }
    req = g_strdup_printf ("GET /chat/bench%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n",
                           query);
    if (send (c->fd, req, strlen (req), MSG_NOSIGNAL) !=
        (ssize_t)strlen (req)) {
      client_fail (l, c);
      return;
    }
    c->state = C_HANDSHAKE;
    c->response = g_string_new (NULL);
    epoll_ctl (l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    return;
  }
  for (;;) {
    ssize_t n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);
    guint16 code;

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      client_fail (l, c);
      return;
    }
    if (n < 0)
      return;
    if (c->state == C_HANDSHAKE) {
      const gchar *end;
      gsize used;

      g_string_append_len (c->response, (const gchar *)buf, n);
      end = strstr (c->response->str, "\r\n\r\n");
      if (end == NULL)
        continue;
      if (!g_str_has_prefix (c->response->str, "HTTP/1.1 101")) {
        client_fail (l, c);
        return;
      }
      used = (gsize)(end + 4 - c->response->str);
      c->state = C_OPEN;
      l->open++;
      if (c->response->len > used) {
        guint8 *rest = (guint8 *)c->response->str + used;

        gc_ws_reader_feed (&c->reader, rest, c->response->len - used, on_frame,
                           l, &code);
      }
      g_string_free (c->response, TRUE);
      c->response = NULL;
      continue;
    }
    if (!gc_ws_reader_feed (&c->reader, buf, (gsize)n, on_frame, l, &code) &&
        code != 0) {
      client_fail (l, c);
      return;
    }
    if ((gsize)n < sizeof buf)
      return;
  }
}

static void
pump (Load *l, int timeout_ms)
{
  struct epoll_event events[1024];
  int n = epoll_wait (l->epfd, events, 1024, timeout_ms);

  for (int i = 0; i < n; i++)
    client_event (l, events[i].data.u32, events[i].events);
}

static void
publish (Load *l, guint seq)
{
  Client *c = &l->clients[seq % (guint)opt_publishers];
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree gchar *json = NULL;
  guint32 r = g_random_int ();
  guint8 mask[4];
  g_autoptr (GBytes) frame = NULL;

  if (c->state != C_OPEN)
    return;
  g_string_append_printf (text, "t=%" G_GINT64_FORMAT " ",
                          g_get_monotonic_time ());
  while (text->len < (gsize)opt_size)
    g_string_append_c (text, 'x');
  json = g_strdup_printf ("{\"type\":\"send\",\"text\":\"%s\"}", text->str);
  memcpy (mask, &r, 4);
  frame = gc_ws_frame_encode_masked (GC_WS_OP_TEXT, TRUE, json, strlen (json),
                                     mask);
  send (c->fd, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
        MSG_NOSIGNAL);
}

static gint
cmp_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;

  return (x > y) - (x < y);
}

static int
run_loadgen (void)
{
  Load l = {0};
  struct rlimit rl;
  guint started = 0;
  gint64 deadline;
  gint64 start, next, end;
  guint sent = 0;
  gchar go[16];
  struct rusage ru0, ru1;
  guint32 p50 = 0, p99 = 0, p999 = 0, max = 0;

  getrlimit (RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_NOFILE, &rl);
  l.epfd = epoll_create1 (EPOLL_CLOEXEC);
  l.n = (guint)opt_count;
  l.clients = g_new0 (Client, l.n);
  l.latencies_us = g_array_sized_new (FALSE, FALSE, sizeof (guint32), 1 << 20);

  /* Connect with at most 256 handshakes in flight: bursts past the
   * listen backlog would only measure SYN retransmission timers. */
  deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while ((l.open + l.dead < l.n) && g_get_monotonic_time () < deadline) {
    while (started < l.n && started - l.open - l.dead < 256) {
      if (!client_start (&l, started)) {
        l.clients[started].state = C_DEAD;
        l.dead++;
      }
      started++;
    }
    pump (&l, 10);
  }
  printf ("CONNECTED %u %u\n", l.open, l.dead);
  fflush (stdout);

  /* The driver measures the server's memory, then says go. */
  if (fgets (go, sizeof go, stdin) == NULL)
    return 1;
  deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    pump (&l, 10);

  getrusage (RUSAGE_SELF, &ru0);
  l.measuring = TRUE;
  start = g_get_monotonic_time ();
  end = start + (gint64)opt_seconds * G_USEC_PER_SEC;
  next = start;
  while (g_get_monotonic_time () < end) {
    gint64 now = g_get_monotonic_time ();

    while (now >= next && next < end) {
      publish (&l, sent++);
      next = start + (gint64)(sent * (G_USEC_PER_SEC / opt_rate));
    }
    pump (&l, (int)CLAMP ((next - g_get_monotonic_time ()) / 1000, 0, 5));
  }
  /* Let the last messages arrive. */
  deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    pump (&l, 10);
  getrusage (RUSAGE_SELF, &ru1);

  if (l.latencies_us->len > 0) {
    guint n = l.latencies_us->len;

    g_array_sort (l.latencies_us, cmp_u32);
    p50 = g_array_index (l.latencies_us, guint32, n / 2);
    p99 = g_array_index (l.latencies_us, guint32, (guint)(n * 0.99));
    p999 = g_array_index (l.latencies_us, guint32,
                          MIN ((guint)(n * 0.999), n - 1));
    max = g_array_index (l.latencies_us, guint32, n - 1);
  }
  printf ("RESULT sent=%u open=%u dead=%u expected=%" G_GUINT64_FORMAT
          " delivered=%" G_GUINT64_FORMAT " p50_us=%u p99_us=%u p999_us=%u "
          "max_us=%u loadgen_cpu_s=%.2f\n",
          sent, l.open, l.dead, (guint64)sent * l.open, l.delivered, p50, p99,
          p999, max,
          (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
              (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
              ((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
               (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) /
                  1e6);
  fflush (stdout);
  return 0;
}

/* ---- driver ------------------------------------------------------------- */

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static glong
rss_kb (GPid pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree gchar *text = NULL;
  const gchar *p;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  p = strstr (text, "VmRSS:");
  return p ? strtol (p + 6, NULL, 10) : -1;
}

/* utime + stime of @pid in seconds. */
static gdouble
cpu_s (GPid pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *text = NULL;
  const gchar *p;
  unsigned long ut = 0, st = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  p = strrchr (text, ')');
  /* Fields after the command: state is 3rd; utime/stime are 14th/15th. */
  if (p == NULL || sscanf (p + 2,
                           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                           "%lu %lu",
                           &ut, &st) != 2)
    return 0;
  return (gdouble)(ut + st) / (gdouble)sysconf (_SC_CLK_TCK);
}

/* The server's own counters (chat-node's /stats): frames shed, slow
 * consumers dropped. */
static gchar *
server_stats (guint port)
{
  struct sockaddr_in sa = {0};
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const gchar *req = "GET /stats HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  GString *resp = g_string_new (NULL);
  gchar buf[4096];
  ssize_t n;
  const gchar *body;

  sa.sin_family = AF_INET;
  sa.sin_port = htons ((guint16)port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
      send (fd, req, strlen (req), MSG_NOSIGNAL) == (ssize_t)strlen (req))
    while ((n = recv (fd, buf, sizeof buf, 0)) > 0)
      g_string_append_len (resp, buf, n);
  close (fd);
  body = strstr (resp->str, "\r\n\r\n");
  if (body == NULL) {
    g_string_free (resp, TRUE);
    return g_strdup ("{}");
  }
  body = g_strdup (body + 4);
  g_string_free (resp, TRUE);
  return (gchar *)body;
}

static gboolean
read_line (FILE *f, gchar *line, gsize size)
{
  return fgets (line, (int)size, f) != NULL;
}

static int
run_one (guint count)
{
  g_autofree gchar *threads = g_strdup_printf ("%d", opt_threads);
  const gchar *server_argv[] = {
      opt_node, "--idle-timeout", "0",         "--inbound", "1000",
      "--rate", "100000",         "--threads", threads,     NULL};
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *port_s = NULL;
  g_autofree gchar *count_s = g_strdup_printf ("%u", count);
  g_autofree gchar *seconds_s = g_strdup_printf ("%d", opt_seconds);
  g_autofree gchar *pubs_s = g_strdup_printf ("%d", opt_publishers);
  g_autofree gchar *rate_s = g_strdup_printf ("%g", opt_rate);
  g_autofree gchar *size_s = g_strdup_printf ("%d", opt_size);
  g_autofree gchar *sources_s = g_strdup_printf ("%d", opt_sources);
  g_autoptr (GError) error = NULL;
  GPid server, loadgen;
  int server_in, server_out, lg_in, lg_out;
  FILE *sf, *lf;
  gchar line[512];
  guint port = 0, open = 0, dead = 0;
  glong rss0, rss1, rss2;
  gdouble cpu0, cpu1;
  gint64 t0, t1;
  int status;

  if (!g_spawn_async_with_pipes (NULL, (gchar **)server_argv, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent,
                                 NULL, &server, &server_in, &server_out, NULL,
                                 &error)) {
    g_printerr ("cannot start %s: %s\n", opt_node, error->message);
    return 1;
  }
  sf = fdopen (server_out, "r");
  if (!read_line (sf, line, sizeof line) ||
      sscanf (line, "PORT %u", &port) != 1) {
    g_printerr ("server did not report its port\n");
    return 1;
  }
  g_usleep (300000);
  rss0 = rss_kb (server);
  port_s = g_strdup_printf ("%u", port);
  {
    const gchar *lg_argv[] = {
        self,        "--loadgen", "--port",       port_s,    "--count", count_s,
        "--seconds", seconds_s,   "--publishers", pubs_s,    "--rate",  rate_s,
        "--size",    size_s,      "--sources",    sources_s, NULL};

    if (!g_spawn_async_with_pipes (
            NULL, (gchar **)lg_argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
            die_with_parent, NULL, &loadgen, &lg_in, &lg_out, NULL, &error)) {
      g_printerr ("cannot start the load generator: %s\n", error->message);
      return 1;
    }
  }
  lf = fdopen (lg_out, "r");
  if (!read_line (lf, line, sizeof line) ||
      sscanf (line, "CONNECTED %u %u", &open, &dead) != 2) {
    g_printerr ("load generator failed\n");
    return 1;
  }
  g_usleep (2 * G_USEC_PER_SEC); /* let the server settle */
  rss1 = rss_kb (server);
  cpu0 = cpu_s (server);
  t0 = g_get_monotonic_time ();
  if (write (lg_in, "go\n", 3) != 3)
    return 1;
  if (!read_line (lf, line, sizeof line)) {
    g_printerr ("load generator died\n");
    return 1;
  }
  t1 = g_get_monotonic_time ();
  cpu1 = cpu_s (server);
  rss2 = rss_kb (server);
  g_strchomp (line);
  printf ("connections=%u (open %u, failed %u) publishers=%d rate=%g/s "
          "size=%dB seconds=%d hub_threads=%d\n",
          count, open, dead, opt_publishers, opt_rate, opt_size, opt_seconds,
          opt_threads);
  printf ("  %s\n", line + strlen ("RESULT "));
  printf ("  server: rss_idle_kb=%ld rss_connected_kb=%ld rss_after_kb=%ld "
          "mem_per_conn_bytes=%.0f cpu=%.1f%% of one core (%.1f s over %.1f s, "
          "incl. 3 s drain)\n",
          rss0, rss1, rss2, open ? (rss1 - rss0) * 1024.0 / open : 0.0,
          100.0 * (cpu1 - cpu0) / ((t1 - t0) / 1e6), cpu1 - cpu0,
          (t1 - t0) / 1e6);
  {
    g_autofree gchar *stats = server_stats (port);

    printf ("  server stats: %s\n", stats);
  }
  fflush (stdout);

  waitpid (loadgen, &status, 0);
  close (lg_in);
  fclose (lf);
  close (server_in); /* chat-node exits on EOF */
  waitpid (server, &status, 0);
  fclose (sf);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- chat fan-out benchmark");
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) counts = NULL;
  int rc = 0;

  signal (SIGPIPE, SIG_IGN);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  if (opt_publishers < 1 || opt_rate <= 0 || opt_size < 24) {
    g_printerr ("need --publishers >= 1, --rate > 0, --size >= 24\n");
    return 2;
  }
  if (opt_loadgen)
    return run_loadgen ();
  if (opt_node == NULL)
    opt_node = g_strdup (g_getenv ("CHAT_NODE"));
  if (opt_node == NULL) {
    g_printerr ("give --node PATH (or CHAT_NODE)\n");
    return 2;
  }
  counts = g_strsplit (opt_connections, ",", -1);
  for (guint i = 0; counts[i] != NULL && rc == 0; i++)
    rc = run_one ((guint)g_ascii_strtoull (counts[i], NULL, 10));
  return rc;
}

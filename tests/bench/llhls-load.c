/* llhls-load.c — the LL-HLS viewer load generator: thousands of viewers that each behave like
 * hls.js in low-latency mode, over non-blocking keep-alive HTTP/1.1 on epoll, against 127.0.0.1 only.
 *
 * A viewer holds two connections, as a browser does for hls.js (one for the
 * playlist loader, one for the fragment loader):
 *
 *   playlist: GET media.m3u8 once, then forever the blocking reload for the
 *             next part, media.m3u8?_HLS_msn=N&_HLS_part=M (the preload
 *             hint's position), as soon as the previous answer arrived;
 *   media:    the parts in order from a few parts behind the live edge
 *             (PART-HOLD-BACK), and, once caught up, the EXT-X-PRELOAD-HINT
 *             part, requested before it exists.
 *
 * Measured in a window after the ramp-up: requests/s at the edge; the delay
 * from a part's creation (its file's mtime in --media-dir, which this program
 * can stat because the edge is local) to a viewer having its last byte;
 * stalls (a viewer that received no new part for longer than PART-HOLD-BACK);
 * errors; and, when given, the origin's request rate (its /metrics, and/or
 * nginx's log of upstream requests) and the CPU and RSS of the origin, the
 * edge (nginx master and workers) and this program.
 *
 * A process holds at most --max-sockets sockets (RLIMIT_NOFILE is 20,000 on
 * our machines): more viewers are split across child processes. Every run is
 * bounded in viewers and time and stops by itself. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_VIEWERS 40000
#define MAX_DURATION_S 600.0
#define MAX_PARTS 48 /* parts of the latest playlist a viewer keeps */
#define URI_MAX 48
#define HEAD_MAX 4096
#define HIST_MS 10000 /* delay histogram: 1 ms buckets, last = overflow */
#define REQUEST_TIMEOUT_US (15 * G_USEC_PER_SEC)
#define RETRY_US (200 * 1000)
#define TICK_MS 20
#define KEY(msn, part) ((gint64)(msn)*1024 + (part))

/* Everything one process measured; children send it to the parent through a
 * pipe, so it is plain data. */
typedef struct {
  guint64 requests;
  guint64 playlist_requests;
  guint64 part_requests;
  guint64 hint_requests;
  guint64 bytes;
  guint64 parts;
  guint64 stalls;
  guint64 stalled_viewers;
  guint64 live_viewers;
  guint64 err_connect;
  guint64 err_status;
  guint64 err_timeout;
  guint64 err_parse;
  guint64 err_closed;
  guint64 no_mtime;
  guint64 behind;
  guint64 hint_404;
  guint64 status_4xx;
  guint64 status_5xx;
  guint64 hist[HIST_MS + 1];
  gint64 max_delay_us;
} Stats;

typedef struct {
  gchar *url;
  gchar host[64];
  guint16 port;
  gchar *playlist_path; /* /live/demo/video_0/media.m3u8 */
  gchar *base_path;     /* /live/demo/video_0/ */
  gint viewers;
  gdouble duration_s;
  gdouble ramp_s;
  gdouble warmup_s;
  gint threads;
  gint max_sockets;
  gchar *media_dir;
  gchar *origin_metrics;
  gchar *origin_metric;
  gchar *upstream_log;
  gint origin_pid;
  gint edge_pid;
  gdouble stall_s; /* 0: PART-HOLD-BACK of the playlist */
  gboolean quiet;
  gboolean verbose;
  gboolean no_hints;
} Config;

static Config cfg;

/* The window every process measures in, on CLOCK_MONOTONIC (shared across
 * fork). Written before the first fork, read-only afterwards. */
static gint64 t_begin_us, window_start_us, window_end_us;

typedef enum {
  REQ_NONE,
  REQ_PLAYLIST,          /* plain: first load, or resync after an error */
  REQ_PLAYLIST_BLOCKING, /* _HLS_msn/_HLS_part */
  REQ_PART,              /* a part listed in the playlist */
  REQ_HINT,              /* the preload hint: a part not written yet */
} ReqKind;

typedef struct _Viewer Viewer;
typedef struct _Worker Worker;

typedef struct {
  Viewer *viewer;
  int fd;
  gboolean connecting;
  gboolean want_write;
  ReqKind req;
  gint64 req_sent_us;
  gchar reqbuf[384];
  gsize req_len;
  gsize req_off;
  /* response */
  gchar *head; /* HEAD_MAX bytes while reading a header, else NULL */
  gsize head_len;
  gboolean in_body;
  gint status;
  gint64 content_length;
  gint64 body_read;
  gboolean close_after;
  GString *body; /* playlists only */
  gint64 part_key;
  gchar part_uri[URI_MAX];
} Conn;

typedef struct {
  gint64 key;
  gchar uri[URI_MAX];
} PartRef;

struct _Viewer {
  Worker *worker;
  Conn pl;
  Conn media;
  gint64 start_us;
  gboolean started;
  PartRef parts[MAX_PARTS]; /* ascending keys */
  gint n_parts;
  gint64 hint_key;      /* -1: none */
  gint64 dead_hint_key; /* a hint that answered 404: never asked again */
  gchar hint_uri[URI_MAX];
  gint64 want_key;       /* next part to fetch; -1 before the first playlist */
  gint64 count_from_key; /* parts from here on are live: their delay counts */
  gint64 last_part_us;
  gint64 hold_back_us;
  gboolean live;
  gboolean stalled;
  gboolean ever_stalled;
  gint64 retry_pl_us;
  gint64 retry_media_us;
};

struct _Worker {
  pthread_t thread;
  int epfd;
  Viewer *viewers;
  gint n_viewers;
  gint next_start;    /* viewers[] are in start order */
  GHashTable *mtimes; /* part uri -> mtime in us (realtime) */
  gchar readbuf[65536];
  Stats stats;
};

/* ------------------------------------------------------------------ */
/* time and small helpers */

static gint64
mono_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gint64
real_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
in_window (gint64 now)
{
  return now >= window_start_us && now < window_end_us;
}

static void
sleep_until (gint64 when_us)
{
  gint64 now;

  while ((now = mono_us ()) < when_us)
    g_usleep (MIN (when_us - now, 100000));
}

/* Parses http://HOST:PORT/PATH, accepting only loopback hosts: this program
 * never sends load anywhere else. */
static gboolean
parse_local_url (const gchar *url, gchar *host, gsize host_size, guint16 *port,
                 gchar **path, GError **error)
{
  const gchar *p, *slash, *colon;
  gchar *end = NULL;
  guint64 v;

  if (!g_str_has_prefix (url, "http://")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s: only http:// URLs", url);
    return FALSE;
  }
  p = url + strlen ("http://");
  slash = strchr (p, '/');
  if (slash == NULL)
    slash = p + strlen (p);
  colon = memchr (p, ':', slash - p);
  if (colon == NULL || (gsize)(colon - p) >= host_size) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s: expected http://127.0.0.1:PORT/...", url);
    return FALSE;
  }
  memcpy (host, p, colon - p);
  host[colon - p] = '\0';
  if (g_strcmp0 (host, "localhost") == 0)
    g_strlcpy (host, "127.0.0.1", host_size);
  if (!g_str_has_prefix (host, "127.")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s: only loopback addresses (127.0.0.0/8) are allowed", url);
    return FALSE;
  }
  v = g_ascii_strtoull (colon + 1, &end, 10);
  if (end != slash || v == 0 || v > 65535) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s: bad port", url);
    return FALSE;
  }
  *port = (guint16)v;
  *path = g_strdup (*slash ? slash : "/");
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* playlist parsing */

static gboolean
attr_value (const gchar *line, const gchar *name, gchar *out, gsize out_size)
{
  const gchar *p = strstr (line, name);
  const gchar *end;
  gsize len;

  if (p == NULL)
    return FALSE;
  p += strlen (name);
  if (*p == '"') {
    p++;
    end = strchr (p, '"');
  } else {
    end = p + strcspn (p, ",\r\n");
  }
  if (end == NULL)
    return FALSE;
  len = end - p;
  if (len >= out_size)
    return FALSE;
  memcpy (out, p, len);
  out[len] = '\0';
  return TRUE;
}

/* Keeps the last MAX_PARTS parts, the preload hint and PART-HOLD-BACK of a
 * media playlist. Returns FALSE when it is not one. */
static gboolean
parse_playlist (Viewer *v, const gchar *text)
{
  gint64 msn = 0, part = 0;
  gboolean ext_inf = FALSE, media = FALSE;
  gchar **lines = g_strsplit (text, "\n", -1);
  gchar value[URI_MAX];

  v->n_parts = 0;
  v->hint_key = -1;
  for (gchar **l = lines; *l != NULL; l++) {
    gchar *line = g_strstrip (*l);

    if (g_str_has_prefix (line, "#EXT-X-MEDIA-SEQUENCE:")) {
      msn =
          g_ascii_strtoll (line + strlen ("#EXT-X-MEDIA-SEQUENCE:"), NULL, 10);
      media = TRUE;
    } else if (g_str_has_prefix (line, "#EXT-X-PART:")) {
      if (!attr_value (line, "URI=", value, sizeof value))
        continue;
      if (v->n_parts == MAX_PARTS) {
        memmove (v->parts, v->parts + 1, sizeof (PartRef) * (MAX_PARTS - 1));
        v->n_parts--;
      }
      v->parts[v->n_parts].key = KEY (msn, part);
      g_strlcpy (v->parts[v->n_parts].uri, value, URI_MAX);
      v->n_parts++;
      part++;
    } else if (g_str_has_prefix (line, "#EXT-X-PRELOAD-HINT:")) {
      if (strstr (line, "TYPE=PART") &&
          attr_value (line, "URI=", value, sizeof value)) {
        v->hint_key = KEY (msn, part);
        g_strlcpy (v->hint_uri, value, URI_MAX);
      }
    } else if (g_str_has_prefix (line, "#EXT-X-SERVER-CONTROL:")) {
      if (attr_value (line, "PART-HOLD-BACK=", value, sizeof value))
        v->hold_back_us =
            (gint64)(g_ascii_strtod (value, NULL) * G_USEC_PER_SEC);
    } else if (g_str_has_prefix (line, "#EXTINF")) {
      ext_inf = TRUE;
    } else if (line[0] != '\0' && line[0] != '#' && ext_inf) {
      msn++;
      part = 0;
      ext_inf = FALSE;
    }
  }
  g_strfreev (lines);
  if (cfg.stall_s > 0)
    v->hold_back_us = (gint64)(cfg.stall_s * G_USEC_PER_SEC);
  return media;
}

/* ------------------------------------------------------------------ */
/* connections */

static void viewer_on_response (Viewer *v, Conn *c);
static void viewer_on_failure (Viewer *v, Conn *c);

static void
conn_init (Conn *c, Viewer *v)
{
  c->viewer = v;
  c->fd = -1;
  c->req = REQ_NONE;
}

static void
conn_reset_response (Conn *c)
{
  g_clear_pointer (&c->head, g_free);
  c->head_len = 0;
  c->in_body = FALSE;
  c->status = 0;
  c->content_length = -1;
  c->body_read = 0;
  c->close_after = FALSE;
  if (c->body != NULL)
    g_string_truncate (c->body, 0);
}

static void
conn_close_socket (Conn *c)
{
  if (c->fd >= 0) {
    epoll_ctl (c->viewer->worker->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close (c->fd);
  }
  c->fd = -1;
  c->connecting = FALSE;
  c->want_write = FALSE;
}

static void
conn_close (Conn *c)
{
  conn_close_socket (c);
  conn_reset_response (c);
}

static void
conn_watch (Conn *c, gboolean write)
{
  struct epoll_event ev = {0};

  ev.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0);
  ev.data.ptr = c;
  if (write != c->want_write)
    epoll_ctl (c->viewer->worker->epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_write = write;
}

/* Fails the request in flight: counted, connection dropped, the viewer
 * retries shortly. */
static void
conn_fail (Conn *c, guint64 *counter)
{
  Viewer *v = c->viewer;

  if (in_window (mono_us ()))
    (*counter)++;
  conn_close (c);
  c->req = REQ_NONE;
  viewer_on_failure (v, c);
}

static void
conn_flush (Conn *c)
{
  while (c->req_off < c->req_len) {
    ssize_t n = write (c->fd, c->reqbuf + c->req_off, c->req_len - c->req_off);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      conn_watch (c, TRUE);
      return;
    }
    if (n <= 0) {
      conn_fail (c, &c->viewer->worker->stats.err_closed);
      return;
    }
    c->req_off += n;
  }
  conn_watch (c, FALSE);
}

static gboolean
conn_connect (Conn *c)
{
  struct sockaddr_in addr = {0};
  struct epoll_event ev = {0};
  int one = 1;

  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return FALSE;
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (cfg.port);
  inet_pton (AF_INET, cfg.host, &addr.sin_addr);
  if (connect (c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 &&
      errno != EINPROGRESS) {
    close (c->fd);
    c->fd = -1;
    return FALSE;
  }
  c->connecting = TRUE;
  c->want_write = TRUE;
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.ptr = c;
  epoll_ctl (c->viewer->worker->epfd, EPOLL_CTL_ADD, c->fd, &ev);
  return TRUE;
}

static void
conn_request (Conn *c, ReqKind kind, const gchar *path)
{
  Worker *w = c->viewer->worker;
  gint n;

  g_assert (c->req == REQ_NONE);
  n = g_snprintf (c->reqbuf, sizeof c->reqbuf,
                  "GET %s HTTP/1.1\r\nHost: %s:%u\r\n"
                  "User-Agent: llhls-load\r\nAccept: */*\r\n\r\n",
                  path, cfg.host, cfg.port);
  if (n <= 0 || (gsize)n >= sizeof c->reqbuf) {
    w->stats.err_parse++;
    return;
  }
  c->req = kind;
  c->req_len = n;
  c->req_off = 0;
  c->req_sent_us = mono_us ();
  conn_reset_response (c);
  if (kind != REQ_PART && kind != REQ_HINT && c->body == NULL)
    c->body = g_string_sized_new (4096);
  if (c->fd < 0) {
    if (!conn_connect (c))
      conn_fail (c, &w->stats.err_connect);
    return;
  }
  conn_flush (c);
}

static void
conn_on_writable (Conn *c)
{
  if (c->connecting) {
    int err = 0;
    socklen_t len = sizeof err;

    getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      conn_fail (c, &c->viewer->worker->stats.err_connect);
      return;
    }
    c->connecting = FALSE;
  }
  if (c->req != REQ_NONE)
    conn_flush (c);
  else
    conn_watch (c, FALSE);
}

static gboolean
parse_head (Conn *c)
{
  gchar *line_end, *p;

  c->head[c->head_len] = '\0';
  if (!g_str_has_prefix (c->head, "HTTP/1.1 ") &&
      !g_str_has_prefix (c->head, "HTTP/1.0 "))
    return FALSE;
  c->status = atoi (c->head + 9);
  if (g_str_has_prefix (c->head, "HTTP/1.0 "))
    c->close_after = TRUE;
  for (p = strstr (c->head, "\r\n"); p != NULL && p[2] != '\r'; p = line_end) {
    gchar *line = p + 2;

    line_end = strstr (line, "\r\n");
    if (line_end == NULL)
      break;
    if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
      c->content_length = g_ascii_strtoll (line + 15, NULL, 10);
    else if (g_ascii_strncasecmp (line, "Connection:", 11) == 0 &&
             strstr (line + 11, "close") != NULL)
      c->close_after = TRUE;
    else if (g_ascii_strncasecmp (line, "Transfer-Encoding:", 18) == 0)
      return FALSE; /* nginx sends Content-Length for all we ask */
  }
  return c->content_length >= 0;
}

static void
conn_complete (Conn *c)
{
  Viewer *v = c->viewer;
  Worker *w = v->worker;

  if (in_window (mono_us ())) {
    w->stats.requests++;
    w->stats.bytes += c->body_read;
    if (c->req == REQ_PART)
      w->stats.part_requests++;
    else if (c->req == REQ_HINT)
      w->stats.hint_requests++;
    else
      w->stats.playlist_requests++;
    if (c->status >= 500)
      w->stats.status_5xx++;
    else if (c->status >= 400)
      w->stats.status_4xx++;
  }
  g_clear_pointer (&c->head, g_free);
  if (c->close_after)
    conn_close_socket (c); /* the body is still to be read by the viewer */
  viewer_on_response (v, c);
}

/* Feeds bytes read from the socket to the response parser. */
static void
conn_feed (Conn *c, const gchar *data, gsize n)
{
  Worker *w = c->viewer->worker;

  while (n > 0 && c->req != REQ_NONE) {
    if (!c->in_body) {
      gsize take = MIN (n, HEAD_MAX - 1 - c->head_len);
      gchar *end;
      gsize consumed;

      if (c->head == NULL)
        c->head = g_malloc (HEAD_MAX);
      memcpy (c->head + c->head_len, data, take);
      c->head_len += take;
      c->head[c->head_len] = '\0';
      end = strstr (c->head, "\r\n\r\n");
      if (end == NULL) {
        if (c->head_len == HEAD_MAX - 1)
          conn_fail (c, &w->stats.err_parse);
        return;
      }
      consumed = take - (c->head_len - (end + 4 - c->head));
      c->head_len = end + 4 - c->head;
      if (!parse_head (c)) {
        conn_fail (c, &w->stats.err_parse);
        return;
      }
      c->in_body = TRUE;
      data += consumed;
      n -= consumed;
      if (c->content_length == 0) {
        conn_complete (c);
        return;
      }
    }
    if (c->in_body) {
      gsize take = MIN ((gint64)n, c->content_length - c->body_read);

      if (c->body != NULL && c->req != REQ_PART && c->req != REQ_HINT)
        g_string_append_len (c->body, data, take);
      c->body_read += take;
      data += take;
      n -= take;
      if (c->body_read == c->content_length) {
        conn_complete (c);
        return; /* no pipelining: nothing else can follow */
      }
    }
  }
}

static void
conn_on_readable (Conn *c)
{
  Worker *w = c->viewer->worker;
  ssize_t n = read (c->fd, w->readbuf, sizeof w->readbuf);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    /* An idle keep-alive connection the server closed is no error. */
    if (c->req == REQ_NONE || c->connecting)
      conn_close (c);
    if (c->req != REQ_NONE)
      conn_fail (c, &w->stats.err_closed);
    return;
  }
  if (c->req == REQ_NONE) {
    conn_fail (c, &w->stats.err_parse); /* bytes nobody asked for */
    return;
  }
  conn_feed (c, w->readbuf, n);
}

/* ------------------------------------------------------------------ */
/* viewers: hls.js low-latency behaviour */

static void
viewer_request_playlist (Viewer *v, gboolean blocking)
{
  gchar path[256];

  if (!blocking) {
    conn_request (&v->pl, REQ_PLAYLIST, cfg.playlist_path);
    return;
  }
  if (v->n_parts == 0 && v->hint_key < 0) {
    /* Nothing to block on (not live yet, or ended): poll, slowly. */
    v->retry_pl_us = mono_us () + RETRY_US;
    return;
  }
  /* The next part: the preload hint's position, or the one after the last
   * part listed (which the server maps to part 0 of the next segment). */
  {
    gint64 next =
        v->hint_key >= 0 ? v->hint_key : v->parts[v->n_parts - 1].key + 1;

    g_snprintf (path, sizeof path,
                "%s?_HLS_msn=%" G_GINT64_FORMAT "&_HLS_part=%" G_GINT64_FORMAT,
                cfg.playlist_path, next / 1024, next % 1024);
  }
  conn_request (&v->pl, REQ_PLAYLIST_BLOCKING, path);
}

/* Asks for the next part on the media connection if it is idle: a listed
 * part if there is one at or after want_key, else the preload hint. */
static void
viewer_kick_media (Viewer *v)
{
  gchar path[256];
  const gchar *uri = NULL;
  gint64 key = -1;
  ReqKind kind = REQ_PART;

  if (v->media.req != REQ_NONE || v->want_key < 0 ||
      v->retry_media_us > mono_us ())
    return;
  if (v->n_parts > 0 && v->want_key < v->parts[0].key) {
    /* Fell behind everything listed: hls.js would jump ahead too. */
    if (in_window (mono_us ()))
      v->worker->stats.behind++;
    v->want_key = v->parts[0].key;
  }
  for (gint i = 0; i < v->n_parts; i++) {
    if (v->parts[i].key >= v->want_key) {
      key = v->parts[i].key;
      uri = v->parts[i].uri;
      break;
    }
  }
  if (uri == NULL && !cfg.no_hints && v->hint_key >= v->want_key &&
      v->hint_key != v->dead_hint_key) {
    key = v->hint_key;
    uri = v->hint_uri;
    kind = REQ_HINT;
  }
  if (uri == NULL)
    return; /* wait for the next playlist */
  g_snprintf (path, sizeof path, "%s%s", cfg.base_path, uri);
  v->media.part_key = key;
  g_strlcpy (v->media.part_uri, uri, URI_MAX);
  conn_request (&v->media, kind, path);
}

static gint64
part_mtime_us (Worker *w, const gchar *uri)
{
  gpointer found;
  g_autofree gchar *path = NULL;
  struct stat st;
  gint64 t;

  if (g_hash_table_lookup_extended (w->mtimes, uri, NULL, &found))
    return *(gint64 *)found;
  if (cfg.media_dir == NULL)
    return -1;
  path = g_build_filename (cfg.media_dir, uri, NULL);
  if (stat (path, &st) != 0)
    return -1;
  t = (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
  g_hash_table_insert (w->mtimes, g_strdup (uri), g_memdup2 (&t, sizeof t));
  return t;
}

static void
viewer_on_part (Viewer *v, Conn *c)
{
  Worker *w = v->worker;
  gint64 now = mono_us ();

  if (c->part_key >= v->count_from_key && in_window (now)) {
    gint64 mtime = part_mtime_us (w, c->part_uri);

    if (mtime < 0) {
      w->stats.no_mtime++;
    } else {
      gint64 delay = MAX (0, real_us () - mtime);
      gint64 ms = delay / 1000;

      w->stats.hist[MIN (ms, HIST_MS)]++;
      w->stats.parts++;
      w->stats.max_delay_us = MAX (w->stats.max_delay_us, delay);
    }
  }
  if (c->part_key >= v->count_from_key)
    v->live = TRUE;
  v->last_part_us = now;
  v->stalled = FALSE;
  v->want_key = c->part_key + 1;
}

static void
viewer_on_response (Viewer *v, Conn *c)
{
  ReqKind kind = c->req;

  c->req = REQ_NONE;
  if (c->status == 404 && kind == REQ_HINT) {
    /* The writer hinted a part that did not come: at a segment boundary
     * llhlssink hints part N.k, then starts segment N+1 instead. The next
     * playlist names what to fetch; like a player, move on. */
    if (in_window (mono_us ()))
      v->worker->stats.hint_404++;
    v->dead_hint_key = c->part_key;
    viewer_kick_media (v);
    return;
  }
  if (c->status != 200) {
    if (cfg.verbose && v->worker->stats.err_status < 20)
      g_printerr ("llhls-load: %d for %.*s\n", c->status,
                  (int)strcspn (c->reqbuf, "\r"), c->reqbuf);
    if (in_window (mono_us ()))
      v->worker->stats.err_status++;
    if (c == &v->pl)
      v->retry_pl_us = mono_us () + RETRY_US;
    else
      v->retry_media_us = mono_us () + RETRY_US;
    return;
  }
  if (kind == REQ_PART || kind == REQ_HINT) {
    viewer_on_part (v, c);
    viewer_kick_media (v);
    return;
  }
  if (!parse_playlist (v, c->body->str)) {
    if (in_window (mono_us ()))
      v->worker->stats.err_parse++;
    v->retry_pl_us = mono_us () + RETRY_US;
    return;
  }
  if (v->want_key < 0) {
    /* Start PART-HOLD-BACK (three part targets) behind the live edge, as
     * hls.js does; the parts fetched to get there are not live, so their
     * delay is not counted. */
    gint back = 3;

    v->want_key =
        v->n_parts > 0 ? v->parts[MAX (0, v->n_parts - back)].key : v->hint_key;
    v->count_from_key =
        v->hint_key >= 0 ? v->hint_key
                         : (v->n_parts ? v->parts[v->n_parts - 1].key + 1 : 0);
    v->last_part_us = mono_us ();
  }
  viewer_request_playlist (v, TRUE);
  viewer_kick_media (v);
}

static void
viewer_on_failure (Viewer *v, Conn *c)
{
  if (c == &v->pl)
    v->retry_pl_us = mono_us () + RETRY_US;
  else
    v->retry_media_us = mono_us () + RETRY_US;
}

/* Per tick: starts viewers on schedule, retries after errors, times out
 * requests and counts stalls. */
static void
worker_tick (Worker *w, gint64 now)
{
  gboolean counting = in_window (now);

  while (w->next_start < w->n_viewers &&
         w->viewers[w->next_start].start_us <= now) {
    Viewer *v = &w->viewers[w->next_start++];

    v->started = TRUE;
    viewer_request_playlist (v, FALSE);
  }
  for (gint i = 0; i < w->next_start; i++) {
    Viewer *v = &w->viewers[i];
    Conn *conns[2] = {&v->pl, &v->media};

    for (gint j = 0; j < 2; j++) {
      Conn *c = conns[j];

      if (c->req != REQ_NONE && now - c->req_sent_us > REQUEST_TIMEOUT_US)
        conn_fail (c, &w->stats.err_timeout);
    }
    if (v->pl.req == REQ_NONE && v->retry_pl_us != 0 && v->retry_pl_us <= now) {
      v->retry_pl_us = 0;
      viewer_request_playlist (v, FALSE);
    }
    if (v->media.req == REQ_NONE && v->retry_media_us != 0 &&
        v->retry_media_us <= now) {
      v->retry_media_us = 0;
      viewer_kick_media (v);
    }
    if (v->live && !v->stalled && v->hold_back_us > 0 &&
        now - v->last_part_us > v->hold_back_us) {
      v->stalled = TRUE;
      if (counting) {
        w->stats.stalls++;
        if (!v->ever_stalled)
          w->stats.stalled_viewers++;
        v->ever_stalled = TRUE;
      }
    }
  }
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  struct epoll_event events[256];
  gint64 next_tick = 0;

  w->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (w->epfd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));
  for (;;) {
    gint64 now = mono_us ();
    gint n;

    if (now >= window_end_us)
      break;
    if (now >= next_tick) {
      worker_tick (w, now);
      next_tick = now + TICK_MS * 1000;
    }
    n = epoll_wait (w->epfd, events, G_N_ELEMENTS (events), TICK_MS / 2);
    for (gint i = 0; i < n; i++) {
      Conn *c = events[i].data.ptr;

      if (c->fd < 0)
        continue;
      if (events[i].events & (EPOLLOUT | EPOLLERR))
        conn_on_writable (c);
      if (c->fd >= 0 &&
          (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        conn_on_readable (c);
    }
  }
  for (gint i = 0; i < w->n_viewers; i++) {
    Viewer *v = &w->viewers[i];

    if (v->live)
      w->stats.live_viewers++;
    conn_close (&v->pl);
    conn_close (&v->media);
    if (v->pl.body)
      g_string_free (v->pl.body, TRUE);
    if (v->media.body)
      g_string_free (v->media.body, TRUE);
  }
  close (w->epfd);
  return NULL;
}

static void
stats_add (Stats *to, const Stats *from)
{
  guint64 *a = (guint64 *)to;
  const guint64 *b = (const guint64 *)from;

  /* Every field but the last is a guint64 counter. */
  for (gsize i = 0; i < G_STRUCT_OFFSET (Stats, max_delay_us) / 8; i++)
    a[i] += b[i];
  to->max_delay_us = MAX (to->max_delay_us, from->max_delay_us);
}

/* Runs @n viewers in this process on cfg.threads epoll threads until the
 * window ends; their starts spread evenly over the ramp, offset by @slot of
 * @n_slots so the processes interleave. */
static void
run_viewers (gint n, gint slot, gint n_slots, Stats *out)
{
  gint threads = CLAMP (cfg.threads, 1, MAX (1, n));
  Worker *workers = g_new0 (Worker, threads);
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }
  signal (SIGPIPE, SIG_IGN);
  for (gint t = 0; t < threads; t++) {
    Worker *w = &workers[t];

    w->n_viewers = n / threads + (t < n % threads ? 1 : 0);
    w->viewers = g_new0 (Viewer, w->n_viewers);
    w->mtimes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    for (gint i = 0; i < w->n_viewers; i++) {
      Viewer *v = &w->viewers[i];
      /* global index of this viewer, for an even spread over the ramp */
      gint64 idx = ((gint64)i * threads + t) * n_slots + slot;
      gint64 total = (gint64)cfg.viewers;

      v->worker = w;
      conn_init (&v->pl, v);
      conn_init (&v->media, v);
      v->hint_key = -1;
      v->dead_hint_key = -1;
      v->want_key = -1;
      v->start_us = t_begin_us + (gint64)(cfg.ramp_s * G_USEC_PER_SEC) * idx /
                                     MAX (total, 1);
    }
  }
  for (gint t = 0; t < threads; t++)
    pthread_create (&workers[t].thread, NULL, worker_run, &workers[t]);
  memset (out, 0, sizeof *out);
  for (gint t = 0; t < threads; t++) {
    pthread_join (workers[t].thread, NULL);
    stats_add (out, &workers[t].stats);
    g_hash_table_destroy (workers[t].mtimes);
    g_free (workers[t].viewers);
  }
  g_free (workers);
}

/* ------------------------------------------------------------------ */
/* what the parent measures around the window */

typedef struct {
  guint64 ticks; /* utime + stime */
  guint64 rss_kb;
} ProcSample;

static gboolean
proc_sample_one (gint pid, ProcSample *s)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *text = NULL;
  g_autofree gchar *status = NULL;
  g_autofree gchar *spath = g_strdup_printf ("/proc/%d/status", pid);
  gchar *p, **fields;
  const gchar *rss;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  p = strrchr (text, ')');
  if (p == NULL)
    return FALSE;
  /* fields after ") ": state is field 3; utime 14 and stime 15 */
  fields = g_strsplit (p + 2, " ", -1);
  if (g_strv_length (fields) > 13)
    s->ticks += g_ascii_strtoull (fields[11], NULL, 10) +
                g_ascii_strtoull (fields[12], NULL, 10);
  g_strfreev (fields);
  if (g_file_get_contents (spath, &status, NULL, NULL) &&
      (rss = strstr (status, "VmRSS:")) != NULL)
    s->rss_kb += g_ascii_strtoull (rss + 6, NULL, 10);
  return TRUE;
}

/* A process and its direct children (nginx: master and workers). */
static ProcSample
proc_sample_tree (gint pid)
{
  ProcSample s = {0};
  g_autofree gchar *path =
      g_strdup_printf ("/proc/%d/task/%d/children", pid, pid);
  g_autofree gchar *children = NULL;

  if (pid <= 0)
    return s;
  proc_sample_one (pid, &s);
  if (g_file_get_contents (path, &children, NULL, NULL)) {
    gchar **pids = g_strsplit (g_strstrip (children), " ", -1);

    for (gchar **c = pids; *c != NULL; c++)
      if (**c)
        proc_sample_one (atoi (*c), &s);
    g_strfreev (pids);
  }
  return s;
}

/* GETs @url (loopback only) with a blocking socket; the body, or NULL. */
static gchar *
http_get_blocking (const gchar *url)
{
  gchar host[64];
  guint16 port;
  g_autofree gchar *path = NULL;
  g_autoptr (GString) resp = g_string_new (NULL);
  g_autofree gchar *req = NULL;
  struct sockaddr_in addr = {0};
  struct timeval tv = {5, 0};
  gchar buf[16384];
  gchar *body;
  int fd;
  ssize_t n;

  if (!parse_local_url (url, host, sizeof host, &port, &path, NULL))
    return NULL;
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return NULL;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  inet_pton (AF_INET, host, &addr.sin_addr);
  req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s:%u\r\n"
                         "Connection: close\r\n\r\n",
                         path, host, port);
  if (connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      write (fd, req, strlen (req)) != (ssize_t)strlen (req)) {
    close (fd);
    return NULL;
  }
  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (resp, buf, n);
  close (fd);
  body = strstr (resp->str, "\r\n\r\n");
  if (!g_str_has_prefix (resp->str, "HTTP/1.1 200") || body == NULL)
    return NULL;
  return g_strdup (body + 4);
}

/* Sum of every sample of @metric (any labels) in the origin's /metrics;
 * -1 when it cannot be read. */
static gdouble
scrape_origin_requests (void)
{
  g_autofree gchar *text = NULL;
  gchar **lines;
  gdouble sum = 0;
  gsize len;

  if (cfg.origin_metrics == NULL)
    return -1;
  text = http_get_blocking (cfg.origin_metrics);
  if (text == NULL)
    return -1;
  len = strlen (cfg.origin_metric);
  lines = g_strsplit (text, "\n", -1);
  for (gchar **l = lines; *l != NULL; l++) {
    if (strncmp (*l, cfg.origin_metric, len) == 0 &&
        ((*l)[len] == ' ' || (*l)[len] == '{')) {
      const gchar *v = strrchr (*l, ' ');

      if (v != NULL)
        sum += g_ascii_strtod (v + 1, NULL);
    }
  }
  g_strfreev (lines);
  return sum;
}

/* Lines of nginx's upstream log (first field: $msec) inside [from, to). */
static gint64
count_upstream_log (gdouble from_s, gdouble to_s)
{
  g_autofree gchar *text = NULL;
  gchar **lines;
  gint64 count = 0;

  if (cfg.upstream_log == NULL ||
      !g_file_get_contents (cfg.upstream_log, &text, NULL, NULL))
    return -1;
  lines = g_strsplit (text, "\n", -1);
  for (gchar **l = lines; *l != NULL; l++) {
    gdouble t = g_ascii_strtod (*l, NULL);

    if (t >= from_s && t < to_s)
      count++;
  }
  g_strfreev (lines);
  return count;
}

static gint64
percentile_ms (const Stats *s, gdouble q)
{
  guint64 target, seen = 0;

  if (s->parts == 0)
    return -1;
  target = (guint64)ceil (q * s->parts);
  for (gint i = 0; i <= HIST_MS; i++) {
    seen += s->hist[i];
    if (seen >= target)
      return i;
  }
  return HIST_MS;
}

static gboolean
read_all (int fd, gpointer buf, gsize len)
{
  guint8 *p = buf;

  while (len > 0) {
    ssize_t n = read (fd, p, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    p += n;
    len -= n;
  }
  return TRUE;
}

static gboolean
write_all (int fd, gconstpointer buf, gsize len)
{
  const guint8 *p = buf;

  while (len > 0) {
    ssize_t n = write (fd, p, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    p += n;
    len -= n;
  }
  return TRUE;
}

static gboolean
parse_args (int argc, char **argv, GError **error)
{
  g_autoptr (GOptionContext) ctx = NULL;
  gchar *path = NULL;
  GOptionEntry entries[] = {
      {"url", 'u', 0, G_OPTION_ARG_STRING, &cfg.url,
       "Media playlist on the edge, http://127.0.0.1:PORT/live/CH/REND/"
       "media.m3u8",
       "URL"},
      {"viewers", 'n', 0, G_OPTION_ARG_INT, &cfg.viewers,
       "Concurrent viewers (default 100, at most 40000)", "N"},
      {"duration", 'd', 0, G_OPTION_ARG_DOUBLE, &cfg.duration_s,
       "Seconds measured, after ramp and warm-up (default 30, at most 600)",
       "S"},
      {"ramp", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.ramp_s,
       "Seconds over which viewers join (default 5)", "S"},
      {"warmup", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.warmup_s,
       "Seconds between the last join and the measurement (default 3)", "S"},
      {"threads", 't', 0, G_OPTION_ARG_INT, &cfg.threads,
       "epoll threads per process (default 1)", "N"},
      {"max-sockets", 0, 0, G_OPTION_ARG_INT, &cfg.max_sockets,
       "Sockets per process before splitting across processes (default "
       "9000)",
       "N"},
      {"media-dir", 'm', 0, G_OPTION_ARG_FILENAME, &cfg.media_dir,
       "The rendition's folder on disk, to read each part's creation time",
       "DIR"},
      {"origin-metrics", 0, 0, G_OPTION_ARG_STRING, &cfg.origin_metrics,
       "The origin's /metrics URL, scraped before and after the window", "URL"},
      {"origin-metric", 0, 0, G_OPTION_ARG_STRING, &cfg.origin_metric,
       "Counter of origin requests (default glasscast_http_requests_total)",
       "NAME"},
      {"upstream-log", 0, 0, G_OPTION_ARG_FILENAME, &cfg.upstream_log,
       "nginx log of upstream requests ($msec first) to count origin "
       "requests",
       "FILE"},
      {"origin-pid", 0, 0, G_OPTION_ARG_INT, &cfg.origin_pid,
       "PID of the origin, for CPU and RSS", "PID"},
      {"edge-pid", 0, 0, G_OPTION_ARG_INT, &cfg.edge_pid,
       "PID of the nginx master (workers are its children)", "PID"},
      {"stall", 0, 0, G_OPTION_ARG_DOUBLE, &cfg.stall_s,
       "Stall threshold in seconds (default: the playlist's PART-HOLD-BACK)",
       "S"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &cfg.quiet,
       "Print only the RESULT line", NULL},
      {"no-hints", 0, 0, G_OPTION_ARG_NONE, &cfg.no_hints,
       "Never request the preload hint: fetch parts only once a playlist "
       "lists them",
       NULL},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &cfg.verbose,
       "Print the first failed requests", NULL},
      {NULL}};

  cfg.viewers = 100;
  cfg.duration_s = 30;
  cfg.ramp_s = 5;
  cfg.warmup_s = 3;
  cfg.threads = 1;
  cfg.max_sockets = 9000;
  ctx = g_option_context_new ("- LL-HLS viewer load through an edge");
  g_option_context_set_summary (
      ctx, "Each viewer behaves like hls.js in low-latency mode: blocking "
           "playlist\nreloads for the next part, part downloads and the "
           "preload hint,\non two keep-alive connections. Targets 127.0.0.1 "
           "only; bounded in\nviewers and time.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, error))
    return FALSE;
  if (cfg.url == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--url is required");
    return FALSE;
  }
  if (!parse_local_url (cfg.url, cfg.host, sizeof cfg.host, &cfg.port, &path,
                        error))
    return FALSE;
  if (cfg.origin_metrics != NULL) {
    gchar h[64];
    guint16 p;
    g_autofree gchar *mp = NULL;

    if (!parse_local_url (cfg.origin_metrics, h, sizeof h, &p, &mp, error))
      return FALSE;
  }
  cfg.playlist_path = path;
  cfg.base_path = g_strndup (path, strrchr (path, '/') + 1 - path);
  if (cfg.origin_metric == NULL)
    cfg.origin_metric = g_strdup ("glasscast_http_requests_total");
  if (cfg.viewers < 1 || cfg.viewers > MAX_VIEWERS || cfg.duration_s <= 0 ||
      cfg.duration_s > MAX_DURATION_S || cfg.ramp_s < 0 || cfg.ramp_s > 120 ||
      cfg.warmup_s < 0 || cfg.warmup_s > 60 || cfg.threads < 1 ||
      cfg.threads > 16 || cfg.max_sockets < 100) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "out of bounds: viewers 1..%d, duration (0, %.0f] s, ramp "
                 "<= 120 s, warmup <= 60 s, threads 1..16",
                 MAX_VIEWERS, MAX_DURATION_S);
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gint processes;
  GPid *pids;
  int *pipes;
  Stats total = {0}, *part;
  gdouble origin_before, origin_after;
  gdouble real_start_s, real_end_s;
  ProcSample o0, o1, e0, e1, l0 = {0}, l1 = {0};
  gdouble window_s, tick_hz = sysconf (_SC_CLK_TCK);
  gint64 upstream = -1;
  gboolean ok = TRUE;

  if (!parse_args (argc, argv, &error)) {
    g_printerr ("llhls-load: %s\n", error->message);
    return 2;
  }
  processes = (2 * cfg.viewers + cfg.max_sockets - 1) / cfg.max_sockets;
  t_begin_us = mono_us () + 200000;
  window_start_us =
      t_begin_us + (gint64)((cfg.ramp_s + cfg.warmup_s) * G_USEC_PER_SEC);
  window_end_us = window_start_us + (gint64)(cfg.duration_s * G_USEC_PER_SEC);
  window_s = cfg.duration_s;
  if (!cfg.quiet)
    g_print ("llhls-load: %d viewers on %s:%u%s, %d process(es) x %d "
             "thread(s), ramp %.0f s + warm-up %.0f s, measuring %.0f s\n",
             cfg.viewers, cfg.host, cfg.port, cfg.playlist_path, processes,
             cfg.threads, cfg.ramp_s, cfg.warmup_s, cfg.duration_s);

  /* Children run the viewers; this process only measures around them. */
  pids = g_new0 (GPid, processes);
  pipes = g_new0 (int, processes);
  part = g_new0 (Stats, 1);
  fflush (stdout);
  for (gint i = 0; i < processes; i++) {
    int fds[2];
    gint n = cfg.viewers / processes + (i < cfg.viewers % processes ? 1 : 0);

    if (pipe (fds) != 0)
      g_error ("pipe: %s", g_strerror (errno));
    pids[i] = fork ();
    if (pids[i] < 0)
      g_error ("fork: %s", g_strerror (errno));
    if (pids[i] == 0) {
      close (fds[0]);
      run_viewers (n, i, processes, part);
      _exit (write_all (fds[1], part, sizeof *part) ? 0 : 1);
    }
    close (fds[1]);
    pipes[i] = fds[0];
  }

  sleep_until (window_start_us);
  real_start_s = real_us () / 1e6;
  origin_before = scrape_origin_requests ();
  o0 = proc_sample_tree (cfg.origin_pid);
  e0 = proc_sample_tree (cfg.edge_pid);
  for (gint i = 0; i < processes; i++)
    proc_sample_one (pids[i], &l0);

  sleep_until (window_end_us);
  real_end_s = real_us () / 1e6;
  origin_after = scrape_origin_requests ();
  o1 = proc_sample_tree (cfg.origin_pid);
  e1 = proc_sample_tree (cfg.edge_pid);
  for (gint i = 0; i < processes; i++)
    proc_sample_one (pids[i], &l1);

  for (gint i = 0; i < processes; i++) {
    int status = 0;

    if (read_all (pipes[i], part, sizeof *part))
      stats_add (&total, part);
    else
      ok = FALSE;
    close (pipes[i]);
    waitpid (pids[i], &status, 0);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
      ok = FALSE;
  }
  if (cfg.upstream_log != NULL) {
    g_usleep (G_USEC_PER_SEC / 2);
    upstream = count_upstream_log (real_start_s, real_end_s);
  }

  {
    gdouble edge_rps = total.requests / window_s;
    /* the second scrape also counts the first */
    gdouble origin_rps = origin_before >= 0 && origin_after >= 0
                             ? (origin_after - origin_before - 1) / window_s
                             : -1;
    gdouble upstream_rps = upstream >= 0 ? upstream / window_s : -1;
    gdouble origin_cpu = (o1.ticks - o0.ticks) / tick_hz / window_s * 100;
    gdouble edge_cpu = (e1.ticks - e0.ticks) / tick_hz / window_s * 100;
    gdouble load_cpu = (l1.ticks - l0.ticks) / tick_hz / window_s * 100;
    guint64 errors = total.err_connect + total.err_status + total.err_timeout +
                     total.err_parse + total.err_closed;
    gint64 p50 = percentile_ms (&total, 0.50);
    gint64 p90 = percentile_ms (&total, 0.90);
    gint64 p99 = percentile_ms (&total, 0.99);

    if (!cfg.quiet) {
      g_print ("viewers: %d (live at the end: %" G_GUINT64_FORMAT ")\n",
               cfg.viewers, total.live_viewers);
      g_print ("edge: %.0f requests/s (playlists %.0f/s, parts %.0f/s, "
               "preload hints %.0f/s), %.1f MB/s\n",
               edge_rps, total.playlist_requests / window_s,
               total.part_requests / window_s, total.hint_requests / window_s,
               total.bytes / window_s / 1e6);
      g_print ("origin: %.1f requests/s (its /metrics), %.1f requests/s "
               "(nginx upstream log)\n",
               origin_rps, upstream_rps);
      g_print ("part delay (creation to last byte at a viewer): p50 "
               "%" G_GINT64_FORMAT " ms, p90 %" G_GINT64_FORMAT
               " ms, p99 %" G_GINT64_FORMAT
               " ms, max %.0f ms over %" G_GUINT64_FORMAT " deliveries\n",
               p50, p90, p99, total.max_delay_us / 1000.0, total.parts);
      g_print ("stalls: %" G_GUINT64_FORMAT
               " (viewers that stalled: %" G_GUINT64_FORMAT
               "); fell behind the playlist: %" G_GUINT64_FORMAT
               "; hinted parts that never came (404): %" G_GUINT64_FORMAT "\n",
               total.stalls, total.stalled_viewers, total.behind,
               total.hint_404);
      g_print ("errors: %" G_GUINT64_FORMAT " (connect %" G_GUINT64_FORMAT
               ", status %" G_GUINT64_FORMAT " [4xx %" G_GUINT64_FORMAT
               ", 5xx %" G_GUINT64_FORMAT "], timeout %" G_GUINT64_FORMAT
               ", parse %" G_GUINT64_FORMAT ", closed %" G_GUINT64_FORMAT
               "); parts without mtime %" G_GUINT64_FORMAT "\n",
               errors, total.err_connect, total.err_status, total.status_4xx,
               total.status_5xx, total.err_timeout, total.err_parse,
               total.err_closed, total.no_mtime);
      g_print ("cpu (%% of one core) / rss: origin %.1f%% / %.1f MB, edge "
               "%.1f%% / %.1f MB, load generator %.1f%% / %.1f MB\n",
               origin_cpu, o1.rss_kb / 1024.0, edge_cpu, e1.rss_kb / 1024.0,
               load_cpu, l1.rss_kb / 1024.0);
    }
    g_print (
        "RESULT viewers=%d duration_s=%.0f edge_rps=%.1f origin_rps=%.2f "
        "upstream_rps=%.2f p50_ms=%" G_GINT64_FORMAT " p90_ms=%" G_GINT64_FORMAT
        " p99_ms=%" G_GINT64_FORMAT " max_ms=%.0f "
        "deliveries=%" G_GUINT64_FORMAT " stalls=%" G_GUINT64_FORMAT
        " stalled_viewers=%" G_GUINT64_FORMAT " errors=%" G_GUINT64_FORMAT
        " live_viewers=%" G_GUINT64_FORMAT " origin_cpu=%.1f "
        "origin_rss_mb=%.1f edge_cpu=%.1f edge_rss_mb=%.1f "
        "loadgen_cpu=%.1f processes=%d\n",
        cfg.viewers, window_s, edge_rps, origin_rps, upstream_rps, p50, p90,
        p99, total.max_delay_us / 1000.0, total.parts, total.stalls,
        total.stalled_viewers, errors, total.live_viewers, origin_cpu,
        o1.rss_kb / 1024.0, edge_cpu, e1.rss_kb / 1024.0, load_cpu, processes);
  }
  g_free (pids);
  g_free (pipes);
  g_free (part);
  return ok ? 0 : 1;
}

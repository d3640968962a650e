/* hub.c — GcChatHub: per-thread epoll loops that own chat sockets, shared frame delivery, bounded send queues.
 * The main context talks to a loop through a locked command queue and an eventfd; the loops answer through one
 * locked event queue and a GSource on the main context. */

#include "hub.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat-error.h"
#include "wsframe.h"

/*
 * Why a loop of our own. One GLib main context polls every GSource on every
 * wake-up, so its cost per iteration grows with the number of sockets
 * (PERF-NOTES: libsoup tops out near 15,000). epoll reports only the ready
 * sockets. A room's broadcast is then a walk over an array of connections,
 * each getting a reference to the same encoded frame: one send() per
 * connection, and a copy of nothing.
 *
 * Send queues hold references to shared frames plus the offset already sent
 * of the first one. A connection whose queue would exceed the byte limit is
 * a slow consumer: closed and counted, so one stalled reader can never make
 * the server's memory grow.
 */

#define READ_CHUNK 65536
#define MAX_EVENTS 256
#define MAX_IOV 64

typedef struct _Shard Shard;
typedef struct _ShardRoom ShardRoom;

typedef struct {
  guint64 id;
  int fd;
  guint32 epoll_events; /* what epoll is watching now */
  ShardRoom *room;
  guint room_index; /* in room->conns */
  GcChatIdentity *identity;
  GcWsReader reader;
  GQueue out;        /* GBytes*, whole frames; head partly sent */
  gsize head_offset; /* bytes of out.head already sent */
  gsize queued;      /* bytes waiting, head_offset excluded */
  gint64 last_rx_us;
  gint64 in_tokens_us; /* inbound token bucket, as a time: see
                             conn_take_inbound() */
  gboolean dead;
} Conn;

struct _ShardRoom {
  gchar *name;
  GPtrArray *conns; /* Conn*, unordered */
};

typedef enum {
  CMD_ADOPT,
  CMD_BROADCAST,
  CMD_SEND,
  CMD_CLOSE,
  CMD_STOP,
} CommandKind;

typedef struct {
  CommandKind kind;
  guint64 conn;
  int fd;
  guint16 code;
  gchar *room;
  GcChatIdentity *identity;
  GBytes *bytes; /* adopt: initial bytes; broadcast/send: the frame;
                    close: the close frame */
} Command;

struct _Shard {
  GcChatHub *hub;
  int epfd;
  int evfd;
  GThread *thread;

  GMutex lock;        /* protects commands, signalled, broadcasts */
  GQueue commands;    /* Command*; lock */
  gboolean signalled; /* eventfd written and not yet drained; lock */
  guint broadcasts;   /* CMD_BROADCAST in commands; lock */

  /* Owned by the shard's thread from here on. */
  GHashTable *conns;      /* &Conn.id -> Conn* */
  GHashTable *rooms;      /* name -> ShardRoom* */
  GPtrArray *graveyard;   /* Conn* closed during this iteration */
  GPtrArray *empty_rooms; /* ShardRoom* that lost their last connection */
  guint8 *scratch;
  gboolean stopping;
  gint64 next_tick_us;
  gint64 next_ping_us;
  gboolean wake_main; /* events pushed during this iteration */
  GBytes *ping_frame;
};

typedef enum {
  EVENT_OPENED,
  EVENT_TEXT,
  EVENT_CLOSED,
} EventKind;

typedef struct {
  EventKind kind;
  guint64 conn;
  guint16 code;
  gchar *room;
  GcChatIdentity *identity;
  gchar *text;
  gsize len;
} Event;

typedef struct {
  GSource source;
  GcChatHub *hub;
} EventSource;

struct _GcChatHub {
  GcChatHubConfig config;
  GcChatHubCallbacks callbacks;
  gpointer user_data;
  GMainContext *context;
  GSource *events_source;

  GMutex events_lock; /* protects events */
  GQueue events;      /* Event*; events_lock */

  Shard *shards;
  guint n_shards;
  guint64 next_id; /* atomic */

  /* Statistics, updated with relaxed atomics by the shard threads. */
  guint64 stat_connections;
  guint64 stat_accepted;
  guint64 stat_frames_sent;
  guint64 stat_bytes_sent;
  guint64 stat_frames_received;
  guint64 stat_slow_dropped;
  guint64 stat_broadcasts_dropped;
  gint64 stat_queued_bytes;
};

#define STAT_ADD(hub, field, n)                                                \
  __atomic_fetch_add (&(hub)->field, (n), __ATOMIC_RELAXED)
#define STAT_GET(hub, field) __atomic_load_n (&(hub)->field, __ATOMIC_RELAXED)

void
gc_chat_hub_config_init (GcChatHubConfig *config)
{
  config->max_message_bytes = 16384;
  config->send_queue_bytes = 256 * 1024;
  config->threads = 1;
  config->ping_interval_seconds = 30;
  config->idle_timeout_seconds = 75;
  config->inbound_per_second = 10;
  config->max_pending_broadcasts = 256;
}

static void
command_free (Command *cmd)
{
  g_free (cmd->room);
  if (cmd->identity != NULL)
    gc_chat_identity_unref (cmd->identity);
  if (cmd->bytes != NULL)
    g_bytes_unref (cmd->bytes);
  if (cmd->kind == CMD_ADOPT && cmd->fd >= 0)
    close (cmd->fd); /* never adopted: the hub stopped first */
  g_free (cmd);
}

static void
event_free (Event *ev)
{
  g_free (ev->room);
  if (ev->identity != NULL)
    gc_chat_identity_unref (ev->identity);
  g_free (ev->text);
  g_free (ev);
}

/* ---- events to the main context --------------------------------------- */

static void
push_event (Shard *s, EventKind kind, Conn *conn, const guint8 *text, gsize len,
            guint16 code)
{
  GcChatHub *hub = s->hub;
  Event *ev = g_new0 (Event, 1);

  ev->kind = kind;
  ev->conn = conn->id;
  ev->code = code;
  ev->room = g_strdup (conn->room->name);
  ev->identity = gc_chat_identity_ref (conn->identity);
  if (text != NULL) {
    ev->text = g_malloc (len + 1);
    memcpy (ev->text, text, len);
    ev->text[len] = '\0';
    ev->len = len;
  }
  g_mutex_lock (&hub->events_lock);
  g_queue_push_tail (&hub->events, ev);
  g_mutex_unlock (&hub->events_lock);
  s->wake_main = TRUE;
}

static void
hub_wake_main (GcChatHub *hub)
{
  /* Thread-safe; repeated calls before the dispatch coalesce. */
  g_source_set_ready_time (hub->events_source, 0);
}

static gboolean
events_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  GcChatHub *hub = ((EventSource *)source)->hub;
  GQueue batch = G_QUEUE_INIT;
  Event *ev;

  g_source_set_ready_time (source, -1);
  g_mutex_lock (&hub->events_lock);
  batch = hub->events;
  g_queue_init (&hub->events);
  g_mutex_unlock (&hub->events_lock);

  while ((ev = g_queue_pop_head (&batch)) != NULL) {
    switch (ev->kind) {
      case EVENT_OPENED:
        if (hub->callbacks.opened)
          hub->callbacks.opened (hub, ev->conn, ev->room, ev->identity,
                                 hub->user_data);
        break;
      case EVENT_TEXT:
        if (hub->callbacks.text)
          hub->callbacks.text (hub, ev->conn, ev->room, ev->identity, ev->text,
                               ev->len, hub->user_data);
        break;
      case EVENT_CLOSED:
        if (hub->callbacks.closed)
          hub->callbacks.closed (hub, ev->conn, ev->room, ev->identity,
                                 ev->code, hub->user_data);
        break;
    }
    event_free (ev);
  }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs event_source_funcs = {
    NULL, NULL, events_dispatch, NULL, NULL, NULL,
};

/* ---- connections (shard thread) ---------------------------------------- */

static void
conn_watch (Shard *s, Conn *c, guint32 events)
{
  struct epoll_event ev = {.events = events, .data.ptr = c};

  if (c->epoll_events == events || c->dead)
    return;
  if (epoll_ctl (s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
    c->epoll_events = events;
}

static void
room_remove (Shard *s, Conn *c)
{
  ShardRoom *r = c->room;
  Conn *last;

  last = g_ptr_array_index (r->conns, r->conns->len - 1);
  g_ptr_array_index (r->conns, c->room_index) = last;
  last->room_index = c->room_index;
  g_ptr_array_set_size (r->conns, r->conns->len - 1);
  /* Freed at the end of the loop iteration, like connections: a broadcast
   * may still be walking this room. */
  if (r->conns->len == 0 && !g_ptr_array_find (s->empty_rooms, r, NULL))
    g_ptr_array_add (s->empty_rooms, r);
}

static void
shard_room_free (gpointer data)
{
  ShardRoom *r = data;

  g_free (r->name);
  g_ptr_array_unref (r->conns);
  g_free (r);
}

/* Takes the connection out of service now; its memory goes at the end of
 * the loop iteration, since later epoll events of the same batch may still
 * point at it. */
static void
conn_close (Shard *s, Conn *c, guint16 code, const gchar *reason)
{
  GcChatHub *hub = s->hub;

  if (c->dead)
    return;
  if (code != 0 && c->out.length == 0) {
    /* Best effort: a socket that cannot take 100 bytes now is going away
     * anyway. */
    g_autoptr (GBytes) frame = gc_ws_frame_encode_close (code, reason);
    gsize n;
    const guint8 *p = g_bytes_get_data (frame, &n);

    (void)!send (c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  /* Queued before the room can go away: the event copies its name. */
  push_event (s, EVENT_CLOSED, c, NULL, 0, code);
  c->dead = TRUE;
  close (c->fd);
  c->fd = -1;
  room_remove (s, c);
  g_hash_table_remove (s->conns, &c->id);
  STAT_ADD (hub, stat_connections, (guint64)-1);
  STAT_ADD (hub, stat_queued_bytes, -(gint64)c->queued);

  g_ptr_array_add (s->graveyard, c);
}

static void
conn_free (gpointer data)
{
  Conn *c = data;

  g_queue_clear_full (&c->out, (GDestroyNotify)g_bytes_unref);
  gc_ws_reader_clear (&c->reader);
  gc_chat_identity_unref (c->identity);
  g_free (c);
}

/* Writes as much of the queue as the socket takes. */
static void
conn_flush (Shard *s, Conn *c)
{
  GcChatHub *hub = s->hub;

  while (c->out.length > 0 && !c->dead) {
    struct iovec iov[MAX_IOV];
    struct msghdr mh = {0};
    guint n_iov = 0;
    ssize_t n;
    gsize left;

    for (GList *l = c->out.head; l != NULL && n_iov < MAX_IOV; l = l->next) {
      gsize len;
      const guint8 *p = g_bytes_get_data (l->data, &len);
      gsize skip = n_iov == 0 ? c->head_offset : 0;

      iov[n_iov].iov_base = (void *)(p + skip);
      iov[n_iov].iov_len = len - skip;
      n_iov++;
    }
    mh.msg_iov = iov;
    mh.msg_iovlen = n_iov;
    n = sendmsg (c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == EINTR)
        continue;
      conn_close (s, c, 0, NULL);
      return;
    }
    STAT_ADD (hub, stat_bytes_sent, (guint64)n);
    left = (gsize)n;
    while (left > 0) {
      gsize len = g_bytes_get_size (c->out.head->data) - c->head_offset;

      if (left < len) {
        c->head_offset += left;
        c->queued -= left;
        STAT_ADD (hub, stat_queued_bytes, -(gint64)left);
        left = 0;
      } else {
        left -= len;
        c->queued -= len;
        STAT_ADD (hub, stat_queued_bytes, -(gint64)len);
        c->head_offset = 0;
        g_bytes_unref (g_queue_pop_head (&c->out));
      }
    }
  }
  if (!c->dead)
    conn_watch (s, c,
                EPOLLIN | EPOLLRDHUP | (c->out.length > 0 ? EPOLLOUT : 0));
}

/* The delivery path: try the socket at once when nothing is queued (the
 * common case: one syscall, no allocation); otherwise queue a reference. */
static void
conn_send (Shard *s, Conn *c, GBytes *frame)
{
  GcChatHub *hub = s->hub;
  gsize len;
  const guint8 *p = g_bytes_get_data (frame, &len);

  if (c->dead)
    return;
  STAT_ADD (hub, stat_frames_sent, 1);
  if (c->out.length == 0) {
    ssize_t n = send (c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (n == (ssize_t)len) {
      STAT_ADD (hub, stat_bytes_sent, len);
      return;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      conn_close (s, c, 0, NULL);
      return;
    }
    if (n > 0) {
      STAT_ADD (hub, stat_bytes_sent, (guint64)n);
      c->head_offset = (gsize)n;
    }
    g_queue_push_tail (&c->out, g_bytes_ref (frame));
    c->queued += len - c->head_offset;
    STAT_ADD (hub, stat_queued_bytes, (gint64)(len - c->head_offset));
    conn_watch (s, c, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
    return;
  }
  if (c->queued + len > hub->config.send_queue_bytes) {
    STAT_ADD (hub, stat_slow_dropped, 1);
    conn_close (s, c, GC_WS_CLOSE_POLICY, "too slow");
    return;
  }
  g_queue_push_tail (&c->out, g_bytes_ref (frame));
  c->queued += len;
  STAT_ADD (hub, stat_queued_bytes, (gint64)len);
}

/* Inbound rate limit as a "virtual time" bucket: each frame moves the
 * bucket's clock 1/rate s ahead; more than a 2 s burst ahead of now is a
 * flood. One integer per connection. */
static gboolean
conn_take_inbound (Shard *s, Conn *c, gint64 now_us)
{
  guint rate = s->hub->config.inbound_per_second;
  gint64 step;

  if (rate == 0)
    return TRUE;
  step = G_USEC_PER_SEC / rate;
  c->in_tokens_us = MAX (c->in_tokens_us, now_us - 2 * G_USEC_PER_SEC) + step;
  return c->in_tokens_us <= now_us;
}

typedef struct {
  Shard *shard;
  Conn *conn;
  gint64 now_us;
} FrameContext;

static gboolean
on_frame (GcWsOpcode op, guint8 *payload, gsize len, gpointer user_data)
{
  FrameContext *fc = user_data;
  Shard *s = fc->shard;
  Conn *c = fc->conn;

  switch (op) {
    case GC_WS_OP_TEXT:
      if (!conn_take_inbound (s, c, fc->now_us)) {
        conn_close (s, c, GC_WS_CLOSE_POLICY, "too many messages");
        return FALSE;
      }
      STAT_ADD (s->hub, stat_frames_received, 1);
      push_event (s, EVENT_TEXT, c, payload, len, 0);
      return TRUE;
    case GC_WS_OP_BINARY:
      conn_close (s, c, GC_WS_CLOSE_UNSUPPORTED, "text frames only");
      return FALSE;
    case GC_WS_OP_PING: {
      g_autoptr (GBytes) pong =
          gc_ws_frame_encode (GC_WS_OP_PONG, payload, len);

      conn_send (s, c, pong);
      return !c->dead;
    }
    case GC_WS_OP_PONG:
      return TRUE;
    case GC_WS_OP_CLOSE: {
      guint16 code = len >= 2 ? (guint16)((payload[0] << 8) | payload[1])
                              : GC_WS_CLOSE_NORMAL;

      conn_close (s, c, code, NULL);
      return FALSE;
    }
    default:
      return TRUE;
  }
}

static void
conn_consume (Shard *s, Conn *c, guint8 *data, gsize len, gint64 now_us)
{
  FrameContext fc = {s, c, now_us};
  guint16 code = 0;

  c->last_rx_us = now_us;
  if (!gc_ws_reader_feed (&c->reader, data, len, on_frame, &fc, &code) &&
      code != 0)
    conn_close (s, c, code, "protocol error");
}

static void
conn_read (Shard *s, Conn *c)
{
  gint64 now_us = g_get_monotonic_time ();

  /* A few reads per wake-up at most: one flooding client must not starve
   * the others (level-triggered epoll calls us again). */
  for (guint i = 0; i < 4 && !c->dead; i++) {
    ssize_t n = recv (c->fd, s->scratch, READ_CHUNK, MSG_DONTWAIT);

    if (n > 0) {
      conn_consume (s, c, s->scratch, (gsize)n, now_us);
      if (n < READ_CHUNK)
        return;
    } else if (n == 0) {
      conn_close (s, c, 0, NULL);
      return;
    } else {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        conn_close (s, c, 0, NULL);
      return;
    }
  }
}

static void
shard_adopt (Shard *s, Command *cmd)
{
  GcChatHub *hub = s->hub;
  Conn *c = g_new0 (Conn, 1);
  ShardRoom *r;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};

  c->id = cmd->conn;
  c->fd = cmd->fd;
  cmd->fd = -1;
  c->identity = g_steal_pointer (&cmd->identity);
  c->last_rx_us = g_get_monotonic_time ();
  gc_ws_reader_init (&c->reader, hub->config.max_message_bytes, TRUE);

  r = g_hash_table_lookup (s->rooms, cmd->room);
  if (r == NULL) {
    r = g_new0 (ShardRoom, 1);
    r->name = g_strdup (cmd->room);
    r->conns = g_ptr_array_new ();
    g_hash_table_insert (s->rooms, r->name, r);
  }
  c->room = r;
  c->room_index = r->conns->len;
  g_ptr_array_add (r->conns, c);
  g_hash_table_insert (s->conns, &c->id, c);
  STAT_ADD (hub, stat_connections, 1);
  STAT_ADD (hub, stat_accepted, 1);
  push_event (s, EVENT_OPENED, c, NULL, 0, 0);

  if (epoll_ctl (s->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    conn_close (s, c, 0, NULL);
    return;
  }
  c->epoll_events = ev.events;
  if (cmd->bytes != NULL && g_bytes_get_size (cmd->bytes) > 0) {
    gsize n;
    const guint8 *p = g_bytes_get_data (cmd->bytes, &n);
    guint8 *copy = g_memdup2 (p, n); /* the reader unmasks in place */

    conn_consume (s, c, copy, n, c->last_rx_us);
    g_free (copy);
  }
}

static void
shard_broadcast (Shard *s, const gchar *room, GBytes *frame)
{
  ShardRoom *r = g_hash_table_lookup (s->rooms, room);

  if (r == NULL)
    return;
  /* Walk backwards: a connection closed on the way is swapped with the
   * last one, which has then already been served. */
  for (guint i = r->conns->len; i > 0; i--)
    if (i <= r->conns->len)
      conn_send (s, g_ptr_array_index (r->conns, i - 1), frame);
}

/* Returns FALSE when asked to stop. */
static gboolean
shard_run_commands (Shard *s)
{
  GQueue batch;
  Command *cmd;
  gboolean go_on = TRUE;
  guint64 v;

  (void)!read (s->evfd, &v, sizeof v);
  g_mutex_lock (&s->lock);
  batch = s->commands;
  g_queue_init (&s->commands);
  s->signalled = FALSE;
  s->broadcasts = 0;
  g_mutex_unlock (&s->lock);

  while ((cmd = g_queue_pop_head (&batch)) != NULL) {
    Conn *c;

    switch (cmd->kind) {
      case CMD_ADOPT:
        shard_adopt (s, cmd);
        break;
      case CMD_BROADCAST:
        shard_broadcast (s, cmd->room, cmd->bytes);
        break;
      case CMD_SEND:
        c = g_hash_table_lookup (s->conns, &cmd->conn);
        if (c != NULL)
          conn_send (s, c, cmd->bytes);
        break;
      case CMD_CLOSE:
        c = g_hash_table_lookup (s->conns, &cmd->conn);
        if (c != NULL && c->out.length == 0) {
          conn_close (s, c, cmd->code, cmd->room);
        } else if (c != NULL) {
          /* The close frame goes after what is queued, if it fits now. */
          conn_send (s, c, cmd->bytes);
          if (!c->dead)
            conn_flush (s, c);
          if (!c->dead)
            conn_close (s, c, 0, NULL);
        }
        break;
      case CMD_STOP:
        go_on = FALSE;
        break;
    }
    command_free (cmd);
  }
  return go_on;
}

/* Once a second: pings (one shared frame) and idle connections. */
static void
shard_tick (Shard *s, gint64 now_us)
{
  const GcChatHubConfig *cfg = &s->hub->config;
  g_autoptr (GPtrArray) idle = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  gboolean ping;

  if (now_us < s->next_tick_us)
    return;
  s->next_tick_us = now_us + G_USEC_PER_SEC;
  ping = cfg->ping_interval_seconds > 0 && now_us >= s->next_ping_us;
  if (ping)
    s->next_ping_us =
        now_us + (gint64)cfg->ping_interval_seconds * G_USEC_PER_SEC;
  if (!ping && cfg->idle_timeout_seconds == 0)
    return;

  g_hash_table_iter_init (&it, s->conns);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    Conn *c = value;

    if (cfg->idle_timeout_seconds > 0 &&
        now_us - c->last_rx_us >
            (gint64)cfg->idle_timeout_seconds * G_USEC_PER_SEC)
      g_ptr_array_add (idle, c);
    else if (ping)
      conn_send (s, c, s->ping_frame);
  }
  for (guint i = 0; i < idle->len; i++)
    conn_close (s, g_ptr_array_index (idle, i), GC_WS_CLOSE_GOING_AWAY, "idle");
}

static gpointer
shard_thread (gpointer data)
{
  Shard *s = data;
  struct epoll_event events[MAX_EVENTS];

  while (!s->stopping) {
    gint64 now_us = g_get_monotonic_time ();
    int timeout = (int)CLAMP ((s->next_tick_us - now_us) / 1000 + 1, 0, 1000);
    int n = epoll_wait (s->epfd, events, MAX_EVENTS, timeout);

    for (int i = 0; i < n; i++) {
      Conn *c = events[i].data.ptr;

      if (c == NULL) {
        if (!shard_run_commands (s))
          s->stopping = TRUE;
        continue;
      }
      if (c->dead)
        continue;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        conn_read (s, c);
      if (!c->dead && (events[i].events & EPOLLOUT))
        conn_flush (s, c);
    }
    shard_tick (s, g_get_monotonic_time ());
    g_ptr_array_set_size (s->graveyard, 0);
    for (guint i = 0; i < s->empty_rooms->len; i++) {
      ShardRoom *r = g_ptr_array_index (s->empty_rooms, i);

      /* Unless a connection joined it again since. */
      if (r->conns->len == 0)
        g_hash_table_remove (s->rooms, r->name);
    }
    g_ptr_array_set_size (s->empty_rooms, 0);
    if (s->wake_main) {
      s->wake_main = FALSE;
      hub_wake_main (s->hub);
    }
  }
  return NULL;
}

static void
shard_push (Shard *s, Command *cmd)
{
  gboolean wake;

  g_mutex_lock (&s->lock);
  /* A loop that cannot keep up with the room's rate sheds whole frames
   * rather than let the backlog (and everyone's latency) grow without
   * bound. */
  if (cmd->kind == CMD_BROADCAST &&
      s->broadcasts >= s->hub->config.max_pending_broadcasts) {
    g_mutex_unlock (&s->lock);
    STAT_ADD (s->hub, stat_broadcasts_dropped, 1);
    command_free (cmd);
    return;
  }
  if (cmd->kind == CMD_BROADCAST)
    s->broadcasts++;
  g_queue_push_tail (&s->commands, cmd);
  wake = !s->signalled;
  s->signalled = TRUE;
  g_mutex_unlock (&s->lock);
  /* One eventfd write per batch of commands, not per command. */
  if (wake) {
    guint64 one = 1;

    (void)!write (s->evfd, &one, sizeof one);
  }
}

/* ---- public API --------------------------------------------------------- */

GcChatHub *
gc_chat_hub_new (const GcChatHubConfig *config, GMainContext *context,
                 const GcChatHubCallbacks *callbacks, gpointer user_data,
                 GError **error)
{
  GcChatHub *hub = g_new0 (GcChatHub, 1);
  GSource *src;

  if (config != NULL)
    hub->config = *config;
  else
    gc_chat_hub_config_init (&hub->config);
  hub->config.threads = CLAMP (hub->config.threads, 1, 64);
  hub->config.max_pending_broadcasts =
      MAX (hub->config.max_pending_broadcasts, 1);
  if (callbacks != NULL)
    hub->callbacks = *callbacks;
  hub->user_data = user_data;
  hub->context = context ? g_main_context_ref (context)
                         : g_main_context_ref (g_main_context_default ());
  g_mutex_init (&hub->events_lock);
  g_queue_init (&hub->events);
  hub->next_id = 1;

  src = g_source_new (&event_source_funcs, sizeof (EventSource));
  ((EventSource *)src)->hub = hub;
  g_source_set_name (src, "GcChatHub events");
  g_source_attach (src, hub->context);
  hub->events_source = src;

  hub->n_shards = hub->config.threads;
  hub->shards = g_new0 (Shard, hub->n_shards);
  for (guint i = 0; i < hub->n_shards; i++) {
    Shard *s = &hub->shards[i];
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    g_autofree gchar *name = g_strdup_printf ("gc-chat-hub-%u", i);

    s->hub = hub;
    s->epfd = epoll_create1 (EPOLL_CLOEXEC);
    s->evfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    g_mutex_init (&s->lock);
    g_queue_init (&s->commands);
    s->conns = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, NULL);
    s->rooms =
        g_hash_table_new_full (g_str_hash, g_str_equal, NULL, shard_room_free);
    s->graveyard = g_ptr_array_new_with_free_func (conn_free);
    s->empty_rooms = g_ptr_array_new ();
    s->scratch = g_malloc (READ_CHUNK);
    s->ping_frame = gc_ws_frame_encode (GC_WS_OP_PING, NULL, 0);
    s->next_ping_us =
        g_get_monotonic_time () +
        (gint64)hub->config.ping_interval_seconds * G_USEC_PER_SEC;
    if (s->epfd < 0 || s->evfd < 0 ||
        epoll_ctl (s->epfd, EPOLL_CTL_ADD, s->evfd, &ev) != 0) {
      int saved = errno;

      hub->n_shards = i + 1;
      gc_chat_hub_free (hub);
      g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_INTERNAL,
                   "cannot create the hub's epoll loop: %s",
                   g_strerror (saved));
      return NULL;
    }
    s->thread = g_thread_try_new (name, shard_thread, s, error);
    if (s->thread == NULL) {
      hub->n_shards = i + 1;
      gc_chat_hub_free (hub);
      return NULL;
    }
  }
  return hub;
}

void
gc_chat_hub_free (GcChatHub *hub)
{
  if (hub == NULL)
    return;
  for (guint i = 0; i < hub->n_shards; i++) {
    Shard *s = &hub->shards[i];
    Command *stop = g_new0 (Command, 1);
    GHashTableIter it;
    gpointer value;

    if (s->thread != NULL) {
      stop->kind = CMD_STOP;
      shard_push (s, stop);
      g_thread_join (s->thread);
    } else {
      g_free (stop);
    }
    g_queue_clear_full (&s->commands, (GDestroyNotify)command_free);
    if (s->conns != NULL) {
      g_hash_table_iter_init (&it, s->conns);
      while (g_hash_table_iter_next (&it, NULL, &value)) {
        Conn *c = value;

        close (c->fd);
        conn_free (c);
      }
      g_hash_table_unref (s->conns);
      g_ptr_array_unref (s->graveyard);
      g_ptr_array_unref (s->empty_rooms);
      g_hash_table_unref (s->rooms);
    }
    if (s->epfd >= 0)
      close (s->epfd);
    if (s->evfd >= 0)
      close (s->evfd);
    g_free (s->scratch);
    g_clear_pointer (&s->ping_frame, g_bytes_unref);
    g_mutex_clear (&s->lock);
  }
  g_free (hub->shards);
  g_source_destroy (hub->events_source);
  g_source_unref (hub->events_source);
  g_queue_clear_full (&hub->events, (GDestroyNotify)event_free);
  g_mutex_clear (&hub->events_lock);
  g_main_context_unref (hub->context);
  g_free (hub);
}

static Shard *
shard_for (GcChatHub *hub, guint64 conn)
{
  return &hub->shards[conn % hub->n_shards];
}

guint64
gc_chat_hub_adopt_connection (GcChatHub *hub, int fd, const gchar *room,
                              GcChatIdentity *identity, GBytes *initial_bytes)
{
  Command *cmd;
  guint64 id;
  int one = 1;
  int flags;

  g_return_val_if_fail (hub != NULL, 0);
  g_return_val_if_fail (fd >= 0, 0);
  g_return_val_if_fail (room != NULL, 0);
  g_return_val_if_fail (identity != NULL, 0);

  flags = fcntl (fd, F_GETFL);
  if (flags >= 0)
    fcntl (fd, F_SETFL, flags | O_NONBLOCK);
  /* Chat frames are small and latency is the point; Nagle would hold
   * them back waiting for ACKs. Fails harmlessly on unix sockets. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  cmd = g_new0 (Command, 1);
  cmd->kind = CMD_ADOPT;
  cmd->conn = id = __atomic_fetch_add (&hub->next_id, 1, __ATOMIC_RELAXED);
  cmd->fd = fd;
  cmd->room = g_strdup (room);
  cmd->identity = gc_chat_identity_ref (identity);
  cmd->bytes = initial_bytes ? g_bytes_ref (initial_bytes) : NULL;
  /* The shard thread may free @cmd as soon as it is queued. */
  shard_push (shard_for (hub, id), cmd);
  return id;
}

void
gc_chat_hub_broadcast (GcChatHub *hub, const gchar *room, GBytes *frame)
{
  g_return_if_fail (hub != NULL);
  g_return_if_fail (room != NULL);
  g_return_if_fail (frame != NULL);

  for (guint i = 0; i < hub->n_shards; i++) {
    Command *cmd = g_new0 (Command, 1);

    cmd->kind = CMD_BROADCAST;
    cmd->fd = -1;
    cmd->room = g_strdup (room);
    cmd->bytes = g_bytes_ref (frame);
    shard_push (&hub->shards[i], cmd);
  }
}

void
gc_chat_hub_send (GcChatHub *hub, guint64 conn, GBytes *frame)
{
  Command *cmd;

  g_return_if_fail (hub != NULL);
  g_return_if_fail (frame != NULL);

  cmd = g_new0 (Command, 1);
  cmd->kind = CMD_SEND;
  cmd->fd = -1;
  cmd->conn = conn;
  cmd->bytes = g_bytes_ref (frame);
  shard_push (shard_for (hub, conn), cmd);
}

void
gc_chat_hub_close (GcChatHub *hub, guint64 conn, guint16 code,
                   const gchar *reason)
{
  Command *cmd;

  g_return_if_fail (hub != NULL);

  cmd = g_new0 (Command, 1);
  cmd->kind = CMD_CLOSE;
  cmd->fd = -1;
  cmd->conn = conn;
  cmd->code = code;
  cmd->room = g_strdup (reason); /* the reason rides in the room slot */
  cmd->bytes = gc_ws_frame_encode_close (code, reason);
  shard_push (shard_for (hub, conn), cmd);
}

void
gc_chat_hub_get_stats (GcChatHub *hub, GcChatHubStats *stats)
{
  g_return_if_fail (hub != NULL);

  stats->connections = STAT_GET (hub, stat_connections);
  stats->accepted = STAT_GET (hub, stat_accepted);
  stats->frames_sent = STAT_GET (hub, stat_frames_sent);
  stats->bytes_sent = STAT_GET (hub, stat_bytes_sent);
  stats->frames_received = STAT_GET (hub, stat_frames_received);
  stats->slow_dropped = STAT_GET (hub, stat_slow_dropped);
  stats->broadcasts_dropped = STAT_GET (hub, stat_broadcasts_dropped);
  stats->queued_bytes = (guint64)MAX (STAT_GET (hub, stat_queued_bytes), 0);
}

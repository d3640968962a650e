/* chatstampredis.c — the Redis pub/sub subscriber of chatstamp. A blocking
 * hiredis context on a thread of its own, so streaming threads never wait on
 * the network; stopping shuts the socket down to wake a blocked read. */

#include "chatstampredis.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONNECT_TIMEOUT_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct _ChatStampRedis {
  gchar *path; /* unix socket, or NULL for TCP */
  gchar *host;
  gint port;
  gchar *channel;
  ChatStampRedisMessageFunc on_message;
  ChatStampRedisStatusFunc on_status;
  gpointer user_data;
  GThread *thread;

  GMutex lock; /* guards the fields below */
  GCond cond;  /* signalled by stop, to cut a backoff short */
  gboolean stopping;
  redisContext *ctx; /* the live context, so stop can shut its socket */
};

static gboolean
chat_stamp_redis_parse_url (ChatStampRedis *r, const gchar *url, GError **error)
{
  const gchar *hostport = url;
  const gchar *colon;

  if (g_str_has_prefix (url, "unix:")) {
    const gchar *p = url + strlen ("unix:");
    /* unix:///run/redis.sock and unix:/run/redis.sock name the same path. */
    while (p[0] == '/' && p[1] == '/')
      p++;
    if (!*p)
      goto bad;
    r->path = g_strdup (p);
    return TRUE;
  }
  if (g_str_has_prefix (url, "tcp://"))
    hostport = url + strlen ("tcp://");
  else if (g_str_has_prefix (url, "redis://"))
    hostport = url + strlen ("redis://");
  else if (g_str_has_prefix (url, "tcp:"))
    hostport = url + strlen ("tcp:");
  colon = strrchr (hostport, ':');
  if (colon) {
    gchar *end = NULL;
    gint64 port = g_ascii_strtoll (colon + 1, &end, 10);
    if (colon == hostport || !end || *end != '\0' || port <= 0 || port > 65535)
      goto bad;
    r->host = g_strndup (hostport, colon - hostport);
    r->port = (gint)port;
  } else {
    if (!*hostport)
      goto bad;
    r->host = g_strdup (hostport);
    r->port = 6379;
  }
  return TRUE;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "bad Redis URL '%s' (unix:/path or tcp://host:port)", url);
  return FALSE;
}

/* Waits @ms unless stop comes first; returns FALSE when stopping. */
static gboolean
chat_stamp_redis_sleep (ChatStampRedis *r, guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64)ms * 1000;
  gboolean go_on;

  g_mutex_lock (&r->lock);
  while (!r->stopping && g_cond_wait_until (&r->cond, &r->lock, until))
    ;
  go_on = !r->stopping;
  g_mutex_unlock (&r->lock);
  return go_on;
}

static redisContext *
chat_stamp_redis_connect (ChatStampRedis *r)
{
  struct timeval tv = {CONNECT_TIMEOUT_MS / 1000,
                       (CONNECT_TIMEOUT_MS % 1000) * 1000};

  if (r->path)
    return redisConnectUnixWithTimeout (r->path, tv);
  return redisConnectWithTimeout (r->host, r->port, tv);
}

static void
chat_stamp_redis_handle_reply (ChatStampRedis *r, redisReply *reply)
{
  /* Pub/sub pushes are ["message", channel, payload]; the subscribe
   * confirmation and anything else is not a message. */
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
    return;
  if (reply->element[0]->type != REDIS_REPLY_STRING ||
      strcmp (reply->element[0]->str, "message") != 0 ||
      reply->element[2]->type != REDIS_REPLY_STRING)
    return;
  r->on_message (reply->element[2]->str, r->user_data);
}

/* One connection's life: connect, subscribe, read until it breaks.
 * Returns TRUE when the subscription was made. */
static gboolean
chat_stamp_redis_session (ChatStampRedis *r)
{
  redisContext *ctx = chat_stamp_redis_connect (r);
  redisReply *reply;
  gboolean subscribed = FALSE;
  g_autofree gchar *why = NULL;

  if (!ctx) {
    r->on_status ("cannot allocate a Redis context", r->user_data);
    return FALSE;
  }
  if (ctx->err) {
    why = g_strdup_printf ("cannot connect to Redis: %s", ctx->errstr);
    goto done;
  }
  g_mutex_lock (&r->lock);
  if (r->stopping) {
    g_mutex_unlock (&r->lock);
    goto done;
  }
  r->ctx = ctx;
  g_mutex_unlock (&r->lock);

  reply = redisCommand (ctx, "SUBSCRIBE %s", r->channel);
  if (!reply) {
    why = g_strdup_printf ("Redis SUBSCRIBE failed: %s", ctx->errstr);
    goto done;
  }
  if (reply->type == REDIS_REPLY_ERROR)
    why = g_strdup_printf ("Redis SUBSCRIBE refused: %s", reply->str);
  freeReplyObject (reply);
  if (why)
    goto done;
  subscribed = TRUE;
  r->on_status (NULL, r->user_data);

  while (redisGetReply (ctx, (void **)&reply) == REDIS_OK && reply) {
    chat_stamp_redis_handle_reply (r, reply);
    freeReplyObject (reply);
  }
  why = g_strdup_printf ("lost the Redis connection: %s",
                         ctx->errstr[0] ? ctx->errstr : "closed");

done:
  g_mutex_lock (&r->lock);
  r->ctx = NULL;
  /* A failure caused by stop shutting the socket is no failure. */
  if (r->stopping)
    g_clear_pointer (&why, g_free);
  g_mutex_unlock (&r->lock);
  if (why)
    r->on_status (why, r->user_data);
  redisFree (ctx);
  return subscribed;
}

static gpointer
chat_stamp_redis_thread (gpointer data)
{
  ChatStampRedis *r = data;
  guint backoff = BACKOFF_MIN_MS;

  while (TRUE) {
    g_mutex_lock (&r->lock);
    if (r->stopping) {
      g_mutex_unlock (&r->lock);
      break;
    }
    g_mutex_unlock (&r->lock);

    if (chat_stamp_redis_session (r))
      backoff = BACKOFF_MIN_MS;
    /* Jitter keeps many pipelines from reconnecting in lockstep. */
    if (!chat_stamp_redis_sleep (r, backoff + g_random_int_range (0, 100)))
      break;
    backoff = MIN (backoff * 2, BACKOFF_MAX_MS);
  }
  return NULL;
}

ChatStampRedis *
chat_stamp_redis_start (const gchar *url, const gchar *channel,
                        ChatStampRedisMessageFunc on_message,
                        ChatStampRedisStatusFunc on_status, gpointer user_data,
                        GError **error)
{
  ChatStampRedis *r;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (channel != NULL, NULL);
  g_return_val_if_fail (on_message != NULL && on_status != NULL, NULL);

  r = g_new0 (ChatStampRedis, 1);
  if (!chat_stamp_redis_parse_url (r, url, error)) {
    g_free (r->path);
    g_free (r->host);
    g_free (r);
    return NULL;
  }
  r->channel = g_strdup (channel);
  r->on_message = on_message;
  r->on_status = on_status;
  r->user_data = user_data;
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->thread = g_thread_new ("chatstamp-redis", chat_stamp_redis_thread, r);
  return r;
}

void
chat_stamp_redis_stop (ChatStampRedis *r)
{
  if (!r)
    return;
  g_mutex_lock (&r->lock);
  r->stopping = TRUE;
  /* Wakes a read blocked in redisGetReply; the thread frees the context. */
  if (r->ctx && r->ctx->fd >= 0)
    shutdown (r->ctx->fd, SHUT_RDWR);
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
  g_thread_join (r->thread);

  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
  g_free (r->path);
  g_free (r->host);
  g_free (r->channel);
  g_free (r);
}

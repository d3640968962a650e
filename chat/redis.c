/* redis.c — GcChatRedis: connects, reconnects with backoff, restores subscriptions, health-checks the link.
 * Two hiredis async contexts because a subscribed Redis connection accepts no other commands. */

#include "redis.h"

#include <hiredis/async.h>
#include <stdarg.h>
#include <string.h>

#include "redis-source.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 2000
#define HEALTH_INTERVAL_MS 1000
#define HEALTH_TIMEOUT_MS 3000

typedef enum {
  LINK_DOWN,
  LINK_CONNECTING,
  LINK_UP,
} LinkState;

typedef struct {
  GcChatRedis *redis;
  const gchar *name;
  redisAsyncContext *ac;
  LinkState state;
  guint retry_source; /* reconnect or connect-timeout timer */
  guint backoff_ms;
} Link;

struct _GcChatRedis {
  gchar *unix_path; /* either this */
  gchar *host;      /* or host:port */
  guint port;
  GMainContext *context;
  GcChatRedisCallbacks callbacks;
  gpointer user_data;

  Link cmd;
  Link sub;
  gboolean up;          /* both links up and subscriptions re-sent */
  GHashTable *channels; /* subscribed channel names (set) */
  guint health_source;
  gint64 ping_sent_us; /* 0: no health ping outstanding */
  guint reconnects;
  gboolean freeing;
};

static void link_connect (Link *link);
static void link_drop (Link *link);

static guint
attach_timeout (GcChatRedis *redis, guint ms, GSourceFunc func, gpointer data)
{
  GSource *src = g_timeout_source_new (ms);
  guint id;

  g_source_set_callback (src, func, data, NULL);
  id = g_source_attach (src, redis->context);
  g_source_unref (src);
  return id;
}

static void
remove_source (GcChatRedis *redis, guint *id)
{
  if (*id != 0) {
    GSource *src = g_main_context_find_source_by_id (redis->context, *id);

    if (src != NULL)
      g_source_destroy (src);
    *id = 0;
  }
}

static void
update_state (GcChatRedis *redis)
{
  gboolean up = redis->cmd.state == LINK_UP && redis->sub.state == LINK_UP;

  if (up == redis->up)
    return;
  redis->up = up;
  if (up)
    redis->reconnects++;
  if (!redis->freeing && redis->callbacks.state != NULL)
    redis->callbacks.state (up, redis->user_data);
}

static void
on_sub_reply (redisAsyncContext *ac, void *r, void *privdata)
{
  GcChatRedis *redis = privdata;
  redisReply *reply = r;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
    return;
  if (reply->element[0]->type == REDIS_REPLY_STRING &&
      strcmp (reply->element[0]->str, "message") == 0 &&
      reply->element[1]->type == REDIS_REPLY_STRING &&
      reply->element[2]->type == REDIS_REPLY_STRING &&
      redis->callbacks.message != NULL)
    redis->callbacks.message (reply->element[1]->str, reply->element[2]->str,
                              reply->element[2]->len, redis->user_data);
}

static void
subscribe_on_link (GcChatRedis *redis, const gchar *channel)
{
  const char *argv[2] = {"SUBSCRIBE", channel};

  redisAsyncCommandArgv (redis->sub.ac, on_sub_reply, redis, 2, argv, NULL);
}

static gboolean
on_retry (gpointer data)
{
  Link *link = data;

  link->retry_source = 0;
  link_connect (link);
  return G_SOURCE_REMOVE;
}

/* Schedules the next attempt: exponential backoff with jitter, so many
 * nodes do not hammer a restarting Redis in lock-step. */
static void
schedule_retry (Link *link)
{
  GcChatRedis *redis = link->redis;
  guint delay;

  if (redis->freeing)
    return;
  remove_source (redis, &link->retry_source);
  link->backoff_ms = link->backoff_ms == 0
                         ? BACKOFF_MIN_MS
                         : MIN (link->backoff_ms * 2, BACKOFF_MAX_MS);
  delay =
      link->backoff_ms / 2 + g_random_int_range (0, link->backoff_ms / 2 + 1);
  link->retry_source = attach_timeout (redis, delay, on_retry, link);
}

static void
on_connect (const redisAsyncContext *ac, int status)
{
  Link *link = ac->data;
  GcChatRedis *redis;

  if (link == NULL || link->ac != ac)
    return;
  redis = link->redis;
  if (status != REDIS_OK) {
    /* hiredis frees the context after this callback. */
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MESSAGE",
                      "redis %s link: connect failed", link->name);
    link->ac = NULL;
    link->state = LINK_DOWN;
    schedule_retry (link);
    update_state (redis);
    return;
  }
  remove_source (redis, &link->retry_source);
  link->state = LINK_UP;
  link->backoff_ms = 0;
  if (link == &redis->sub) {
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init (&it, redis->channels);
    while (g_hash_table_iter_next (&it, &key, NULL))
      subscribe_on_link (redis, key);
  }
  update_state (redis);
}

static void
on_disconnect (const redisAsyncContext *ac, int status)
{
  Link *link = ac->data;

  if (link == NULL || link->ac != ac)
    return; /* we dropped it ourselves */
  /* hiredis frees the context after this callback. */
  link->ac = NULL;
  link->state = LINK_DOWN;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                    "redis %s link lost; reconnecting", link->name);
  schedule_retry (link);
  update_state (link->redis);
}

static gboolean
on_connect_timeout (gpointer data)
{
  Link *link = data;

  link->retry_source = 0;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MESSAGE",
                    "redis %s link: connect timed out", link->name);
  link_drop (link);
  schedule_retry (link);
  return G_SOURCE_REMOVE;
}

/* Frees the link's context from outside hiredis' callbacks. */
static void
link_drop (Link *link)
{
  redisAsyncContext *ac = link->ac;

  if (ac == NULL)
    return;
  link->ac = NULL;
  link->state = LINK_DOWN;
  ac->data = NULL; /* our callbacks ignore what follows */
  redisAsyncFree (ac);
  update_state (link->redis);
}

static void
link_connect (Link *link)
{
  GcChatRedis *redis = link->redis;
  redisAsyncContext *ac;

  if (redis->unix_path != NULL)
    ac = redisAsyncConnectUnix (redis->unix_path);
  else
    ac = redisAsyncConnect (redis->host, (int)redis->port);
  if (ac == NULL || ac->err) {
    if (ac != NULL)
      redisAsyncFree (ac);
    link->state = LINK_DOWN;
    schedule_retry (link);
    return;
  }
  ac->data = link;
  link->ac = ac;
  link->state = LINK_CONNECTING;
  redisAsyncSetConnectCallback (ac, on_connect);
  redisAsyncSetDisconnectCallback (ac, on_disconnect);
  gc_chat_redis_source_attach (ac, redis->context);
  remove_source (redis, &link->retry_source);
  link->retry_source =
      attach_timeout (redis, CONNECT_TIMEOUT_MS, on_connect_timeout, link);
}

static void
on_health_reply (redisReply *reply, gpointer user_data)
{
  GcChatRedis *redis = user_data;

  if (reply != NULL)
    redis->ping_sent_us = 0;
}

/* A Redis that is stopped (not dead) keeps its sockets open: without this,
 * a node would queue commands into the void forever. */
static gboolean
on_health (gpointer data)
{
  GcChatRedis *redis = data;
  gint64 now = g_get_monotonic_time ();

  if (redis->cmd.state != LINK_UP)
    return G_SOURCE_CONTINUE;
  if (redis->ping_sent_us != 0) {
    if (now - redis->ping_sent_us > HEALTH_TIMEOUT_MS * 1000) {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                        "redis not answering; reconnecting");
      redis->ping_sent_us = 0;
      link_drop (&redis->cmd);
      link_drop (&redis->sub);
      schedule_retry (&redis->cmd);
      schedule_retry (&redis->sub);
    }
    return G_SOURCE_CONTINUE;
  }
  if (gc_chat_redis_commandv (redis, on_health_reply, redis, "PING", NULL))
    redis->ping_sent_us = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_address (GcChatRedis *redis, const gchar *address)
{
  const gchar *a = address;
  const gchar *colon;
  guint64 port;

  if (g_str_has_prefix (a, "unix:")) {
    redis->unix_path = g_strdup (a + 5);
    return TRUE;
  }
  if (a[0] == '/') {
    redis->unix_path = g_strdup (a);
    return TRUE;
  }
  if (g_str_has_prefix (a, "redis://"))
    a += 8;
  colon = strrchr (a, ':');
  if (colon == NULL) {
    redis->host = g_strdup (a);
    redis->port = 6379;
    return TRUE;
  }
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    return FALSE;
  redis->host = g_strndup (a, colon - a);
  redis->port = (guint)port;
  return TRUE;
}

GcChatRedis *
gc_chat_redis_new (const gchar *address, GMainContext *context,
                   const GcChatRedisCallbacks *callbacks, gpointer user_data)
{
  GcChatRedis *redis;

  g_return_val_if_fail (address != NULL, NULL);

  redis = g_new0 (GcChatRedis, 1);
  if (!parse_address (redis, address)) {
    g_free (redis);
    return NULL;
  }
  redis->context = context ? g_main_context_ref (context)
                           : g_main_context_ref (g_main_context_default ());
  if (callbacks != NULL)
    redis->callbacks = *callbacks;
  redis->user_data = user_data;
  redis->channels =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  redis->cmd.redis = redis;
  redis->cmd.name = "command";
  redis->sub.redis = redis;
  redis->sub.name = "pub/sub";
  link_connect (&redis->cmd);
  link_connect (&redis->sub);
  redis->health_source =
      attach_timeout (redis, HEALTH_INTERVAL_MS, on_health, redis);
  return redis;
}

void
gc_chat_redis_free (GcChatRedis *redis)
{
  if (redis == NULL)
    return;
  redis->freeing = TRUE;
  remove_source (redis, &redis->health_source);
  remove_source (redis, &redis->cmd.retry_source);
  remove_source (redis, &redis->sub.retry_source);
  link_drop (&redis->cmd);
  link_drop (&redis->sub);
  g_hash_table_unref (redis->channels);
  g_free (redis->unix_path);
  g_free (redis->host);
  g_main_context_unref (redis->context);
  g_free (redis);
}

gboolean
gc_chat_redis_is_up (GcChatRedis *redis)
{
  return redis != NULL && redis->up;
}

guint
gc_chat_redis_get_reconnects (GcChatRedis *redis)
{
  return redis->reconnects;
}

void
gc_chat_redis_subscribe (GcChatRedis *redis, const gchar *channel)
{
  if (!g_hash_table_add (redis->channels, g_strdup (channel)))
    return;
  if (redis->sub.state == LINK_UP)
    subscribe_on_link (redis, channel);
}

void
gc_chat_redis_unsubscribe (GcChatRedis *redis, const gchar *channel)
{
  const char *argv[2] = {"UNSUBSCRIBE", channel};

  if (!g_hash_table_remove (redis->channels, channel))
    return;
  if (redis->sub.state == LINK_UP)
    redisAsyncCommandArgv (redis->sub.ac, NULL, NULL, 2, argv, NULL);
}

typedef struct {
  GcChatRedisReplyFunc func;
  gpointer user_data;
} Pending;

static void
on_reply (redisAsyncContext *ac, void *reply, void *privdata)
{
  Pending *p = privdata;

  if (p->func != NULL)
    p->func (reply, p->user_data);
  g_free (p);
}

gboolean
gc_chat_redis_command (GcChatRedis *redis, GcChatRedisReplyFunc func,
                       gpointer user_data, GPtrArray *argv)
{
  Pending *p;
  g_autofree size_t *lens = NULL;

  if (redis == NULL || redis->cmd.state != LINK_UP || argv->len == 0)
    return FALSE;
  lens = g_new (size_t, argv->len);
  for (guint i = 0; i < argv->len; i++)
    lens[i] = strlen (g_ptr_array_index (argv, i));
  p = g_new0 (Pending, 1);
  p->func = func;
  p->user_data = user_data;
  if (redisAsyncCommandArgv (redis->cmd.ac, on_reply, p, (int)argv->len,
                             (const char **)argv->pdata, lens) != REDIS_OK) {
    g_free (p);
    return FALSE;
  }
  return TRUE;
}

gboolean
gc_chat_redis_commandv (GcChatRedis *redis, GcChatRedisReplyFunc func,
                        gpointer user_data, const gchar *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;

  va_start (args, first);
  for (const gchar *a = first; a != NULL; a = va_arg (args, const gchar *))
    g_ptr_array_add (argv, (gpointer)a);
  va_end (args);
  return gc_chat_redis_command (redis, func, user_data, argv);
}

/* redis.h — GcChatRedis: the node's two Redis links (commands, pub/sub) with reconnection and backoff.
 * Never blocks the main context; while Redis is down, commands are refused at once and callers fall back. */

#pragma once

#include <glib.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

typedef struct _GcChatRedis GcChatRedis;

typedef struct {
  /* A message on a subscribed channel. */
  void (*message) (const gchar *channel, const gchar *payload, gsize len,
                   gpointer user_data);
  /* Both links are up (subscriptions restored) or one of them went down. */
  void (*state) (gboolean up, gpointer user_data);
} GcChatRedisCallbacks;

/* @reply: (nullable): NULL when the link went down before the reply. */
typedef void (*GcChatRedisReplyFunc) (redisReply *reply, gpointer user_data);

/* @address: "unix:/path", "/path", "host:port" or "redis://host:port"
 * (numeric host: resolving names would block). Connects at once, in the
 * background. */
GcChatRedis *gc_chat_redis_new (const gchar *address, GMainContext *context,
                                const GcChatRedisCallbacks *callbacks,
                                gpointer user_data);
void gc_chat_redis_free (GcChatRedis *redis);

gboolean gc_chat_redis_is_up (GcChatRedis *redis);

/* Subscriptions are remembered and restored after every reconnection. */
void gc_chat_redis_subscribe (GcChatRedis *redis, const gchar *channel);
void gc_chat_redis_unsubscribe (GcChatRedis *redis, const gchar *channel);

/* Sends a command on the command link. @func: (nullable).
 * Returns: FALSE, without calling @func, when the link is down. */
gboolean gc_chat_redis_command (GcChatRedis *redis, GcChatRedisReplyFunc func,
                                gpointer user_data, GPtrArray *argv);

/* Convenience: NULL-terminated list of string arguments. */
gboolean gc_chat_redis_commandv (GcChatRedis *redis, GcChatRedisReplyFunc func,
                                 gpointer user_data, const gchar *first,
                                 ...) G_GNUC_NULL_TERMINATED;

/* Reconnections so far (statistics, tests). */
guint gc_chat_redis_get_reconnects (GcChatRedis *redis);

G_END_DECLS

/* chatstampredis.h — the Redis pub/sub subscriber of chatstamp: a thread of
 * its own with a blocking hiredis context, reconnecting with backoff. */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _ChatStampRedis ChatStampRedis;

/* Called on the subscriber thread for each message published on the channel
 * (@payload NUL-terminated, as published). */
typedef void (*ChatStampRedisMessageFunc) (const gchar *payload,
                                           gpointer user_data);
/* Called on the subscriber thread when the connection is lost or cannot be
 * made (@error says why), and once with NULL when it is (re)established. */
typedef void (*ChatStampRedisStatusFunc) (const gchar *error,
                                          gpointer user_data);

/* Starts subscribing to @channel at @url ("unix:/path", "tcp://host:port",
 * "redis://host:port" or "host[:port]"). Returns NULL with @error set when
 * @url cannot be parsed. (transfer full) */
ChatStampRedis *chat_stamp_redis_start (const gchar *url, const gchar *channel,
                                        ChatStampRedisMessageFunc on_message,
                                        ChatStampRedisStatusFunc on_status,
                                        gpointer user_data, GError **error);
/* Stops the thread (within a connect timeout at worst) and frees @r. */
void chat_stamp_redis_stop (ChatStampRedis *r);

G_END_DECLS

/* redis-embed.h — the redis-server glasscastd starts for itself when no [chat] redis= is configured:
 * one node's chat state and fan-out, on a unix socket in the data folder, supervised and restarted. */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _GcRedisEmbed GcRedisEmbed;

/* Starts @program (e.g. "redis-server") with no persistence, listening only
 * on a unix socket (mode 0700) under @dir, and waits until it answers (at
 * most 5 s; glasscastd's main loop is not running yet). Restarted with a
 * backoff when it exits on its own, until gc_redis_embed_free().
 * Returns: (transfer full) (nullable): the server, or NULL with @error. */
GcRedisEmbed *gc_redis_embed_start (const gchar *program, const gchar *dir,
                                    GError **error);

/* "unix:/path/redis.sock": the form GcChatConfig and chatstamp take. */
const gchar *gc_redis_embed_get_address (GcRedisEmbed *redis);

/* The server's pid (0 while restarting): tests and operators. */
GPid gc_redis_embed_get_pid (GcRedisEmbed *redis);

/* Stops the server (SIGTERM, then SIGKILL after 2 s) and frees. */
void gc_redis_embed_free (GcRedisEmbed *redis);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcRedisEmbed, gc_redis_embed_free)

G_END_DECLS

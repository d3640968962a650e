/* store.h — GcChatStore: where room state lives in Redis (keys documented in REDIS.md), writes, loads and
 * the replay queue that carries writes made while Redis was down over to Redis when it returns. */

#pragma once

#include <glib.h>

#include "action.h"
#include "message.h"
#include "redis.h"
#include "room.h"

G_BEGIN_DECLS

typedef struct _GcChatStore GcChatStore;

/* @redis: (nullable): NULL for a single node without Redis (everything is
 * then a no-op). @prefix: key prefix, e.g. "gc:chat:". */
GcChatStore *gc_chat_store_new (GcChatRedis *redis, const gchar *prefix,
                                guint history_length);
void gc_chat_store_free (GcChatStore *store);

/* Returns: (transfer full): "<prefix>room:{<room>}:<what>". */
gchar *gc_chat_store_key (GcChatStore *store, const gchar *room,
                          const gchar *what);
/* Returns: (transfer full): the pub/sub channel of @room's events. */
gchar *gc_chat_store_channel (GcChatStore *store, const gchar *room);
/* Returns: the room named by @channel (a pointer into it), or NULL. */
const gchar *gc_chat_store_room_of_channel (GcChatStore *store,
                                            const gchar *channel,
                                            gsize *room_len);

/* Persists the state change of a moderation action (bans, timeouts,
 * settings, grants, terms, history removals, review queue). */
void gc_chat_store_write_action (GcChatStore *store, GcChatRoom *room,
                                 const GcChatAction *action, const gchar *actor,
                                 gint64 now_ms, GPtrArray *added_addresses);

/* Appends an accepted message to the history and sets its author's
 * slow-mode clock. */
void gc_chat_store_write_message (GcChatStore *store, const GcChatMessage *msg);

/* Appends @msg to the room's history list only (a tip). */
void gc_chat_store_write_history (GcChatStore *store, const GcChatMessage *msg);

void gc_chat_store_write_held (GcChatStore *store, const GcChatMessage *msg,
                               const gchar *term);

/* This node's viewer count in @room, valid for @ttl_ms. */
void gc_chat_store_write_presence (GcChatStore *store, const gchar *room,
                                   const gchar *node, guint64 count,
                                   gint64 now_ms, gint64 ttl_ms);

/* Publishes @payload on @room's channel. Not queued while down: events are
 * live; state catches up through the loads after reconnection. */
gboolean gc_chat_store_publish (GcChatStore *store, const gchar *room,
                                const gchar *payload);

/* Reads the whole room (settings, bans, timeouts, grants, terms, clocks,
 * history, review queue) into @room, then calls @done (TRUE on success).
 * @done is called exactly once, also when Redis is down (FALSE). */
typedef void (*GcChatStoreLoaded) (GcChatRoom *room, gboolean ok,
                                   gpointer user_data);
void gc_chat_store_load_room (GcChatStore *store, GcChatRoom *room,
                              GcChatStoreLoaded done, gpointer user_data);

/* Sums the live presence counts of @room across nodes. @done gets -1 when
 * Redis is down. */
typedef void (*GcChatStoreCount) (const gchar *room, gint64 count,
                                  gpointer user_data);
void gc_chat_store_count_presence (GcChatStore *store, const gchar *room,
                                   gint64 now_ms, GcChatStoreCount done,
                                   gpointer user_data);

/* Sends the writes queued while Redis was down, oldest first.
 * Returns: how many were sent. */
guint gc_chat_store_replay (GcChatStore *store);

/* Writes waiting for Redis. */
guint gc_chat_store_get_backlog (GcChatStore *store);

G_END_DECLS

/* service.h — GcChatService: the chat hub as glasscastd embeds it. Owns the rooms, the epoll hub, the Redis
 * links, the archive; applies moderation on the main context and fans accepted events out once per room. */

#pragma once

#include <glib.h>

#include "action.h"
#include "archive.h"
#include "audit.h"
#include "hub.h"
#include "identity.h"
#include "message.h"
#include "room.h"

G_BEGIN_DECLS

typedef struct _GcChatService GcChatService;

typedef struct {
  const gchar *redis_address; /* (nullable) "unix:/path" or "host:port";
                                 NULL: a single node without Redis */
  const gchar *redis_prefix;  /* key prefix; default "gc:chat:" */
  const gchar *node_id;       /* (nullable) unique per node; NULL: random */
  const gchar *archive_path;  /* (nullable) SQLite file; NULL: no archive */
  guint presence_interval_ms; /* viewer counts refresh; default 5000 */
  GcChatLimits limits;
  GcChatHubConfig hub;
} GcChatConfig;

/* Fills @config with the defaults. */
void gc_chat_config_init (GcChatConfig *config);

/* Room names: 1 to 64 of [A-Za-z0-9_-] (glasscastd's channel names). */
gboolean gc_chat_room_name_is_valid (const gchar *name);

/* The key prefix of gc_chat_config_init(). */
#define GC_CHAT_DEFAULT_REDIS_PREFIX "gc:chat:"

/* The one place that names a room's pub/sub channel (REDIS.md): the
 * service publishes there and glasscastd hands the name to chatstamp, so
 * the two cannot drift apart. @prefix: (nullable): NULL for
 * %GC_CHAT_DEFAULT_REDIS_PREFIX.
 * Returns: (transfer full): "<prefix>room:{<room>}:events". */
gchar *gc_chat_room_events_channel (const gchar *prefix, const gchar *room);

/* Starts the hub threads, connects to Redis in the background, opens the
 * archive. Everything else runs on @context (NULL: the default context).
 * Returns: (transfer full) (nullable) */
GcChatService *gc_chat_service_new (const GcChatConfig *config,
                                    GMainContext *context, GError **error);
void gc_chat_service_free (GcChatService *service);

/* Hands an upgraded WebSocket over to the chat (see
 * gc_chat_hub_adopt_connection): the service owns @fd from now on, and
 * closes it at once if @room is not a valid name.
 * Returns: the connection id, 0 if refused. */
guint64 gc_chat_service_adopt_connection (GcChatService *service, int fd,
                                          const gchar *room,
                                          GcChatIdentity *identity,
                                          GBytes *initial_bytes);

/* The JSON API path (dashboard, HTTP moderation): performs @action in
 * @room as @actor exactly as if it came over a WebSocket, but reports
 * errors here. Join is refused; send posts a message. */
gboolean gc_chat_service_perform (GcChatService *service, const gchar *room,
                                  GcChatIdentity *actor,
                                  const GcChatAction *action, GError **error);

/* Publishes a tip event in its room (billing, next issue). */
void gc_chat_service_publish_tip (GcChatService *service, const GcChatTip *tip);

/* Called for every moderation action taken on this node. */
void gc_chat_service_set_audit_func (GcChatService *service,
                                     GcChatAuditFunc func, gpointer user_data,
                                     GDestroyNotify destroy);

/* Returns the media time (ms into the live stream) at wall-clock @ts_ms in
 * @room, or -1 when unknown (no stream). Stored beside each archived
 * message so recordings replay their chat. */
typedef gint64 (*GcChatOffsetFunc) (const gchar *room, gint64 ts_ms,
                                    gpointer user_data);
void gc_chat_service_set_offset_func (GcChatService *service,
                                      GcChatOffsetFunc func, gpointer user_data,
                                      GDestroyNotify destroy);

typedef struct {
  GcChatHubStats hub;
  guint rooms;
  guint64 messages_accepted; /* on this node */
  guint64 messages_refused;
  guint64 messages_held;
  guint64 remote_events; /* received from other nodes */
  gboolean redis_up;
  guint redis_backlog; /* writes waiting for Redis */
} GcChatServiceStats;

void gc_chat_service_get_stats (GcChatService *service,
                                GcChatServiceStats *stats);

const gchar *gc_chat_service_get_node_id (GcChatService *service);
GcChatHub *gc_chat_service_get_hub (GcChatService *service);
/* Returns: (nullable) */
GcChatArchive *gc_chat_service_get_archive (GcChatService *service);
/* Returns: (nullable): the room's state if this node has it. */
GcChatRoom *gc_chat_service_get_room (GcChatService *service,
                                      const gchar *room);

G_END_DECLS

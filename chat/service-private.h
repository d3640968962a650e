/* service-private.h — GcChatService internals shared by service.c (lifecycle, connections, joins),
 * service-post.c (messages and moderation) and service-events.c (Redis events, presence, housekeeping). */

#pragma once

#include "service.h"

#include "redis.h"
#include "store.h"

typedef struct _ServiceRoom ServiceRoom;

typedef struct {
  guint64 id;
  GcChatIdentity *identity;
  ServiceRoom *room;
} ConnInfo;

typedef struct {
  guint64 conn;
  GcChatAction *action;
} PendingJoin;

struct _ServiceRoom {
  GcChatService *service;
  GcChatRoom *room;
  GHashTable *conns;        /* id -> ConnInfo*, this node's connections */
  GHashTable *privileged;   /* id -> ConnInfo*, broadcaster and moderators */
  gboolean loaded;          /* state read from Redis since it came up (or
                              Redis is down and the local cache rules) */
  guint loads_pending;      /* loads in flight: the room must outlive them */
  gboolean reload_wanted;   /* another node asked for a reload during one */
  GPtrArray *waiting_joins; /* PendingJoin*, answered once loaded */
  GQueue delayed;           /* GcChatMessage*, by release time (delay mode) */
  guint delay_source;
  gint64 viewers;        /* last count sent to viewers; -1: none yet */
  gint64 empty_since_ms; /* 0 while it has connections */
};

struct _GcChatService {
  GMainContext *context;
  gchar *node_id;
  GcChatLimits limits;
  guint presence_interval_ms;

  GcChatHub *hub;
  GcChatRedis *redis; /* (nullable) */
  GcChatStore *store;
  GcChatArchive *archive; /* (nullable) */

  GHashTable *rooms; /* name -> ServiceRoom* */
  GHashTable *conns; /* &ConnInfo.id -> ConnInfo* */
  guint64 next_message;
  guint cron_source;
  gint64 next_presence_ms;

  GcChatAuditFunc audit_func;
  gpointer audit_data;
  GDestroyNotify audit_destroy;
  GcChatOffsetFunc offset_func;
  gpointer offset_data;
  GDestroyNotify offset_destroy;

  guint64 messages_accepted;
  guint64 messages_refused;
  guint64 messages_held;
  guint64 remote_events;
};

gint64 gc_chat_service_now_ms (void);

ServiceRoom *gc_chat_service_room (GcChatService *service, const gchar *name,
                                   gboolean create);
void gc_chat_service_room_loaded (GcChatRoom *room, gboolean ok,
                                  gpointer user_data);
void gc_chat_service_load_room (ServiceRoom *sr);
void gc_chat_service_recompute_privileged (ServiceRoom *sr);

/* Frames: each encodes once; broadcast shares the buffer. */
void gc_chat_service_send_json (GcChatService *service, guint64 conn,
                                const GString *json);
void gc_chat_service_broadcast_json (GcChatService *service, const gchar *room,
                                     const GString *json);
void gc_chat_service_send_privileged (ServiceRoom *sr, const GString *json);
void gc_chat_service_send_error (GcChatService *service, guint64 conn,
                                 const GError *error, const gchar *nonce,
                                 gint64 retry_after_ms);

/* service-post.c */
void gc_chat_service_handle_text (GcChatService *service, ConnInfo *info,
                                  const gchar *text, gsize len);
gboolean gc_chat_service_post (ServiceRoom *sr, GcChatIdentity *identity,
                               const GcChatAction *action, guint64 conn,
                               GError **error);
gboolean gc_chat_service_moderate (ServiceRoom *sr, GcChatIdentity *actor,
                                   const GcChatAction *action, guint64 conn,
                                   GError **error);
/* Shared by local and remote actions: the visible effects. */
void gc_chat_service_apply_effects (ServiceRoom *sr, const GcChatAction *action,
                                    const gchar *actor, gint64 now_ms,
                                    GPtrArray **added_addresses);
void gc_chat_service_deliver (ServiceRoom *sr, GcChatMessage *msg,
                              guint64 sender_conn);
void gc_chat_service_send_welcome (ServiceRoom *sr, ConnInfo *info,
                                   const GcChatAction *join);

/* service-events.c */
void gc_chat_service_on_redis_message (const gchar *channel,
                                       const gchar *payload, gsize len,
                                       gpointer user_data);
void gc_chat_service_on_redis_state (gboolean up, gpointer user_data);
void gc_chat_service_publish (ServiceRoom *sr, const gchar *kind,
                              const GString *body_members);
gboolean gc_chat_service_cron (gpointer user_data);

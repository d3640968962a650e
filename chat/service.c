/* service.c — GcChatService lifecycle, rooms, connections (hub callbacks), frame helpers, joins.
 * Everything here runs on the service's main context; the hub threads only ever reach it through events. */

#include "service-private.h"

#include <string.h>
#include <unistd.h>

#include "chat-error.h"
#include "protocol.h"
#include "wsframe.h"

void
gc_chat_config_init (GcChatConfig *config)
{
  memset (config, 0, sizeof *config);
  config->redis_prefix = GC_CHAT_DEFAULT_REDIS_PREFIX;
  config->presence_interval_ms = 5000;
  gc_chat_limits_init (&config->limits);
  gc_chat_hub_config_init (&config->hub);
}

gboolean
gc_chat_room_name_is_valid (const gchar *name)
{
  gsize n = 0;

  if (name == NULL)
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++, n++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '-'))
      return FALSE;
  return n >= 1 && n <= 64;
}

gchar *
gc_chat_room_events_channel (const gchar *prefix, const gchar *room)
{
  g_return_val_if_fail (room != NULL, NULL);

  /* {room} is a Redis Cluster hash tag, as in every key of the room. */
  return g_strdup_printf ("%sroom:{%s}:events",
                          prefix ? prefix : GC_CHAT_DEFAULT_REDIS_PREFIX, room);
}

gint64
gc_chat_service_now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* ---- frames ------------------------------------------------------------- */

void
gc_chat_service_send_json (GcChatService *service, guint64 conn,
                           const GString *json)
{
  g_autoptr (GBytes) frame = NULL;

  if (conn == 0)
    return;
  frame = gc_ws_frame_encode (GC_WS_OP_TEXT, json->str, json->len);
  gc_chat_hub_send (service->hub, conn, frame);
}

void
gc_chat_service_broadcast_json (GcChatService *service, const gchar *room,
                                const GString *json)
{
  /* Encoded once here; every connection of the room gets a reference. */
  g_autoptr (GBytes) frame =
      gc_ws_frame_encode (GC_WS_OP_TEXT, json->str, json->len);

  gc_chat_hub_broadcast (service->hub, room, frame);
}

void
gc_chat_service_send_privileged (ServiceRoom *sr, const GString *json)
{
  g_autoptr (GBytes) frame = NULL;
  GHashTableIter it;
  gpointer value;

  if (g_hash_table_size (sr->privileged) == 0)
    return;
  frame = gc_ws_frame_encode (GC_WS_OP_TEXT, json->str, json->len);
  g_hash_table_iter_init (&it, sr->privileged);
  while (g_hash_table_iter_next (&it, NULL, &value))
    gc_chat_hub_send (sr->service->hub, ((ConnInfo *)value)->id, frame);
}

void
gc_chat_service_send_error (GcChatService *service, guint64 conn,
                            const GError *error, const gchar *nonce,
                            gint64 retry_after_ms)
{
  g_autoptr (GString) json = g_string_new (NULL);

  gc_chat_protocol_write_error (json, error, nonce, retry_after_ms);
  gc_chat_service_send_json (service, conn, json);
}

/* ---- rooms -------------------------------------------------------------- */

static void
pending_join_free (gpointer data)
{
  PendingJoin *pj = data;

  gc_chat_action_free (pj->action);
  g_free (pj);
}

static void
service_room_free (gpointer data)
{
  ServiceRoom *sr = data;
  GcChatService *service = sr->service;

  if (service->redis != NULL) {
    g_autofree gchar *channel = gc_chat_store_channel (
        service->store, gc_chat_room_get_name (sr->room));

    gc_chat_redis_unsubscribe (service->redis, channel);
  }
  if (sr->delay_source != 0)
    g_source_destroy (
        g_main_context_find_source_by_id (service->context, sr->delay_source));
  g_queue_clear_full (&sr->delayed, (GDestroyNotify)gc_chat_message_unref);
  g_ptr_array_unref (sr->waiting_joins);
  g_hash_table_unref (sr->conns);
  g_hash_table_unref (sr->privileged);
  gc_chat_room_free (sr->room);
  g_free (sr);
}

void
gc_chat_service_room_loaded (GcChatRoom *room, gboolean ok, gpointer user_data)
{
  ServiceRoom *sr = user_data;
  GcChatService *service = sr->service;
  g_autoptr (GString) json = g_string_new (NULL);

  sr->loads_pending--;
  /* Down or not, from now on the local state is what we enforce. */
  sr->loaded = TRUE;
  if (sr->reload_wanted && sr->loads_pending == 0) {
    sr->reload_wanted = FALSE;
    gc_chat_service_load_room (sr);
  }
  gc_chat_service_recompute_privileged (sr);
  for (guint i = 0; i < sr->waiting_joins->len; i++) {
    PendingJoin *pj = g_ptr_array_index (sr->waiting_joins, i);
    ConnInfo *info = g_hash_table_lookup (sr->conns, &pj->conn);

    if (info != NULL)
      gc_chat_service_send_welcome (sr, info, pj->action);
  }
  g_ptr_array_set_size (sr->waiting_joins, 0);
  if (ok) {
    /* Settings may have changed while this node was cut off. */
    gc_chat_protocol_write_settings (json,
                                     gc_chat_room_get_settings (sr->room));
    gc_chat_service_broadcast_json (service, gc_chat_room_get_name (sr->room),
                                    json);
  }
}

void
gc_chat_service_load_room (ServiceRoom *sr)
{
  sr->loads_pending++;
  gc_chat_store_load_room (sr->service->store, sr->room,
                           gc_chat_service_room_loaded, sr);
}

ServiceRoom *
gc_chat_service_room (GcChatService *service, const gchar *name,
                      gboolean create)
{
  ServiceRoom *sr = g_hash_table_lookup (service->rooms, name);

  if (sr != NULL || !create)
    return sr;
  sr = g_new0 (ServiceRoom, 1);
  sr->service = service;
  sr->room = gc_chat_room_new (name, &service->limits);
  sr->conns = g_hash_table_new (g_int64_hash, g_int64_equal);
  sr->privileged = g_hash_table_new (g_int64_hash, g_int64_equal);
  sr->waiting_joins = g_ptr_array_new_with_free_func (pending_join_free);
  g_queue_init (&sr->delayed);
  sr->viewers = -1;
  g_hash_table_insert (service->rooms,
                       (gpointer)gc_chat_room_get_name (sr->room), sr);
  if (service->redis != NULL) {
    g_autofree gchar *channel = gc_chat_store_channel (service->store, name);

    gc_chat_redis_subscribe (service->redis, channel);
  }
  gc_chat_service_load_room (sr);
  return sr;
}

void
gc_chat_service_recompute_privileged (ServiceRoom *sr)
{
  GHashTableIter it;
  gpointer value;
  gint64 now = gc_chat_service_now_ms ();

  g_hash_table_remove_all (sr->privileged);
  g_hash_table_iter_init (&it, sr->conns);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    ConnInfo *info = value;

    if (gc_chat_room_get_roles (sr->room, info->identity, now) &
        GC_CHAT_ROLES_PRIVILEGED)
      g_hash_table_insert (sr->privileged, &info->id, info);
  }
}

/* ---- hub callbacks ------------------------------------------------------ */

static void
on_opened (GcChatHub *hub, guint64 conn, const gchar *room,
           GcChatIdentity *identity, gpointer user_data)
{
  GcChatService *service = user_data;
  ServiceRoom *sr = gc_chat_service_room (service, room, TRUE);
  ConnInfo *info = g_new0 (ConnInfo, 1);

  info->id = conn;
  info->identity = gc_chat_identity_ref (identity);
  info->room = sr;
  g_hash_table_insert (service->conns, &info->id, info);
  g_hash_table_insert (sr->conns, &info->id, info);
  sr->empty_since_ms = 0;
  gc_chat_room_note_identity (sr->room, identity);
  if (gc_chat_room_get_roles (sr->room, identity, gc_chat_service_now_ms ()) &
      GC_CHAT_ROLES_PRIVILEGED)
    g_hash_table_insert (sr->privileged, &info->id, info);
}

static void
on_text (GcChatHub *hub, guint64 conn, const gchar *room,
         GcChatIdentity *identity, const gchar *text, gsize len,
         gpointer user_data)
{
  GcChatService *service = user_data;
  ConnInfo *info = g_hash_table_lookup (service->conns, &conn);

  if (info != NULL)
    gc_chat_service_handle_text (service, info, text, len);
}

static void
on_closed (GcChatHub *hub, guint64 conn, const gchar *room,
           GcChatIdentity *identity, guint16 code, gpointer user_data)
{
  GcChatService *service = user_data;
  ConnInfo *info = g_hash_table_lookup (service->conns, &conn);
  ServiceRoom *sr;

  if (info == NULL)
    return;
  sr = info->room;
  g_hash_table_remove (sr->privileged, &conn);
  g_hash_table_remove (sr->conns, &conn);
  if (g_hash_table_size (sr->conns) == 0)
    sr->empty_since_ms = gc_chat_service_now_ms ();
  g_hash_table_remove (service->conns, &conn);
  gc_chat_identity_unref (info->identity);
  g_free (info);
}

/* ---- joins -------------------------------------------------------------- */

void
gc_chat_service_send_welcome (ServiceRoom *sr, ConnInfo *info,
                              const GcChatAction *join)
{
  GcChatService *service = sr->service;
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GPtrArray) history = NULL;
  gint64 now = gc_chat_service_now_ms ();
  GcChatRoles roles = gc_chat_room_get_roles (sr->room, info->identity, now);
  guint want = join->history > 0 ? (guint)join->history : 50;
  gint64 viewers = MAX (sr->viewers, (gint64)g_hash_table_size (sr->conns));

  history = gc_chat_room_get_history (sr->room, want, join->since);
  /* Delay mode: viewers must not see in history what they would not yet
   * see live. */
  if (!(roles & GC_CHAT_ROLES_PRIVILEGED))
    for (guint i = history->len; i > 0; i--)
      if (((GcChatMessage *)g_ptr_array_index (history, i - 1))->release_ms >
          now)
        g_ptr_array_remove_index (history, i - 1);
  gc_chat_protocol_write_welcome (
      json, gc_chat_room_get_name (sr->room), info->identity, roles,
      gc_chat_room_get_settings (sr->room), history, (guint64)viewers);
  gc_chat_service_send_json (service, info->id, json);

  if (roles & GC_CHAT_ROLES_PRIVILEGED) {
    g_autoptr (GPtrArray) held = gc_chat_room_list_held (sr->room);

    for (guint i = 0; i < held->len; i++) {
      GcChatMessage *m = g_ptr_array_index (held, i);

      g_string_truncate (json, 0);
      gc_chat_protocol_write_held (
          json, m, gc_chat_room_get_held_term (sr->room, m->id));
      gc_chat_service_send_json (service, info->id, json);
    }
  }
}

/* ---- lifecycle ----------------------------------------------------------- */

static gchar *
random_node_id (void)
{
  return g_strdup_printf ("%08x", g_random_int ());
}

GcChatService *
gc_chat_service_new (const GcChatConfig *config, GMainContext *context,
                     GError **error)
{
  g_autoptr (GError) local = NULL;
  GcChatService *service;
  GcChatConfig defaults;
  static const GcChatHubCallbacks hub_callbacks = {on_opened, on_text,
                                                   on_closed};
  GcChatRedisCallbacks redis_callbacks = {gc_chat_service_on_redis_message,
                                          gc_chat_service_on_redis_state};
  GSource *cron;

  if (config == NULL) {
    gc_chat_config_init (&defaults);
    config = &defaults;
  }
  service = g_new0 (GcChatService, 1);
  service->context = context ? g_main_context_ref (context)
                             : g_main_context_ref (g_main_context_default ());
  service->node_id =
      config->node_id ? g_strdup (config->node_id) : random_node_id ();
  service->limits = config->limits;
  service->presence_interval_ms = MAX (config->presence_interval_ms, 100);
  service->rooms =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, service_room_free);
  service->conns = g_hash_table_new (g_int64_hash, g_int64_equal);

  if (config->archive_path != NULL) {
    service->archive = gc_chat_archive_open (config->archive_path, error);
    if (service->archive == NULL) {
      gc_chat_service_free (service);
      return NULL;
    }
  }
  if (config->redis_address != NULL) {
    service->redis = gc_chat_redis_new (config->redis_address, service->context,
                                        &redis_callbacks, service);
    if (service->redis == NULL) {
      g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                   "bad Redis address \"%s\"", config->redis_address);
      gc_chat_service_free (service);
      return NULL;
    }
  }
  service->store = gc_chat_store_new (
      service->redis, config->redis_prefix ? config->redis_prefix : "gc:chat:",
      service->limits.history_length);
  service->hub = gc_chat_hub_new (&config->hub, service->context,
                                  &hub_callbacks, service, error);
  if (service->hub == NULL) {
    gc_chat_service_free (service);
    return NULL;
  }
  cron = g_timeout_source_new (250);
  g_source_set_callback (cron, gc_chat_service_cron, service, NULL);
  service->cron_source = g_source_attach (cron, service->context);
  g_source_unref (cron);
  return service;
}

void
gc_chat_service_free (GcChatService *service)
{
  GHashTableIter it;
  gpointer value;

  if (service == NULL)
    return;
  if (service->cron_source != 0)
    g_source_destroy (g_main_context_find_source_by_id (service->context,
                                                        service->cron_source));
  /* Redis first: its pending replies are answered with NULL while rooms,
   * store and hub still exist. Then the hub: no more connection events
   * (they are only dispatched by the main loop, never during this call). */
  g_clear_pointer (&service->redis, gc_chat_redis_free);
  g_clear_pointer (&service->hub, gc_chat_hub_free);
  g_hash_table_iter_init (&it, service->conns);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    ConnInfo *info = value;

    gc_chat_identity_unref (info->identity);
    g_free (info);
  }
  g_hash_table_unref (service->conns);
  g_hash_table_unref (service->rooms);
  g_clear_pointer (&service->store, gc_chat_store_free);
  g_clear_pointer (&service->archive, gc_chat_archive_close);
  if (service->audit_destroy)
    service->audit_destroy (service->audit_data);
  if (service->offset_destroy)
    service->offset_destroy (service->offset_data);
  g_main_context_unref (service->context);
  g_free (service->node_id);
  g_free (service);
}

guint64
gc_chat_service_adopt_connection (GcChatService *service, int fd,
                                  const gchar *room, GcChatIdentity *identity,
                                  GBytes *initial_bytes)
{
  g_return_val_if_fail (service != NULL, 0);
  g_return_val_if_fail (identity != NULL, 0);

  if (!gc_chat_room_name_is_valid (room)) {
    close (fd);
    return 0;
  }
  return gc_chat_hub_adopt_connection (service->hub, fd, room, identity,
                                       initial_bytes);
}

gboolean
gc_chat_service_perform (GcChatService *service, const gchar *room,
                         GcChatIdentity *actor, const GcChatAction *action,
                         GError **error)
{
  ServiceRoom *sr;

  g_return_val_if_fail (service != NULL, FALSE);
  g_return_val_if_fail (actor != NULL, FALSE);
  g_return_val_if_fail (action != NULL, FALSE);

  if (!gc_chat_room_name_is_valid (room)) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_NOT_FOUND, "no such room");
    return FALSE;
  }
  if (action->type == GC_CHAT_ACTION_JOIN) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "join needs a WebSocket");
    return FALSE;
  }
  sr = gc_chat_service_room (service, room, TRUE);
  gc_chat_room_note_identity (sr->room, actor);
  if (sr->empty_since_ms == 0 && g_hash_table_size (sr->conns) == 0)
    sr->empty_since_ms = gc_chat_service_now_ms ();
  if (action->type == GC_CHAT_ACTION_SEND)
    return gc_chat_service_post (sr, actor, action, 0, error);
  return gc_chat_service_moderate (sr, actor, action, 0, error);
}

void
gc_chat_service_publish_tip (GcChatService *service, const GcChatTip *tip)
{
  ServiceRoom *sr;
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GString) body = g_string_new (NULL);
  g_autoptr (GcChatMessage) history = NULL;

  g_return_if_fail (service != NULL);
  g_return_if_fail (tip != NULL && gc_chat_room_name_is_valid (tip->room));

  gc_chat_protocol_write_tip (json, tip);
  gc_chat_service_broadcast_json (service, tip->room, json);
  sr = gc_chat_service_room (service, tip->room, TRUE);
  /* In the history too, so a viewer who joins (or reconnects) later has it
   * among the messages around it. */
  history = gc_chat_message_new_tip (tip);
  gc_chat_room_add_history (sr->room, history);
  gc_chat_store_write_history (service->store, history);
  /* And in the archive, at its moment of the stream, for VOD replay. */
  if (service->archive != NULL)
    gc_chat_archive_add_message (
        service->archive, history,
        service->offset_func != NULL
            ? service->offset_func (tip->room, tip->ts_ms, service->offset_data)
            : -1);
  g_string_append (body, ",\"tip\":");
  g_string_append_len (body, json->str, json->len);
  gc_chat_service_publish (sr, "tip", body);
}

void
gc_chat_service_set_audit_func (GcChatService *service, GcChatAuditFunc func,
                                gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (service != NULL);
  if (service->audit_destroy)
    service->audit_destroy (service->audit_data);
  service->audit_func = func;
  service->audit_data = user_data;
  service->audit_destroy = destroy;
}

void
gc_chat_service_set_offset_func (GcChatService *service, GcChatOffsetFunc func,
                                 gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (service != NULL);
  if (service->offset_destroy)
    service->offset_destroy (service->offset_data);
  service->offset_func = func;
  service->offset_data = user_data;
  service->offset_destroy = destroy;
}

void
gc_chat_service_get_stats (GcChatService *service, GcChatServiceStats *stats)
{
  g_return_if_fail (service != NULL);
  memset (stats, 0, sizeof *stats);
  gc_chat_hub_get_stats (service->hub, &stats->hub);
  stats->rooms = g_hash_table_size (service->rooms);
  stats->messages_accepted = service->messages_accepted;
  stats->messages_refused = service->messages_refused;
  stats->messages_held = service->messages_held;
  stats->remote_events = service->remote_events;
  stats->redis_up = gc_chat_redis_is_up (service->redis);
  stats->redis_backlog = gc_chat_store_get_backlog (service->store);
}

const gchar *
gc_chat_service_get_node_id (GcChatService *service)
{
  return service->node_id;
}

GcChatHub *
gc_chat_service_get_hub (GcChatService *service)
{
  return service->hub;
}

GcChatArchive *
gc_chat_service_get_archive (GcChatService *service)
{
  return service->archive;
}

GcChatRoom *
gc_chat_service_get_room (GcChatService *service, const gchar *room)
{
  ServiceRoom *sr = g_hash_table_lookup (service->rooms, room);

  return sr ? sr->room : NULL;
}

/* service-events.c — the node-to-node side: events published to and received from Redis, resynchronisation
 * when Redis returns, presence counts, and the housekeeping cron. */

#include "service-private.h"

#include <string.h>

#include "protocol.h"

/*
 * Every accepted message and moderation action is published on the room's
 * channel as one JSON envelope:
 *
 *   {"node":"<id>","kind":"message","message":{...}}
 *   {"node":"<id>","kind":"action","actor":"mod","ts":..,"action":{...}}
 *   {"node":"<id>","kind":"held","term":"...","message":{...}}
 *   {"node":"<id>","kind":"tip","tip":{...}}
 *   {"node":"<id>","kind":"resync"}
 *
 * Other nodes apply it to their cached room (through the same functions as
 * local requests) and fan it out to their own viewers. A node ignores its
 * own envelopes: it already applied them before publishing. REDIS.md has
 * the full description.
 */

void
gc_chat_service_publish (ServiceRoom *sr, const gchar *kind,
                         const GString *body_members)
{
  GcChatService *service = sr->service;
  g_autoptr (GString) env = g_string_new ("{\"node\":");

  if (service->redis == NULL)
    return;
  gc_chat_json_append_string (env, service->node_id);
  g_string_append (env, ",\"kind\":");
  gc_chat_json_append_string (env, kind);
  g_string_append_len (env, body_members->str, body_members->len);
  g_string_append_c (env, '}');
  gc_chat_store_publish (service->store, gc_chat_room_get_name (sr->room),
                         env->str);
}

static void
on_remote_message (ServiceRoom *sr, JsonObject *env)
{
  JsonObject *m = gc_chat_json_object (env, "message");
  g_autoptr (GcChatMessage) msg = NULL;

  if (m == NULL)
    return;
  msg = gc_chat_protocol_parse_message (m, gc_chat_room_get_name (sr->room),
                                        NULL);
  if (msg == NULL || msg->kind != GC_CHAT_MESSAGE_TEXT ||
      gc_chat_room_find_message (sr->room, msg->id) != NULL)
    return;
  /* Clocks, unique-chat window and history follow every node's messages,
   * so slow mode and unique chat hold across nodes. */
  gc_chat_room_note_message (sr->room, msg);
  gc_chat_service_deliver (sr, msg, 0);
}

static void
on_remote_action (ServiceRoom *sr, JsonObject *env)
{
  JsonObject *a = gc_chat_json_object (env, "action");
  const gchar *actor = gc_chat_json_string (env, "actor", "?");
  gint64 ts = gc_chat_json_int (env, "ts", gc_chat_service_now_ms ());
  g_autoptr (GcChatAction) action = NULL;
  g_autoptr (GPtrArray) added = NULL;

  if (a == NULL)
    return;
  action = gc_chat_protocol_parse_request_object (a, NULL);
  if (action == NULL || !gc_chat_action_is_moderation (action->type))
    return;
  /* Authorised on the node where it was taken; here it only takes effect.
   * The event's time, not ours, so a timeout ends at the same instant on
   * every node. */
  gc_chat_service_apply_effects (sr, action, actor, ts, &added);
  /* Addresses only this node knew the user by: they must reach Redis too. */
  if (added != NULL && added->len > 0)
    gc_chat_store_write_action (sr->service->store, sr->room, action, actor, ts,
                                added);
}

static void
on_remote_held (ServiceRoom *sr, JsonObject *env)
{
  JsonObject *m = gc_chat_json_object (env, "message");
  const gchar *term = gc_chat_json_string (env, "term", NULL);
  g_autoptr (GcChatMessage) msg = NULL;
  g_autoptr (GString) json = g_string_new (NULL);

  if (m == NULL)
    return;
  msg = gc_chat_protocol_parse_message (m, gc_chat_room_get_name (sr->room),
                                        NULL);
  if (msg == NULL)
    return;
  gc_chat_room_hold (sr->room, msg, term);
  gc_chat_protocol_write_held (json, msg, term);
  gc_chat_service_send_privileged (sr, json);
}

static void
on_remote_tip (ServiceRoom *sr, JsonObject *env)
{
  JsonNode *tip = json_object_get_member (env, "tip");
  g_autofree gchar *json = NULL;
  g_autoptr (GString) s = NULL;
  g_autoptr (GcChatMessage) msg = NULL;

  if (tip == NULL || !JSON_NODE_HOLDS_OBJECT (tip))
    return;
  /* The publishing node wrote it to Redis's history; this node's history
   * gets it too. A tip this node cannot read is not passed on. */
  msg = gc_chat_protocol_parse_message (json_node_get_object (tip),
                                        gc_chat_room_get_name (sr->room), NULL);
  if (msg == NULL || msg->kind != GC_CHAT_MESSAGE_TIP)
    return;
  gc_chat_room_add_history (sr->room, msg);
  json = json_to_string (tip, FALSE);
  s = g_string_new (json);
  gc_chat_service_broadcast_json (sr->service, gc_chat_room_get_name (sr->room),
                                  s);
}

void
gc_chat_service_on_redis_message (const gchar *channel, const gchar *payload,
                                  gsize len, gpointer user_data)
{
  GcChatService *service = user_data;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autofree gchar *room = NULL;
  const gchar *room_start;
  gsize room_len = 0;
  JsonNode *root;
  JsonObject *env;
  const gchar *kind;
  ServiceRoom *sr;

  room_start =
      gc_chat_store_room_of_channel (service->store, channel, &room_len);
  if (room_start == NULL)
    return;
  room = g_strndup (room_start, room_len);
  sr = gc_chat_service_room (service, room, FALSE);
  if (sr == NULL)
    return;
  if (!json_parser_load_from_data (parser, payload, (gssize)len, NULL))
    return;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  env = json_node_get_object (root);
  if (g_strcmp0 (gc_chat_json_string (env, "node", ""), service->node_id) == 0)
    return;
  service->remote_events++;
  kind = gc_chat_json_string (env, "kind", "");
  if (g_str_equal (kind, "message"))
    on_remote_message (sr, env);
  else if (g_str_equal (kind, "action"))
    on_remote_action (sr, env);
  else if (g_str_equal (kind, "held"))
    on_remote_held (sr, env);
  else if (g_str_equal (kind, "tip"))
    on_remote_tip (sr, env);
  else if (g_str_equal (kind, "resync") && sr->loads_pending > 0)
    sr->reload_wanted = TRUE; /* the load in flight may predate the news */
  else if (g_str_equal (kind, "resync"))
    gc_chat_service_load_room (sr);
}

void
gc_chat_service_on_redis_state (gboolean up, gpointer user_data)
{
  GcChatService *service = user_data;
  GHashTableIter it;
  gpointer value;
  guint replayed;
  g_autoptr (GString) none = g_string_new (NULL);

  g_log_structured (G_LOG_DOMAIN, up ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING,
                    "MESSAGE",
                    up ? "chat: Redis is up; resynchronising %u rooms"
                       : "chat: Redis is down; rooms continue on this node",
                    g_hash_table_size (service->rooms));
  if (!up)
    return;
  /* Writes made while cut off go first; the loads queued after them on the
   * same link then read a state that includes them. */
  replayed = gc_chat_store_replay (service->store);
  g_hash_table_iter_init (&it, service->rooms);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    gc_chat_service_load_room (value);
    /* Nodes that reconnected before us have already reloaded and missed
     * what we just replayed: ask them to read the room again. */
    if (replayed > 0)
      gc_chat_service_publish (value, "resync", none);
  }
  service->next_presence_ms = 0;
}

static void
on_presence_count (const gchar *room, gint64 count, gpointer user_data)
{
  GcChatService *service = user_data;
  ServiceRoom *sr = gc_chat_service_room (service, room, FALSE);
  g_autoptr (GString) json = g_string_new (NULL);

  if (sr == NULL)
    return;
  if (count < 0)
    count = g_hash_table_size (sr->conns); /* Redis down: what we know */
  if (count == sr->viewers)
    return;
  sr->viewers = count;
  gc_chat_protocol_write_presence (json, (guint64)count);
  gc_chat_service_broadcast_json (service, room, json);
}

gboolean
gc_chat_service_cron (gpointer user_data)
{
  GcChatService *service = user_data;
  gint64 now = gc_chat_service_now_ms ();
  gboolean presence = now >= service->next_presence_ms;
  GHashTableIter it;
  gpointer value;

  if (presence)
    service->next_presence_ms = now + service->presence_interval_ms;
  g_hash_table_iter_init (&it, service->rooms);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    ServiceRoom *sr = value;
    const gchar *name = gc_chat_room_get_name (sr->room);
    guint local = g_hash_table_size (sr->conns);

    gc_chat_room_expire (sr->room, now);
    /* An empty room lingers a little: viewers reloading the page come
     * back within seconds, and a reload would re-read Redis. */
    if (local == 0 && sr->loads_pending == 0 && sr->empty_since_ms > 0 &&
        now - sr->empty_since_ms > 30000) {
      gc_chat_store_write_presence (service->store, name, service->node_id, 0,
                                    now, 0);
      g_hash_table_iter_remove (&it);
      continue;
    }
    if (!presence)
      continue;
    gc_chat_store_write_presence (service->store, name, service->node_id, local,
                                  now,
                                  3 * (gint64)service->presence_interval_ms);
    if (service->redis != NULL && gc_chat_redis_is_up (service->redis))
      gc_chat_store_count_presence (service->store, name, now,
                                    on_presence_count, service);
    else
      on_presence_count (name, -1, service);
  }
  return G_SOURCE_CONTINUE;
}

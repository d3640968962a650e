/* store.c — Redis commands for room state, and the loader that turns a room's keys back into a GcChatRoom.
 * Writes issued while Redis is down wait in a bounded queue and are replayed, in order, when it returns. */

#include "store.h"

#include <stdio.h>
#include <string.h>

#include "protocol.h"
#include "room-private.h"
#include "service.h"

#define BACKLOG_MAX 10000

struct _GcChatStore {
  GcChatRedis *redis; /* (nullable) */
  gchar *prefix;
  guint history_length;
  GQueue backlog; /* GPtrArray* argv, oldest first */
};

GcChatStore *
gc_chat_store_new (GcChatRedis *redis, const gchar *prefix,
                   guint history_length)
{
  GcChatStore *store = g_new0 (GcChatStore, 1);

  store->redis = redis;
  store->prefix = g_strdup (prefix ? prefix : "gc:chat:");
  store->history_length = MAX (history_length, 1);
  g_queue_init (&store->backlog);
  return store;
}

void
gc_chat_store_free (GcChatStore *store)
{
  if (store == NULL)
    return;
  g_queue_clear_full (&store->backlog, (GDestroyNotify)g_ptr_array_unref);
  g_free (store->prefix);
  g_free (store);
}

gchar *
gc_chat_store_key (GcChatStore *store, const gchar *room, const gchar *what)
{
  /* {room} is a Redis Cluster hash tag: all keys of a room in one slot. */
  return g_strdup_printf ("%sroom:{%s}:%s", store->prefix, room, what);
}

gchar *
gc_chat_store_channel (GcChatStore *store, const gchar *room)
{
  return gc_chat_room_events_channel (store->prefix, room);
}

const gchar *
gc_chat_store_room_of_channel (GcChatStore *store, const gchar *channel,
                               gsize *room_len)
{
  gsize plen = strlen (store->prefix);
  const gchar *open, *close;

  if (strncmp (channel, store->prefix, plen) != 0 ||
      !g_str_has_prefix (channel + plen, "room:{"))
    return NULL;
  open = channel + plen + 6;
  close = strchr (open, '}');
  if (close == NULL || !g_str_equal (close, "}:events"))
    return NULL;
  *room_len = close - open;
  return open;
}

static GPtrArray *argv_new (const gchar *first, ...) G_GNUC_NULL_TERMINATED;

static GPtrArray *
argv_new (const gchar *first, ...)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  va_list args;

  va_start (args, first);
  for (const gchar *a = first; a != NULL; a = va_arg (args, const gchar *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (args);
  return argv;
}

/* Sends, or keeps for the replay when Redis is down (or the queue has not
 * drained yet: order matters, an unban must not overtake its ban). Takes
 * @argv. */
static void
run (GcChatStore *store, GPtrArray *argv)
{
  if (store->redis == NULL) {
    g_ptr_array_unref (argv);
    return;
  }
  if (store->backlog.length == 0 &&
      gc_chat_redis_command (store->redis, NULL, NULL, argv)) {
    g_ptr_array_unref (argv);
    return;
  }
  g_queue_push_tail (&store->backlog, argv);
  while (store->backlog.length > BACKLOG_MAX)
    g_ptr_array_unref (g_queue_pop_head (&store->backlog));
}

guint
gc_chat_store_replay (GcChatStore *store)
{
  GPtrArray *argv;
  guint n = 0;

  while ((argv = g_queue_peek_head (&store->backlog)) != NULL) {
    if (!gc_chat_redis_command (store->redis, NULL, NULL, argv))
      break;
    g_ptr_array_unref (g_queue_pop_head (&store->backlog));
    n++;
  }
  return n;
}

guint
gc_chat_store_get_backlog (GcChatStore *store)
{
  return store->backlog.length;
}

static void
hset (GcChatStore *store, const gchar *room, const gchar *what,
      const gchar *field, const gchar *value)
{
  g_autofree gchar *key = gc_chat_store_key (store, room, what);

  run (store, argv_new ("HSET", key, field, value, NULL));
}

static void
hsetnx (GcChatStore *store, const gchar *room, const gchar *what,
        const gchar *field, const gchar *value)
{
  g_autofree gchar *key = gc_chat_store_key (store, room, what);

  run (store, argv_new ("HSETNX", key, field, value, NULL));
}

static void
hdel (GcChatStore *store, const gchar *room, const gchar *what,
      const gchar *field)
{
  g_autofree gchar *key = gc_chat_store_key (store, room, what);

  run (store, argv_new ("HDEL", key, field, NULL));
}

static gchar *
ban_record (const gchar *actor, const gchar *reason, gint64 now_ms)
{
  GString *s = g_string_new ("{\"actor\":");

  gc_chat_json_append_string (s, actor);
  g_string_append (s, ",\"reason\":");
  gc_chat_json_append_string (s, reason ? reason : "");
  g_string_append_printf (s, ",\"ts\":%" G_GINT64_FORMAT "}", now_ms);
  return g_string_free (s, FALSE);
}

/* Clearing a user's messages from a Redis list needs their exact values:
 * read the list, then remove what matches. */
typedef struct {
  GcChatStore *store;
  gchar *room;
  gchar *user; /* (nullable) */
  gchar *id;   /* (nullable) */
} HistoryFilter;

static void
history_filter_free (HistoryFilter *f)
{
  g_free (f->room);
  g_free (f->user);
  g_free (f->id);
  g_free (f);
}

static void
on_history_for_removal (redisReply *reply, gpointer user_data)
{
  HistoryFilter *f = user_data;
  g_autofree gchar *key = gc_chat_store_key (f->store, f->room, "history");

  for (gsize i = 0;
       reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
    redisReply *e = reply->element[i];
    g_autoptr (JsonParser) parser = json_parser_new_immutable ();
    JsonNode *root;
    JsonObject *o;
    const gchar *v;

    if (e->type != REDIS_REPLY_STRING ||
        !json_parser_load_from_data (parser, e->str, (gssize)e->len, NULL))
      continue;
    root = json_parser_get_root (parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
      continue;
    o = json_node_get_object (root);
    v = gc_chat_json_string (o, f->id ? "id" : "user", "");
    if (g_strcmp0 (v, f->id ? f->id : f->user) == 0)
      run (f->store, argv_new ("LREM", key, "1", e->str, NULL));
  }
  history_filter_free (f);
}

static void
remove_from_history (GcChatStore *store, const gchar *room, const gchar *user,
                     const gchar *id)
{
  HistoryFilter *f = g_new0 (HistoryFilter, 1);
  g_autofree gchar *key = gc_chat_store_key (store, room, "history");

  f->store = store;
  f->room = g_strdup (room);
  f->user = g_strdup (user);
  f->id = g_strdup (id);
  if (!gc_chat_redis_commandv (store->redis, on_history_for_removal, f,
                               "LRANGE", key, "0", "-1", NULL))
    history_filter_free (f);
}

void
gc_chat_store_write_action (GcChatStore *store, GcChatRoom *room,
                            const GcChatAction *action, const gchar *actor,
                            gint64 now_ms, GPtrArray *added_addresses)
{
  const gchar *name = gc_chat_room_get_name (room);
  g_autofree gchar *record = NULL;
  gchar num[32];

  if (store->redis == NULL)
    return;
  switch (action->type) {
    case GC_CHAT_ACTION_BAN:
      record = ban_record (actor, action->reason, now_ms);
      if (action->user != NULL) {
        hset (store, name, "bans", action->user, record);
        hdel (store, name, "timeouts", action->user);
      }
      for (guint i = 0; added_addresses && i < added_addresses->len; i++)
        hset (store, name, "addrbans", g_ptr_array_index (added_addresses, i),
              record);
      if (action->user != NULL)
        remove_from_history (store, name, action->user, NULL);
      break;
    case GC_CHAT_ACTION_UNBAN:
      if (action->user != NULL)
        hdel (store, name, "bans", action->user);
      if (action->address != NULL)
        hdel (store, name, "addrbans", action->address);
      break;
    case GC_CHAT_ACTION_TIMEOUT:
      g_snprintf (num, sizeof num, "%" G_GINT64_FORMAT,
                  now_ms + action->seconds * 1000);
      hset (store, name, "timeouts", action->user, num);
      remove_from_history (store, name, action->user, NULL);
      break;
    case GC_CHAT_ACTION_UNTIMEOUT:
      hdel (store, name, "timeouts", action->user);
      break;
    case GC_CHAT_ACTION_SETTINGS: {
      guint n_fields;
      const GcChatSettingField *fields = gc_chat_setting_fields (&n_fields);

      for (guint i = 0; i < n_fields; i++) {
        if (!(action->settings.mask & fields[i].bit))
          continue;
        g_snprintf (
            num, sizeof num, "%" G_GINT64_FORMAT,
            gc_chat_settings_get (&action->settings.values, &fields[i]));
        hset (store, name, "settings", fields[i].name, num);
      }
      break;
    }
    case GC_CHAT_ACTION_MOD:
    case GC_CHAT_ACTION_UNMOD:
    case GC_CHAT_ACTION_VIP:
    case GC_CHAT_ACTION_UNVIP: {
      GcChatRoles granted, revoked;

      /* The room has already applied the action: store its result, so the
       * grant field always holds both bit sets. */
      gc_chat_room_get_grant (room, action->user, &granted, &revoked);
      if (granted == 0 && revoked == 0) {
        hdel (store, name, "grants", action->user);
      } else {
        g_snprintf (num, sizeof num, "%u,%u", (guint)granted, (guint)revoked);
        hset (store, name, "grants", action->user, num);
      }
      break;
    }
    case GC_CHAT_ACTION_BLOCK: {
      g_autofree gchar *canonical =
          gc_chat_term_canonicalize (action->term, NULL);

      if (canonical != NULL)
        hset (store, name, "terms", canonical, action->hold ? "hold" : "block");
      break;
    }
    case GC_CHAT_ACTION_UNBLOCK: {
      g_autofree gchar *canonical =
          gc_chat_term_canonicalize (action->term, NULL);

      if (canonical != NULL)
        hdel (store, name, "terms", canonical);
      break;
    }
    case GC_CHAT_ACTION_DELETE:
      remove_from_history (store, name, NULL, action->id);
      break;
    case GC_CHAT_ACTION_CLEAR:
      if (action->user != NULL) {
        remove_from_history (store, name, action->user, NULL);
      } else {
        g_autofree gchar *key = gc_chat_store_key (store, name, "history");

        run (store, argv_new ("DEL", key, NULL));
      }
      break;
    case GC_CHAT_ACTION_APPROVE:
    case GC_CHAT_ACTION_REJECT:
      hdel (store, name, "held", action->id);
      break;
    case GC_CHAT_ACTION_JOIN:
    case GC_CHAT_ACTION_SEND:
      break;
  }
}

void
gc_chat_store_write_history (GcChatStore *store, const GcChatMessage *msg)
{
  g_autoptr (GString) json = g_string_new (NULL);
  g_autofree gchar *key = NULL;
  gchar num[32];

  if (store->redis == NULL)
    return;
  gc_chat_protocol_write_message (
      json, msg, GC_CHAT_WRITE_INTERNAL | GC_CHAT_WRITE_NO_TYPE);
  key = gc_chat_store_key (store, msg->room, "history");
  run (store, argv_new ("LPUSH", key, json->str, NULL));
  g_snprintf (num, sizeof num, "%u", store->history_length - 1);
  run (store, argv_new ("LTRIM", key, "0", num, NULL));
}

void
gc_chat_store_write_message (GcChatStore *store, const GcChatMessage *msg)
{
  g_autofree gchar *clocks = NULL;
  gchar num[32];

  if (store->redis == NULL)
    return;
  gc_chat_store_write_history (store, msg);
  g_snprintf (num, sizeof num, "%" G_GINT64_FORMAT, msg->ts_ms);
  clocks = gc_chat_store_key (store, msg->room, "clocks");
  run (store, argv_new ("HSET", clocks, msg->user, num, NULL));
}

void
gc_chat_store_write_held (GcChatStore *store, const GcChatMessage *msg,
                          const gchar *term)
{
  g_autoptr (GString) json = g_string_new (NULL);

  if (store->redis == NULL)
    return;
  gc_chat_protocol_write_held (json, msg, term);
  hset (store, msg->room, "held", msg->id, json->str);
}

void
gc_chat_store_write_presence (GcChatStore *store, const gchar *room,
                              const gchar *node, guint64 count, gint64 now_ms,
                              gint64 ttl_ms)
{
  g_autofree gchar *key = NULL;
  gchar value[64];

  if (store->redis == NULL)
    return;
  key = gc_chat_store_key (store, room, "presence");
  g_snprintf (value, sizeof value, "%" G_GUINT64_FORMAT " %" G_GINT64_FORMAT,
              count, now_ms + ttl_ms);
  /* Not queued: a stale count is worse than none. */
  gc_chat_redis_commandv (store->redis, NULL, NULL, "HSET", key, node, value,
                          NULL);
}

gboolean
gc_chat_store_publish (GcChatStore *store, const gchar *room,
                       const gchar *payload)
{
  g_autofree gchar *channel = NULL;

  if (store->redis == NULL)
    return FALSE;
  channel = gc_chat_store_channel (store, room);
  return gc_chat_redis_commandv (store->redis, NULL, NULL, "PUBLISH", channel,
                                 payload, NULL);
}

/* ---- loading ------------------------------------------------------------ */

typedef enum {
  PART_SETTINGS,
  PART_BANS,
  PART_ADDRBANS,
  PART_TIMEOUTS,
  PART_GRANTS,
  PART_TERMS,
  PART_CLOCKS,
  PART_HELD,
  PART_HISTORY,
  PART_META,
  N_PARTS,
} LoadPart;

static const gchar *const part_keys[N_PARTS] = {
    "settings", "bans",   "addrbans", "timeouts", "grants",
    "terms",    "clocks", "held",     "history",  "meta",
};

typedef struct {
  GcChatStore *store;
  GcChatRoom *room;
  GcChatStoreLoaded done;
  gpointer user_data;
  redisReply *replies[N_PARTS]; /* not owned: only valid in callbacks */
  GPtrArray *parts;             /* per part: GPtrArray of (field, value)
                                   pairs or list values, copied */
  guint received;
  gboolean failed;
} Load;

typedef struct {
  Load *load;
  LoadPart part;
} LoadStep;

static void
apply_load (Load *load)
{
  GcChatRoom *room = load->room;
  GcChatSettings settings;
  gint64 now_ms = g_get_real_time () / 1000;
  GPtrArray *p;

  gc_chat_room_reset_state (room);

  gc_chat_settings_init (&settings);
  p = g_ptr_array_index (load->parts, PART_SETTINGS);
  for (guint i = 0; i + 1 < p->len; i += 2) {
    const GcChatSettingField *f =
        gc_chat_setting_field_lookup (g_ptr_array_index (p, i));
    gint64 v = g_ascii_strtoll (g_ptr_array_index (p, i + 1), NULL, 10);

    if (f != NULL && v >= f->min && v <= f->max)
      gc_chat_settings_set (&settings, f, v);
  }
  gc_chat_room_set_settings (room, &settings);

  p = g_ptr_array_index (load->parts, PART_BANS);
  for (guint i = 0; i + 1 < p->len; i += 2)
    gc_chat_room_set_ban (room, g_ptr_array_index (p, i));
  p = g_ptr_array_index (load->parts, PART_ADDRBANS);
  for (guint i = 0; i + 1 < p->len; i += 2)
    gc_chat_room_set_address_ban (room, g_ptr_array_index (p, i));
  p = g_ptr_array_index (load->parts, PART_TIMEOUTS);
  for (guint i = 0; i + 1 < p->len; i += 2) {
    gint64 until = g_ascii_strtoll (g_ptr_array_index (p, i + 1), NULL, 10);

    if (until > now_ms)
      gc_chat_room_set_timeout (room, g_ptr_array_index (p, i), until);
  }
  p = g_ptr_array_index (load->parts, PART_GRANTS);
  for (guint i = 0; i + 1 < p->len; i += 2) {
    guint g = 0, r = 0;

    if (sscanf (g_ptr_array_index (p, i + 1), "%u,%u", &g, &r) == 2)
      gc_chat_room_set_grant (room, g_ptr_array_index (p, i),
                              g & (GC_CHAT_ROLE_MODERATOR | GC_CHAT_ROLE_VIP),
                              r & (GC_CHAT_ROLE_MODERATOR | GC_CHAT_ROLE_VIP));
  }
  p = g_ptr_array_index (load->parts, PART_TERMS);
  for (guint i = 0; i + 1 < p->len; i += 2)
    gc_chat_room_set_term (room, g_ptr_array_index (p, i),
                           g_str_equal (g_ptr_array_index (p, i + 1), "hold"),
                           NULL);
  p = g_ptr_array_index (load->parts, PART_CLOCKS);
  for (guint i = 0; i + 1 < p->len; i += 2)
    gc_chat_room_set_slow_clock (
        room, g_ptr_array_index (p, i),
        g_ascii_strtoll (g_ptr_array_index (p, i + 1), NULL, 10));

  p = g_ptr_array_index (load->parts, PART_HELD);
  for (guint i = 0; i + 1 < p->len; i += 2) {
    g_autoptr (JsonParser) parser = json_parser_new_immutable ();
    JsonNode *root;
    JsonObject *o;
    JsonObject *m;
    g_autoptr (GcChatMessage) msg = NULL;

    if (!json_parser_load_from_data (parser, g_ptr_array_index (p, i + 1), -1,
                                     NULL))
      continue;
    root = json_parser_get_root (parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
      continue;
    o = json_node_get_object (root);
    m = gc_chat_json_object (o, "message");
    if (m == NULL)
      continue;
    msg =
        gc_chat_protocol_parse_message (m, gc_chat_room_get_name (room), NULL);
    if (msg != NULL)
      gc_chat_room_hold (room, msg, gc_chat_json_string (o, "term", NULL));
  }

  p = g_ptr_array_index (load->parts, PART_HISTORY);
  {
    g_autoptr (GPtrArray) msgs =
        g_ptr_array_new_with_free_func ((GDestroyNotify)gc_chat_message_unref);

    for (guint i = 0; i < p->len; i++) {
      g_autoptr (JsonParser) parser = json_parser_new_immutable ();
      JsonNode *root;
      GcChatMessage *msg;

      if (!json_parser_load_from_data (parser, g_ptr_array_index (p, i), -1,
                                       NULL))
        continue;
      root = json_parser_get_root (parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        continue;
      msg = gc_chat_protocol_parse_message (json_node_get_object (root),
                                            gc_chat_room_get_name (room), NULL);
      if (msg != NULL)
        g_ptr_array_add (msgs, msg);
    }
    gc_chat_room_merge_history (room, msgs);
  }
}

/* Writes the room as this node knows it, and the marker saying Redis holds
 * the room. Used when the marker is missing: a new room, or a Redis that
 * came back empty (restarted without persistence). Then our cache is the
 * best state there is, and resetting it from the empty Redis would lift
 * every ban. HSETNX only fills gaps: a change another node replayed after
 * the outage must win over our older copy, whichever arrives first. */
static void
seed_room (GcChatStore *store, GcChatRoom *room, gint64 now_ms)
{
  const gchar *name = room->name;
  guint n_fields;
  const GcChatSettingField *fields = gc_chat_setting_fields (&n_fields);
  GHashTableIter it;
  gpointer key, value;
  gchar num[64];

  for (guint i = 0; i < n_fields; i++) {
    g_snprintf (num, sizeof num, "%" G_GINT64_FORMAT,
                gc_chat_settings_get (&room->settings, &fields[i]));
    hsetnx (store, name, "settings", fields[i].name, num);
  }
  g_hash_table_iter_init (&it, room->bans);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    g_autofree gchar *record = ban_record ("system", "restored", now_ms);

    hsetnx (store, name, "bans", key, record);
  }
  g_hash_table_iter_init (&it, room->address_bans);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    g_autofree gchar *record = ban_record ("system", "restored", now_ms);

    hsetnx (store, name, "addrbans", key, record);
  }
  g_hash_table_iter_init (&it, room->timeouts);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    g_snprintf (num, sizeof num, "%" G_GINT64_FORMAT, *(gint64 *)value);
    hsetnx (store, name, "timeouts", key, num);
  }
  g_hash_table_iter_init (&it, room->grants);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    Grant *g = value;

    g_snprintf (num, sizeof num, "%u,%u", (guint)g->granted, (guint)g->revoked);
    hsetnx (store, name, "grants", key, num);
  }
  g_hash_table_iter_init (&it, room->term_specs);
  while (g_hash_table_iter_next (&it, &key, &value))
    hsetnx (store, name, "terms", key,
            GPOINTER_TO_INT (value) ? "hold" : "block");
  g_snprintf (num, sizeof num, "%" G_GINT64_FORMAT, now_ms);
  hsetnx (store, name, "meta", "seeded", num);
}

static void
on_load_reply (redisReply *reply, gpointer user_data)
{
  LoadStep *step = user_data;
  Load *load = step->load;
  GPtrArray *strings = g_ptr_array_new_with_free_func (g_free);

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
    load->failed = TRUE;
  } else {
    for (gsize i = 0; i < reply->elements; i++)
      g_ptr_array_add (strings, reply->element[i]->type == REDIS_REPLY_STRING
                                    ? g_strndup (reply->element[i]->str,
                                                 reply->element[i]->len)
                                    : g_strdup (""));
  }
  g_ptr_array_index (load->parts, step->part) = strings;
  g_free (step);

  if (++load->received < N_PARTS)
    return;
  if (!load->failed) {
    GPtrArray *meta = g_ptr_array_index (load->parts, PART_META);

    if (meta->len == 0)
      seed_room (load->store, load->room, g_get_real_time () / 1000);
    else
      apply_load (load);
  }
  load->done (load->room, !load->failed, load->user_data);
  g_ptr_array_unref (load->parts);
  g_free (load);
}

void
gc_chat_store_load_room (GcChatStore *store, GcChatRoom *room,
                         GcChatStoreLoaded done, gpointer user_data)
{
  Load *load;
  const gchar *name = gc_chat_room_get_name (room);
  gchar last[16];

  if (store->redis == NULL || !gc_chat_redis_is_up (store->redis)) {
    done (room, FALSE, user_data);
    return;
  }
  load = g_new0 (Load, 1);
  load->store = store;
  load->room = room;
  load->done = done;
  load->user_data = user_data;
  load->parts =
      g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
  g_ptr_array_set_size (load->parts, N_PARTS);
  g_snprintf (last, sizeof last, "%u", store->history_length - 1);

  /* Commands on one connection are answered in order; hiredis calls back
   * once per command, also with NULL when the link drops, so every part
   * arrives exactly once and the last one finishes the load. */
  for (guint i = 0; i < N_PARTS; i++) {
    LoadStep *step = g_new0 (LoadStep, 1);
    g_autofree gchar *key = gc_chat_store_key (store, name, part_keys[i]);
    gboolean sent;

    step->load = load;
    step->part = i;
    if (i == PART_HISTORY)
      sent = gc_chat_redis_commandv (store->redis, on_load_reply, step,
                                     "LRANGE", key, "0", last, NULL);
    else
      sent = gc_chat_redis_commandv (store->redis, on_load_reply, step,
                                     "HGETALL", key, NULL);
    if (!sent)
      on_load_reply (NULL, step);
  }
}

typedef struct {
  gchar *room;
  gint64 now_ms;
  GcChatStoreCount done;
  gpointer user_data;
} Count;

static void
on_presence (redisReply *reply, gpointer user_data)
{
  Count *c = user_data;
  gint64 total = 0;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
    total = -1;
  } else {
    for (gsize i = 0; i + 1 < reply->elements; i += 2) {
      guint64 n = 0;
      gint64 until = 0;

      if (reply->element[i + 1]->type == REDIS_REPLY_STRING &&
          sscanf (reply->element[i + 1]->str,
                  "%" G_GUINT64_FORMAT " %" G_GINT64_FORMAT, &n, &until) == 2 &&
          until > c->now_ms)
        total += (gint64)n;
    }
  }
  c->done (c->room, total, c->user_data);
  g_free (c->room);
  g_free (c);
}

void
gc_chat_store_count_presence (GcChatStore *store, const gchar *room,
                              gint64 now_ms, GcChatStoreCount done,
                              gpointer user_data)
{
  Count *c;
  g_autofree gchar *key = NULL;

  if (store->redis == NULL) {
    done (room, -1, user_data);
    return;
  }
  c = g_new0 (Count, 1);
  c->room = g_strdup (room);
  c->now_ms = now_ms;
  c->done = done;
  c->user_data = user_data;
  key = gc_chat_store_key (store, room, "presence");
  if (!gc_chat_redis_commandv (store->redis, on_presence, c, "HGETALL", key,
                               NULL)) {
    g_free (c->room);
    g_free (c);
    done (room, -1, user_data);
  }
}

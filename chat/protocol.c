/* protocol.c — request validation tables (Janus-style), request/action JSON, server frame writers.
 * Writers build JSON by hand into one GString: a frame is encoded once and shared by every viewer. */

#include "protocol.h"

#include <gio/gio.h>
#include <string.h>

#include "chat-error.h"
#include "command.h"

/*
 * Requests are validated against a static table, one row per member:
 * its JSON type, whether it is required, its range, and where it lands in
 * GcChatAction. One generic loop then checks and copies every request type;
 * the writer for node-to-node events walks the same table backwards, so a
 * new field cannot be parsed but forgotten on the wire.
 */

typedef enum {
  PARAM_STRING,
  PARAM_INT,
  PARAM_BOOL,
} ParamType;

typedef enum {
  PARAM_REQUIRED = 1 << 0,
  PARAM_LOGIN = 1 << 1,    /* a valid login, stored lower-cased */
  PARAM_ADDRESS = 1 << 2,  /* an IPv4/IPv6 address */
  PARAM_NONEMPTY = 1 << 3, /* not "" after trimming */
} ParamFlags;

typedef struct {
  const gchar *name;
  ParamType type;
  guint flags;
  gint64 min, max; /* integers: range; strings: max bytes in max */
  gsize offset;    /* in GcChatAction */
} Param;

#define STR(n, f, maxlen, member)                                              \
  {                                                                            \
    n, PARAM_STRING, f, 0, maxlen, G_STRUCT_OFFSET (GcChatAction, member)      \
  }
#define INT(n, f, lo, hi, member)                                              \
  {                                                                            \
    n, PARAM_INT, f, lo, hi, G_STRUCT_OFFSET (GcChatAction, member)            \
  }
#define BOOL(n, member)                                                        \
  {                                                                            \
    n, PARAM_BOOL, 0, 0, 1, G_STRUCT_OFFSET (GcChatAction, member)             \
  }
#define END                                                                    \
  {                                                                            \
    NULL, 0, 0, 0, 0, 0                                                        \
  }

static const Param join_params[] = {
    INT ("history", 0, 0, GC_CHAT_HISTORY_MAX, history),
    INT ("since", 0, 0, G_MAXINT64, since),
    END,
};
static const Param send_params[] = {
    STR ("text", PARAM_REQUIRED | PARAM_NONEMPTY, GC_CHAT_PROTOCOL_MAX_TEXT,
         text),
    STR ("reply_to", 0, 64, reply_to),
    END,
};
static const Param id_params[] = {
    STR ("id", PARAM_REQUIRED | PARAM_NONEMPTY, 64, id),
    END,
};
static const Param reject_params[] = {
    STR ("id", PARAM_REQUIRED | PARAM_NONEMPTY, 64, id),
    STR ("reason", 0, 500, reason),
    END,
};
static const Param clear_params[] = {
    STR ("user", PARAM_LOGIN, 32, user),
    END,
};
static const Param ban_params[] = {
    STR ("user", PARAM_LOGIN, 32, user),
    STR ("address", PARAM_ADDRESS, 64, address),
    BOOL ("by_address", by_address),
    STR ("reason", 0, 500, reason),
    END,
};
static const Param unban_params[] = {
    STR ("user", PARAM_LOGIN, 32, user),
    STR ("address", PARAM_ADDRESS, 64, address),
    END,
};
static const Param timeout_params[] = {
    STR ("user", PARAM_REQUIRED | PARAM_LOGIN, 32, user),
    INT ("seconds", PARAM_REQUIRED, 1, GC_CHAT_TIMEOUT_MAX_SECONDS, seconds),
    STR ("reason", 0, 500, reason),
    END,
};
static const Param user_params[] = {
    STR ("user", PARAM_REQUIRED | PARAM_LOGIN, 32, user),
    END,
};
static const Param block_params[] = {
    STR ("term", PARAM_REQUIRED | PARAM_NONEMPTY, 200, term),
    BOOL ("hold", hold),
    END,
};
static const Param unblock_params[] = {
    STR ("term", PARAM_REQUIRED | PARAM_NONEMPTY, 200, term),
    END,
};
/* Settings members come from settings.c's table, not from here. */
static const Param settings_params[] = {
    END,
};

/* Indexed by GcChatActionType. */
static const Param *const request_params[] = {
    [GC_CHAT_ACTION_JOIN] = join_params,
    [GC_CHAT_ACTION_SEND] = send_params,
    [GC_CHAT_ACTION_DELETE] = id_params,
    [GC_CHAT_ACTION_CLEAR] = clear_params,
    [GC_CHAT_ACTION_BAN] = ban_params,
    [GC_CHAT_ACTION_UNBAN] = unban_params,
    [GC_CHAT_ACTION_TIMEOUT] = timeout_params,
    [GC_CHAT_ACTION_UNTIMEOUT] = user_params,
    [GC_CHAT_ACTION_SETTINGS] = settings_params,
    [GC_CHAT_ACTION_MOD] = user_params,
    [GC_CHAT_ACTION_UNMOD] = user_params,
    [GC_CHAT_ACTION_VIP] = user_params,
    [GC_CHAT_ACTION_UNVIP] = user_params,
    [GC_CHAT_ACTION_BLOCK] = block_params,
    [GC_CHAT_ACTION_UNBLOCK] = unblock_params,
    [GC_CHAT_ACTION_APPROVE] = id_params,
    [GC_CHAT_ACTION_REJECT] = reject_params,
};

G_STATIC_ASSERT (G_N_ELEMENTS (request_params) == GC_CHAT_ACTION_REJECT + 1);

/* @format has exactly one %s, for the member's name. */
static gboolean
bad (GError **error, const gchar *format, const gchar *name)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST, format, name);
#pragma GCC diagnostic pop
  return FALSE;
}

static gboolean
read_param (JsonObject *object, const Param *param, GcChatAction *action,
            GError **error)
{
  JsonNode *node = json_object_get_member (object, param->name);
  guint8 *field = (guint8 *)action + param->offset;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (param->flags & PARAM_REQUIRED)
      return bad (error, "missing \"%s\"", param->name);
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node))
    return bad (error, "\"%s\" has the wrong type", param->name);

  switch (param->type) {
    case PARAM_STRING: {
      const gchar *s;

      if (json_node_get_value_type (node) != G_TYPE_STRING)
        return bad (error, "\"%s\" must be a string", param->name);
      s = json_node_get_string (node);
      /* json-glib turns an escape such as "\327" into a raw byte, so a
       * UTF-8 request can still carry a string that is not: never let one
       * reach other viewers (a browser closes a WebSocket on it). */
      if (!g_utf8_validate (s, -1, NULL))
        return bad (error, "\"%s\" is not valid UTF-8", param->name);
      if ((gint64)strlen (s) > param->max)
        return bad (error, "\"%s\" is too long", param->name);
      if (param->flags & PARAM_NONEMPTY) {
        g_autofree gchar *t = g_strstrip (g_strdup (s));

        if (*t == '\0')
          return bad (error, "\"%s\" is empty", param->name);
      }
      if ((param->flags & PARAM_LOGIN) && !gc_chat_login_is_valid (s))
        return bad (error, "\"%s\" is not a valid user name", param->name);
      if (param->flags & PARAM_ADDRESS) {
        g_autoptr (GInetAddress) a = g_inet_address_new_from_string (s);

        if (a == NULL)
          return bad (error, "\"%s\" is not an IP address", param->name);
      }
      g_free (*(gchar **)field);
      *(gchar **)field =
          (param->flags & PARAM_LOGIN) ? g_ascii_strdown (s, -1) : g_strdup (s);
      return TRUE;
    }
    case PARAM_INT: {
      gint64 v;

      if (json_node_get_value_type (node) != G_TYPE_INT64)
        return bad (error, "\"%s\" must be an integer", param->name);
      v = json_node_get_int (node);
      if (v < param->min || v > param->max)
        return bad (error, "\"%s\" is out of range", param->name);
      *(gint64 *)field = v;
      return TRUE;
    }
    case PARAM_BOOL:
      if (json_node_get_value_type (node) != G_TYPE_BOOLEAN)
        return bad (error, "\"%s\" must be true or false", param->name);
      *(gboolean *)field = json_node_get_boolean (node);
      return TRUE;
  }
  return FALSE;
}

/* Settings members: named by the settings table, booleans as true/false
 * and integers as numbers; "off" is accepted for the integer modes. */
static gboolean
read_settings (JsonObject *object, GcChatAction *action, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next) {
    const gchar *name = l->data;
    JsonNode *node = json_object_get_member (object, name);
    const GcChatSettingField *field;
    gint64 v;

    if (g_str_equal (name, "type") || g_str_equal (name, "nonce"))
      continue;
    field = gc_chat_setting_field_lookup (name);
    if (field == NULL) {
      /* A typo in a moderation setting must not pass silently. */
      return bad (error, "unknown setting \"%s\"", name);
    }
    if (!JSON_NODE_HOLDS_VALUE (node))
      return bad (error, "\"%s\" has the wrong type", name);
    if (json_node_get_value_type (node) == G_TYPE_BOOLEAN &&
        field->kind == GC_CHAT_SETTING_KIND_BOOL)
      v = json_node_get_boolean (node);
    else if (json_node_get_value_type (node) == G_TYPE_INT64 &&
             field->kind == GC_CHAT_SETTING_KIND_INT)
      v = json_node_get_int (node);
    else if (json_node_get_value_type (node) == G_TYPE_STRING &&
             field->kind == GC_CHAT_SETTING_KIND_INT &&
             g_strcmp0 (json_node_get_string (node), "off") == 0)
      v = field->min;
    else
      return bad (error, "\"%s\" has the wrong type", name);
    if (v < field->min || v > field->max)
      return bad (error, "\"%s\" is out of range", name);
    action->settings.mask |= field->bit;
    gc_chat_settings_set (&action->settings.values, field, v);
  }
  return gc_chat_settings_patch_validate (&action->settings, error);
}

GcChatAction *
gc_chat_protocol_parse_request_object (JsonObject *object, GError **error)
{
  const gchar *type_name;
  GcChatActionType type;
  g_autoptr (GcChatAction) action = NULL;
  Param nonce = STR ("nonce", 0, 64, nonce);

  type_name = gc_chat_json_string (object, "type", NULL);
  if (type_name == NULL) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "missing \"type\"");
    return NULL;
  }
  if (!gc_chat_action_type_from_string (type_name, &type)) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_UNKNOWN_TYPE,
                 "unknown request type");
    return NULL;
  }
  action = gc_chat_action_new (type);
  if (!read_param (object, &nonce, action, error))
    return NULL;
  for (const Param *p = request_params[type]; p->name != NULL; p++)
    if (!read_param (object, p, action, error))
      return NULL;

  switch (type) {
    case GC_CHAT_ACTION_SETTINGS:
      if (!read_settings (object, action, error))
        return NULL;
      break;
    case GC_CHAT_ACTION_BAN:
    case GC_CHAT_ACTION_UNBAN:
      if (action->user == NULL && action->address == NULL) {
        g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                     "needs \"user\" or \"address\"");
        return NULL;
      }
      break;
    case GC_CHAT_ACTION_SEND:
      /* Slash commands are the same actions as the JSON API; "//x" sends
       * the literal "/x". */
      if (gc_chat_command_is_command (action->text)) {
        GcChatAction *cmd = gc_chat_command_parse (action->text, error);

        if (cmd == NULL)
          return NULL;
        cmd->nonce = g_steal_pointer (&action->nonce);
        return cmd;
      }
      if (action->text[0] == '/') {
        gchar *unescaped = g_strdup (action->text + 1);

        g_free (action->text);
        action->text = unescaped;
      }
      break;
    default:
      break;
  }
  return g_steal_pointer (&action);
}

GcChatAction *
gc_chat_protocol_parse_request (const gchar *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > GC_CHAT_PROTOCOL_MAX_REQUEST) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "request too large");
    return NULL;
  }
  if (!g_utf8_validate_len (data, len, NULL)) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "request is not UTF-8");
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize)len, NULL)) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "request is not JSON");
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "request must be a JSON object");
    return NULL;
  }
  return gc_chat_protocol_parse_request_object (json_node_get_object (root),
                                                error);
}

/* ---- writers ---------------------------------------------------------- */

const gchar *
gc_chat_json_string (JsonObject *object, const gchar *name, const gchar *def)
{
  JsonNode *n = object ? json_object_get_member (object, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_STRING)
    return def;
  return json_node_get_string (n);
}

gint64
gc_chat_json_int (JsonObject *object, const gchar *name, gint64 def)
{
  JsonNode *n = object ? json_object_get_member (object, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_INT64)
    return def;
  return json_node_get_int (n);
}

JsonObject *
gc_chat_json_object (JsonObject *object, const gchar *name)
{
  JsonNode *n = object ? json_object_get_member (object, name) : NULL;

  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n)
                                                 : NULL;
}

void
gc_chat_json_append_string (GString *out, const gchar *s)
{
  static const gchar hex[] = "0123456789abcdef";

  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *)s; p && *p != '\0'; p++) {
    switch (*p) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (*p < 0x20) {
          g_string_append (out, "\\u00");
          g_string_append_c (out, hex[*p >> 4]);
          g_string_append_c (out, hex[*p & 0xf]);
        } else if (*p == 0xe2 && p[1] == 0x80 &&
                   (p[2] == 0xa8 || p[2] == 0xa9)) {
          /* U+2028/2029 are valid JSON but break JavaScript string
           * literals in older players; escaping them costs nothing. */
          g_string_append (out, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
          p += 2;
        } else {
          g_string_append_c (out, (gchar)*p);
        }
    }
  }
  g_string_append_c (out, '"');
}

static void
member (GString *out, gboolean *first, const gchar *name)
{
  if (!*first)
    g_string_append_c (out, ',');
  *first = FALSE;
  gc_chat_json_append_string (out, name);
  g_string_append_c (out, ':');
}

static void
member_string (GString *out, gboolean *first, const gchar *name,
               const gchar *value)
{
  if (value == NULL)
    return;
  member (out, first, name);
  gc_chat_json_append_string (out, value);
}

static void
member_int (GString *out, gboolean *first, const gchar *name, gint64 value)
{
  member (out, first, name);
  g_string_append_printf (out, "%" G_GINT64_FORMAT, value);
}

static void
member_bool (GString *out, gboolean *first, const gchar *name, gboolean value)
{
  member (out, first, name);
  g_string_append (out, value ? "true" : "false");
}

void
gc_chat_json_append_roles (GString *out, GcChatRoles roles)
{
  static const struct {
    GcChatRoles bit;
    const gchar *name;
  } names[] = {
      {GC_CHAT_ROLE_BROADCASTER, "broadcaster"},
      {GC_CHAT_ROLE_MODERATOR, "moderator"},
      {GC_CHAT_ROLE_VIP, "vip"},
      {GC_CHAT_ROLE_SUBSCRIBER, "subscriber"},
      {GC_CHAT_ROLE_BANNED, "banned"},
      {GC_CHAT_ROLE_TIMED_OUT, "timed_out"},
  };
  gboolean first = TRUE;

  g_string_append_c (out, '[');
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    if (!(roles & names[i].bit))
      continue;
    if (!first)
      g_string_append_c (out, ',');
    first = FALSE;
    gc_chat_json_append_string (out, names[i].name);
  }
  g_string_append_c (out, ']');
}

static GcChatRoles
roles_from_array (JsonArray *array)
{
  GcChatRoles roles = 0;

  for (guint i = 0; array && i < json_array_get_length (array); i++) {
    JsonNode *n = json_array_get_element (array, i);
    const gchar *s;

    if (!JSON_NODE_HOLDS_VALUE (n) ||
        json_node_get_value_type (n) != G_TYPE_STRING)
      continue;
    s = json_node_get_string (n);
    if (g_str_equal (s, "broadcaster"))
      roles |= GC_CHAT_ROLE_BROADCASTER;
    else if (g_str_equal (s, "moderator"))
      roles |= GC_CHAT_ROLE_MODERATOR;
    else if (g_str_equal (s, "vip"))
      roles |= GC_CHAT_ROLE_VIP;
    else if (g_str_equal (s, "subscriber"))
      roles |= GC_CHAT_ROLE_SUBSCRIBER;
  }
  return roles;
}

void
gc_chat_protocol_write_action (GString *out, const GcChatAction *action)
{
  gboolean first = TRUE;
  guint n_fields;
  const GcChatSettingField *fields = gc_chat_setting_fields (&n_fields);

  g_string_append_c (out, '{');
  member_string (out, &first, "type",
                 gc_chat_action_type_to_string (action->type));
  member_string (out, &first, "nonce", action->nonce);
  for (const Param *p = request_params[action->type]; p->name != NULL; p++) {
    const guint8 *field = (const guint8 *)action + p->offset;

    switch (p->type) {
      case PARAM_STRING: {
        const gchar *v = *(gchar *const *)field;

        /* A literal leading '/' goes out escaped as "//", so reading the
         * action back gives the same text and not a command. */
        if (v != NULL && v[0] == '/' &&
            p->offset == G_STRUCT_OFFSET (GcChatAction, text)) {
          g_autofree gchar *esc = g_strconcat ("/", v, NULL);

          member_string (out, &first, p->name, esc);
        } else {
          member_string (out, &first, p->name, v);
        }
        break;
      }
      case PARAM_INT:
        if (*(const gint64 *)field != 0 || (p->flags & PARAM_REQUIRED))
          member_int (out, &first, p->name, *(const gint64 *)field);
        break;
      case PARAM_BOOL:
        if (*(const gboolean *)field)
          member_bool (out, &first, p->name, TRUE);
        break;
    }
  }
  if (action->type == GC_CHAT_ACTION_SETTINGS) {
    for (guint i = 0; i < n_fields; i++) {
      gint64 v;

      if (!(action->settings.mask & fields[i].bit))
        continue;
      v = gc_chat_settings_get (&action->settings.values, &fields[i]);
      if (fields[i].kind == GC_CHAT_SETTING_KIND_BOOL)
        member_bool (out, &first, fields[i].name, v != 0);
      else
        member_int (out, &first, fields[i].name, v);
    }
  }
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_message (GString *out, const GcChatMessage *msg,
                                GcChatWriteFlags flags)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  if (!(flags & GC_CHAT_WRITE_NO_TYPE))
    member_string (out, &first, "type", "message");
  member_string (out, &first, "id", msg->id);
  member_string (out, &first, "user", msg->user);
  member_string (out, &first, "display_name", msg->display_name);
  member (out, &first, "badges");
  gc_chat_json_append_roles (
      out, msg->badges & (GC_CHAT_ROLE_BROADCASTER | GC_CHAT_ROLE_MODERATOR |
                          GC_CHAT_ROLE_VIP | GC_CHAT_ROLE_SUBSCRIBER));
  member_string (out, &first, "text", msg->text);
  member_int (out, &first, "ts", msg->ts_ms);
  member_string (out, &first, "reply_to", msg->reply_to);
  if (msg->kind == GC_CHAT_MESSAGE_TIP) {
    member_string (out, &first, "kind", "tip");
    member_int (out, &first, "amount", msg->amount);
    member_string (out, &first, "currency", msg->currency);
  }
  if (flags & GC_CHAT_WRITE_NONCE)
    member_string (out, &first, "nonce", msg->nonce);
  if (flags & GC_CHAT_WRITE_PENDING)
    member_bool (out, &first, "pending", TRUE);
  if (flags & GC_CHAT_WRITE_INTERNAL)
    member_int (out, &first, "release", msg->release_ms);
  g_string_append_c (out, '}');
}

/* A tip in the history ("kind":"tip"), or a tip frame ("type":"tip") as
 * another node publishes it: a positive integer amount in minor units and
 * an ISO 4217 code. */
static gboolean
parse_message_kind (JsonObject *object, GcChatMessage *msg, GError **error)
{
  const gchar *kind = gc_chat_json_string (object, "kind", NULL);
  const gchar *type = gc_chat_json_string (object, "type", NULL);
  const gchar *currency;
  JsonNode *amount;

  if (kind == NULL && g_strcmp0 (type, "tip") == 0)
    kind = "tip";
  if (kind == NULL)
    return TRUE;
  if (!g_str_equal (kind, "tip")) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "unknown message kind");
    return FALSE;
  }
  amount = json_object_get_member (object, "amount");
  currency = gc_chat_json_string (object, "currency", NULL);
  if (amount == NULL || !JSON_NODE_HOLDS_VALUE (amount) ||
      json_node_get_value_type (amount) != G_TYPE_INT64 ||
      json_node_get_int (amount) <= 0) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "a tip needs a positive integer amount in minor units");
    return FALSE;
  }
  if (currency == NULL || strlen (currency) != 3 ||
      !g_ascii_isupper (currency[0]) || !g_ascii_isupper (currency[1]) ||
      !g_ascii_isupper (currency[2])) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "a tip needs an ISO 4217 currency code");
    return FALSE;
  }
  msg->kind = GC_CHAT_MESSAGE_TIP;
  msg->amount = json_node_get_int (amount);
  msg->currency = g_strdup (currency);
  return TRUE;
}

GcChatMessage *
gc_chat_protocol_parse_message (JsonObject *object, const gchar *room,
                                GError **error)
{
  g_autoptr (GcChatMessage) msg = gc_chat_message_new ();
  JsonNode *badges = json_object_get_member (object, "badges");
  const gchar *display_name;

  if (!parse_message_kind (object, msg, error))
    return NULL;
  msg->id = g_strdup (gc_chat_json_string (object, "id", NULL));
  msg->user = g_strdup (gc_chat_json_string (object, "user", NULL));
  msg->text = g_strdup (gc_chat_json_string (
      object, "text", msg->kind == GC_CHAT_MESSAGE_TIP ? "" : NULL));
  if (msg->id == NULL || msg->user == NULL || msg->text == NULL) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "message needs id, user and text");
    return NULL;
  }
  msg->room = g_strdup (room);
  /* json-glib answers NULL for a member that is there but no string. */
  display_name = gc_chat_json_string (object, "display_name", NULL);
  msg->display_name = g_strdup (display_name ? display_name : msg->user);
  msg->reply_to = g_strdup (gc_chat_json_string (object, "reply_to", NULL));
  if (!g_utf8_validate (msg->id, -1, NULL) ||
      !g_utf8_validate (msg->user, -1, NULL) ||
      !g_utf8_validate (msg->text, -1, NULL) ||
      !g_utf8_validate (msg->display_name, -1, NULL) ||
      (msg->reply_to && !g_utf8_validate (msg->reply_to, -1, NULL))) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "message strings must be valid UTF-8");
    return NULL;
  }
  msg->ts_ms = gc_chat_json_int (object, "ts", 0);
  msg->release_ms = gc_chat_json_int (object, "release", msg->ts_ms);
  if (badges != NULL && JSON_NODE_HOLDS_ARRAY (badges))
    msg->badges = roles_from_array (json_node_get_array (badges));
  return g_steal_pointer (&msg);
}

void
gc_chat_protocol_write_delete (GString *out, const gchar *id)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "delete");
  member_string (out, &first, "id", id);
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_clear (GString *out, const gchar *user)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "clear");
  member_string (out, &first, "user", user);
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_notice (GString *out, const gchar *code,
                               const gchar *message)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "notice");
  member_string (out, &first, "code", code);
  member_string (out, &first, "message", message);
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_error (GString *out, const GError *error,
                              const gchar *nonce, gint64 retry_after_ms)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "error");
  member_string (out, &first, "code", gc_chat_error_name (error));
  member_string (out, &first, "message", error ? error->message : "");
  member_string (out, &first, "nonce", nonce);
  if (retry_after_ms > 0)
    member_int (out, &first, "retry_after_ms", retry_after_ms);
  g_string_append_c (out, '}');
}

static void
append_settings_members (GString *out, gboolean *first,
                         const GcChatSettings *settings)
{
  guint n_fields;
  const GcChatSettingField *fields = gc_chat_setting_fields (&n_fields);

  for (guint i = 0; i < n_fields; i++) {
    gint64 v = gc_chat_settings_get (settings, &fields[i]);

    if (fields[i].kind == GC_CHAT_SETTING_KIND_BOOL)
      member_bool (out, first, fields[i].name, v != 0);
    else
      member_int (out, first, fields[i].name, v);
  }
}

void
gc_chat_protocol_write_settings (GString *out, const GcChatSettings *settings)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "settings");
  append_settings_members (out, &first, settings);
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_tip (GString *out, const GcChatTip *tip)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "tip");
  member_string (out, &first, "id", tip->id);
  member_string (out, &first, "user", tip->user);
  member_string (out, &first, "display_name", tip->display_name);
  member_int (out, &first, "amount", tip->amount);
  member_string (out, &first, "currency", tip->currency);
  member_string (out, &first, "text", tip->text);
  member_int (out, &first, "ts", tip->ts_ms);
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_presence (GString *out, guint64 viewers)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "presence");
  member_int (out, &first, "viewers", (gint64)viewers);
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_held (GString *out, const GcChatMessage *msg,
                             const gchar *term)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "held");
  member_string (out, &first, "term", term);
  member (out, &first, "message");
  gc_chat_protocol_write_message (out, msg, GC_CHAT_WRITE_NO_TYPE);
  g_string_append_c (out, '}');
}

void
gc_chat_protocol_write_welcome (GString *out, const gchar *room,
                                const GcChatIdentity *you, GcChatRoles roles,
                                const GcChatSettings *settings,
                                GPtrArray *history, guint64 viewers)
{
  gboolean first = TRUE;
  gboolean sfirst = TRUE;

  g_string_append_c (out, '{');
  member_string (out, &first, "type", "welcome");
  member_string (out, &first, "room", room);
  member (out, &first, "you");
  if (you == NULL || gc_chat_identity_is_anonymous (you)) {
    g_string_append (out, "null");
  } else {
    gboolean yfirst = TRUE;

    g_string_append_c (out, '{');
    member_string (out, &yfirst, "user", gc_chat_identity_get_login (you));
    member_string (out, &yfirst, "display_name",
                   gc_chat_identity_get_display_name (you));
    member (out, &yfirst, "roles");
    gc_chat_json_append_roles (out, roles);
    g_string_append_c (out, '}');
  }
  member (out, &first, "settings");
  g_string_append_c (out, '{');
  append_settings_members (out, &sfirst, settings);
  g_string_append_c (out, '}');
  member (out, &first, "history");
  g_string_append_c (out, '[');
  for (guint i = 0; history && i < history->len; i++) {
    if (i > 0)
      g_string_append_c (out, ',');
    gc_chat_protocol_write_message (out, g_ptr_array_index (history, i),
                                    GC_CHAT_WRITE_NO_TYPE);
  }
  g_string_append_c (out, ']');
  member_int (out, &first, "viewers", (gint64)viewers);
  g_string_append_c (out, '}');
}

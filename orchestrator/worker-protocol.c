/* worker-protocol.c — parses, validates and writes the control lines of glasscastd <-> glasscast-worker.
 * Table-driven like Janus validates requests: one row per message type naming its fields and their kinds. */

#include "worker-protocol.h"

#include <string.h>

/* Deeper JSON than this is refused before json-glib sees it, so a hostile
 * line cannot recurse the parser off the stack. */
#define MAX_DEPTH 8

typedef enum {
  KIND_STRING,
  KIND_INT,    /* JSON integer */
  KIND_NUMBER, /* JSON integer or fraction */
  KIND_BOOL,
} FieldKind;

typedef struct {
  const gchar *name;
  FieldKind kind;
  gboolean required;
} FieldSpec;

#define MAX_FIELDS 12

typedef struct {
  GcWorkerMsgType type;
  const gchar *name;
  FieldSpec fields[MAX_FIELDS];
} MsgSpec;

static const MsgSpec specs[] = {
    {GC_WORKER_MSG_OFFER,
     "offer",
     {{"id", KIND_INT, TRUE}, {"sdp", KIND_STRING, TRUE}}},
    {GC_WORKER_MSG_ANSWER,
     "answer",
     {{"id", KIND_INT, TRUE},
      {"sdp", KIND_STRING, TRUE},
      {"session", KIND_STRING, FALSE}}},
    {GC_WORKER_MSG_CANDIDATE,
     "candidate",
     {{"candidate", KIND_STRING, FALSE},
      {"mline", KIND_INT, FALSE},
      {"mid", KIND_STRING, FALSE},
      {"end", KIND_BOOL, FALSE}}},
    {GC_WORKER_MSG_RESTART,
     "restart",
     {{"id", KIND_INT, TRUE}, {"sdpfrag", KIND_STRING, TRUE}}},
    {GC_WORKER_MSG_STATE,
     "state",
     {{"state", KIND_STRING, TRUE}, {"reason", KIND_STRING, FALSE}}},
    {GC_WORKER_MSG_STATS,
     "stats",
     {{"bitrate", KIND_NUMBER, FALSE},
      {"audio_bitrate", KIND_NUMBER, FALSE},
      {"fps", KIND_NUMBER, FALSE},
      {"width", KIND_INT, FALSE},
      {"height", KIND_INT, FALSE},
      {"keyframe_interval", KIND_NUMBER, FALSE},
      {"packets_received", KIND_INT, FALSE},
      {"packets_lost", KIND_INT, FALSE},
      {"packet_loss", KIND_NUMBER, FALSE},
      {"jitter", KIND_NUMBER, FALSE}}},
    {GC_WORKER_MSG_ERROR,
     "error",
     {{"id", KIND_INT, FALSE},
      {"code", KIND_STRING, TRUE},
      {"message", KIND_STRING, TRUE}}},
    {GC_WORKER_MSG_INJECT,
     "inject",
     {{"text", KIND_STRING, TRUE},
      {"description", KIND_STRING, FALSE},
      {"time", KIND_INT, FALSE}}},
    {GC_WORKER_MSG_STOP, "stop", {{"reason", KIND_STRING, FALSE}}},
    {GC_WORKER_MSG_HEARTBEAT, "heartbeat", {{"seq", KIND_INT, FALSE}}},
};

struct _GcWorkerMsg {
  gint ref_count;
  GcWorkerMsgType type;
  JsonObject *object; /* includes "type" */
};

static const MsgSpec *
spec_for_type (GcWorkerMsgType type)
{
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++) {
    if (specs[i].type == type)
      return &specs[i];
  }
  g_return_val_if_reached (NULL);
}

static const MsgSpec *
spec_for_name (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++) {
    if (strcmp (specs[i].name, name) == 0)
      return &specs[i];
  }
  return NULL;
}

const gchar *
gc_worker_msg_type_to_string (GcWorkerMsgType type)
{
  const MsgSpec *spec = spec_for_type (type);

  return spec ? spec->name : "unknown";
}

/* Whether brackets nest at most MAX_DEPTH deep outside strings. */
static gboolean
depth_is_bounded (const gchar *line, gsize len)
{
  gint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++) {
    gchar c = line[i];

    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > MAX_DEPTH)
        return FALSE;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return TRUE;
}

/* json-glib reads escapes such as "\327" as raw bytes, so a valid UTF-8
 * line can still hold strings that are not: every string of the message,
 * known field or not, is checked once (depth is bounded before parsing). */
static gboolean
strings_are_utf8 (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT: {
      JsonObjectIter it;
      const gchar *name;
      JsonNode *member;

      json_object_iter_init (&it, json_node_get_object (node));
      while (json_object_iter_next (&it, &name, &member)) {
        if (!g_utf8_validate (name, -1, NULL) || !strings_are_utf8 (member))
          return FALSE;
      }
      return TRUE;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++) {
        if (!strings_are_utf8 (json_array_get_element (a, i)))
          return FALSE;
      }
      return TRUE;
    }
    case JSON_NODE_VALUE:
      return json_node_get_value_type (node) != G_TYPE_STRING ||
             g_utf8_validate (json_node_get_string (node), -1, NULL);
    case JSON_NODE_NULL:
      return TRUE;
  }
  return FALSE;
}

static gboolean
field_has_kind (JsonNode *node, FieldKind kind)
{
  GType vt;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  vt = json_node_get_value_type (node);
  switch (kind) {
    case KIND_STRING:
      return vt == G_TYPE_STRING;
    case KIND_INT:
      return vt == G_TYPE_INT64;
    case KIND_NUMBER:
      return vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE;
    case KIND_BOOL:
      return vt == G_TYPE_BOOLEAN;
  }
  return FALSE;
}

static const gchar *
kind_name (FieldKind kind)
{
  switch (kind) {
    case KIND_STRING:
      return "a string";
    case KIND_INT:
      return "an integer";
    case KIND_NUMBER:
      return "a number";
    case KIND_BOOL:
      return "a boolean";
  }
  return "?";
}

GcWorkerMsg *
gc_worker_msg_parse (const gchar *line, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonNode *type_node;
  const MsgSpec *spec;
  GcWorkerMsg *msg;

  g_return_val_if_fail (line != NULL || len == 0, NULL);

  if (len > GC_WORKER_MAX_LINE) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "line of %" G_GSIZE_FORMAT " bytes is over the limit", len);
    return NULL;
  }
  if (len == 0 || memchr (line, '\0', len) != NULL ||
      !g_utf8_validate_len (line, len, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "line is empty, has a NUL byte or is not UTF-8");
    return NULL;
  }
  if (!depth_is_bounded (line, len)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "JSON nested deeper than %d", MAX_DEPTH);
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, line, (gssize)len, &local)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not JSON: %s",
                 local->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "not a JSON object");
    return NULL;
  }
  if (!strings_are_utf8 (root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "a string is not valid UTF-8 once unescaped");
    return NULL;
  }
  object = json_node_get_object (root);
  type_node = json_object_get_member (object, "type");
  if (type_node == NULL || !field_has_kind (type_node, KIND_STRING)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "no string \"type\"");
    return NULL;
  }
  spec = spec_for_name (json_node_get_string (type_node));
  if (spec == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "unknown message type");
    return NULL;
  }
  for (guint i = 0; i < MAX_FIELDS && spec->fields[i].name != NULL; i++) {
    const FieldSpec *f = &spec->fields[i];
    JsonNode *node = json_object_get_member (object, f->name);

    if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
      if (f->required) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "\"%s\" needs \"%s\"", spec->name, f->name);
        return NULL;
      }
      continue;
    }
    if (!field_has_kind (node, f->kind)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "\"%s\".\"%s\" must be %s", spec->name, f->name,
                   kind_name (f->kind));
      return NULL;
    }
  }

  msg = g_new0 (GcWorkerMsg, 1);
  msg->ref_count = 1;
  msg->type = spec->type;
  msg->object = json_object_ref (object);
  return msg;
}

GcWorkerMsg *
gc_worker_msg_new (GcWorkerMsgType type)
{
  const MsgSpec *spec = spec_for_type (type);
  GcWorkerMsg *msg;

  g_return_val_if_fail (spec != NULL, NULL);

  msg = g_new0 (GcWorkerMsg, 1);
  msg->ref_count = 1;
  msg->type = type;
  msg->object = json_object_new ();
  json_object_set_string_member (msg->object, "type", spec->name);
  return msg;
}

GcWorkerMsg *
gc_worker_msg_ref (GcWorkerMsg *msg)
{
  g_return_val_if_fail (msg != NULL, NULL);
  g_atomic_int_inc (&msg->ref_count);
  return msg;
}

void
gc_worker_msg_unref (GcWorkerMsg *msg)
{
  if (msg == NULL || !g_atomic_int_dec_and_test (&msg->ref_count))
    return;
  json_object_unref (msg->object);
  g_free (msg);
}

GcWorkerMsgType
gc_worker_msg_get_msg_type (const GcWorkerMsg *msg)
{
  return msg->type;
}

static JsonNode *
value_member (const GcWorkerMsg *msg, const gchar *field, GType type)
{
  JsonNode *node;

  g_return_val_if_fail (msg != NULL && field != NULL, NULL);

  node = json_object_get_member (msg->object, field);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  if (type == G_TYPE_DOUBLE)
    return json_node_get_value_type (node) == G_TYPE_DOUBLE ||
                   json_node_get_value_type (node) == G_TYPE_INT64
               ? node
               : NULL;
  return json_node_get_value_type (node) == type ? node : NULL;
}

const gchar *
gc_worker_msg_get_string (const GcWorkerMsg *msg, const gchar *field)
{
  JsonNode *node = value_member (msg, field, G_TYPE_STRING);

  return node ? json_node_get_string (node) : NULL;
}

gint64
gc_worker_msg_get_int (const GcWorkerMsg *msg, const gchar *field, gint64 def)
{
  JsonNode *node = value_member (msg, field, G_TYPE_INT64);

  return node ? json_node_get_int (node) : def;
}

gdouble
gc_worker_msg_get_double (const GcWorkerMsg *msg, const gchar *field,
                          gdouble def)
{
  JsonNode *node = value_member (msg, field, G_TYPE_DOUBLE);

  return node ? json_node_get_double (node) : def;
}

gboolean
gc_worker_msg_get_bool (const GcWorkerMsg *msg, const gchar *field,
                        gboolean def)
{
  JsonNode *node = value_member (msg, field, G_TYPE_BOOLEAN);

  return node ? json_node_get_boolean (node) : def;
}

gboolean
gc_worker_msg_has (const GcWorkerMsg *msg, const gchar *field)
{
  g_return_val_if_fail (msg != NULL && field != NULL, FALSE);
  return json_object_has_member (msg->object, field);
}

void
gc_worker_msg_set_string (GcWorkerMsg *msg, const gchar *field,
                          const gchar *value)
{
  g_return_if_fail (msg != NULL && field != NULL);
  if (value != NULL)
    json_object_set_string_member (msg->object, field, value);
}

void
gc_worker_msg_set_int (GcWorkerMsg *msg, const gchar *field, gint64 value)
{
  g_return_if_fail (msg != NULL && field != NULL);
  json_object_set_int_member (msg->object, field, value);
}

void
gc_worker_msg_set_double (GcWorkerMsg *msg, const gchar *field, gdouble value)
{
  g_return_if_fail (msg != NULL && field != NULL);
  json_object_set_double_member (msg->object, field, value);
}

void
gc_worker_msg_set_bool (GcWorkerMsg *msg, const gchar *field, gboolean value)
{
  g_return_if_fail (msg != NULL && field != NULL);
  json_object_set_boolean_member (msg->object, field, value);
}

gchar *
gc_worker_msg_to_line (const GcWorkerMsg *msg)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  g_return_val_if_fail (msg != NULL, NULL);

  json_node_set_object (root, msg->object);
  /* json-glib escapes control characters, so a newline in a value (an SDP
   * has many) can never end the line early. */
  text = json_to_string (root, FALSE);
  return g_strconcat (text, "\n", NULL);
}

/* ------------------------------------------------------------ lines */

struct _GcLineBuffer {
  GByteArray *bytes;
  gsize scanned; /* bytes known to hold no newline */
  gboolean overflow;
};

GcLineBuffer *
gc_line_buffer_new (void)
{
  GcLineBuffer *buf = g_new0 (GcLineBuffer, 1);

  buf->bytes = g_byte_array_new ();
  return buf;
}

void
gc_line_buffer_free (GcLineBuffer *buf)
{
  if (buf == NULL)
    return;
  g_byte_array_unref (buf->bytes);
  g_free (buf);
}

gboolean
gc_line_buffer_push (GcLineBuffer *buf, const guint8 *data, gsize len)
{
  g_return_val_if_fail (buf != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (buf->overflow)
    return FALSE;
  g_byte_array_append (buf->bytes, data, (guint)len);
  /* Only the unterminated tail can grow without bound; complete lines are
   * bounded by gc_worker_msg_parse(). */
  {
    const guint8 *last = NULL;
    gsize tail;

    for (gsize i = buf->bytes->len; i > buf->scanned; i--) {
      if (buf->bytes->data[i - 1] == '\n') {
        last = buf->bytes->data + i - 1;
        break;
      }
    }
    tail = last ? (gsize)(buf->bytes->data + buf->bytes->len - last - 1)
                : buf->bytes->len;

    if (last == NULL)
      buf->scanned = buf->bytes->len;
    if (tail > GC_WORKER_MAX_LINE) {
      buf->overflow = TRUE;
      return FALSE;
    }
  }
  return TRUE;
}

gchar *
gc_line_buffer_pop (GcLineBuffer *buf, gsize *len)
{
  const guint8 *nl;
  gsize n;
  gchar *line;

  g_return_val_if_fail (buf != NULL, NULL);

  if (buf->overflow || buf->bytes->len == 0)
    return NULL;
  nl = memchr (buf->bytes->data, '\n', buf->bytes->len);
  if (nl == NULL) {
    buf->scanned = buf->bytes->len;
    return NULL;
  }
  n = (gsize)(nl - buf->bytes->data);
  line = g_malloc (n + 1);
  memcpy (line, buf->bytes->data, n);
  line[n] = '\0';
  g_byte_array_remove_range (buf->bytes, 0, (guint)(n + 1));
  buf->scanned = 0;
  if (n > 0 && line[n - 1] == '\r')
    line[--n] = '\0';
  if (len != NULL)
    *len = n;
  return line;
}

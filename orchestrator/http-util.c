/* http-util.c — error replies and CORS for every glasscastd HTTP handler.
 * Like nginx's one status table: handlers raise GErrors, only this file decides what status a client sees. */

#include "http-util.h"

#include <json-glib/json-glib.h>

#include "channel-error.h"
#include "chat-error.h"
#include "origin-error.h"

/* RFC 6585; libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

typedef struct {
  gint code;
  guint status;
  const gchar *name;
} ErrorInfo;

static const ErrorInfo origin_errors[] = {
    {GC_ORIGIN_ERROR_BAD_REQUEST, SOUP_STATUS_BAD_REQUEST, "bad_request"},
    {GC_ORIGIN_ERROR_NOT_FOUND, SOUP_STATUS_NOT_FOUND, "not_found"},
    {GC_ORIGIN_ERROR_FORBIDDEN, SOUP_STATUS_FORBIDDEN, "forbidden"},
    {GC_ORIGIN_ERROR_METHOD, SOUP_STATUS_METHOD_NOT_ALLOWED,
     "method_not_allowed"},
    {GC_ORIGIN_ERROR_TOO_MANY_HELD, STATUS_TOO_MANY_REQUESTS,
     "too_many_held_requests"},
    {GC_ORIGIN_ERROR_UNAVAILABLE, SOUP_STATUS_SERVICE_UNAVAILABLE,
     "unavailable"},
    {GC_ORIGIN_ERROR_INTERNAL, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal"},
};

/* WHIP (RFC 9725 4.2, 4.3) and the channel API. */
static const ErrorInfo channel_errors[] = {
    {GC_CHANNEL_ERROR_BAD_REQUEST, SOUP_STATUS_BAD_REQUEST, "bad_request"},
    {GC_CHANNEL_ERROR_UNAUTHORIZED, SOUP_STATUS_UNAUTHORIZED, "unauthorized"},
    {GC_CHANNEL_ERROR_FORBIDDEN, SOUP_STATUS_FORBIDDEN, "forbidden"},
    {GC_CHANNEL_ERROR_NOT_FOUND, SOUP_STATUS_NOT_FOUND, "not_found"},
    {GC_CHANNEL_ERROR_METHOD, SOUP_STATUS_METHOD_NOT_ALLOWED,
     "method_not_allowed"},
    {GC_CHANNEL_ERROR_NOT_ACCEPTABLE, SOUP_STATUS_NOT_ACCEPTABLE,
     "unsupported_codecs"},
    {GC_CHANNEL_ERROR_CONFLICT, SOUP_STATUS_CONFLICT, "conflict"},
    {GC_CHANNEL_ERROR_PRECONDITION, SOUP_STATUS_PRECONDITION_FAILED,
     "precondition_failed"},
    {GC_CHANNEL_ERROR_TOO_LARGE, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
     "too_large"},
    {GC_CHANNEL_ERROR_MEDIA_TYPE, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
     "unsupported_media_type"},
    {GC_CHANNEL_ERROR_UNPROCESSABLE, SOUP_STATUS_UNPROCESSABLE_ENTITY,
     "unprocessable"},
    {GC_CHANNEL_ERROR_UNAVAILABLE, SOUP_STATUS_SERVICE_UNAVAILABLE,
     "unavailable"},
    {GC_CHANNEL_ERROR_INTERNAL, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal"},
};

/* Chat refusals over the JSON API; on the WebSocket they are error frames
 * with the same names (chat/PROTOCOL.md). */
static const ErrorInfo chat_errors[] = {
    {GC_CHAT_ERROR_BAD_REQUEST, SOUP_STATUS_BAD_REQUEST, "bad_request"},
    {GC_CHAT_ERROR_UNKNOWN_TYPE, SOUP_STATUS_BAD_REQUEST, "unknown_type"},
    {GC_CHAT_ERROR_UNKNOWN_COMMAND, SOUP_STATUS_BAD_REQUEST, "unknown_command"},
    {GC_CHAT_ERROR_LOGIN_REQUIRED, SOUP_STATUS_UNAUTHORIZED, "login_required"},
    {GC_CHAT_ERROR_FORBIDDEN, SOUP_STATUS_FORBIDDEN, "forbidden"},
    {GC_CHAT_ERROR_BANNED, SOUP_STATUS_FORBIDDEN, "banned"},
    {GC_CHAT_ERROR_TIMED_OUT, SOUP_STATUS_FORBIDDEN, "timed_out"},
    {GC_CHAT_ERROR_EMPTY, SOUP_STATUS_BAD_REQUEST, "empty"},
    {GC_CHAT_ERROR_TOO_LONG, SOUP_STATUS_BAD_REQUEST, "too_long"},
    {GC_CHAT_ERROR_RATE_LIMITED, STATUS_TOO_MANY_REQUESTS, "rate_limited"},
    {GC_CHAT_ERROR_SLOW_MODE, STATUS_TOO_MANY_REQUESTS, "slow_mode"},
    {GC_CHAT_ERROR_SUBSCRIBERS_ONLY, SOUP_STATUS_FORBIDDEN, "subscribers_only"},
    {GC_CHAT_ERROR_FOLLOWERS_ONLY, SOUP_STATUS_FORBIDDEN, "followers_only"},
    {GC_CHAT_ERROR_ACCOUNT_TOO_NEW, SOUP_STATUS_FORBIDDEN, "account_too_new"},
    {GC_CHAT_ERROR_EMOTE_ONLY, SOUP_STATUS_UNPROCESSABLE_ENTITY, "emote_only"},
    {GC_CHAT_ERROR_DUPLICATE, SOUP_STATUS_UNPROCESSABLE_ENTITY, "duplicate"},
    {GC_CHAT_ERROR_BLOCKED_TERM, SOUP_STATUS_UNPROCESSABLE_ENTITY,
     "blocked_term"},
    {GC_CHAT_ERROR_NOT_FOUND, SOUP_STATUS_NOT_FOUND, "not_found"},
    {GC_CHAT_ERROR_STORAGE, SOUP_STATUS_INTERNAL_SERVER_ERROR, "storage"},
    {GC_CHAT_ERROR_INTERNAL, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal"},
};

static const ErrorInfo *
lookup_in (const ErrorInfo *table, guint n, gint code)
{
  for (guint i = 0; i < n; i++) {
    if (table[i].code == code)
      return &table[i];
  }
  return NULL;
}

static const ErrorInfo *
lookup (const GError *error)
{
  if (error == NULL)
    return NULL;
  if (error->domain == GC_ORIGIN_ERROR)
    return lookup_in (origin_errors, G_N_ELEMENTS (origin_errors), error->code);
  if (error->domain == GC_CHANNEL_ERROR)
    return lookup_in (channel_errors, G_N_ELEMENTS (channel_errors),
                      error->code);
  if (error->domain == GC_CHAT_ERROR)
    return lookup_in (chat_errors, G_N_ELEMENTS (chat_errors), error->code);
  return NULL;
}

guint
gc_http_error_to_status (const GError *error)
{
  const ErrorInfo *info;

  g_return_val_if_fail (error != NULL, SOUP_STATUS_INTERNAL_SERVER_ERROR);

  info = lookup (error);
  if (info != NULL)
    return info->status;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
      g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return SOUP_STATUS_NOT_FOUND;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) ||
      g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_ACCES))
    return SOUP_STATUS_FORBIDDEN;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return SOUP_STATUS_SERVICE_UNAVAILABLE;
  return SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

const gchar *
gc_http_error_code (const GError *error)
{
  const ErrorInfo *info;

  g_return_val_if_fail (error != NULL, "internal");

  info = lookup (error);
  if (info != NULL)
    return info->name;
  switch (gc_http_error_to_status (error)) {
    case SOUP_STATUS_NOT_FOUND:
      return "not_found";
    case SOUP_STATUS_FORBIDDEN:
      return "forbidden";
    case SOUP_STATUS_SERVICE_UNAVAILABLE:
      return "unavailable";
    default:
      return "internal";
  }
}

const gchar *
gc_http_json_string (JsonObject *object, const gchar *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gboolean
gc_http_json_int (JsonObject *object, const gchar *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

void
gc_http_reply_json (SoupServerMessage *msg, guint status, JsonBuilder *b)
{
  g_autoptr (JsonNode) root = NULL;
  gchar *text;

  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));
  g_return_if_fail (JSON_IS_BUILDER (b));

  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  gc_http_set_cors (msg);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    text, strlen (text));
}

gchar *
gc_http_json_error_body (const gchar *code, const gchar *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

void
gc_http_set_json_error (SoupServerMessage *msg, const gchar *code,
                        const gchar *message)
{
  gchar *body;

  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  body = gc_http_json_error_body (code, message);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    body, strlen (body));
}

void
gc_http_reply_error (SoupServerMessage *msg, const GError *error)
{
  SoupMessageHeaders *h;
  guint status;

  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));
  g_return_if_fail (error != NULL);

  status = gc_http_error_to_status (error);
  soup_server_message_set_status (
      msg, status,
      status == STATUS_TOO_MANY_REQUESTS ? "Too Many Requests" : NULL);
  h = soup_server_message_get_response_headers (msg);
  /* An edge must never remember a miss: the next part 404s only until it
   * exists. */
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  /* A handler with other methods sets its own Allow before replying. */
  if ((g_error_matches (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_METHOD) ||
       g_error_matches (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_METHOD)) &&
      soup_message_headers_get_one (h, "Allow") == NULL)
    soup_message_headers_replace (h, "Allow", "GET, HEAD, OPTIONS");
  if (status == SOUP_STATUS_UNAUTHORIZED)
    soup_message_headers_replace (h, "WWW-Authenticate", "Bearer");
  gc_http_set_cors (msg);
  gc_http_set_json_error (msg, gc_http_error_code (error), error->message);
}

void
gc_http_set_cors (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  /* Players read these to measure latency and debug caching. */
  soup_message_headers_replace (h, "Access-Control-Expose-Headers",
                                "Age, Date, Content-Length, Cache-Control");
}

void
gc_http_reply_preflight (SoupServerMessage *msg)
{
  gc_http_reply_preflight_for (msg, "GET, HEAD, OPTIONS",
                               "Range, Content-Type");
}

void
gc_http_reply_preflight_for (SoupServerMessage *msg, const gchar *methods,
                             const gchar *headers)
{
  SoupMessageHeaders *h;

  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));
  g_return_if_fail (methods != NULL && headers != NULL);

  h = soup_server_message_get_response_headers (msg);
  gc_http_set_cors (msg);
  soup_message_headers_replace (h, "Access-Control-Allow-Methods", methods);
  soup_message_headers_replace (h, "Access-Control-Allow-Headers", headers);
  soup_message_headers_replace (h, "Access-Control-Max-Age", "86400");
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

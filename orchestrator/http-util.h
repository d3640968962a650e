/* http-util.h — what every glasscastd HTTP handler shares: the one GError -> status mapping,
 * JSON error bodies, CORS headers. */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The HTTP status for @error: the single place where internal errors
 * become statuses. */
guint gc_http_error_to_status (const GError *error);

/* A stable machine-readable code for @error ("bad_request", ...). */
const gchar *gc_http_error_code (const GError *error);

/* Replies with the status for @error and
 * {"error":{"code":...,"message":...}}, never cacheable. */
void gc_http_reply_error (SoupServerMessage *msg, const GError *error);

/* Replies @status with @b's JSON as the body, with CORS headers, never
 * cacheable (API answers carry tokens, keys and moment-to-moment state). */
void gc_http_reply_json (SoupServerMessage *msg, guint status, JsonBuilder *b);

/* Members of a request's JSON object, by type, without the GLib criticals
 * json-glib's own getters raise on a type mismatch.
 * Returns: (nullable): the string member @name, NULL when absent or not a
 * string. */
const gchar *gc_http_json_string (JsonObject *object, const gchar *name);

/* TRUE with *@out set when @name is an integer member (not a fraction, not
 * a string); FALSE when absent or of another type. */
gboolean gc_http_json_int (JsonObject *object, const gchar *name, gint64 *out);

/* Returns: (transfer full): {"error":{"code":...,"message":...}}, the one
 * error body every API answers with (for replies built off the main
 * context, to send later). */
gchar *gc_http_json_error_body (const gchar *code, const gchar *message);

/* Sets a JSON error body (not the status). */
void gc_http_set_json_error (SoupServerMessage *msg, const gchar *code,
                             const gchar *message);

/* Adds the CORS response headers browser players need. */
void gc_http_set_cors (SoupServerMessage *msg);

/* Answers an OPTIONS preflight (204 with CORS headers). */
void gc_http_reply_preflight (SoupServerMessage *msg);

/* Answers an OPTIONS preflight allowing @methods and request @headers. */
void gc_http_reply_preflight_for (SoupServerMessage *msg, const gchar *methods,
                                  const gchar *headers);

G_END_DECLS

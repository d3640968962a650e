/* whiphttp.c — the WHIP endpoint of whipserversrc: maps RFC 9725 requests
 * to the element's offer/end callbacks and its replies to HTTP statuses. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whiphttp.h"
#include "gstwhipserversrc.h"

#include <libsoup/soup.h>
#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_whip_server_src_debug);
#define GST_CAT_DEFAULT gst_whip_server_src_debug

/* Every WHIP client sends Content-Length; a larger body is no SDP offer. */
#define MAX_BODY (64 * 1024)

struct _WhipHttp {
  GMainContext *context;
  SoupServer *server;
  guint port;
  gchar *token; /* NULL: no authentication */
  gchar **links;
  WhipHttpCallbacks callbacks;
  gpointer user_data;
  /* Session resource paths handed out in Location, to their session ids.
   * Only touched in `context`. */
  GHashTable *sessions;
};

/* A POST waiting for the element's answer; the SoupServerMessage is paused
 * meanwhile. */
typedef struct {
  WhipHttp *http; /* used only in `context`, where it is still alive */
  GMainContext *context;
  SoupServerMessage *msg;
  gchar *path;
  GstStructure *reply;
} WhipHttpPending;

static void
pending_free (WhipHttpPending *p)
{
  g_clear_object (&p->msg);
  g_main_context_unref (p->context);
  g_clear_pointer (&p->reply, gst_structure_free);
  g_free (p->path);
  g_free (p);
}

/* Compares through SHA-256 digests so neither the token's content nor its
 * length shows in the time taken. */
gboolean
whip_http_token_equal (const gchar *expected, const gchar *given)
{
  guint8 a[32], b[32];
  gsize alen = sizeof a, blen = sizeof b;
  GChecksum *ca, *cb;
  guint8 diff = 0;

  g_return_val_if_fail (expected != NULL, FALSE);

  if (!given)
    return FALSE;
  ca = g_checksum_new (G_CHECKSUM_SHA256);
  cb = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (ca, (const guchar *)expected, -1);
  g_checksum_update (cb, (const guchar *)given, -1);
  g_checksum_get_digest (ca, a, &alen);
  g_checksum_get_digest (cb, b, &blen);
  g_checksum_free (ca);
  g_checksum_free (cb);
  for (gsize i = 0; i < sizeof a; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

static gboolean
authorized (WhipHttp *http, SoupServerMessage *msg)
{
  const gchar *auth;

  if (!http->token)
    return TRUE;
  auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return FALSE;
  auth += 7;
  while (*auth == ' ')
    auth++;
  return whip_http_token_equal (http->token, auth);
}

/* CORS for browser publishers, on every response. */
static void
add_cors (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (h, "Access-Control-Allow-Methods",
                                "POST, DELETE, PATCH, OPTIONS");
  soup_message_headers_replace (h, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, If-Match");
  soup_message_headers_replace (h, "Access-Control-Expose-Headers",
                                "Location, ETag, Link, Accept-Post");
}

static void
reply_text (SoupServerMessage *msg, guint status, const gchar *text)
{
  g_autofree gchar *body = g_strconcat (text, "\n", NULL);

  add_cors (msg);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
                                    SOUP_MEMORY_COPY, body, strlen (body));
}

static void
reply_unauthorized (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "WWW-Authenticate", "Bearer");
  reply_text (msg, SOUP_STATUS_UNAUTHORIZED, "missing or wrong bearer token");
}

static void
reply_not_allowed (SoupServerMessage *msg, const gchar *allow)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Allow", allow);
  reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
}

/* Runs in http->context with the element's reply. */
static gboolean
pending_respond (gpointer data)
{
  WhipHttpPending *p = data;
  WhipHttp *http = p->http;
  SoupServerMessage *msg = p->msg;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  guint status = 500;
  const gchar *answer, *id, *error;

  gst_structure_get_uint (p->reply, "status", &status);
  answer = gst_structure_get_string (p->reply, "answer");
  id = gst_structure_get_string (p->reply, "session-id");
  error = gst_structure_get_string (p->reply, "error");

  if (status == SOUP_STATUS_CREATED && answer && id) {
    g_autofree gchar *base = g_strdup (p->path);
    g_autofree gchar *location = NULL;
    g_autofree gchar *etag = g_strdup_printf ("\"%s\"", id);
    gsize n = strlen (base);

    while (n > 0 && base[n - 1] == '/')
      base[--n] = '\0';
    location = g_strdup_printf ("%s/%s", base, id);
    g_hash_table_replace (http->sessions, g_strdup (location), g_strdup (id));

    add_cors (msg);
    soup_message_headers_replace (h, "Location", location);
    soup_message_headers_replace (h, "ETag", etag);
    for (guint i = 0; http->links && http->links[i]; i++)
      soup_message_headers_append (h, "Link", http->links[i]);
    soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
    soup_server_message_set_response (msg, "application/sdp", SOUP_MEMORY_COPY,
                                      answer, strlen (answer));
    GST_INFO ("WHIP session %s created at %s", id, location);
  } else {
    if (status < 400 || status > 599)
      status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
    GST_INFO ("WHIP offer refused with %u: %s", status, error);
    reply_text (msg, status, error ? error : "offer refused");
  }
  soup_server_message_unpause (msg);
  return G_SOURCE_REMOVE;
}

/* The element replied, from any thread: hand the reply to http->context.
 * An idle source, not g_main_context_invoke: the reply may come from
 * inside the handler itself, before libsoup expects an unpause. */
static void
pending_replied (GstPromise *promise, gpointer data)
{
  WhipHttpPending *p = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GSource *idle = g_idle_source_new ();

  p->reply = reply ? gst_structure_copy (reply)
                   : gst_structure_new (GST_WHIP_SERVER_SRC_ANSWER, "status",
                                        G_TYPE_UINT, 500, "error",
                                        G_TYPE_STRING, "no answer", NULL);
  g_source_set_callback (idle, pending_respond, p,
                         (GDestroyNotify)pending_free);
  g_source_attach (idle, p->context);
  g_source_unref (idle);
}

static void
handle_post (WhipHttp *http, SoupServerMessage *msg, const char *path)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const gchar *type = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);
  g_autoptr (GBytes) bytes = NULL;
  WhipHttpPending *p;
  GstPromise *promise;

  if (!type || g_ascii_strcasecmp (type, "application/sdp") != 0) {
    reply_text (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/sdp");
    return;
  }
  bytes = soup_message_body_flatten (body);

  p = g_new0 (WhipHttpPending, 1);
  p->http = http;
  p->context = g_main_context_ref (http->context);
  p->msg = g_object_ref (msg);
  p->path = g_strdup (path);
  promise = gst_promise_new_with_change_func (pending_replied, p, NULL);
  soup_server_message_pause (msg);
  http->callbacks.offer (http->user_data, g_bytes_get_data (bytes, NULL),
                         g_bytes_get_size (bytes), promise);
  gst_promise_unref (promise);
}

static void
handle_session (WhipHttp *http, SoupServerMessage *msg, const char *path,
                const gchar *id)
{
  const gchar *method = soup_server_message_get_method (msg);

  if (method == SOUP_METHOD_DELETE) {
    gboolean ended = http->callbacks.end (http->user_data, id);

    g_hash_table_remove (http->sessions, path);
    if (ended)
      reply_text (msg, SOUP_STATUS_OK, "session ended");
    else
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
  } else if (g_strcmp0 (method, "PATCH") == 0) {
    /* RFC 9725 4.3.1: a resource without trickle ICE or ICE restart
     * answers PATCH with 405; our answers carry every candidate. */
    reply_not_allowed (msg, "DELETE, OPTIONS");
  } else {
    reply_not_allowed (msg, "DELETE, OPTIONS");
  }
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path,
         GHashTable *query, gpointer user_data)
{
  WhipHttp *http = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *id = g_hash_table_lookup (http->sessions, path);

  if (method == SOUP_METHOD_OPTIONS) {
    SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

    add_cors (msg);
    soup_message_headers_replace (h, "Allow",
                                  id ? "DELETE, OPTIONS" : "POST, OPTIONS");
    if (!id)
      soup_message_headers_replace (h, "Accept-Post", "application/sdp");
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
    return;
  }
  if (id) {
    handle_session (http, msg, path, id);
  } else if (method == SOUP_METHOD_POST) {
    handle_post (http, msg, path);
  } else if (method == SOUP_METHOD_DELETE || g_strcmp0 (method, "PATCH") == 0) {
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "no such session");
  } else {
    reply_not_allowed (msg, "POST, OPTIONS");
  }
}

/* Before the body is read: refuse unauthenticated or oversized requests
 * without reading them. A status set here ends the request. */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
               GHashTable *query, gpointer user_data)
{
  WhipHttp *http = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  if (method == SOUP_METHOD_OPTIONS)
    return;
  if (!authorized (http, msg)) {
    reply_unauthorized (msg);
    return;
  }
  if (method == SOUP_METHOD_POST) {
    if (soup_message_headers_get_encoding (h) != SOUP_ENCODING_CONTENT_LENGTH) {
      reply_text (msg, SOUP_STATUS_LENGTH_REQUIRED, "Content-Length required");
    } else if (soup_message_headers_get_content_length (h) > MAX_BODY) {
      reply_text (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "offer too large");
    }
  }
}

/**
 * whip_http_new:
 * @context: where requests are handled and callbacks called
 * @address: IP address to listen on
 * @port: TCP port, 0 for one chosen by the OS
 * @bearer_token: (nullable): required in every POST/DELETE/PATCH
 * @links: (nullable): Link header values for the 201 (ICE servers)
 * @callbacks: the element's side
 * @user_data: for @callbacks
 * @error: where a bind failure is reported
 *
 * Returns: (transfer full) (nullable): a listening endpoint
 */
WhipHttp *
whip_http_new (GMainContext *context, const gchar *address, guint port,
               const gchar *bearer_token, const gchar *const *links,
               const WhipHttpCallbacks *callbacks, gpointer user_data,
               GError **error)
{
  WhipHttp *http;
  g_autoptr (GSocketAddress) addr = NULL;
  GSList *uris;
  gboolean ok;

  g_return_val_if_fail (context != NULL, NULL);
  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (callbacks != NULL, NULL);

  addr = g_inet_socket_address_new_from_string (address, port);
  if (!addr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "'%s' is not an IP address", address);
    return NULL;
  }

  http = g_new0 (WhipHttp, 1);
  http->context = g_main_context_ref (context);
  http->token = bearer_token && *bearer_token ? g_strdup (bearer_token) : NULL;
  http->links = g_strdupv ((gchar **)links);
  http->callbacks = *callbacks;
  http->user_data = user_data;
  http->sessions =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* libsoup attaches its sources to the thread-default context. */
  g_main_context_push_thread_default (context);
  http->server = soup_server_new ("server-header", "glasscast-whip ", NULL);
  soup_server_add_early_handler (http->server, NULL, early_handler, http, NULL);
  soup_server_add_handler (http->server, NULL, handler, http, NULL);
  ok = soup_server_listen (http->server, addr, 0, error);
  g_main_context_pop_thread_default (context);
  if (!ok) {
    whip_http_free (http);
    return NULL;
  }

  uris = soup_server_get_uris (http->server);
  if (uris)
    http->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return http;
}

guint
whip_http_get_port (WhipHttp *http)
{
  g_return_val_if_fail (http != NULL, 0);

  return http->port;
}

/* Call with http->context not running (or from it). */
void
whip_http_free (WhipHttp *http)
{
  if (!http)
    return;
  if (http->server) {
    g_main_context_push_thread_default (http->context);
    soup_server_disconnect (http->server);
    g_clear_object (&http->server);
    g_main_context_pop_thread_default (http->context);
  }
  if (http->token)
    memset (http->token, 0, strlen (http->token));
  g_free (http->token);
  g_strfreev (http->links);
  g_hash_table_unref (http->sessions);
  g_main_context_unref (http->context);
  g_free (http);
}

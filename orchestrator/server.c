/* server.c — the SoupServer of glasscastd: listening, /healthz, /metrics, request accounting.
 * Everything runs on the main context, like the rest of glasscastd's state. */

#include "server.h"

#include <string.h>

#include "api.h"
#include "chat-http.h"
#include "http-util.h"
#include "metrics.h"
#include "origin-error.h"
#include "web.h"
#include "whip.h"

struct _GcServer {
  GObject parent_instance;

  SoupServer *soup;
  GcOrigin *origin;
  GcMetrics *metrics;
  GcChannels *channels; /* (nullable) */
  GcWhip *whip;
  GcApi *api;
  GcWeb *web;                  /* (nullable) */
  GcAccountsApi *accounts_api; /* (nullable) */
  GcChatHttp *chat; /* (nullable) (unowned): glasscastd's, outlives us */
};

#define LISTEN_BACKLOG 4096

G_DEFINE_FINAL_TYPE (GcServer, gc_server, G_TYPE_OBJECT)

static void
gc_server_finalize (GObject *object)
{
  GcServer *server = GC_SERVER (object);

  if (server->soup != NULL)
    soup_server_disconnect (server->soup);
  g_clear_object (&server->soup);
  g_clear_object (&server->origin);
  g_clear_object (&server->whip);
  g_clear_object (&server->api);
  g_clear_object (&server->web);
  g_clear_object (&server->accounts_api);
  g_clear_object (&server->channels);
  g_clear_pointer (&server->metrics, gc_metrics_free);
  G_OBJECT_CLASS (gc_server_parent_class)->finalize (object);
}

static void
gc_server_class_init (GcServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_server_finalize;
}

static void
gc_server_init (GcServer *server)
{
}

static void
on_request_finished (SoupServer *soup, SoupServerMessage *msg,
                     gpointer user_data)
{
  GcServer *server = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  guint status = soup_server_message_get_status (msg);

  gc_metrics_count_request (server->metrics, status,
                            body ? (guint64)body->length : 0);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "GC_METHOD",
                    soup_server_message_get_method (msg), "GC_PATH",
                    g_uri_get_path (soup_server_message_get_uri (msg)),
                    "MESSAGE", "%u", status);
}

static void
on_request_aborted (SoupServer *soup, SoupServerMessage *msg,
                    gpointer user_data)
{
  GcServer *server = user_data;

  gc_metrics_count_aborted (server->metrics);
}

static gboolean
allow_get (SoupServerMessage *msg)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_autoptr (GError) error = NULL;

  if (method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD)
    return TRUE;
  error = g_error_new (GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_METHOD,
                       "method not allowed");
  gc_http_reply_error (msg, error);
  return FALSE;
}

static void
on_healthz (SoupServer *soup, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  static const gchar body[] = "{\"status\":\"ok\"}\n";

  if (!allow_get (msg))
    return;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    body, strlen (body));
}

static void
on_metrics (SoupServer *soup, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  GcServer *server = user_data;
  GString *out;
  gsize len;

  if (!allow_get (msg))
    return;
  out = g_string_new (NULL);
  gc_metrics_append (server->metrics, out);
  if (server->origin != NULL)
    gc_origin_append_metrics (server->origin, out);
  if (server->channels != NULL)
    gc_channels_append_metrics (server->channels, server->origin, out);
  if (server->chat != NULL)
    gc_chat_http_append_metrics (server->chat, out);
  len = out->len;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4",
                                    SOUP_MEMORY_TAKE,
                                    g_string_free (out, FALSE), len);
}

static void
on_not_found (SoupServer *soup, SoupServerMessage *msg, const char *path,
              GHashTable *query, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  error = g_error_new (GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                       "no such resource");
  gc_http_reply_error (msg, error);
}

/**
 * gc_server_new:
 * @origin: (nullable): the LL-HLS origin to serve at /live
 *
 * Returns: (transfer full): a server, not listening yet.
 */
GcServer *
gc_server_new (GcOrigin *origin)
{
  GcServer *server = g_object_new (GC_TYPE_SERVER, NULL);

  g_return_val_if_fail (origin == NULL || GC_IS_ORIGIN (origin), NULL);

  server->soup = soup_server_new ("server-header", "glasscastd ", NULL);
  server->metrics = gc_metrics_new ();
  g_signal_connect (server->soup, "request-finished",
                    G_CALLBACK (on_request_finished), server);
  g_signal_connect (server->soup, "request-aborted",
                    G_CALLBACK (on_request_aborted), server);
  soup_server_add_handler (server->soup, NULL, on_not_found, server, NULL);
  soup_server_add_handler (server->soup, "/healthz", on_healthz, server, NULL);
  soup_server_add_handler (server->soup, "/metrics", on_metrics, server, NULL);
  if (origin != NULL) {
    server->origin = g_object_ref (origin);
    gc_origin_attach (origin, server->soup, "/live");
  }
  return server;
}

void
gc_server_add_channels (GcServer *server, GcChannels *channels,
                        const GcConfig *config)
{
  g_return_if_fail (GC_IS_SERVER (server));
  g_return_if_fail (GC_IS_CHANNELS (channels));
  g_return_if_fail (server->channels == NULL);

  server->channels = g_object_ref (channels);
  server->whip = gc_whip_new (channels, config);
  gc_whip_attach (server->whip, server->soup);
  server->api = gc_api_new (channels, server->origin, config);
  gc_api_attach (server->api, server->soup);
}

void
gc_server_add_web (GcServer *server, const GcConfig *config)
{
  g_return_if_fail (GC_IS_SERVER (server));
  g_return_if_fail (config != NULL);
  g_return_if_fail (server->web == NULL);

  server->web = gc_web_new (config->web_dir, config->hlsjs_path);
  gc_web_attach (server->web, server->soup);
}

void
gc_server_add_accounts (GcServer *server, GcAccountsApi *api)
{
  g_return_if_fail (GC_IS_SERVER (server));
  g_return_if_fail (GC_IS_ACCOUNTS_API (api));
  g_return_if_fail (server->accounts_api == NULL);

  server->accounts_api = g_object_ref (api);
  gc_accounts_api_attach (api, server->soup);
  if (server->api != NULL)
    gc_api_set_accounts (server->api, api);
}

GcAccountsApi *
gc_server_get_accounts_api (GcServer *server)
{
  g_return_val_if_fail (GC_IS_SERVER (server), NULL);
  return server->accounts_api;
}

void
gc_server_add_chat (GcServer *server, GcChatHttp *chat)
{
  g_return_if_fail (GC_IS_SERVER (server));
  g_return_if_fail (chat != NULL);
  g_return_if_fail (server->chat == NULL);

  server->chat = chat;
  gc_chat_http_attach (chat, server->soup);
}

void
gc_server_add_playback (GcServer *server, GcPlayback *playback)
{
  g_return_if_fail (GC_IS_SERVER (server));
  g_return_if_fail (GC_IS_PLAYBACK (playback));

  if (server->origin != NULL)
    gc_origin_set_playback (server->origin, playback);
  gc_playback_attach (playback, server->soup);
}

void
gc_server_add_billing (GcServer *server, GcBillingHttp *billing)
{
  g_return_if_fail (GC_IS_SERVER (server));
  g_return_if_fail (billing != NULL);

  gc_billing_http_attach (billing, server->soup);
}

gchar *
gc_server_listen (GcServer *server, GSocketAddress *address, GError **error)
{
  g_autoptr (GSocket) sock = NULL;
  GSList *uris;
  gchar *result = NULL;

  g_return_val_if_fail (GC_IS_SERVER (server), NULL);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address), NULL);

  /* Our own listening socket: GSocketListener's backlog of 10 resets
   * connections when thousands of viewers (re)connect at once. */
  sock = g_socket_new (g_socket_address_get_family (address),
                       G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  g_socket_set_listen_backlog (sock, LISTEN_BACKLOG);
  if (!g_socket_bind (sock, address, TRUE, error) ||
      !g_socket_listen (sock, error) ||
      !soup_server_listen_socket (server->soup, sock, 0, error))
    return NULL;
  uris = soup_server_get_uris (server->soup);
  if (uris != NULL)
    result = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  if (result != NULL && g_str_has_suffix (result, "/"))
    result[strlen (result) - 1] = '\0';
  return result;
}

void
gc_server_stop (GcServer *server)
{
  g_return_if_fail (GC_IS_SERVER (server));

  soup_server_disconnect (server->soup);
}

/* whip.c — the WHIP endpoint: POST offers, PATCH trickle ICE, DELETE sessions, OPTIONS and CORS.
 * Never blocks the main loop: the key check runs on a thread, the answer arrives from the worker. */

#include "whip.h"

#include <string.h>

#include "channel-error.h"
#include "http-util.h"
#include "secret.h"

#define MOUNT "/whip"
#define SDP_TYPE "application/sdp"
#define SDPFRAG_TYPE "application/trickle-ice-sdpfrag"
#define ENDPOINT_METHODS "POST, OPTIONS"
#define SESSION_METHODS "PATCH, DELETE, OPTIONS"
#define REQUEST_HEADERS "Authorization, Content-Type, If-Match"
#define EXPOSED_HEADERS "Location, ETag, Link, Accept-Patch"

struct _GcWhip {
  GObject parent_instance;

  GcChannels *channels;
  const GcConfig *config;
};

G_DEFINE_FINAL_TYPE (GcWhip, gc_whip, G_TYPE_OBJECT)

static void
gc_whip_finalize (GObject *object)
{
  GcWhip *whip = GC_WHIP (object);

  g_clear_object (&whip->channels);
  G_OBJECT_CLASS (gc_whip_parent_class)->finalize (object);
}

static void
gc_whip_class_init (GcWhipClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_whip_finalize;
}

static void
gc_whip_init (GcWhip *whip)
{
}

GcWhip *
gc_whip_new (GcChannels *channels, const GcConfig *config)
{
  GcWhip *whip;

  g_return_val_if_fail (GC_IS_CHANNELS (channels), NULL);
  g_return_val_if_fail (config != NULL, NULL);

  whip = g_object_new (GC_TYPE_WHIP, NULL);
  whip->channels = g_object_ref (channels);
  whip->config = config;
  return whip;
}

/* Browsers publishing from another origin must read these. */
static void
set_cors (SoupServerMessage *msg)
{
  gc_http_set_cors (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Access-Control-Expose-Headers",
                                EXPOSED_HEADERS);
}

static void
reply_error (SoupServerMessage *msg, const GError *error)
{
  gc_http_reply_error (msg, error);
  set_cors (msg);
}

/* Returns: (transfer full) (nullable): the token of "Authorization: Bearer
 * <token>". */
static gchar *
bearer_token (SoupServerMessage *msg)
{
  const gchar *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  gchar *token;

  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return NULL;
  token = g_strstrip (g_strdup (auth + 7));
  if (token[0] == '\0') {
    g_free (token);
    return NULL;
  }
  return token;
}

static gboolean
has_content_type (SoupServerMessage *msg, const gchar *type)
{
  const gchar *ct = soup_message_headers_get_content_type (
      soup_server_message_get_request_headers (msg), NULL);

  return ct != NULL && g_ascii_strcasecmp (ct, type) == 0;
}

/* RFC 9725 4.6: one Link per ICE server, TURN with its credential. */
static void
add_ice_server_links (GcWhip *whip, SoupMessageHeaders *h)
{
  const GcWebrtcConfig *w = &whip->config->webrtc;

  if (w->stun_server != NULL) {
    g_auto (GStrv) servers = g_strsplit (w->stun_server, ",", -1);

    for (guint i = 0; servers[i] != NULL; i++) {
      g_autofree gchar *link = NULL;

      if (g_strstrip (servers[i])[0] == '\0')
        continue;
      link = g_strdup_printf ("<%s>; rel=\"ice-server\"", servers[i]);
      soup_message_headers_append (h, "Link", link);
    }
  }
  if (w->turn_server != NULL) {
    g_autoptr (GString) link = g_string_new (NULL);

    g_string_append_printf (link, "<%s>; rel=\"ice-server\"", w->turn_server);
    if (w->turn_username != NULL)
      g_string_append_printf (link,
                              "; username=\"%s\"; credential=\"%s\"; "
                              "credential-type=\"password\"",
                              w->turn_username,
                              w->turn_credential ? w->turn_credential : "");
    soup_message_headers_append (h, "Link", link->str);
  }
}

/* ------------------------------------------------------------ POST */

typedef struct {
  GcWhip *whip;
  SoupServerMessage *msg;
  GcChannel *channel;
  GBytes *body;
  GCancellable *cancellable; /* cancelled when the publisher hangs up */
  gulong disconnected_id;
} Post;

static void
post_free (Post *post)
{
  g_clear_signal_handler (&post->disconnected_id, post->msg);
  g_object_unref (post->whip);
  g_object_unref (post->msg);
  g_object_unref (post->channel);
  g_bytes_unref (post->body);
  g_object_unref (post->cancellable);
  g_free (post);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Post, post_free)

static void
post_reply_error (Post *post, const GError *error)
{
  if (g_cancellable_is_cancelled (post->cancellable))
    return;
  reply_error (post->msg, error);
  soup_server_message_unpause (post->msg);
}

static void
on_published (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Post) post = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *answer = NULL;
  g_autofree gchar *location = NULL;
  GcChannel *channel = GC_CHANNEL (source);
  SoupMessageHeaders *h;
  const GcWebrtcConfig *w = &post->whip->config->webrtc;
  gsize len;

  answer = gc_channel_publish_finish (channel, result, &error);
  if (answer == NULL) {
    post_reply_error (post, error);
    return;
  }
  if (g_cancellable_is_cancelled (post->cancellable))
    return;
  if (w->public_address != NULL) {
    gchar *announced = gc_whip_sdp_announce_address (answer, w->public_address);

    g_free (answer);
    answer = announced;
  }
  location = g_strdup_printf (MOUNT "/%s/%s", gc_channel_get_name (channel),
                              gc_channel_get_session_id (channel));
  h = soup_server_message_get_response_headers (post->msg);
  soup_message_headers_replace (h, "Location", location);
  soup_message_headers_replace (h, "ETag", gc_channel_get_etag (channel));
  soup_message_headers_replace (h, "Accept-Patch", SDPFRAG_TYPE);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  add_ice_server_links (post->whip, h);
  set_cors (post->msg);
  soup_server_message_set_status (post->msg, SOUP_STATUS_CREATED, NULL);
  len = strlen (answer);
  soup_server_message_set_response (post->msg, SDP_TYPE, SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&answer), len);
  soup_server_message_unpause (post->msg);
}

static void
on_key_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Post) post = user_data;
  g_autoptr (GError) error = NULL;
  GcWhipOffer *offer;
  gsize len;
  const gchar *sdp;
  g_autofree gchar *sdp_text = NULL;

  if (!gc_secret_verify_finish (result)) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNAUTHORIZED,
                 "wrong stream key");
    post_reply_error (post, error);
    return;
  }
  if (g_cancellable_is_cancelled (post->cancellable))
    return;
  sdp = g_bytes_get_data (post->body, &len);
  offer = gc_whip_sdp_check_offer (sdp, len, &error);
  if (offer == NULL) {
    post_reply_error (post, error);
    return;
  }
  sdp_text = g_strndup (sdp, len);
  gc_channel_publish_async (post->channel, sdp_text, offer, post->cancellable,
                            on_published, post);
  g_steal_pointer (&post);
}

static void
on_publisher_disconnected (SoupServerMessage *msg, gpointer user_data)
{
  Post *post = user_data;

  g_cancellable_cancel (post->cancellable);
}

static void
handle_post (GcWhip *whip, SoupServerMessage *msg, GcChannel *channel)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  Post *post;

  if (!gc_channel_is_enabled (channel)) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_FORBIDDEN,
                 "channel %s is disabled", gc_channel_get_name (channel));
    reply_error (msg, error);
    return;
  }
  token = bearer_token (msg);
  if (token == NULL) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNAUTHORIZED,
                 "publishing needs \"Authorization: Bearer <stream key>\"");
    reply_error (msg, error);
    return;
  }
  if (!has_content_type (msg, SDP_TYPE)) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_MEDIA_TYPE,
                 "an offer is Content-Type: " SDP_TYPE);
    reply_error (msg, error);
    return;
  }

  post = g_new0 (Post, 1);
  post->whip = g_object_ref (whip);
  post->msg = g_object_ref (msg);
  post->channel = g_object_ref (channel);
  post->body = soup_message_body_flatten (body);
  post->cancellable = g_cancellable_new ();
  post->disconnected_id = g_signal_connect (
      msg, "disconnected", G_CALLBACK (on_publisher_disconnected), post);
  soup_server_message_pause (msg);
  /* A channel without a key hash verifies nothing: always 401, after the
   * same work, so the answer tells nothing about the configuration. */
  gc_secret_verify_async (token, gc_channel_get_key_hash (channel),
                          post->cancellable, on_key_checked, post);
}

/* ------------------------------------------------------------ sessions */

/* RFC 9110 13.1.1: "*" or a list of entity tags, one of which must match. */
static gboolean
if_match_allows (SoupServerMessage *msg, const gchar *etag)
{
  const gchar *value = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "If-Match");
  g_auto (GStrv) tags = NULL;

  if (value == NULL)
    return TRUE;
  tags = g_strsplit (value, ",", -1);
  for (guint i = 0; tags[i] != NULL; i++) {
    const gchar *t = g_strstrip (tags[i]);

    if (strcmp (t, "*") == 0 || g_strcmp0 (t, etag) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
handle_patch (GcWhip *whip, SoupServerMessage *msg, GcChannel *channel,
              const gchar *session_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GcWhipFragment) frag = NULL;
  const GcWhipOffer *offer = gc_channel_get_offer (channel);
  const gchar *data;
  gsize len;

  if (offer == NULL ||
      g_strcmp0 (gc_channel_get_session_id (channel), session_id) != 0) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_FOUND,
                 "no such WHIP session");
  } else if (!has_content_type (msg, SDPFRAG_TYPE)) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_MEDIA_TYPE,
                 "PATCH takes Content-Type: " SDPFRAG_TYPE);
  } else if (!if_match_allows (msg, gc_channel_get_etag (channel))) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_PRECONDITION,
                 "If-Match does not match the session's ETag");
  }
  if (error != NULL) {
    reply_error (msg, error);
    return;
  }
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &len);
  frag = gc_whip_sdp_parse_fragment (data, len, offer, &error);
  if (frag == NULL) {
    reply_error (msg, error);
    return;
  }
  /* webrtcbin cannot restart ICE as the answerer of a fragment: RFC 9725
   * 4.3.2 has sessions that trickle but do not restart answer 422. The
   * publisher POSTs a new offer instead. */
  if (gc_whip_fragment_is_restart (frag, offer)) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNPROCESSABLE,
                 "ICE restart is not supported: DELETE the session and POST "
                 "a new offer");
    reply_error (msg, error);
    return;
  }
  if (!gc_channel_trickle (channel, session_id, frag, &error)) {
    reply_error (msg, error);
    return;
  }
  set_cors (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "ETag", gc_channel_get_etag (channel));
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
handle_delete (GcWhip *whip, SoupServerMessage *msg, GcChannel *channel,
               const gchar *session_id)
{
  g_autoptr (GError) error = NULL;

  if (!gc_channel_end_session (channel, session_id, &error)) {
    reply_error (msg, error);
    return;
  }
  set_cors (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static void
reply_options (SoupServerMessage *msg, const gchar *methods, gboolean endpoint)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  gc_http_reply_preflight_for (msg, methods, REQUEST_HEADERS);
  set_cors (msg);
  soup_message_headers_replace (h, "Allow", methods);
  if (endpoint)
    soup_message_headers_replace (h, "Accept-Post", SDP_TYPE);
  else
    soup_message_headers_replace (h, "Accept-Patch", SDPFRAG_TYPE);
}

static void
method_not_allowed (SoupServerMessage *msg, const gchar *methods)
{
  g_autoptr (GError) error = g_error_new (
      GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_METHOD, "allowed here: %s", methods);

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Allow", methods);
  reply_error (msg, error);
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  GcWhip *whip = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  /* Raw path: channel names and session ids never need escapes, so any
   * '%' makes the lookup fail, as it should. */
  const gchar *raw = g_uri_get_path (soup_server_message_get_uri (msg));
  g_auto (GStrv) parts = NULL;
  g_autoptr (GError) error = NULL;
  GcChannel *channel = NULL;
  guint n;

  if (!g_str_has_prefix (raw, MOUNT "/")) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_FOUND,
                 "WHIP endpoints are " MOUNT "/<channel>");
    reply_error (msg, error);
    return;
  }
  parts = g_strsplit (raw + strlen (MOUNT "/"), "/", 3);
  n = g_strv_length (parts);
  if (n >= 1 && gc_config_channel_name_is_valid (parts[0]))
    channel = gc_channels_lookup (whip->channels, parts[0]);
  if (channel == NULL || n > 2 || (n == 2 && parts[1][0] == '\0')) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_FOUND,
                 "no such channel");
    reply_error (msg, error);
    return;
  }

  if (n == 1) {
    if (method == SOUP_METHOD_OPTIONS)
      reply_options (msg, ENDPOINT_METHODS, TRUE);
    else if (method == SOUP_METHOD_POST)
      handle_post (whip, msg, channel);
    else
      method_not_allowed (msg, ENDPOINT_METHODS);
    return;
  }
  if (method == SOUP_METHOD_OPTIONS)
    reply_options (msg, SESSION_METHODS, FALSE);
  else if (g_strcmp0 (method, "PATCH") == 0)
    handle_patch (whip, msg, channel, parts[1]);
  else if (method == SOUP_METHOD_DELETE)
    handle_delete (whip, msg, channel, parts[1]);
  else
    method_not_allowed (msg, SESSION_METHODS);
}

void
gc_whip_attach (GcWhip *whip, SoupServer *server)
{
  g_return_if_fail (GC_IS_WHIP (whip));
  g_return_if_fail (SOUP_IS_SERVER (server));

  soup_server_add_handler (server, MOUNT, on_request, g_object_ref (whip),
                           g_object_unref);
}

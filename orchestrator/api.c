/* api.c — /api/v1/channels: list, read one channel's state and health, create one (admin token).
 * The admin token is checked off the main context (PBKDF2), in constant time, and never logged. */

#include "api.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "channel-error.h"
#include "http-util.h"
#include "secret.h"

#define MOUNT "/api/v1"
#define CHANNELS MOUNT "/channels"
/* A create request is {"name": "..."}: anything big is not one. */
#define MAX_BODY 4096

struct _GcApi {
  GObject parent_instance;

  GcChannels *channels;
  GcOrigin *origin;
  const GcConfig *config;
  GcAccountsApi *accounts; /* (nullable) NULL: no owners, no roles */
};

G_DEFINE_FINAL_TYPE (GcApi, gc_api, G_TYPE_OBJECT)

static void
gc_api_finalize (GObject *object)
{
  GcApi *api = GC_API (object);

  g_clear_object (&api->channels);
  g_clear_object (&api->origin);
  g_clear_object (&api->accounts);
  G_OBJECT_CLASS (gc_api_parent_class)->finalize (object);
}

static void
gc_api_class_init (GcApiClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_api_finalize;
}

static void
gc_api_init (GcApi *api)
{
}

GcApi *
gc_api_new (GcChannels *channels, GcOrigin *origin, const GcConfig *config)
{
  GcApi *api;

  g_return_val_if_fail (GC_IS_CHANNELS (channels), NULL);
  g_return_val_if_fail (origin == NULL || GC_IS_ORIGIN (origin), NULL);
  g_return_val_if_fail (config != NULL, NULL);

  api = g_object_new (GC_TYPE_API, NULL);
  api->channels = g_object_ref (channels);
  api->origin = origin ? g_object_ref (origin) : NULL;
  api->config = config;
  return api;
}

void
gc_api_set_accounts (GcApi *api, GcAccountsApi *accounts)
{
  g_return_if_fail (GC_IS_API (api));
  g_return_if_fail (accounts == NULL || GC_IS_ACCOUNTS_API (accounts));

  g_set_object (&api->accounts, accounts);
}

/* ------------------------------------------------------------ JSON */

static void
add_time (JsonBuilder *b, const gchar *name, gint64 real_us)
{
  json_builder_set_member_name (b, name);
  if (real_us <= 0) {
    json_builder_add_null_value (b);
    return;
  }
  {
    g_autoptr (GDateTime) secs =
        g_date_time_new_from_unix_utc (real_us / G_USEC_PER_SEC);
    g_autoptr (GDateTime) t = g_date_time_add (secs, real_us % G_USEC_PER_SEC);
    g_autofree gchar *text = g_date_time_format (t, "%Y-%m-%dT%H:%M:%S.%fZ");

    json_builder_add_string_value (b, text);
  }
}

static void
add_number (JsonBuilder *b, const gchar *name, gdouble v)
{
  json_builder_set_member_name (b, name);
  if (v < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, v);
}

static void
add_int (JsonBuilder *b, const gchar *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  if (v < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, v);
}

static void
build_channel (GcApi *api, JsonBuilder *b, GcChannel *c)
{
  const gchar *name = gc_channel_get_name (c);
  GcChannelState state = gc_channel_get_state (c);
  const GcChannelStats *s = gc_channel_get_stats (c);
  g_autofree gchar *whip_url = g_strdup_printf ("/whip/%s", name);
  g_autofree gchar *playlist = g_strdup_printf ("/live/%s/index.m3u8", name);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, gc_channel_is_enabled (c));
  json_builder_set_member_name (b, "owner");
  if (gc_channel_get_owner (c) != NULL)
    json_builder_add_string_value (b, gc_channel_get_owner (c));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, gc_channel_state_to_string (state));
  json_builder_set_member_name (b, "live");
  json_builder_add_boolean_value (b, state == GC_CHANNEL_STATE_LIVE ||
                                         state == GC_CHANNEL_STATE_CONNECTING);
  add_time (b, "since", gc_channel_get_since (c));
  json_builder_set_member_name (b, "whip_url");
  json_builder_add_string_value (b, whip_url);
  json_builder_set_member_name (b, "playlist_url");
  json_builder_add_string_value (b, playlist);
  add_time (b, "last_part_time",
            api->origin ? gc_origin_get_last_part_time (api->origin, name) : 0);
  json_builder_set_member_name (b, "sessions");
  json_builder_add_int_value (b, (gint64)gc_channel_get_sessions (c));
  json_builder_set_member_name (b, "stats");
  if (s->updated == 0) {
    json_builder_add_null_value (b);
  } else {
    json_builder_begin_object (b);
    add_int (b, "width", s->width);
    add_int (b, "height", s->height);
    add_number (b, "fps", s->fps);
    add_number (b, "bitrate", s->bitrate);
    add_number (b, "audio_bitrate", s->audio_bitrate);
    add_number (b, "keyframe_interval", s->keyframe_interval);
    add_int (b, "packets_received", s->packets_received);
    add_int (b, "packets_lost", s->packets_lost);
    add_number (b, "packet_loss", s->packet_loss);
    add_number (b, "jitter", s->jitter);
    add_time (b, "updated", s->updated);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
}

/* ------------------------------------------------------------ handlers */

static void
get_list (GcApi *api, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) list = gc_channels_list (api->channels);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "channels");
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    build_channel (api, b, list->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  gc_http_reply_json (msg, SOUP_STATUS_OK, b);
}

static void
get_one (GcApi *api, SoupServerMessage *msg, const gchar *name)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GcChannel *c = gc_config_channel_name_is_valid (name)
                     ? gc_channels_lookup (api->channels, name)
                     : NULL;

  if (c == NULL) {
    g_autoptr (GError) error = g_error_new (
        GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_FOUND, "no such channel");

    gc_http_reply_error (msg, error);
    return;
  }
  build_channel (api, b, c);
  gc_http_reply_json (msg, SOUP_STATUS_OK, b);
}

typedef struct {
  GcApi *api;
  SoupServerMessage *msg;
  gchar *name;
  gchar *owner; /* (nullable) a valid username, lower-case */
} Create;

static void
create_free (Create *create)
{
  g_object_unref (create->api);
  g_object_unref (create->msg);
  g_free (create->name);
  g_free (create->owner);
  g_free (create);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Create, create_free)

static void
on_admin_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Create) create = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *location = NULL;
  GcChannel *channel = NULL;

  if (!gc_secret_verify_finish (result)) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNAUTHORIZED,
                 "wrong admin token");
  } else if (create->owner != NULL &&
             (create->api->accounts == NULL ||
              gc_accounts_find (
                  gc_accounts_api_get_accounts (create->api->accounts),
                  create->owner, NULL) == 0)) {
    /* Checked only now, so that only the admin can probe usernames. */
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "\"owner\": no account %s", create->owner);
  } else {
    channel = gc_channels_create (create->api->channels, create->name,
                                  create->owner, &key, &error);
  }
  if (error != NULL) {
    gc_http_reply_error (create->msg, error);
    soup_server_message_unpause (create->msg);
    return;
  }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "channel");
  build_channel (create->api, b, channel);
  json_builder_set_member_name (b, "stream_key");
  json_builder_add_string_value (b, key);
  json_builder_end_object (b);
  location = g_strdup_printf (CHANNELS "/%s", create->name);
  soup_message_headers_replace (
      soup_server_message_get_response_headers (create->msg), "Location",
      location);
  gc_http_reply_json (create->msg, SOUP_STATUS_CREATED, b);
  soup_server_message_unpause (create->msg);
  /* The key only ever leaves in this response body. */
  gc_secret_free (g_steal_pointer (&key));
}

/* Returns: (transfer full) (nullable): the "name" of a create request;
 * @owner: (out) (transfer full): its optional "owner", lower-cased. */
static gchar *
parse_create (SoupServerMessage *msg, gchar **owner, GError **error)
{
  g_autoptr (GBytes) body =
      soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonNode *name;
  JsonNode *owned_by;
  gsize len;
  const gchar *data = g_bytes_get_data (body, &len);

  if (len == 0 || len > MAX_BODY ||
      !json_parser_load_from_data (parser, data, (gssize)len, NULL)) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "expected a JSON object {\"name\": \"...\"}");
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "expected a JSON object {\"name\": \"...\"}");
    return NULL;
  }
  name = json_object_get_member (json_node_get_object (root), "name");
  if (name == NULL || !JSON_NODE_HOLDS_VALUE (name) ||
      json_node_get_value_type (name) != G_TYPE_STRING ||
      !gc_config_channel_name_is_valid (json_node_get_string (name))) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "\"name\" must be 1 to 64 letters, digits, '_' or '-'");
    return NULL;
  }
  owned_by = json_object_get_member (json_node_get_object (root), "owner");
  if (owned_by != NULL && !JSON_NODE_HOLDS_NULL (owned_by)) {
    if (!JSON_NODE_HOLDS_VALUE (owned_by) ||
        json_node_get_value_type (owned_by) != G_TYPE_STRING ||
        !gc_accounts_username_is_valid (json_node_get_string (owned_by))) {
      g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                   "\"owner\" must be a username");
      return NULL;
    }
    *owner = g_ascii_strdown (json_node_get_string (owned_by), -1);
  }
  return g_strdup (json_node_get_string (name));
}

static void
post_channel (GcApi *api, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  const gchar *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  g_autofree gchar *token = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *owner = NULL;
  Create *create;

  if (api->config->admin_token_hash == NULL) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_FORBIDDEN,
                 "the admin API is off: set [server] admin-token-hash");
    gc_http_reply_error (msg, error);
    return;
  }
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0) {
    g_set_error (&error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNAUTHORIZED,
                 "needs \"Authorization: Bearer <admin token>\"");
    gc_http_reply_error (msg, error);
    return;
  }
  name = parse_create (msg, &owner, &error);
  if (name == NULL) {
    gc_http_reply_error (msg, error);
    return;
  }
  token = g_strstrip (g_strdup (auth + 7));
  create = g_new0 (Create, 1);
  create->api = g_object_ref (api);
  create->msg = g_object_ref (msg);
  create->name = g_steal_pointer (&name);
  create->owner = g_steal_pointer (&owner);
  soup_server_message_pause (msg);
  gc_secret_verify_async (token, api->config->admin_token_hash, NULL,
                          on_admin_checked, create);
  gc_secret_free (g_steal_pointer (&token));
}

static void
method_not_allowed (SoupServerMessage *msg, const gchar *methods)
{
  g_autoptr (GError) error = g_error_new (
      GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_METHOD, "allowed here: %s", methods);

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Allow", methods);
  gc_http_reply_error (msg, error);
}

/* <name>/roles and <name>/roles/<username> belong to the accounts API.
 * Returns: whether @rest was one of them (and is answered). */
static gboolean
route_roles (GcApi *api, SoupServerMessage *msg, const gchar *rest)
{
  g_auto (GStrv) parts = g_strsplit (rest, "/", 4);
  guint n = g_strv_length (parts);

  if (n < 2 || n > 3 || strcmp (parts[1], "roles") != 0 ||
      (n == 3 && parts[2][0] == '\0'))
    return FALSE;
  gc_accounts_api_handle_roles (api->accounts, msg, parts[0],
                                n == 3 ? parts[2] : NULL);
  return TRUE;
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  GcApi *api = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *raw = g_uri_get_path (soup_server_message_get_uri (msg));
  gboolean read = method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD;

  if (strcmp (raw, CHANNELS) == 0 || strcmp (raw, CHANNELS "/") == 0) {
    if (method == SOUP_METHOD_OPTIONS)
      gc_http_reply_preflight_for (msg, "GET, HEAD, POST, OPTIONS",
                                   "Authorization, Content-Type");
    else if (read)
      get_list (api, msg);
    else if (method == SOUP_METHOD_POST)
      post_channel (api, msg);
    else
      method_not_allowed (msg, "GET, HEAD, POST, OPTIONS");
    return;
  }
  if (api->accounts != NULL && g_str_has_prefix (raw, CHANNELS "/") &&
      route_roles (api, msg, raw + strlen (CHANNELS "/")))
    return;
  if (g_str_has_prefix (raw, CHANNELS "/") &&
      strchr (raw + strlen (CHANNELS "/"), '/') == NULL) {
    if (method == SOUP_METHOD_OPTIONS)
      gc_http_reply_preflight (msg);
    else if (read)
      get_one (api, msg, raw + strlen (CHANNELS "/"));
    else
      method_not_allowed (msg, "GET, HEAD, OPTIONS");
    return;
  }
  {
    g_autoptr (GError) error = g_error_new (
        GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_FOUND, "no such API resource");

    gc_http_reply_error (msg, error);
  }
}

void
gc_api_attach (GcApi *api, SoupServer *server)
{
  g_return_if_fail (GC_IS_API (api));
  g_return_if_fail (SOUP_IS_SERVER (server));

  soup_server_add_handler (server, MOUNT, on_request, g_object_ref (api),
                           g_object_unref);
}

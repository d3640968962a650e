/* config.c — loads glasscastd's INI file into a GcConfig, table-driven like Janus validates requests.
 * One row per key: its group, its name, how to parse it, where it lands. */

#include "config.h"

#include <string.h>

#include "secret.h"

typedef enum {
  KEY_STRING,
  KEY_PATH,
  KEY_UINT,
  KEY_SIZE,
  KEY_HASH,       /* a gc_secret_hash() string */
  KEY_PORT_RANGE, /* MIN-MAX; offset names the guint pair's first field */
} KeyType;

typedef struct {
  const gchar *group;
  const gchar *key;
  KeyType type;
  gsize offset; /* in GcConfig */
  guint64 min;
  guint64 max;
} KeyInfo;

#define FIELD(f) G_STRUCT_OFFSET (GcConfig, f)

static const KeyInfo keys[] = {
    {"server", "listen", KEY_STRING, FIELD (listen), 0, 0},
    {"server", "data-dir", KEY_PATH, FIELD (data_dir), 0, 0},
    {"server", "media-dir", KEY_PATH, FIELD (media_dir), 0, 0},
    {"server", "log-level", KEY_STRING, FIELD (log_level), 0, 0},
    {"origin", "max-held-per-client", KEY_UINT,
     FIELD (origin.max_held_per_client), 1, 100000},
    {"origin", "max-held-total", KEY_UINT, FIELD (origin.max_held_total), 1,
     1000000},
    {"origin", "cache-size", KEY_SIZE, FIELD (origin.cache_bytes), 0,
     (guint64)64 << 30},
    {"origin", "max-file-size", KEY_SIZE, FIELD (origin.max_file_bytes), 1024,
     (guint64)1 << 30},
    {"origin", "default-target-duration", KEY_UINT,
     FIELD (origin.default_target_duration), 1, 60},
    {"server", "admin-token-hash", KEY_HASH, FIELD (admin_token_hash), 0, 0},
    {"server", "plugin-path", KEY_STRING, FIELD (plugin_path), 0, 0},
    {"server", "web-dir", KEY_PATH, FIELD (web_dir), 0, 0},
    {"server", "hlsjs-path", KEY_PATH, FIELD (hlsjs_path), 0, 0},
    {"server", "playback-token-secret-file", KEY_PATH,
     FIELD (playback_secret_file), 0, 0},
    {"server", "playback-token-old-secret-file", KEY_PATH,
     FIELD (playback_old_secret_file), 0, 0},
    {"server", "playback-token-ttl", KEY_UINT, FIELD (playback_token_ttl_s), 10,
     86400},
    {"webrtc", "stun-server", KEY_STRING, FIELD (webrtc.stun_server), 0, 0},
    {"webrtc", "turn-server", KEY_STRING, FIELD (webrtc.turn_server), 0, 0},
    {"webrtc", "turn-username", KEY_STRING, FIELD (webrtc.turn_username), 0, 0},
    {"webrtc", "turn-credential", KEY_STRING, FIELD (webrtc.turn_credential), 0,
     0},
    {"webrtc", "ice-address", KEY_STRING, FIELD (webrtc.ice_address), 0, 0},
    {"webrtc", "public-address", KEY_STRING, FIELD (webrtc.public_address), 0,
     0},
    {"webrtc", "udp-port-range", KEY_PORT_RANGE, FIELD (webrtc.udp_port_min), 1,
     65535},
    {"worker", "program", KEY_PATH, FIELD (worker.program), 0, 0},
    {"worker", "pipeline", KEY_STRING, FIELD (worker.pipeline), 0, 0},
    {"worker", "answer-timeout", KEY_UINT, FIELD (worker.answer_timeout_ms),
     100, 120000},
    {"worker", "heartbeat-timeout", KEY_UINT,
     FIELD (worker.heartbeat_timeout_ms), 600, 60000},
    {"worker", "stop-timeout", KEY_UINT, FIELD (worker.stop_timeout_ms), 100,
     60000},
    {"chat", "redis", KEY_STRING, FIELD (chat.redis), 0, 0},
    {"chat", "redis-server", KEY_PATH, FIELD (chat.redis_server), 0, 0},
    {"chat", "node-id", KEY_STRING, FIELD (chat.node_id), 0, 0},
    {"chat", "archive", KEY_PATH, FIELD (chat.archive), 0, 0},
    {"chat", "hub-threads", KEY_UINT, FIELD (chat.hub_threads), 1, 64},
    {"chat", "send-queue", KEY_SIZE, FIELD (chat.send_queue_bytes), 4096,
     (guint64)64 << 20},
    {"chat", "presence-interval", KEY_UINT, FIELD (chat.presence_interval_ms),
     100, 600000},
    {"accounts", "database", KEY_PATH, FIELD (accounts.database), 0, 0},
    {"accounts", "secret-file", KEY_PATH, FIELD (accounts.secret_file), 0, 0},
    {"billing", "stripe-api-base", KEY_STRING, FIELD (billing.stripe_api_base),
     0, 0},
    {"billing", "stripe-secret-key-file", KEY_PATH,
     FIELD (billing.stripe_secret_key_file), 0, 0},
    {"billing", "webhook-secrets-file", KEY_PATH,
     FIELD (billing.webhook_secrets_file), 0, 0},
    {"billing", "database", KEY_PATH, FIELD (billing.database), 0, 0},
    {"billing", "platform-share", KEY_STRING, FIELD (billing.platform_share), 0,
     0},
    {"billing", "past-due-grace-days", KEY_UINT,
     FIELD (billing.past_due_grace_days), 0, 365},
    {"billing", "subscription-price", KEY_UINT,
     FIELD (billing.subscription_price), 1, 99999999},
    {"billing", "currency", KEY_STRING, FIELD (billing.currency), 0, 0},
    {"billing", "country", KEY_STRING, FIELD (billing.country), 0, 0},
    {"accounts", "session-ttl", KEY_UINT, FIELD (accounts.session_ttl_s), 60,
     31536000},
};

/* [channel:NAME] groups hold these; anything else there is a typo. */
static const gchar *const channel_keys[] = {"stream-key-hash", "pipeline",
                                            "owner", "enabled", "playback"};

#define CHANNEL_GROUP_PREFIX "channel:"

static gchar *
default_media_dir (void)
{
  const gchar *runtime = g_getenv ("XDG_RUNTIME_DIR");

  /* tmpfs: parts live for seconds, disks need not see them. */
  if (runtime != NULL && runtime[0] == '/')
    return g_build_filename (runtime, "glasscast", NULL);
  return g_strdup ("/dev/shm/glasscast");
}

/* The installed folder once `meson install` put one there, else the source
 * tree's: a build runs from its sources without installing. */
static gchar *
default_dir (const gchar *installed, const gchar *source)
{
  if (g_file_test (installed, G_FILE_TEST_IS_DIR) ||
      !g_file_test (source, G_FILE_TEST_IS_DIR))
    return g_strdup (installed);
  return g_strdup (source);
}

GcConfig *
gc_config_new (void)
{
  GcConfig *config = g_new0 (GcConfig, 1);

  config->listen = g_strdup ("127.0.0.1:8080");
  config->data_dir =
      g_build_filename (g_get_user_data_dir (), "glasscast", NULL);
  config->media_dir = default_media_dir ();
  config->log_level = g_strdup ("info");
  config->web_dir = default_dir (GC_WEB_INSTALL_DIR, GC_WEB_SOURCE_DIR);
  config->hlsjs_path = default_dir (GC_HLSJS_INSTALL_DIR, GC_HLSJS_SOURCE_DIR);
  gc_origin_limits_init (&config->origin);
  config->worker.pipeline = g_strdup (GC_CONFIG_DEFAULT_PIPELINE);
  config->worker.answer_timeout_ms = 10000;
  config->worker.heartbeat_timeout_ms = 1500;
  config->worker.stop_timeout_ms = 5000;
  config->chat.redis_server = g_strdup ("redis-server");
  config->chat.hub_threads = 2;
  config->chat.send_queue_bytes = 256 * 1024;
  config->chat.presence_interval_ms = 5000;
  config->accounts.session_ttl_s = 30 * 24 * 3600;
  config->playback_token_ttl_s = 300;
  config->billing.stripe_api_base = g_strdup ("https://api.stripe.com");
  config->billing.platform_share = g_strdup ("15%");
  config->billing.past_due_grace_days = 3;
  config->billing.subscription_price = 499;
  config->billing.currency = g_strdup ("usd");
  config->billing.country = g_strdup ("US");
  config->channels =
      g_ptr_array_new_with_free_func ((GDestroyNotify)gc_channel_config_free);
  return config;
}

void
gc_channel_config_free (GcChannelConfig *channel)
{
  if (channel == NULL)
    return;
  g_free (channel->name);
  g_free (channel->stream_key_hash);
  g_free (channel->pipeline);
  g_free (channel->owner);
  g_free (channel);
}

gboolean
gc_config_channel_name_is_valid (const gchar *name)
{
  gsize n = 0;

  if (name == NULL)
    return FALSE;
  for (; name[n] != '\0'; n++) {
    if (!g_ascii_isalnum (name[n]) && name[n] != '_' && name[n] != '-')
      return FALSE;
  }
  return n >= 1 && n <= 64;
}

void
gc_config_free (GcConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->listen);
  g_free (config->data_dir);
  g_free (config->media_dir);
  g_free (config->log_level);
  g_free (config->admin_token_hash);
  g_free (config->plugin_path);
  g_free (config->web_dir);
  g_free (config->hlsjs_path);
  g_free (config->playback_secret_file);
  g_free (config->playback_old_secret_file);
  g_free (config->webrtc.stun_server);
  g_free (config->webrtc.turn_server);
  g_free (config->webrtc.turn_username);
  g_free (config->webrtc.turn_credential);
  g_free (config->webrtc.ice_address);
  g_free (config->webrtc.public_address);
  g_free (config->worker.program);
  g_free (config->worker.pipeline);
  g_free (config->chat.redis);
  g_free (config->chat.redis_server);
  g_free (config->chat.node_id);
  g_free (config->chat.archive);
  g_free (config->accounts.database);
  g_free (config->accounts.secret_file);
  g_free (config->billing.stripe_api_base);
  g_free (config->billing.stripe_secret_key_file);
  g_free (config->billing.webhook_secrets_file);
  g_free (config->billing.database);
  g_free (config->billing.platform_share);
  g_free (config->billing.currency);
  g_free (config->billing.country);
  g_clear_pointer (&config->channels, g_ptr_array_unref);
  g_free (config);
}

gboolean
gc_config_parse_size (const gchar *text, guint64 *out)
{
  g_autofree gchar *s = g_strstrip (g_strdup (text));
  gsize n = strlen (s);
  guint shift = 0;
  guint64 v;

  if (n > 0) {
    switch (g_ascii_toupper (s[n - 1])) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift > 0)
      s[--n] = '\0';
  }
  if (n == 0 || !g_ascii_isdigit (s[0]) ||
      !g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT64 >> 30, &v, NULL))
    return FALSE;
  *out = v << shift;
  return TRUE;
}

static gboolean
load_key (GcConfig *config, GKeyFile *kf, const KeyInfo *info, GError **error)
{
  g_autofree gchar *value =
      g_key_file_get_string (kf, info->group, info->key, NULL);
  gpointer field = G_STRUCT_MEMBER_P (config, info->offset);
  guint64 v;
  guint64 v2;
  g_auto (GStrv) range = NULL;

  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  switch (info->type) {
    case KEY_HASH: {
      g_autoptr (GError) local = NULL;

      if (value[0] == '\0') {
        g_clear_pointer ((gchar **)field, g_free);
        return TRUE;
      }
      /* Never echo the value: a pasted secret must not reach a log. */
      if (!gc_secret_hash_validate (value, &local)) {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                     "[%s] %s: %s", info->group, info->key, local->message);
        return FALSE;
      }
      g_free (*(gchar **)field);
      *(gchar **)field = g_steal_pointer (&value);
      return TRUE;
    }
    case KEY_PORT_RANGE:
      range = g_strsplit (value, "-", 2);
      if (g_strv_length (range) != 2 ||
          !g_ascii_string_to_unsigned (g_strstrip (range[0]), 10, info->min,
                                       info->max, &v, NULL) ||
          !g_ascii_string_to_unsigned (g_strstrip (range[1]), 10, info->min,
                                       info->max, &v2, NULL) ||
          v2 < v)
        break;
      ((guint *)field)[0] = (guint)v;
      ((guint *)field)[1] = (guint)v2;
      return TRUE;
    case KEY_STRING:
    case KEY_PATH:
      if (info->type == KEY_PATH && value[0] == '\0')
        break;
      g_free (*(gchar **)field);
      *(gchar **)field = g_steal_pointer (&value);
      return TRUE;
    case KEY_UINT:
      if (!g_ascii_string_to_unsigned (value, 10, info->min, info->max, &v,
                                       NULL))
        break;
      *(guint *)field = (guint)v;
      return TRUE;
    case KEY_SIZE:
      if (!gc_config_parse_size (value, &v) || v < info->min || v > info->max)
        break;
      *(gsize *)field = (gsize)v;
      return TRUE;
  }
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               "[%s] %s: invalid value \"%s\"", info->group, info->key,
               value ? value : "");
  return FALSE;
}

static gboolean
is_known_group (const gchar *group)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    if (strcmp (keys[i].group, group) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
is_known_key (const gchar *group, const gchar *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    if (strcmp (keys[i].group, group) == 0 && strcmp (keys[i].key, key) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
clear_if_empty (gchar **s)
{
  if (*s != NULL && (*s)[0] == '\0')
    g_clear_pointer (s, g_free);
}

/* An empty optional value means "not set", as if the line were absent. */
static void
normalize (GcConfig *config)
{
  clear_if_empty (&config->plugin_path);
  clear_if_empty (&config->webrtc.stun_server);
  clear_if_empty (&config->webrtc.turn_server);
  clear_if_empty (&config->webrtc.turn_username);
  clear_if_empty (&config->webrtc.turn_credential);
  clear_if_empty (&config->webrtc.ice_address);
  clear_if_empty (&config->webrtc.public_address);
  clear_if_empty (&config->worker.pipeline);
  clear_if_empty (&config->chat.redis);
  clear_if_empty (&config->chat.node_id);
  if (config->worker.pipeline == NULL)
    config->worker.pipeline = g_strdup (GC_CONFIG_DEFAULT_PIPELINE);
}

static gboolean
is_channel_key (const gchar *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (channel_keys); i++) {
    if (strcmp (channel_keys[i], key) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
load_channel (GcConfig *config, GKeyFile *kf, const gchar *group,
              GError **error)
{
  const gchar *name = group + strlen (CHANNEL_GROUP_PREFIX);
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) names = NULL;
  GcChannelConfig *channel;

  if (!gc_config_channel_name_is_valid (name)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[%s]: a channel name is 1 to 64 letters, digits, '_' or '-'",
                 group);
    return FALSE;
  }
  for (guint i = 0; i < config->channels->len; i++) {
    GcChannelConfig *other = config->channels->pdata[i];

    if (strcmp (other->name, name) == 0) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s]: channel defined twice", group);
      return FALSE;
    }
  }
  names = g_key_file_get_keys (kf, group, NULL, NULL);
  for (guint k = 0; names != NULL && names[k] != NULL; k++) {
    if (!is_channel_key (names[k])) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                   "unknown key [%s] %s", group, names[k]);
      return FALSE;
    }
  }

  channel = g_new0 (GcChannelConfig, 1);
  channel->name = g_strdup (name);
  g_ptr_array_add (config->channels, channel);
  channel->stream_key_hash =
      g_key_file_get_string (kf, group, "stream-key-hash", NULL);
  if (channel->stream_key_hash != NULL) {
    g_strstrip (channel->stream_key_hash);
    if (!gc_secret_hash_validate (channel->stream_key_hash, &local)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] stream-key-hash: %s", group, local->message);
      return FALSE;
    }
  }
  channel->pipeline = g_key_file_get_string (kf, group, "pipeline", NULL);
  if (channel->pipeline != NULL && g_strstrip (channel->pipeline)[0] == '\0')
    g_clear_pointer (&channel->pipeline, g_free);
  channel->owner = g_key_file_get_string (kf, group, "owner", NULL);
  if (channel->owner != NULL && g_strstrip (channel->owner)[0] == '\0')
    g_clear_pointer (&channel->owner, g_free);
  if (g_key_file_has_key (kf, group, "playback", NULL)) {
    g_autofree gchar *mode =
        g_strstrip (g_key_file_get_string (kf, group, "playback", NULL));

    if (g_strcmp0 (mode, "token") == 0) {
      channel->playback_token = TRUE;
    } else if (g_strcmp0 (mode, "public") != 0) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] playback: expected public or token", group);
      return FALSE;
    }
  }
  channel->enabled = TRUE;
  if (g_key_file_has_key (kf, group, "enabled", NULL)) {
    channel->enabled = g_key_file_get_boolean (kf, group, "enabled", &local);
    if (local != NULL) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] enabled: expected true or false", group);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
gc_config_load_file (GcConfig *config, const gchar *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) groups = NULL;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "%s: ", path);
    return FALSE;
  }
  /* Groups of later services are theirs to check. */
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g] != NULL; g++) {
    g_auto (GStrv) names = NULL;

    if (g_str_has_prefix (groups[g], CHANNEL_GROUP_PREFIX)) {
      if (!load_channel (config, kf, groups[g], error)) {
        g_prefix_error (error, "%s: ", path);
        return FALSE;
      }
      continue;
    }
    if (!is_known_group (groups[g]))
      continue;
    names = g_key_file_get_keys (kf, groups[g], NULL, NULL);
    for (guint k = 0; names != NULL && names[k] != NULL; k++) {
      if (!is_known_key (groups[g], names[k])) {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                     "%s: unknown key [%s] %s", path, groups[g], names[k]);
        return FALSE;
      }
    }
  }
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    if (!load_key (config, kf, &keys[i], error)) {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  }
  normalize (config);
  return TRUE;
}

GSocketAddress *
gc_config_parse_listen (const gchar *listen, GError **error)
{
  g_autoptr (GSocketConnectable) parsed = NULL;
  g_autoptr (GInetAddress) address = NULL;
  const gchar *host;
  guint16 port;

  g_return_val_if_fail (listen != NULL, NULL);

  parsed = g_network_address_parse (listen, 0, error);
  if (parsed == NULL) {
    g_prefix_error (error, "listen address \"%s\": ", listen);
    return NULL;
  }
  host = g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed));
  port = g_network_address_get_port (G_NETWORK_ADDRESS (parsed));
  /* Numeric addresses only: name resolution at start-up would block and
   * could pick an address the operator did not mean. */
  if (g_strcmp0 (host, "localhost") == 0)
    address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    address = g_inet_address_new_from_string (host);
  if (address == NULL || strchr (listen, ':') == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "listen address \"%s\": expected IP:PORT", listen);
    return NULL;
  }
  return g_inet_socket_address_new (address, port);
}

/* config.c — loads glasscastd's INI file into a GcConfig, table-driven like Janus validates requests.
 * One row per key: its group, its name, how to parse it, where it lands. */

#include "config.h"

#include <string.h>

typedef enum {
  KEY_STRING,
  KEY_PATH,
  KEY_UINT,
  KEY_SIZE,
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
};

static gchar *
default_media_dir (void)
{
  const gchar *runtime = g_getenv ("XDG_RUNTIME_DIR");

  /* tmpfs: parts live for seconds, disks need not see them. */
  if (runtime != NULL && runtime[0] == '/')
    return g_build_filename (runtime, "glasscast", NULL);
  return g_strdup ("/dev/shm/glasscast");
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
  gc_origin_limits_init (&config->origin);
  return config;
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

  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  switch (info->type) {
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
  /* Groups of later services ([chat], [billing]...) are theirs to check. */
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g] != NULL; g++) {
    g_auto (GStrv) names = NULL;

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

/* channels.c — the registry of channels: from the config, from the admin API, and their /metrics.
 * API-created channels persist as [channel:NAME] groups in <data-dir>/channels.ini, written atomically. */

#include "channels.h"

#include <string.h>

#include "channel-error.h"
#include "secret.h"
#include "worker.h"

#define STORE_NAME "channels.ini"

struct _GcChannels {
  GObject parent_instance;

  const GcConfig *config;
  gchar *store_path;
  GHashTable *by_name; /* name -> GcChannel (owned) */
};

G_DEFINE_FINAL_TYPE (GcChannels, gc_channels, G_TYPE_OBJECT)

static void
gc_channels_finalize (GObject *object)
{
  GcChannels *channels = GC_CHANNELS (object);

  g_clear_pointer (&channels->by_name, g_hash_table_unref);
  g_free (channels->store_path);
  G_OBJECT_CLASS (gc_channels_parent_class)->finalize (object);
}

static void
gc_channels_class_init (GcChannelsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_channels_finalize;
}

static void
gc_channels_init (GcChannels *channels)
{
  channels->by_name =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
}

static void
add (GcChannels *channels, GcChannel *channel)
{
  g_hash_table_replace (channels->by_name,
                        (gpointer)gc_channel_get_name (channel), channel);
}

/* Loads the API-created channels. A channel of the same name in the config
 * wins: the operator's file is the authority. */
static gboolean
load_store (GcChannels *channels, GError **error)
{
  g_autoptr (GcConfig) stored = gc_config_new ();

  if (!g_file_test (channels->store_path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!gc_config_load_file (stored, channels->store_path, error))
    return FALSE;
  for (guint i = 0; i < stored->channels->len; i++) {
    GcChannelConfig *c = stored->channels->pdata[i];
    GcChannel *channel;

    if (g_hash_table_contains (channels->by_name, c->name)) {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL",
                        c->name, "MESSAGE",
                        "channel %s is both in the config and in %s: using "
                        "the config's",
                        c->name, channels->store_path);
      continue;
    }
    /* Pipelines are the config file's alone (an API token must not be
     * able to run arbitrary elements). */
    g_clear_pointer (&c->pipeline, g_free);
    channel = gc_channel_new (c, channels->config);
    gc_channel_set_dynamic (channel, TRUE);
    add (channels, channel);
  }
  return TRUE;
}

GcChannels *
gc_channels_new (const GcConfig *config, GError **error)
{
  g_autoptr (GcChannels) channels = NULL;

  g_return_val_if_fail (config != NULL, NULL);

  channels = g_object_new (GC_TYPE_CHANNELS, NULL);
  channels->config = config;
  channels->store_path = g_build_filename (config->data_dir, STORE_NAME, NULL);
  for (guint i = 0; i < config->channels->len; i++)
    add (channels, gc_channel_new (config->channels->pdata[i], config));
  if (!load_store (channels, error))
    return NULL;
  return g_steal_pointer (&channels);
}

GcChannel *
gc_channels_lookup (GcChannels *channels, const gchar *name)
{
  g_return_val_if_fail (GC_IS_CHANNELS (channels), NULL);

  if (name == NULL)
    return NULL;
  return g_hash_table_lookup (channels->by_name, name);
}

static gint
compare_channels (gconstpointer a, gconstpointer b)
{
  return strcmp (gc_channel_get_name (*(GcChannel **)a),
                 gc_channel_get_name (*(GcChannel **)b));
}

GPtrArray *
gc_channels_list (GcChannels *channels)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;

  g_return_val_if_fail (GC_IS_CHANNELS (channels), out);

  g_hash_table_iter_init (&it, channels->by_name);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (out, value);
  g_ptr_array_sort (out, compare_channels);
  return out;
}

/* Rewrites the store with every API-created channel. */
static gboolean
save_store (GcChannels *channels, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GPtrArray) list = gc_channels_list (channels);
  g_autofree gchar *text = NULL;
  gsize len;

  g_key_file_set_comment (kf, NULL, NULL,
                          " Channels created through POST /api/v1/channels. "
                          "Written by glasscastd; stream keys are stored as "
                          "hashes only.",
                          NULL);
  for (guint i = 0; i < list->len; i++) {
    GcChannel *c = list->pdata[i];
    g_autofree gchar *group = NULL;

    if (!gc_channel_is_dynamic (c))
      continue;
    group = g_strdup_printf ("channel:%s", gc_channel_get_name (c));
    g_key_file_set_string (kf, group, "stream-key-hash",
                           gc_channel_get_key_hash (c));
    if (gc_channel_get_owner (c) != NULL)
      g_key_file_set_string (kf, group, "owner", gc_channel_get_owner (c));
    g_key_file_set_boolean (kf, group, "enabled", gc_channel_is_enabled (c));
  }
  text = g_key_file_to_data (kf, &len, NULL);
  if (g_mkdir_with_parents (channels->config->data_dir, 0700) != 0) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_INTERNAL,
                 "cannot create %s", channels->config->data_dir);
    return FALSE;
  }
  /* Write-then-rename: a crash leaves the old file or the new one. */
  return g_file_set_contents_full (channels->store_path, text, (gssize)len,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                       G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}

GcChannel *
gc_channels_create (GcChannels *channels, const gchar *name, const gchar *owner,
                    gchar **stream_key, GError **error)
{
  g_autofree gchar *key = NULL;
  g_autofree gchar *hash = NULL;
  GcChannelConfig settings = {0};
  GcChannel *channel;

  g_return_val_if_fail (GC_IS_CHANNELS (channels), NULL);
  g_return_val_if_fail (stream_key != NULL, NULL);

  if (!gc_config_channel_name_is_valid (name)) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "a channel name is 1 to 64 letters, digits, '_' or '-'");
    return NULL;
  }
  if (g_hash_table_contains (channels->by_name, name)) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_CONFLICT,
                 "channel %s exists", name);
    return NULL;
  }
  key = gc_secret_generate ();
  /* The key has 256 random bits: the iterations guard operator-chosen keys
   * in the config; here fewer keep the main loop responsive. */
  hash = gc_secret_hash (key, 1000);
  settings.name = (gchar *)name;
  settings.stream_key_hash = hash;
  settings.owner = (gchar *)owner;
  settings.enabled = TRUE;
  channel = gc_channel_new (&settings, channels->config);
  gc_channel_set_dynamic (channel, TRUE);
  add (channels, channel);
  if (!save_store (channels, error)) {
    g_hash_table_remove (channels->by_name, name);
    return NULL;
  }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", name,
                    "MESSAGE", "channel %s created", name);
  *stream_key = g_steal_pointer (&key);
  return channel;
}

guint
gc_channels_shutdown (GcChannels *channels)
{
  GHashTableIter it;
  gpointer value;
  guint n = 0;

  g_return_val_if_fail (GC_IS_CHANNELS (channels), 0);

  g_hash_table_iter_init (&it, channels->by_name);
  while (g_hash_table_iter_next (&it, NULL, &value))
    n += gc_channel_shutdown (value) ? 1 : 0;
  return n;
}

guint
gc_channels_count_running (GcChannels *channels)
{
  GHashTableIter it;
  gpointer value;
  guint n = 0;

  g_return_val_if_fail (GC_IS_CHANNELS (channels), 0);

  g_hash_table_iter_init (&it, channels->by_name);
  while (g_hash_table_iter_next (&it, NULL, &value))
    n += gc_channel_get_state (value) != GC_CHANNEL_STATE_OFFLINE ? 1 : 0;
  return n;
}

typedef gdouble (*MetricGetter) (GcChannel *channel, GcOrigin *origin);

static gdouble
get_live (GcChannel *c, GcOrigin *o)
{
  GcChannelState state = gc_channel_get_state (c);

  return state == GC_CHANNEL_STATE_LIVE || state == GC_CHANNEL_STATE_CONNECTING
             ? 1
             : 0;
}

static gdouble
get_since (GcChannel *c, GcOrigin *o)
{
  return gc_channel_get_since (c) > 0 ? gc_channel_get_since (c) / 1e6 : -1;
}

#define STAT_GETTER(fn, expr)                                                  \
  static gdouble fn (GcChannel *c, GcOrigin *o)                                \
  {                                                                            \
    const GcChannelStats *s = gc_channel_get_stats (c);                        \
    return (gdouble)(expr);                                                    \
  }

STAT_GETTER (get_bitrate, s->bitrate)
STAT_GETTER (get_audio_bitrate, s->audio_bitrate)
STAT_GETTER (get_fps, s->fps)
STAT_GETTER (get_width, s->width)
STAT_GETTER (get_height, s->height)
STAT_GETTER (get_keyframe_interval, s->keyframe_interval)
STAT_GETTER (get_packets_lost, s->packets_lost)
STAT_GETTER (get_packet_loss, s->packet_loss)

static gdouble
get_last_part (GcChannel *c, GcOrigin *o)
{
  gint64 t = o ? gc_origin_get_last_part_time (o, gc_channel_get_name (c)) : 0;

  return t > 0 ? t / 1e6 : -1;
}

static gdouble
get_sessions (GcChannel *c, GcOrigin *o)
{
  return (gdouble)gc_channel_get_sessions (c);
}

static const struct {
  const gchar *name;
  const gchar *help;
  const gchar *type;
  MetricGetter get;
} families[] = {
    {"glasscast_channel_live", "1 while the channel has a publisher.", "gauge",
     get_live},
    {"glasscast_channel_since_timestamp_seconds",
     "When the channel last went live or offline.", "gauge", get_since},
    {"glasscast_channel_video_bitrate_bits_per_second",
     "Received video bitrate.", "gauge", get_bitrate},
    {"glasscast_channel_audio_bitrate_bits_per_second",
     "Received audio bitrate.", "gauge", get_audio_bitrate},
    {"glasscast_channel_fps", "Received video frames per second.", "gauge",
     get_fps},
    {"glasscast_channel_width_pixels", "Video width.", "gauge", get_width},
    {"glasscast_channel_height_pixels", "Video height.", "gauge", get_height},
    {"glasscast_channel_keyframe_interval_seconds",
     "Time between the last two keyframes.", "gauge", get_keyframe_interval},
    {"glasscast_channel_packets_lost", "RTP packets lost this session.",
     "gauge", get_packets_lost},
    {"glasscast_channel_packet_loss_ratio",
     "Lost / expected RTP packets this session.", "gauge", get_packet_loss},
    {"glasscast_channel_last_part_timestamp_seconds",
     "When the channel's newest LL-HLS part appeared.", "gauge", get_last_part},
    {"glasscast_channel_sessions_total", "WHIP sessions started.", "counter",
     get_sessions},
};

void
gc_channels_append_metrics (GcChannels *channels, GcOrigin *origin,
                            GString *out)
{
  static const gchar exits_family[] = "glasscast_channel_worker_exits_total";
  g_autoptr (GPtrArray) list = NULL;

  g_return_if_fail (GC_IS_CHANNELS (channels));
  g_return_if_fail (out != NULL);

  list = gc_channels_list (channels);
  /* Names are [A-Za-z0-9_-] only: safe as label values. Unknown values
   * (no stats yet) are left out rather than reported as 0. */
  for (guint f = 0; f < G_N_ELEMENTS (families); f++) {
    g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n",
                            families[f].name, families[f].help,
                            families[f].name, families[f].type);
    for (guint i = 0; i < list->len; i++) {
      gdouble v = families[f].get (list->pdata[i], origin);

      if (v >= 0)
        g_string_append_printf (out, "%s{channel=\"%s\"} %.17g\n",
                                families[f].name,
                                gc_channel_get_name (list->pdata[i]), v);
    }
  }
  g_string_append_printf (out,
                          "# HELP %s Worker processes ended, by how.\n"
                          "# TYPE %s counter\n",
                          exits_family, exits_family);
  for (guint i = 0; i < list->len; i++) {
    for (guint why = 0; why <= GC_WORKER_EXIT_KILLED; why++)
      g_string_append_printf (
          out, "%s{channel=\"%s\",how=\"%s\"} %" G_GUINT64_FORMAT "\n",
          exits_family, gc_channel_get_name (list->pdata[i]),
          gc_worker_exit_to_string (why),
          gc_channel_get_exits (list->pdata[i], why));
  }
}

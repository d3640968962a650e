/* channel.c — GcChannel: the life of one channel's WHIP session and worker, from offer to exit.
 * Every transition runs on the main context; a worker's death only ever moves its own channel offline. */

#include "channel.h"

#include <string.h>

#include "channel-error.h"
#include "secret.h"
#include "worker.h"

#define N_EXITS (GC_WORKER_EXIT_KILLED + 1)

struct _GcChannel {
  GObject parent_instance;

  const GcConfig *config;
  gchar *name;
  gchar *key_hash;
  gchar *pipeline; /* (nullable) */
  gchar *owner;    /* (nullable) username of the owning account */
  gboolean enabled;
  gboolean dynamic;

  GcChannelState state;
  gint64 since;
  GcChannelStats stats;
  guint64 exits[N_EXITS];
  guint64 sessions;

  /* The current session: set from the offer until the worker exits. */
  GcWorker *worker;
  gulong message_id;
  gulong exited_id;
  gchar *session_id;
  gchar *etag;
  GcWhipOffer *offer;
  GTask *pending; /* (nullable) the publish waiting for an answer */
  gulong cancel_id;
  guint answer_timer;
};

G_DEFINE_FINAL_TYPE (GcChannel, gc_channel, G_TYPE_OBJECT)

static const GcChannelStats no_stats = {-1, -1, -1, -1, -1, -1,
                                        -1, -1, -1, -1, 0};

const gchar *
gc_channel_state_to_string (GcChannelState state)
{
  switch (state) {
    case GC_CHANNEL_STATE_OFFLINE:
      return "offline";
    case GC_CHANNEL_STATE_STARTING:
      return "starting";
    case GC_CHANNEL_STATE_CONNECTING:
      return "connecting";
    case GC_CHANNEL_STATE_LIVE:
      return "live";
    case GC_CHANNEL_STATE_STOPPING:
      return "stopping";
  }
  return "unknown";
}

static void drop_worker (GcChannel *channel);

static void
gc_channel_dispose (GObject *object)
{
  GcChannel *channel = GC_CHANNEL (object);

  if (channel->worker != NULL)
    gc_worker_kill (channel->worker, GC_WORKER_EXIT_KILLED);
  drop_worker (channel);
  G_OBJECT_CLASS (gc_channel_parent_class)->dispose (object);
}

static void
gc_channel_finalize (GObject *object)
{
  GcChannel *channel = GC_CHANNEL (object);

  g_free (channel->name);
  g_free (channel->key_hash);
  g_free (channel->pipeline);
  g_free (channel->owner);
  g_free (channel->session_id);
  g_free (channel->etag);
  g_clear_pointer (&channel->offer, gc_whip_offer_free);
  G_OBJECT_CLASS (gc_channel_parent_class)->finalize (object);
}

static void
gc_channel_class_init (GcChannelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gc_channel_dispose;
  G_OBJECT_CLASS (klass)->finalize = gc_channel_finalize;
}

static void
gc_channel_init (GcChannel *channel)
{
  channel->stats = no_stats;
}

GcChannel *
gc_channel_new (const GcChannelConfig *settings, const GcConfig *config)
{
  GcChannel *channel;

  g_return_val_if_fail (settings != NULL && config != NULL, NULL);
  g_return_val_if_fail (gc_config_channel_name_is_valid (settings->name), NULL);

  channel = g_object_new (GC_TYPE_CHANNEL, NULL);
  channel->config = config;
  channel->name = g_strdup (settings->name);
  channel->key_hash = g_strdup (settings->stream_key_hash);
  channel->pipeline = g_strdup (settings->pipeline);
  /* Usernames are stored lower-cased; the config may spell them otherwise. */
  channel->owner =
      settings->owner ? g_ascii_strdown (settings->owner, -1) : NULL;
  channel->enabled = settings->enabled;
  return channel;
}

const gchar *
gc_channel_get_name (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), NULL);
  return channel->name;
}

gboolean
gc_channel_is_enabled (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), FALSE);
  return channel->enabled;
}

const gchar *
gc_channel_get_key_hash (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), NULL);
  return channel->key_hash;
}

const gchar *
gc_channel_get_owner (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), NULL);
  return channel->owner;
}

gboolean
gc_channel_is_dynamic (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), FALSE);
  return channel->dynamic;
}

void
gc_channel_set_dynamic (GcChannel *channel, gboolean dynamic)
{
  g_return_if_fail (GC_IS_CHANNEL (channel));
  channel->dynamic = dynamic;
}

GcChannelState
gc_channel_get_state (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), GC_CHANNEL_STATE_OFFLINE);
  return channel->state;
}

gint64
gc_channel_get_since (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), 0);
  return channel->since;
}

const GcChannelStats *
gc_channel_get_stats (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), NULL);
  return &channel->stats;
}

guint64
gc_channel_get_exits (GcChannel *channel, guint why)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), 0);
  g_return_val_if_fail (why < N_EXITS, 0);
  return channel->exits[why];
}

guint64
gc_channel_get_sessions (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), 0);
  return channel->sessions;
}

const gchar *
gc_channel_get_session_id (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), NULL);
  return channel->session_id;
}

const gchar *
gc_channel_get_etag (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), NULL);
  return channel->etag;
}

const GcWhipOffer *
gc_channel_get_offer (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), NULL);
  return channel->offer;
}

static void
set_state (GcChannel *channel, GcChannelState state, const gchar *why)
{
  gboolean was_offline = channel->state == GC_CHANNEL_STATE_OFFLINE;
  gboolean is_offline = state == GC_CHANNEL_STATE_OFFLINE;

  if (channel->state == state)
    return;
  /* "since" is when the channel went on or off air, not every step. */
  if (was_offline != is_offline || state == GC_CHANNEL_STATE_LIVE)
    channel->since = g_get_real_time ();
  channel->state = state;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", channel->name,
                    "GC_STATE", gc_channel_state_to_string (state), "MESSAGE",
                    "channel %s: %s", gc_channel_state_to_string (state), why);
}

/* A short random token: session ids and ETags. */
static gchar *
random_token (gsize hex_digits)
{
  g_autofree gchar *secret = gc_secret_generate ();

  return g_strndup (secret, hex_digits);
}

static void
finish_pending (GcChannel *channel, gchar *answer, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&channel->pending);

  g_clear_handle_id (&channel->answer_timer, g_source_remove);
  if (task == NULL) {
    g_free (answer);
    g_clear_error (&error);
    return;
  }
  if (channel->cancel_id != 0) {
    g_cancellable_disconnect (g_task_get_cancellable (task),
                              channel->cancel_id);
    channel->cancel_id = 0;
  }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, answer, g_free);
}

/* Forgets the session and its worker (which is exiting or gone). */
static void
drop_worker (GcChannel *channel)
{
  if (channel->worker != NULL) {
    g_clear_signal_handler (&channel->message_id, channel->worker);
    g_clear_signal_handler (&channel->exited_id, channel->worker);
    g_clear_object (&channel->worker);
  }
  g_clear_pointer (&channel->session_id, g_free);
  g_clear_pointer (&channel->etag, g_free);
  g_clear_pointer (&channel->offer, gc_whip_offer_free);
  if (channel->pending != NULL)
    finish_pending (channel, NULL,
                    g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNAVAILABLE,
                                 "the channel worker went away"));
}

/* The worker's error codes (WORKER-PROTOCOL.md) as channel errors. */
static GError *
error_from_worker (GcWorkerMsg *msg)
{
  static const struct {
    const gchar *code;
    GcChannelErrorCode error;
  } codes[] = {
      {"bad_sdp", GC_CHANNEL_ERROR_BAD_REQUEST},
      {"unsupported", GC_CHANNEL_ERROR_NOT_ACCEPTABLE},
      {"busy", GC_CHANNEL_ERROR_CONFLICT},
      {"unavailable", GC_CHANNEL_ERROR_UNAVAILABLE},
  };
  const gchar *code = gc_worker_msg_get_string (msg, "code");
  const gchar *message = gc_worker_msg_get_string (msg, "message");

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++) {
    if (g_strcmp0 (codes[i].code, code) == 0)
      return g_error_new_literal (GC_CHANNEL_ERROR, codes[i].error, message);
  }
  return g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_INTERNAL,
                      "channel worker: %s", message);
}

static void
update_stats (GcChannel *channel, GcWorkerMsg *msg)
{
  GcChannelStats *s = &channel->stats;

  s->bitrate = gc_worker_msg_get_double (msg, "bitrate", -1);
  s->audio_bitrate = gc_worker_msg_get_double (msg, "audio_bitrate", -1);
  s->fps = gc_worker_msg_get_double (msg, "fps", -1);
  s->width = gc_worker_msg_get_int (msg, "width", -1);
  s->height = gc_worker_msg_get_int (msg, "height", -1);
  s->keyframe_interval =
      gc_worker_msg_get_double (msg, "keyframe_interval", -1);
  s->packets_received = gc_worker_msg_get_int (msg, "packets_received", -1);
  s->packets_lost = gc_worker_msg_get_int (msg, "packets_lost", -1);
  s->packet_loss = gc_worker_msg_get_double (msg, "packet_loss", -1);
  s->jitter = gc_worker_msg_get_double (msg, "jitter", -1);
  s->updated = g_get_real_time ();
}

static void
on_worker_message (GcWorker *worker, gpointer data, gpointer user_data)
{
  GcChannel *channel = user_data;
  GcWorkerMsg *msg = data;
  const gchar *state;

  switch (gc_worker_msg_get_msg_type (msg)) {
    case GC_WORKER_MSG_ANSWER:
      if (channel->pending == NULL ||
          gc_worker_msg_get_int (msg, "id", -1) != 1)
        break;
      set_state (channel, GC_CHANNEL_STATE_CONNECTING, "answered");
      finish_pending (channel, g_strdup (gc_worker_msg_get_string (msg, "sdp")),
                      NULL);
      break;
    case GC_WORKER_MSG_ERROR:
      g_log_structured (
          G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL", channel->name,
          "GC_CODE", gc_worker_msg_get_string (msg, "code"), "MESSAGE",
          "worker error: %s", gc_worker_msg_get_string (msg, "message"));
      if (channel->pending != NULL) {
        finish_pending (channel, NULL, error_from_worker (msg));
        gc_worker_stop (worker, "offer refused");
        set_state (channel, GC_CHANNEL_STATE_STOPPING, "offer refused");
      }
      break;
    case GC_WORKER_MSG_STATE:
      state = gc_worker_msg_get_string (msg, "state");
      if (g_strcmp0 (state, "live") == 0 && channel->pending == NULL)
        set_state (channel, GC_CHANNEL_STATE_LIVE, "media arriving");
      else if (g_strcmp0 (state, "ended") == 0 ||
               g_strcmp0 (state, "failed") == 0)
        set_state (channel, GC_CHANNEL_STATE_STOPPING,
                   gc_worker_msg_get_string (msg, "reason")
                       ? gc_worker_msg_get_string (msg, "reason")
                       : state);
      break;
    case GC_WORKER_MSG_STATS:
      update_stats (channel, msg);
      break;
    default:
      /* glasscastd -> worker types coming back: ignored, not fatal. */
      break;
  }
}

static void
on_worker_exited (GcWorker *worker, gint why, const gchar *detail,
                  gpointer user_data)
{
  GcChannel *channel = user_data;

  if ((guint)why < N_EXITS)
    channel->exits[why]++;
  drop_worker (channel);
  channel->stats = no_stats;
  set_state (channel, GC_CHANNEL_STATE_OFFLINE, detail);
}

static gboolean
on_answer_timeout (gpointer user_data)
{
  GcChannel *channel = user_data;
  GcWorker *worker = channel->worker;

  channel->answer_timer = 0;
  finish_pending (channel, NULL,
                  g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNAVAILABLE,
                               "the channel worker did not answer within %u "
                               "ms",
                               channel->config->worker.answer_timeout_ms));
  if (worker != NULL)
    gc_worker_kill (worker, GC_WORKER_EXIT_HUNG);
  return G_SOURCE_REMOVE;
}

static void
on_publisher_gone (GCancellable *cancellable, gpointer user_data)
{
  GcChannel *channel = user_data;

  /* Runs inside g_cancellable_cancel(), on the main context (the HTTP
   * layer cancels there): the answer would reach no one. */
  channel->cancel_id = 0;
  if (channel->worker != NULL)
    gc_worker_stop (channel->worker, "publisher hung up");
}

void
gc_channel_publish_async (GcChannel *channel, const gchar *sdp,
                          GcWhipOffer *offer, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GcWhipOffer) owned = offer;
  g_autoptr (GcWorkerMsg) msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *location = NULL;

  g_return_if_fail (GC_IS_CHANNEL (channel));
  g_return_if_fail (sdp != NULL && offer != NULL);

  task = g_task_new (channel, cancellable, callback, user_data);
  g_task_set_source_tag (task, gc_channel_publish_async);
  if (channel->state != GC_CHANNEL_STATE_OFFLINE) {
    g_task_return_new_error (
        task, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_CONFLICT,
        "channel %s is already %s", channel->name,
        channel->state == GC_CHANNEL_STATE_STOPPING
            ? "ending its previous session; retry in a moment"
            : "live");
    return;
  }

  location = g_build_filename (channel->config->media_dir, channel->name, NULL);
  channel->worker = gc_worker_spawn (
      channel->config, channel->name,
      channel->pipeline ? channel->pipeline : channel->config->worker.pipeline,
      location, &error);
  if (channel->worker == NULL) {
    g_task_return_new_error (task, GC_CHANNEL_ERROR,
                             GC_CHANNEL_ERROR_UNAVAILABLE, "%s",
                             error->message);
    return;
  }
  channel->message_id = g_signal_connect (
      channel->worker, "message", G_CALLBACK (on_worker_message), channel);
  channel->exited_id = g_signal_connect (
      channel->worker, "exited", G_CALLBACK (on_worker_exited), channel);
  channel->sessions++;
  channel->session_id = random_token (32);
  channel->etag = g_strdup_printf ("\"%s\"", channel->session_id);
  channel->offer = g_steal_pointer (&owned);
  channel->stats = no_stats;
  set_state (channel, GC_CHANNEL_STATE_STARTING, "offer received");

  msg = gc_worker_msg_new (GC_WORKER_MSG_OFFER);
  gc_worker_msg_set_int (msg, "id", 1);
  gc_worker_msg_set_string (msg, "sdp", sdp);
  gc_worker_send (channel->worker, msg);

  channel->pending = g_steal_pointer (&task);
  channel->answer_timer = g_timeout_add (
      channel->config->worker.answer_timeout_ms, on_answer_timeout, channel);
  if (cancellable != NULL)
    channel->cancel_id = g_cancellable_connect (
        cancellable, G_CALLBACK (on_publisher_gone), channel, NULL);
}

gchar *
gc_channel_publish_finish (GcChannel *channel, GAsyncResult *result,
                           GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, channel), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
check_session (GcChannel *channel, const gchar *session_id, GError **error)
{
  if (channel->session_id == NULL || session_id == NULL ||
      strcmp (channel->session_id, session_id) != 0 ||
      channel->pending != NULL) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_FOUND,
                 "no such WHIP session");
    return FALSE;
  }
  return TRUE;
}

gboolean
gc_channel_end_session (GcChannel *channel, const gchar *session_id,
                        GError **error)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), FALSE);

  if (!check_session (channel, session_id, error))
    return FALSE;
  gc_worker_stop (channel->worker, "DELETE");
  set_state (channel, GC_CHANNEL_STATE_STOPPING, "publisher ended the session");
  return TRUE;
}

gboolean
gc_channel_trickle (GcChannel *channel, const gchar *session_id,
                    const GcWhipFragment *frag, GError **error)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), FALSE);
  g_return_val_if_fail (frag != NULL, FALSE);

  if (!check_session (channel, session_id, error))
    return FALSE;
  for (guint i = 0; i < frag->candidates->len; i++) {
    const GcWhipCandidate *c = frag->candidates->pdata[i];
    g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (GC_WORKER_MSG_CANDIDATE);

    gc_worker_msg_set_int (msg, "mline", c->mline);
    if (c->mid != NULL && c->mid[0] != '\0')
      gc_worker_msg_set_string (msg, "mid", c->mid);
    if (c->candidate != NULL)
      gc_worker_msg_set_string (msg, "candidate", c->candidate);
    else
      gc_worker_msg_set_bool (msg, "end", TRUE);
    gc_worker_send (channel->worker, msg);
  }
  if (frag->end_of_candidates && frag->candidates->len == 0) {
    g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (GC_WORKER_MSG_CANDIDATE);

    gc_worker_msg_set_bool (msg, "end", TRUE);
    gc_worker_send (channel->worker, msg);
  }
  return TRUE;
}

gboolean
gc_channel_shutdown (GcChannel *channel)
{
  g_return_val_if_fail (GC_IS_CHANNEL (channel), FALSE);

  if (channel->worker == NULL)
    return FALSE;
  gc_worker_stop (channel->worker, "glasscastd is shutting down");
  set_state (channel, GC_CHANNEL_STATE_STOPPING, "shutting down");
  return TRUE;
}

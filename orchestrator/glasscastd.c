/* glasscastd.c — the service's main(): options, config, logging, signals, one GLib main loop.
 * `--origin DIR` runs the LL-HLS origin alone, for media engineers with a gst-launch llhlssink pipeline. */

#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "accounts-api.h"
#include "billing-actions.h"
#include "billing-http.h"
#include "channels.h"
#include "chat-http.h"
#include "config.h"
#include "log.h"
#include "origin.h"
#include "redis-embed.h"
#include "secret.h"
#include "server.h"

typedef struct {
  gchar *config_file;
  gchar *origin_dir;
  gchar *listen;
  gchar *log_level;
  gboolean version;
  gboolean hash_key;
} Options;

typedef struct {
  GMainLoop *loop;
  GcChannels *channels;
} Shutdown;

static gboolean
on_quit_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                    "signal received, shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

static void
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
}

static gboolean
parse_options (int *argc, char ***argv, Options *opts, GError **error)
{
  const GOptionEntry entries[] = {
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opts->config_file,
       "Read settings from FILE (INI, see examples/glasscast.ini)", "FILE"},
      {"origin", 0, 0, G_OPTION_ARG_FILENAME, &opts->origin_dir,
       "Origin-only mode: serve DIR/<channel>/ (llhlssink folders) at "
       "/live/<channel>/",
       "DIR"},
      {"listen", 'l', 0, G_OPTION_ARG_STRING, &opts->listen,
       "Listen on IP:PORT (port 0: any free port; overrides [server] listen)",
       "IP:PORT"},
      {"log-level", 0, 0, G_OPTION_ARG_STRING, &opts->log_level,
       "error, warning, info or debug (overrides [server] log-level)", "LEVEL"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &opts->version,
       "Print the version and exit", NULL},
      {"hash-key", 0, 0, G_OPTION_ARG_NONE, &opts->hash_key,
       "Print the hash of a stream key or admin token for the config: of the "
       "line on standard input, or of a new random key (printed once) when "
       "standard input is a terminal or empty",
       NULL},
      G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- Glasscast live video service");

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (
      ctx, "Prints \"listening on http://IP:PORT\" on standard output once "
           "it serves.\nLogs go to standard error, one logfmt line each.\n");
  return g_option_context_parse (ctx, argc, argv, error);
}

/* --hash-key: the operator's way to a stream-key-hash= or
 * admin-token-hash= line. The key is never written anywhere else. */
static int
hash_key (void)
{
  g_autofree gchar *key = NULL;
  g_autofree gchar *hash = NULL;
  gboolean generated = FALSE;

  if (!isatty (STDIN_FILENO)) {
    gchar line[1024];

    if (fgets (line, sizeof line, stdin) != NULL) {
      key = g_strstrip (g_strdup (line));
      memset (line, 0, sizeof line);
    }
  }
  if (key == NULL || key[0] == '\0') {
    g_free (key);
    key = gc_secret_generate ();
    generated = TRUE;
  }
  hash = gc_secret_hash (key, GC_SECRET_DEFAULT_ITERATIONS);
  if (generated)
    printf ("# new key, shown only now: %s\n", key);
  printf ("%s\n", hash);
  gc_secret_free (g_steal_pointer (&key));
  return EXIT_SUCCESS;
}

static void
quit_when_workers_gone (gpointer user_data)
{
  Shutdown *s = user_data;

  if (gc_channels_count_running (s->channels) == 0)
    g_main_loop_quit (s->loop);
}

static gboolean
poll_workers (gpointer user_data)
{
  quit_when_workers_gone (user_data);
  return G_SOURCE_CONTINUE;
}

/* [accounts]: the database, and the session secret from secret-file (nodes
 * sharing accounts share it) or beside the database. */
static GcAccounts *
open_accounts (const GcConfig *config, GError **error)
{
  g_autofree gchar *path =
      config->accounts.database
          ? g_strdup (config->accounts.database)
          : g_build_filename (config->data_dir, "accounts.db", NULL);
  g_autofree gchar *secret = NULL;
  GcAccounts *accounts;
  gsize len = 0;

  if (config->accounts.secret_file == NULL)
    return gc_accounts_open (path, error);
  if (!g_file_get_contents (config->accounts.secret_file, &secret, &len, error))
    return NULL;
  if (len < GC_ACCOUNTS_SECRET_BYTES) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                 "[accounts] secret-file %s: needs at least %d bytes",
                 config->accounts.secret_file, GC_ACCOUNTS_SECRET_BYTES);
    memset (secret, 0, len);
    return NULL;
  }
  accounts = gc_accounts_open_with_secret (path, (const guint8 *)secret, error);
  memset (secret, 0, len);
  return accounts;
}

/* A viewer banned from a channel's chat stops paying for it: their
 * subscriptions there end with the paid period. */
static void
on_chat_ban (const gchar *room, const gchar *login, gpointer user_data)
{
  GcBillingHttp *billing = user_data;
  GcAccountsApi *api = gc_billing_http_get_accounts (billing);
  gint64 viewer;

  if (api == NULL)
    return;
  viewer = gc_accounts_find (gc_accounts_api_get_accounts (api), login, NULL);
  if (viewer > 0)
    gc_billing_on_ban (billing, viewer, room);
}

static int
run (Options *opts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcConfig) config = gc_config_new ();
  g_autoptr (GcOrigin) origin = NULL;
  g_autoptr (GcServer) server = NULL;
  g_autoptr (GcChannels) channels = NULL;
  g_autoptr (GcRedisEmbed) redis = NULL;
  g_autoptr (GcAccounts) accounts = NULL;
  g_autoptr (GcAccountsApi) accounts_api = NULL;
  g_autoptr (GcChatHttp) chat = NULL;
  g_autoptr (GcBillingHttp) billing = NULL;
  g_autoptr (GcPlayback) playback = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree gchar *uri = NULL;
  guint sigint_id;
  guint sigterm_id;

  if (opts->config_file != NULL &&
      !gc_config_load_file (config, opts->config_file, &error))
    goto fail;
  if (opts->origin_dir != NULL) {
    g_free (config->media_dir);
    config->media_dir = g_strdup (opts->origin_dir);
  }
  if (opts->listen != NULL) {
    g_free (config->listen);
    config->listen = g_strdup (opts->listen);
  }
  if (opts->log_level != NULL) {
    g_free (config->log_level);
    config->log_level = g_strdup (opts->log_level);
  }
  if (!gc_log_init (config->log_level, &error))
    goto fail;

  address = gc_config_parse_listen (config->listen, &error);
  if (address == NULL)
    goto fail;
  /* The full service owns its folders; origin-only mode serves what exists. */
  if (opts->origin_dir == NULL) {
    if (g_mkdir_with_parents (config->media_dir, 0755) != 0 ||
        g_mkdir_with_parents (config->data_dir, 0700) != 0) {
      int errsv = errno;

      g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "cannot create %s or %s: %s", config->media_dir,
                   config->data_dir, g_strerror (errsv));
      goto fail;
    }
  }

  origin = gc_origin_new (config->media_dir, &config->origin, &error);
  if (origin == NULL)
    goto fail;
  server = gc_server_new (origin);
  if (opts->origin_dir == NULL) {
    /* One node without [chat] redis=: its own Redis, before any worker is
     * spawned, since worker pipelines get its address ({redis}). */
    if (config->chat.redis == NULL) {
      g_autofree gchar *dir =
          g_build_filename (config->data_dir, "redis", NULL);
      redis = gc_redis_embed_start (config->chat.redis_server, dir, &error);
      if (redis == NULL)
        goto fail;
      config->chat.redis = g_strdup (gc_redis_embed_get_address (redis));
    }
    accounts = open_accounts (config, &error);
    if (accounts == NULL)
      goto fail;
    channels = gc_channels_new (config, &error);
    if (channels == NULL)
      goto fail;
    accounts_api =
        gc_accounts_api_new (g_steal_pointer (&accounts), channels, config);
    chat = gc_chat_http_new (config, channels, accounts_api, &error);
    if (chat == NULL)
      goto fail;
    gc_server_add_channels (server, channels, config);
    gc_server_add_accounts (server, accounts_api);
    playback = gc_playback_new (config, &error);
    if (playback == NULL)
      goto fail;
    gc_playback_set_accounts (playback, accounts_api);
    gc_server_add_playback (server, playback);
    gc_server_add_chat (server, chat);
    billing = gc_billing_http_new (config, &error);
    if (billing == NULL)
      goto fail;
    gc_billing_http_set_accounts (billing, accounts_api);
    gc_billing_http_set_chat (billing, gc_chat_http_get_service (chat));
    gc_billing_http_set_channels (billing, channels);
    gc_chat_http_set_ban_func (chat, on_chat_ban, billing);
    gc_playback_set_authorizer (playback, gc_billing_actions_authorize,
                                gc_billing_http_get_actions (billing), NULL);
    gc_server_add_billing (server, billing);
    gc_server_add_web (server, config);
  }
  uri = gc_server_listen (server, address, &error);
  if (uri == NULL)
    goto fail;

  /* Tests and scripts that bind port 0 read this line. */
  printf ("listening on %s\n", uri);
  fflush (stdout);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_URI", uri,
                    "GC_MEDIA_DIR", config->media_dir, "MESSAGE",
                    "listening on %s", uri);

  loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  /* Held clients get a 503 rather than a reset; give the answers a moment
   * to leave before the connections close. */
  if (gc_origin_get_n_held (origin) > 0) {
    gc_origin_shutdown (origin);
    g_timeout_add_once (200, quit_loop, loop);
    g_main_loop_run (loop);
  }
  /* Workers finalise their playlists on "stop"; wait for them (each is
   * killed after stop-timeout anyway). */
  if (channels != NULL && gc_channels_shutdown (channels) > 0) {
    Shutdown s = {loop, channels};
    guint poll_id = g_timeout_add (50, poll_workers, &s);

    g_timeout_add_once (config->worker.stop_timeout_ms + 500, quit_loop, loop);
    g_main_loop_run (loop);
    g_source_remove (poll_id);
  }
  gc_origin_shutdown (origin);
  gc_server_stop (server);
  /* Billing jobs finish before the chat their tips go to closes. */
  if (chat != NULL)
    gc_chat_http_set_ban_func (chat, NULL, NULL);
  if (playback != NULL)
    gc_playback_set_authorizer (playback, NULL, NULL, NULL);
  g_clear_pointer (&billing, gc_billing_http_free);
  /* Viewers' sockets close with the hub; then Redis may go. */
  g_clear_pointer (&chat, gc_chat_http_free);
  g_clear_pointer (&redis, gc_redis_embed_free);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE", "stopped");
  return EXIT_SUCCESS;

fail:
  g_printerr ("glasscastd: %s\n", error->message);
  return EXIT_FAILURE;
}

int
main (int argc, char **argv)
{
  Options opts = {0};
  g_autoptr (GError) error = NULL;
  int status;

  /* First, before DTLS or curl touch OpenSSL: no OpenSSL clean-up at exit,
   * which races threads still ending (plugins/whip/README.md, "Process
   * exit"). */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
  if (!parse_options (&argc, &argv, &opts, &error)) {
    g_printerr ("glasscastd: %s (try --help)\n", error->message);
    return 2;
  }
  if (opts.version) {
    printf ("glasscastd %s\n", GLASSCAST_VERSION);
    return EXIT_SUCCESS;
  }
  if (opts.hash_key)
    return hash_key ();
  /* A worker that dies leaves a broken pipe; writing to it must be an
   * error to handle, not a signal that ends glasscastd. */
  signal (SIGPIPE, SIG_IGN);
  if (argc > 1) {
    g_printerr ("glasscastd: unexpected argument \"%s\" (try --help)\n",
                argv[1]);
    return 2;
  }
  status = run (&opts);
  g_free (opts.config_file);
  g_free (opts.origin_dir);
  g_free (opts.listen);
  g_free (opts.log_level);
  return status;
}

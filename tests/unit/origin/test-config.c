/* test-config.c — unit tests of glasscastd's configuration loader (orchestrator/config.c).
 * Defaults, every key of examples/glasscast.ini, unknown keys, bad values, listen addresses. */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "config.h"

static gchar *
write_config (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  gchar *path = NULL;
  int fd = g_file_open_tmp ("gc-config-XXXXXX.ini", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_defaults (void)
{
  g_autoptr (GcConfig) c = gc_config_new ();

  g_assert_cmpstr (c->listen, ==, "127.0.0.1:8080");
  g_assert_cmpstr (c->log_level, ==, "info");
  g_assert_nonnull (c->media_dir);
  g_assert_cmpuint (c->origin.max_held_per_client, >, 0);
  g_assert_cmpuint (c->origin.cache_bytes, >, 0);
}

static void
test_every_key (void)
{
  g_autofree gchar *path = write_config (
      "[server]\nlisten=127.0.0.1:0\ndata-dir=/tmp/d\nmedia-dir=/tmp/m\n"
      "log-level=debug\n"
      "[origin]\nmax-held-per-client=3\nmax-held-total=50\n"
      "cache-size=8M\nmax-file-size=64K\ndefault-target-duration=4\n"
      "[chat]\nredis=unix:/run/r.sock\nredis-server=/usr/bin/redis-server\n"
      "node-id=n1\narchive=/tmp/chat.db\nhub-threads=4\nsend-queue=64K\n"
      "presence-interval=250\n"
      "[accounts]\ndatabase=/tmp/a.db\nsecret-file=/tmp/s\n"
      "session-ttl=3600\n"
      "[channel:demo]\nowner=Ann\n"
      "[future]\nsomething-later=1\n");
  g_autoptr (GcConfig) c = gc_config_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_config_load_file (c, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->listen, ==, "127.0.0.1:0");
  g_assert_cmpstr (c->data_dir, ==, "/tmp/d");
  g_assert_cmpstr (c->media_dir, ==, "/tmp/m");
  g_assert_cmpstr (c->log_level, ==, "debug");
  g_assert_cmpuint (c->origin.max_held_per_client, ==, 3);
  g_assert_cmpuint (c->origin.max_held_total, ==, 50);
  g_assert_cmpuint (c->origin.cache_bytes, ==, 8 * 1024 * 1024);
  g_assert_cmpuint (c->origin.max_file_bytes, ==, 64 * 1024);
  g_assert_cmpuint (c->origin.default_target_duration, ==, 4);
  g_assert_cmpstr (c->chat.redis, ==, "unix:/run/r.sock");
  g_assert_cmpstr (c->chat.redis_server, ==, "/usr/bin/redis-server");
  g_assert_cmpstr (c->chat.node_id, ==, "n1");
  g_assert_cmpstr (c->chat.archive, ==, "/tmp/chat.db");
  g_assert_cmpuint (c->chat.hub_threads, ==, 4);
  g_assert_cmpuint (c->chat.send_queue_bytes, ==, 64 * 1024);
  g_assert_cmpuint (c->chat.presence_interval_ms, ==, 250);
  g_assert_cmpstr (c->accounts.database, ==, "/tmp/a.db");
  g_assert_cmpstr (c->accounts.secret_file, ==, "/tmp/s");
  g_assert_cmpuint (c->accounts.session_ttl_s, ==, 3600);
  g_assert_cmpuint (c->channels->len, ==, 1);
  g_assert_cmpstr (((GcChannelConfig *)c->channels->pdata[0])->owner, ==,
                   "Ann");
  g_unlink (path);
}

static void
test_example_file_loads (void)
{
  const gchar *path = g_getenv ("GC_EXAMPLE_INI");
  g_autoptr (GcConfig) c = gc_config_new ();
  g_autoptr (GError) error = NULL;

  if (path == NULL) {
    g_test_skip ("GC_EXAMPLE_INI not set");
    return;
  }
  g_assert_true (gc_config_load_file (c, path, &error));
  g_assert_no_error (error);
}

static void
test_rejected (gconstpointer data)
{
  g_autofree gchar *path = write_config (data);
  g_autoptr (GcConfig) c = gc_config_new ();
  g_autoptr (GError) error = NULL;

  g_assert_false (gc_config_load_file (c, path, &error));
  g_assert_nonnull (error);
  g_unlink (path);
}

static void
test_listen (void)
{
  static const gchar *const good[] = {"127.0.0.1:0", "0.0.0.0:8080",
                                      "[::1]:9000", "localhost:80"};
  static const gchar *const bad[] = {"nonsense", "127.0.0.1", "1.2.3.4:99999",
                                     "example.invalid:80", ""};

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GSocketAddress) a = gc_config_parse_listen (good[i], &error);

    g_assert_no_error (error);
    g_assert_nonnull (a);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GSocketAddress) a = gc_config_parse_listen (bad[i], &error);

    g_assert_null (a);
    g_assert_nonnull (error);
  }
}

static void
test_sizes (void)
{
  guint64 v;

  g_assert_true (gc_config_parse_size ("1024", &v));
  g_assert_cmpuint (v, ==, 1024);
  g_assert_true (gc_config_parse_size ("2k", &v));
  g_assert_cmpuint (v, ==, 2048);
  g_assert_true (gc_config_parse_size ("3G", &v));
  g_assert_cmpuint (v, ==, (guint64)3 << 30);
  g_assert_false (gc_config_parse_size ("", &v));
  g_assert_false (gc_config_parse_size ("M", &v));
  g_assert_false (gc_config_parse_size ("-1M", &v));
  g_assert_false (gc_config_parse_size ("1.5M", &v));
}

#define HASH                                                                   \
  "pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA$"                                 \
  "n4PA7KayQ8H-KYljp2Dl_38BO3UhEmLfrgsulEpdxsE"

static void
test_channels_and_webrtc (void)
{
  g_autofree gchar *path = write_config (
      "[server]\nadmin-token-hash=" HASH "\nplugin-path=/a:/b\n"
      "[webrtc]\nstun-server=stun:s:3478\nice-address=127.0.0.1\n"
      "udp-port-range=40000-40099\n"
      "[worker]\nheartbeat-timeout=900\npipeline=whipserversrc ! fakesink\n"
      "[channel:one]\nstream-key-hash=" HASH "\n"
      "[channel:two_2]\nenabled=false\npipeline=whipserversrc ! fakesink\n");
  g_autoptr (GcConfig) c = gc_config_new ();
  g_autoptr (GError) error = NULL;
  GcChannelConfig *one;
  GcChannelConfig *two;

  g_assert_true (gc_config_load_file (c, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->admin_token_hash, ==, HASH);
  g_assert_cmpstr (c->plugin_path, ==, "/a:/b");
  g_assert_cmpstr (c->webrtc.stun_server, ==, "stun:s:3478");
  g_assert_cmpuint (c->webrtc.udp_port_min, ==, 40000);
  g_assert_cmpuint (c->webrtc.udp_port_max, ==, 40099);
  g_assert_cmpuint (c->worker.heartbeat_timeout_ms, ==, 900);
  g_assert_cmpuint (c->channels->len, ==, 2);
  one = c->channels->pdata[0];
  two = c->channels->pdata[1];
  g_assert_cmpstr (one->name, ==, "one");
  g_assert_cmpstr (one->stream_key_hash, ==, HASH);
  g_assert_true (one->enabled);
  g_assert_null (one->pipeline);
  g_assert_cmpstr (two->name, ==, "two_2");
  g_assert_null (two->stream_key_hash);
  g_assert_false (two->enabled);
  g_assert_cmpstr (two->pipeline, ==, "whipserversrc ! fakesink");
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  static const gchar *const rejected[][2] = {
      {"unknown-key", "[server]\nlisten=127.0.0.1:0\nlisen=1\n"},
      {"unknown-origin-key", "[origin]\nmax-held=3\n"},
      {"held-zero", "[origin]\nmax-held-per-client=0\n"},
      {"held-text", "[origin]\nmax-held-per-client=many\n"},
      {"cache-size-text", "[origin]\ncache-size=lots\n"},
      {"target-duration-huge", "[origin]\ndefault-target-duration=3600\n"},
      {"not-ini", "this is not an ini file\n"},
      {"channel-bad-name", "[channel:a.b]\nenabled=true\n"},
      {"channel-unknown-key", "[channel:a]\nstream-key=plain\n"},
      {"channel-plain-key", "[channel:a]\nstream-key-hash=secret\n"},
      {"channel-enabled-text", "[channel:a]\nenabled=maybe\n"},
      {"admin-plain-token", "[server]\nadmin-token-hash=sha256:abc\n"},
      {"port-range-reversed", "[webrtc]\nudp-port-range=50000-40000\n"},
      {"heartbeat-too-short", "[worker]\nheartbeat-timeout=100\n"},
      {"unknown-webrtc-key", "[webrtc]\nstun=stun:x\n"},
      {"unknown-chat-key", "[chat]\nredis-url=unix:/x\n"},
      {"chat-no-threads", "[chat]\nhub-threads=0\n"},
      {"chat-queue-tiny", "[chat]\nsend-queue=1K\n"},
      {"accounts-ttl-short", "[accounts]\nsession-ttl=5\n"},
      {"accounts-unknown-key", "[accounts]\nsecret=abc\n"},
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/config/defaults", test_defaults);
  g_test_add_func ("/origin/config/every-key", test_every_key);
  g_test_add_func ("/origin/config/example-file", test_example_file_loads);
  g_test_add_func ("/origin/config/listen", test_listen);
  g_test_add_func ("/origin/config/sizes", test_sizes);
  g_test_add_func ("/origin/config/channels-webrtc-worker",
                   test_channels_and_webrtc);
  for (guint i = 0; i < G_N_ELEMENTS (rejected); i++) {
    g_autofree gchar *path =
        g_strdup_printf ("/origin/config/rejected/%s", rejected[i][0]);

    g_test_add_data_func (path, rejected[i][1], test_rejected);
  }
  return g_test_run ();
}

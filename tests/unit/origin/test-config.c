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
      "[chat]\nsomething-later=1\n");
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
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/config/defaults", test_defaults);
  g_test_add_func ("/origin/config/every-key", test_every_key);
  g_test_add_func ("/origin/config/example-file", test_example_file_loads);
  g_test_add_func ("/origin/config/listen", test_listen);
  g_test_add_func ("/origin/config/sizes", test_sizes);
  for (guint i = 0; i < G_N_ELEMENTS (rejected); i++) {
    g_autofree gchar *path =
        g_strdup_printf ("/origin/config/rejected/%s", rejected[i][0]);

    g_test_add_data_func (path, rejected[i][1], test_rejected);
  }
  return g_test_run ();
}

/* test-media-path.c — unit tests of request path validation and safe opening (orchestrator/media-path.c).
 * Dot components, escapes, depth, and symlinks that point inside or outside the root. */

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "media-path.h"
#include "origin-error.h"

typedef struct {
  gchar *tmp;
  gchar *root;
  int root_fd;
} Fixture;

static void
write_file (const gchar *path, const gchar *text)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *rend = NULL;
  g_autofree gchar *p = NULL;

  f->tmp = g_dir_make_tmp ("gc-media-path-XXXXXX", &error);
  g_assert_no_error (error);
  f->root = g_build_filename (f->tmp, "media", NULL);
  rend = g_build_filename (f->root, "chan", "video_0", NULL);
  g_assert_cmpint (g_mkdir_with_parents (rend, 0755), ==, 0);
  p = g_build_filename (rend, "part-1.0.m4s", NULL);
  write_file (p, "PART");
  g_clear_pointer (&p, g_free);
  p = g_build_filename (f->tmp, "secret.m4s", NULL);
  write_file (p, "SECRET");
  g_clear_pointer (&p, g_free);
  /* A link out of the root, a link inside it, a linked folder. */
  p = g_build_filename (rend, "out.m4s", NULL);
  g_assert_cmpint (symlink ("../../../secret.m4s", p), ==, 0);
  g_clear_pointer (&p, g_free);
  p = g_build_filename (rend, "in.m4s", NULL);
  g_assert_cmpint (symlink ("part-1.0.m4s", p), ==, 0);
  g_clear_pointer (&p, g_free);
  p = g_build_filename (f->root, "linked", NULL);
  g_assert_cmpint (symlink (f->tmp, p), ==, 0);
  g_clear_pointer (&p, g_free);
  p = g_build_filename (rend, "fifo.m4s", NULL);
  g_assert_cmpint (mkfifo (p, 0600), ==, 0);
  f->root_fd = open (f->root, O_RDONLY | O_DIRECTORY);
  g_assert_cmpint (f->root_fd, >=, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", f->tmp);

  close (f->root_fd);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->root);
  g_free (f->tmp);
}

static GBytes *
read_path (Fixture *f, const gchar *path, GError **error)
{
  g_auto (GStrv) parts = gc_media_path_split (path, error);

  if (parts == NULL)
    return NULL;
  return gc_media_path_read (f->root_fd, (const gchar *const *)parts, 1024,
                             error);
}

static void
test_reads_plain_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) b = read_path (f, "chan/video_0/part-1.0.m4s", &error);

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b), "PART", 4);
}

static void
test_missing_is_not_found (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) b = read_path (f, "chan/video_0/part-9.0.m4s", &error);

  g_assert_null (b);
  g_assert_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND);
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) b = read_path (f, data, &error);

  g_assert_null (b);
  g_assert_nonnull (error);
  g_assert_true (error->domain == GC_ORIGIN_ERROR);
  g_assert_true (error->code == GC_ORIGIN_ERROR_FORBIDDEN ||
                 error->code == GC_ORIGIN_ERROR_BAD_REQUEST ||
                 error->code == GC_ORIGIN_ERROR_NOT_FOUND);
}

static void
test_component_rules (void)
{
  g_assert_true (gc_media_path_component_is_valid ("video_0"));
  g_assert_true (gc_media_path_component_is_valid ("part-17.3.m4s"));
  g_assert_false (gc_media_path_component_is_valid (""));
  g_assert_false (gc_media_path_component_is_valid ("."));
  g_assert_false (gc_media_path_component_is_valid (".."));
  g_assert_false (gc_media_path_component_is_valid (".seg-1.m4s.tmp"));
  g_assert_false (gc_media_path_component_is_valid ("a b"));
  g_assert_false (gc_media_path_component_is_valid ("a\\b"));
  g_assert_false (gc_media_path_component_is_valid ("é"));
}

static void
test_split_errors (void)
{
  static const struct {
    const gchar *path;
    GcOriginErrorCode code;
  } cases[] = {
      {"../secret", GC_ORIGIN_ERROR_FORBIDDEN},
      {"chan/../x", GC_ORIGIN_ERROR_FORBIDDEN},
      {"chan/./x", GC_ORIGIN_ERROR_FORBIDDEN},
      {"%2e%2e/secret", GC_ORIGIN_ERROR_FORBIDDEN},
      {"chan/video_0/%00", GC_ORIGIN_ERROR_FORBIDDEN},
      {"chan\\..\\x", GC_ORIGIN_ERROR_FORBIDDEN},
      {"chan//x", GC_ORIGIN_ERROR_BAD_REQUEST},
      {"/etc/passwd", GC_ORIGIN_ERROR_BAD_REQUEST},
      {"a/b/c/d", GC_ORIGIN_ERROR_NOT_FOUND},
      {"chan/vid eo/x", GC_ORIGIN_ERROR_BAD_REQUEST},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) parts = gc_media_path_split (cases[i].path, &error);

    g_assert_null (parts);
    g_assert_error (error, GC_ORIGIN_ERROR, (gint)cases[i].code);
  }
}

int
main (int argc, char **argv)
{
  static const gchar *const refused[][2] = {
      {"symlink-out", "chan/video_0/out.m4s"},
      {"symlink-in", "chan/video_0/in.m4s"},
      {"symlinked-folder", "linked/secret.m4s"},
      {"fifo", "chan/video_0/fifo.m4s"},
      {"folder", "chan/video_0"},
      {"dot-dot", "chan/../../secret.m4s"},
      {"encoded-dot-dot", "chan/%2e%2e/%2e%2e/secret.m4s"},
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/media-path/component-rules", test_component_rules);
  g_test_add_func ("/origin/media-path/split-errors", test_split_errors);
  g_test_add ("/origin/media-path/read/plain-file", Fixture, NULL,
              fixture_set_up, test_reads_plain_file, fixture_tear_down);
  g_test_add ("/origin/media-path/read/missing", Fixture, NULL, fixture_set_up,
              test_missing_is_not_found, fixture_tear_down);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autofree gchar *path =
        g_strdup_printf ("/origin/media-path/read/refused/%s", refused[i][0]);

    g_test_add (path, Fixture, refused[i][1], fixture_set_up, test_refused,
                fixture_tear_down);
  }
  return g_test_run ();
}

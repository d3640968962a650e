/* test-dir-watch.c — unit tests of the inotify GSource (orchestrator/dir-watch.c).
 * A rename into a watched folder reaches the callback on the main context, with its name. */

#include <sys/inotify.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "dir-watch.h"

typedef struct {
  GMainLoop *loop;
  gchar *name;
  guint32 mask;
  gpointer cookie;
} Seen;

static void
on_event (gpointer cookie, const gchar *name, guint32 mask, gpointer user_data)
{
  Seen *seen = user_data;

  if (name == NULL || name[0] == '.')
    return;
  g_free (seen->name);
  seen->name = g_strdup (name);
  seen->mask = mask;
  seen->cookie = cookie;
  g_main_loop_quit (seen->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
  g_assert_not_reached ();
  return G_SOURCE_REMOVE;
}

static void
test_rename_reaches_callback (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("gc-dir-watch-XXXXXX", &error);
  g_autofree gchar *tmp = g_build_filename (dir, ".part-1.0.m4s.tmp", NULL);
  g_autofree gchar *final = g_build_filename (dir, "part-1.0.m4s", NULL);
  Seen seen = {0};
  g_autoptr (GcDirWatch) watch = NULL;
  int cookie;
  guint timeout;

  g_assert_no_error (error);
  seen.loop = g_main_loop_new (NULL, FALSE);
  watch = gc_dir_watch_new (on_event, &seen, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gc_dir_watch_add (watch, dir, IN_MOVED_TO, &cookie, &error),
                   >=, 0);
  g_assert_no_error (error);

  g_file_set_contents (tmp, "x", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_rename (tmp, final), ==, 0);
  timeout = g_timeout_add_seconds (5, on_timeout, NULL);
  g_main_loop_run (seen.loop);
  g_source_remove (timeout);

  g_assert_cmpstr (seen.name, ==, "part-1.0.m4s");
  g_assert_true (seen.mask & IN_MOVED_TO);
  g_assert_true (seen.cookie == &cookie);

  g_unlink (final);
  g_rmdir (dir);
  g_free (seen.name);
  g_main_loop_unref (seen.loop);
}

static void
test_refuses_symlink (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("gc-dir-watch-XXXXXX", &error);
  g_autofree gchar *link = g_build_filename (dir, "link", NULL);
  g_autoptr (GcDirWatch) watch = gc_dir_watch_new (on_event, NULL, NULL);
  int cookie;

  g_assert_cmpint (symlink (dir, link), ==, 0);
  g_assert_cmpint (gc_dir_watch_add (watch, link, IN_MOVED_TO, &cookie, &error),
                   <, 0);
  g_assert_nonnull (error);
  g_unlink (link);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/dir-watch/rename-reaches-callback",
                   test_rename_reaches_callback);
  g_test_add_func ("/origin/dir-watch/refuses-symlink", test_refuses_symlink);
  return g_test_run ();
}

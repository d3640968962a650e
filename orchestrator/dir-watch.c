/* dir-watch.c — a raw inotify fd read from a g_unix_fd_add() source.
 * GFileMonitor batches and delays events (move pairing, rate limits); a live edge needs each rename at once. */

#include "dir-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

struct _GcDirWatch {
  int fd;
  guint source_id;
  GHashTable *cookies; /* wd -> cookie */
  GcDirWatchFunc func;
  gpointer user_data;
};

static gboolean
on_readable (gint fd, GIOCondition condition, gpointer user_data)
{
  GcDirWatch *watch = user_data;
  /* Aligned as inotify_event requires. */
  gchar buf[16384]
      __attribute__ ((aligned (__alignof__(struct inotify_event))));

  for (;;) {
    gssize n = read (fd, buf, sizeof buf);
    gssize off = 0;

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    while (off + (gssize)sizeof (struct inotify_event) <= n) {
      const struct inotify_event *ev = (const void *)(buf + off);
      gpointer cookie;

      off += sizeof (struct inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        /* Events were lost: the owner must rescan everything. */
        watch->func (NULL, NULL, ev->mask, watch->user_data);
        continue;
      }
      if (!g_hash_table_lookup_extended (
              watch->cookies, GINT_TO_POINTER (ev->wd), NULL, &cookie))
        continue;
      if (ev->mask & IN_IGNORED)
        g_hash_table_remove (watch->cookies, GINT_TO_POINTER (ev->wd));
      watch->func (cookie, ev->len > 0 ? ev->name : NULL, ev->mask,
                   watch->user_data);
    }
  }
  return G_SOURCE_CONTINUE;
}

GcDirWatch *
gc_dir_watch_new (GcDirWatchFunc func, gpointer user_data, GError **error)
{
  GcDirWatch *watch;
  int fd;

  g_return_val_if_fail (func != NULL, NULL);

  fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    int errsv = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 "inotify_init1: %s", g_strerror (errsv));
    return NULL;
  }
  watch = g_new0 (GcDirWatch, 1);
  watch->fd = fd;
  watch->func = func;
  watch->user_data = user_data;
  watch->cookies = g_hash_table_new (NULL, NULL);
  watch->source_id = g_unix_fd_add (fd, G_IO_IN, on_readable, watch);
  return watch;
}

void
gc_dir_watch_free (GcDirWatch *watch)
{
  if (watch == NULL)
    return;
  g_clear_handle_id (&watch->source_id, g_source_remove);
  close (watch->fd);
  g_hash_table_unref (watch->cookies);
  g_free (watch);
}

gint
gc_dir_watch_add (GcDirWatch *watch, const gchar *path, guint32 mask,
                  gpointer cookie, GError **error)
{
  int wd;

  g_return_val_if_fail (watch != NULL, -1);
  g_return_val_if_fail (path != NULL, -1);

  wd = inotify_add_watch (watch->fd, path, mask | IN_DONT_FOLLOW | IN_ONLYDIR);
  if (wd < 0) {
    int errsv = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 "cannot watch %s: %s", path, g_strerror (errsv));
    return -1;
  }
  g_hash_table_insert (watch->cookies, GINT_TO_POINTER (wd), cookie);
  return wd;
}

void
gc_dir_watch_remove (GcDirWatch *watch, gint wd)
{
  g_return_if_fail (watch != NULL);

  if (g_hash_table_remove (watch->cookies, GINT_TO_POINTER (wd)))
    inotify_rm_watch (watch->fd, wd);
}

/* llhlsfile.c — atomic file publication for llhlssink: every file appears whole,
 * by writing a temporary name in the same folder and renaming it into place. */

#include "llhlsfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>
#include <glib/gstdio.h>

static gboolean
llhls_file_fail (GError **error, const gchar *what, const gchar *path)
{
  int e = errno;

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
               "cannot %s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

gboolean
llhls_file_append (int fd, const gchar *path, const guint8 *data, gsize len,
                   GError **error)
{
  while (len > 0) {
    ssize_t n = write (fd, data, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return llhls_file_fail (error, "write", path);
    }
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

gboolean
llhls_file_commit (const gchar *tmp_path, const gchar *dir, const gchar *name,
                   GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);

  if (rename (tmp_path, path) != 0) {
    gboolean r = llhls_file_fail (error, "rename into", path);
    g_unlink (tmp_path);
    return r;
  }
  return TRUE;
}

gboolean
llhls_file_write_atomic (const gchar *dir, const gchar *name, const guint8 *a,
                         gsize a_len, const guint8 *b, gsize b_len,
                         GError **error)
{
  g_autofree gchar *tmpname = g_strdup_printf (".%s.tmp", name);
  g_autofree gchar *tmp = g_build_filename (dir, tmpname, NULL);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0)
    return llhls_file_fail (error, "create", tmp);
  if (!llhls_file_append (fd, tmp, a, a_len, error) ||
      !llhls_file_append (fd, tmp, b, b_len, error)) {
    close (fd);
    g_unlink (tmp);
    return FALSE;
  }
  if (close (fd) != 0) {
    gboolean r = llhls_file_fail (error, "write", tmp);
    g_unlink (tmp);
    return r;
  }
  return llhls_file_commit (tmp, dir, name, error);
}

void
llhls_file_remove (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);

  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("cannot remove %s: %s", path, g_strerror (errno));
}

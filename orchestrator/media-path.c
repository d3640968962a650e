/* media-path.c — validates request paths and opens media files with openat(O_NOFOLLOW) from the root fd.
 * Walking component by component from a directory fd is what makes symlink escapes impossible, not string checks. */

#include "media-path.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "origin-error.h"

gboolean
gc_media_path_component_is_valid (const gchar *name)
{
  gsize n = 0;

  if (name == NULL || name[0] == '\0' || name[0] == '.')
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++, n++) {
    if (!(g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-'))
      return FALSE;
  }
  return n <= 128;
}

gchar **
gc_media_path_split (const gchar *path, GError **error)
{
  g_auto (GStrv) parts = NULL;
  guint n;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Percent-escapes could spell "..", "/" or NUL; media names never need
   * them, so they are refused before anything is decoded. */
  if (strchr (path, '%') != NULL || strchr (path, '\\') != NULL) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_FORBIDDEN,
                 "escaped characters are not allowed in media paths");
    return NULL;
  }
  parts = g_strsplit (path, "/", -1);
  n = g_strv_length (parts);
  if (n == 0 || n > GC_MEDIA_PATH_MAX_DEPTH) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no such media path");
    return NULL;
  }
  for (guint i = 0; i < n; i++) {
    if (parts[i][0] == '.') {
      g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_FORBIDDEN,
                   "dot components are not allowed in media paths");
      return NULL;
    }
    if (!gc_media_path_component_is_valid (parts[i])) {
      g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_BAD_REQUEST,
                   "malformed media path");
      return NULL;
    }
  }
  return g_steal_pointer (&parts);
}

static void
set_errno_error (GError **error, int errsv)
{
  if (errsv == ENOENT) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_NOT_FOUND,
                 "no such media file");
  } else if (errsv == ELOOP || errsv == ENOTDIR || errsv == EACCES ||
             errsv == EPERM) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_FORBIDDEN,
                 "media path is not a plain file inside the media folder");
  } else {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_INTERNAL,
                 "cannot open media file: %s", g_strerror (errsv));
  }
}

int
gc_media_path_open_dir (int root_fd, const gchar *const *components,
                        GError **error)
{
  int fd;

  g_return_val_if_fail (root_fd >= 0, -1);
  g_return_val_if_fail (components != NULL, -1);

  fd = openat (root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    set_errno_error (error, errno);
    return -1;
  }
  for (guint i = 0; components[i] != NULL; i++) {
    int next = openat (fd, components[i],
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int errsv = errno;

    close (fd);
    if (next < 0) {
      set_errno_error (error, errsv);
      return -1;
    }
    fd = next;
  }
  return fd;
}

GBytes *
gc_media_path_read (int root_fd, const gchar *const *components, gsize max_size,
                    GError **error)
{
  g_autofree gchar *data = NULL;
  g_autofree const gchar **dirs = NULL;
  struct stat st;
  guint n;
  int dir_fd;
  int fd;
  gsize done = 0;

  g_return_val_if_fail (components != NULL && components[0] != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  n = g_strv_length ((gchar **)components);
  dirs = g_new0 (const gchar *, n);
  for (guint i = 0; i + 1 < n; i++)
    dirs[i] = components[i];
  dir_fd = gc_media_path_open_dir (root_fd, dirs, error);
  if (dir_fd < 0)
    return NULL;
  fd = openat (dir_fd, components[n - 1],
               O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int errsv = errno;

    close (dir_fd);
    set_errno_error (error, errsv);
    return NULL;
  }
  close (dir_fd);

  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_FORBIDDEN,
                 "media path is not a regular file");
    return NULL;
  }
  if ((guint64)st.st_size > max_size) {
    close (fd);
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_INTERNAL,
                 "media file is larger than %" G_GSIZE_FORMAT " bytes",
                 max_size);
    return NULL;
  }

  data = g_malloc (st.st_size + 1);
  while (done < (gsize)st.st_size) {
    gssize r = read (fd, data + done, st.st_size - done);

    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    done += r;
  }
  close (fd);
  if (done != (gsize)st.st_size) {
    g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_INTERNAL,
                 "short read on media file");
    return NULL;
  }
  return g_bytes_new_take (g_steal_pointer (&data), done);
}

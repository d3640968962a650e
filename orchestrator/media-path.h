/* media-path.h — turns a request path into a file inside the media folder, or refuses it.
 * The only code that opens media files: no '..', no encoded bytes, no symlinks, nothing outside the root. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Most components a media path has: channel / rendition / file. */
#define GC_MEDIA_PATH_MAX_DEPTH 3

/* Whether @name may be one component of a media path: 1 to 128 characters
 * from [A-Za-z0-9._-], not starting with '.'. */
gboolean gc_media_path_component_is_valid (const gchar *name);

/* Splits @path (as received, still percent-encoded, relative to the mount
 * point, e.g. "chan/video_0/part-3.1.m4s") into 1 to
 * GC_MEDIA_PATH_MAX_DEPTH components. Fails with GC_ORIGIN_ERROR_FORBIDDEN
 * for dot components and percent-escapes (which could hide them), with
 * GC_ORIGIN_ERROR_BAD_REQUEST for anything else malformed.
 * Returns: (transfer full): a NULL-terminated array. */
gchar **gc_media_path_split (const gchar *path, GError **error);

/* Reads @components below the directory @root_fd without following any
 * symbolic link, refusing anything but a regular file of at most @max_size
 * bytes. Returns: (transfer full): the file's bytes. */
GBytes *gc_media_path_read (int root_fd, const gchar *const *components,
                            gsize max_size, GError **error);

/* Opens the directory @components (may be empty: the root itself) below
 * @root_fd, without following symbolic links. Returns: an fd or -1. */
int gc_media_path_open_dir (int root_fd, const gchar *const *components,
                            GError **error);

G_END_DECLS

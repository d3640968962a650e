/* dir-watch.h — one inotify fd as a GSource on the main context, watching many folders.
 * The origin's only source of wake-ups: a rename into a watched folder wakes held requests, no polling. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GcDirWatch GcDirWatch;

/* Called on the main context for each event in a watched folder: @cookie is
 * what was given to gc_dir_watch_add(), @name the file's name (NULL for
 * events about the folder itself), @mask the inotify event mask. When @mask
 * has IN_IGNORED the watch is gone and @cookie will not be seen again. On
 * IN_Q_OVERFLOW events were lost: @cookie and @name are NULL. */
typedef void (*GcDirWatchFunc) (gpointer cookie, const gchar *name,
                                guint32 mask, gpointer user_data);

GcDirWatch *gc_dir_watch_new (GcDirWatchFunc func, gpointer user_data,
                              GError **error);
void gc_dir_watch_free (GcDirWatch *watch);

/* Starts watching @path (not following a symlink there) for @mask events.
 * Returns: the watch descriptor, or -1 with @error set. */
gint gc_dir_watch_add (GcDirWatch *watch, const gchar *path, guint32 mask,
                       gpointer cookie, GError **error);

/* Stops a watch; its callback sees no further event, not even IN_IGNORED. */
void gc_dir_watch_remove (GcDirWatch *watch, gint wd);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcDirWatch, gc_dir_watch_free)

G_END_DECLS

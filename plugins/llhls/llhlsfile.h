/* llhlsfile.h — atomic file publication for llhlssink: every file appears whole,
 * by writing a temporary name in the same folder and renaming it into place. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes @a then @b (either may be empty) to DIR/.NAME.tmp and renames it to
 * DIR/NAME. */
gboolean llhls_file_write_atomic (const gchar *dir, const gchar *name,
                                  const guint8 *a, gsize a_len, const guint8 *b,
                                  gsize b_len, GError **error);

/* Appends to an open file descriptor, retrying short writes. */
gboolean llhls_file_append (int fd, const gchar *path, const guint8 *data,
                            gsize len, GError **error);

/* Renames the finished temporary file @tmp_path to DIR/NAME. */
gboolean llhls_file_commit (const gchar *tmp_path, const gchar *dir,
                            const gchar *name, GError **error);

/* Removes DIR/NAME; a file already gone is not an error. */
void llhls_file_remove (const gchar *dir, const gchar *name);

G_END_DECLS

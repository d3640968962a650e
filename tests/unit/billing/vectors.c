/* vectors.c — see vectors.h. */

#include "vectors.h"

#include <string.h>

GPtrArray *
test_vectors_run (const gchar *python, const gchar *script, guint n_fields)
{
  const gchar *argv[] = {python, script, NULL};
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *vectors =
      g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  gint status = 0;

  g_spawn_sync (NULL, (gchar **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s\n%s", script, error->message, err);
  lines = g_strsplit (out, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++) {
    GStrv fields;

    if (lines[i][0] == '\0')
      continue;
    fields = g_strsplit (lines[i], "\t", -1);
    g_assert_cmpuint (g_strv_length (fields), ==, n_fields);
    g_ptr_array_add (vectors, fields);
  }
  return vectors;
}

GBytes *
test_vectors_from_hex (const gchar *hex)
{
  gsize len = strlen (hex);
  guint8 *bytes = g_malloc (len / 2 + 1);

  g_assert_cmpuint (len % 2, ==, 0);
  for (gsize i = 0; i < len / 2; i++) {
    gint hi = g_ascii_xdigit_value (hex[2 * i]);
    gint lo = g_ascii_xdigit_value (hex[2 * i + 1]);

    g_assert_true (hi >= 0 && lo >= 0);
    bytes[i] = (guint8)(hi << 4 | lo);
  }
  return g_bytes_new_take (bytes, len / 2);
}

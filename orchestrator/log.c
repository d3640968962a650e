/* log.c — writes structured log records as logfmt lines (time=... level=... msg="..." channel=...).
 * Machine-readable without a journal; only fields the code passes are written, so secrets never reach it. */

#include "log.h"

#include <stdio.h>
#include <string.h>

static GLogLevelFlags max_level = G_LOG_LEVEL_INFO;

static const struct {
  const gchar *name;
  GLogLevelFlags level;
} levels[] = {
    {"error", G_LOG_LEVEL_CRITICAL},
    {"warning", G_LOG_LEVEL_WARNING},
    {"info", G_LOG_LEVEL_INFO},
    {"debug", G_LOG_LEVEL_DEBUG},
};

static const gchar *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "fatal";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "error";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    return "info";
  return "debug";
}

static gboolean
level_enabled (GLogLevelFlags level)
{
  /* Lower flag bits are more severe. */
  GLogLevelFlags l = level & G_LOG_LEVEL_MASK;

  if (l & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return TRUE;
  if (l & G_LOG_LEVEL_MESSAGE)
    l = G_LOG_LEVEL_INFO;
  return l <= max_level;
}

static void
append_value (GString *out, const gchar *value, gssize length)
{
  gsize n = length < 0 ? strlen (value) : (gsize)length;
  gboolean quote = (n == 0);

  for (gsize i = 0; i < n && !quote; i++) {
    if (value[i] == ' ' || value[i] == '"' || value[i] == '=' ||
        (guchar)value[i] < 0x20)
      quote = TRUE;
  }
  if (!quote) {
    g_string_append_len (out, value, n);
    return;
  }
  g_string_append_c (out, '"');
  for (gsize i = 0; i < n; i++) {
    guchar c = value[i];

    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c == '\n')
      g_string_append (out, "\\n");
    else if (c < 0x20)
      g_string_append_printf (out, "\\x%02x", c);
    else
      g_string_append_c (out, c);
  }
  g_string_append_c (out, '"');
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
        gpointer user_data)
{
  g_autoptr (GDateTime) now = NULL;
  g_autofree gchar *stamp = NULL;
  GString *line;
  const gchar *domain = NULL;

  if (!level_enabled (level))
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  }
  /* Libraries' debug chatter only when asked for with G_MESSAGES_DEBUG. */
  if ((level & G_LOG_LEVEL_DEBUG) && domain != NULL &&
      strcmp (domain, G_LOG_DOMAIN) != 0 &&
      g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;

  now = g_date_time_new_now_utc ();
  stamp = g_date_time_format_iso8601 (now);
  line = g_string_new (NULL);
  g_string_append_printf (line, "time=%s level=%s", stamp, level_name (level));
  if (domain != NULL)
    g_string_append_printf (line, " domain=%s", domain);
  for (gsize i = 0; i < n_fields; i++) {
    const gchar *key = fields[i].key;

    if (strcmp (key, "MESSAGE") == 0) {
      g_string_append (line, " msg=");
      append_value (line, fields[i].value, fields[i].length);
    } else if (g_str_has_prefix (key, "GC_")) {
      g_autofree gchar *name = g_ascii_strdown (key + 3, -1);

      g_string_append_printf (line, " %s=", name);
      append_value (line, fields[i].value, fields[i].length);
    }
  }
  g_string_append_c (line, '\n');
  fputs (line->str, stderr);
  fflush (stderr);
  g_string_free (line, TRUE);
  return G_LOG_WRITER_HANDLED;
}

gboolean
gc_log_init (const gchar *level, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++) {
    if (g_strcmp0 (level, levels[i].name) == 0) {
      max_level = levels[i].level;
      g_log_set_writer_func (writer, NULL, NULL);
      return TRUE;
    }
  }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "unknown log level \"%s\" (error, warning, info, debug)",
               level ? level : "");
  return FALSE;
}

/* log.h — glasscastd's structured log writer: one logfmt line per record on stderr.
 * Fields come from g_log_structured(); GC_CHANNEL becomes channel=..., and so on. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Installs the writer, dropping records less severe than @level ("error",
 * "warning", "info" or "debug"). Fails on an unknown level. */
gboolean gc_log_init (const gchar *level, GError **error);

G_END_DECLS

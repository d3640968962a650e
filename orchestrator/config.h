/* config.h — glasscastd's settings: defaults, the INI file (GKeyFile), command-line overrides.
 * Every key is documented in examples/glasscast.ini. */

#pragma once

#include <gio/gio.h>

#include "origin.h"

G_BEGIN_DECLS

typedef struct {
  gchar *listen;    /* host:port; port 0 lets the kernel choose */
  gchar *data_dir;  /* durable state */
  gchar *media_dir; /* LL-HLS folders, one per channel (tmpfs) */
  gchar *log_level; /* error, warning, info, debug */
  GcOriginLimits origin;
} GcConfig;

/* Returns: (transfer full): a configuration holding the defaults. */
GcConfig *gc_config_new (void);
void gc_config_free (GcConfig *config);

/* Reads @path over the values already in @config. Unknown keys in known
 * groups are errors (typos must not pass silently). */
gboolean gc_config_load_file (GcConfig *config, const gchar *path,
                              GError **error);

/* Parses "host:port" ("127.0.0.1:8080", "[::1]:0", "localhost:8080").
 * Returns: (transfer full) (nullable): the address. */
GSocketAddress *gc_config_parse_listen (const gchar *listen, GError **error);

/* Parses a size with an optional K, M or G suffix (powers of 1024). */
gboolean gc_config_parse_size (const gchar *text, guint64 *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcConfig, gc_config_free)

G_END_DECLS

/* channels.h — GcChannels, every channel glasscastd knows: the [channel:NAME] groups of the config plus
 * those created through the admin API (kept in <data-dir>/channels.ini, hashes only). */

#pragma once

#include "channel.h"
#include "origin.h"

G_BEGIN_DECLS

#define GC_TYPE_CHANNELS (gc_channels_get_type ())
G_DECLARE_FINAL_TYPE (GcChannels, gc_channels, GC, CHANNELS, GObject)

/* Returns: (transfer full) (nullable): the channels of @config (which must
 * outlive them) and of its data-dir, or NULL with @error. */
GcChannels *gc_channels_new (const GcConfig *config, GError **error);

/* Returns: (transfer none) (nullable): the channel called @name. */
GcChannel *gc_channels_lookup (GcChannels *channels, const gchar *name);

/* Returns: (transfer container): the channels, sorted by name. */
GPtrArray *gc_channels_list (GcChannels *channels);

/* Creates channel @name owned by @owner (nullable: a username the caller
 * has checked exists) with a new stream key, stores its hash, and
 * returns the key in @stream_key (the only time it is ever seen).
 * GC_CHANNEL_ERROR_CONFLICT if it exists, _BAD_REQUEST for a bad name.
 * Returns: (transfer none) (nullable): the channel. */
GcChannel *gc_channels_create (GcChannels *channels, const gchar *name,
                               const gchar *owner, gchar **stream_key,
                               GError **error);

/* Asks every worker to stop. Returns how many were running. */
guint gc_channels_shutdown (GcChannels *channels);

/* Number of channels with a worker. */
guint gc_channels_count_running (GcChannels *channels);

/* Appends per-channel health in Prometheus text format to @out; @origin
 * (nullable) gives the last part time. */
void gc_channels_append_metrics (GcChannels *channels, GcOrigin *origin,
                                 GString *out);

G_END_DECLS

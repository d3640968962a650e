/* part-cache.h — a byte-bounded LRU of recent media files (parts, segments, init sections).
 * Filled when a file appears, so the origin never re-reads a hot part from disk per request. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GcPartCache GcPartCache;

GcPartCache *gc_part_cache_new (gsize max_bytes);
void gc_part_cache_free (GcPartCache *cache);

/* Returns: (transfer full) (nullable): the bytes stored under @key, which
 * become the most recently used entry. */
GBytes *gc_part_cache_lookup (GcPartCache *cache, const gchar *key);

/* Stores @bytes under @key, replacing any previous entry and evicting the
 * least recently used entries until the total fits. A value larger than the
 * whole cache is not stored. */
void gc_part_cache_insert (GcPartCache *cache, const gchar *key, GBytes *bytes);

void gc_part_cache_remove (GcPartCache *cache, const gchar *key);

/* Removes every entry whose key starts with @prefix. */
void gc_part_cache_remove_prefix (GcPartCache *cache, const gchar *prefix);

gsize gc_part_cache_get_size (const GcPartCache *cache);
guint gc_part_cache_get_n_entries (const GcPartCache *cache);
guint64 gc_part_cache_get_hits (const GcPartCache *cache);
guint64 gc_part_cache_get_misses (const GcPartCache *cache);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcPartCache, gc_part_cache_free)

G_END_DECLS

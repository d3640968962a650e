/* part-cache.c — byte-bounded LRU: a hash table for lookup, a GQueue for recency.
 * Entries are immutable GBytes shared with the responses that send them, so eviction never frees bytes in flight. */

#include "part-cache.h"

#include <string.h>

typedef struct {
  gchar *key;
  GBytes *bytes;
  GList link; /* in GcPartCache.lru; data points back to this entry */
} Entry;

struct _GcPartCache {
  gsize max_bytes;
  gsize size;
  GHashTable *entries; /* key -> Entry, owns the entries */
  GQueue lru;          /* head: most recently used */
  guint64 hits;
  guint64 misses;
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->key);
  g_bytes_unref (e->bytes);
  g_free (e);
}

GcPartCache *
gc_part_cache_new (gsize max_bytes)
{
  GcPartCache *cache = g_new0 (GcPartCache, 1);

  cache->max_bytes = max_bytes;
  cache->entries =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  g_queue_init (&cache->lru);
  return cache;
}

void
gc_part_cache_free (GcPartCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_unref (cache->entries);
  g_free (cache);
}

static void
drop (GcPartCache *cache, Entry *e)
{
  g_queue_unlink (&cache->lru, &e->link);
  cache->size -= g_bytes_get_size (e->bytes);
  g_hash_table_remove (cache->entries, e->key);
}

GBytes *
gc_part_cache_lookup (GcPartCache *cache, const gchar *key)
{
  Entry *e;

  g_return_val_if_fail (cache != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  e = g_hash_table_lookup (cache->entries, key);
  if (e == NULL) {
    cache->misses++;
    return NULL;
  }
  cache->hits++;
  g_queue_unlink (&cache->lru, &e->link);
  g_queue_push_head_link (&cache->lru, &e->link);
  return g_bytes_ref (e->bytes);
}

void
gc_part_cache_insert (GcPartCache *cache, const gchar *key, GBytes *bytes)
{
  Entry *e;
  gsize n;

  g_return_if_fail (cache != NULL);
  g_return_if_fail (key != NULL);
  g_return_if_fail (bytes != NULL);

  gc_part_cache_remove (cache, key);
  n = g_bytes_get_size (bytes);
  if (n > cache->max_bytes)
    return;
  while (cache->size + n > cache->max_bytes && cache->lru.tail != NULL)
    drop (cache, cache->lru.tail->data);

  e = g_new0 (Entry, 1);
  e->key = g_strdup (key);
  e->bytes = g_bytes_ref (bytes);
  e->link.data = e;
  g_queue_push_head_link (&cache->lru, &e->link);
  g_hash_table_insert (cache->entries, e->key, e);
  cache->size += n;
}

void
gc_part_cache_remove (GcPartCache *cache, const gchar *key)
{
  Entry *e;

  g_return_if_fail (cache != NULL);
  g_return_if_fail (key != NULL);

  e = g_hash_table_lookup (cache->entries, key);
  if (e != NULL)
    drop (cache, e);
}

void
gc_part_cache_remove_prefix (GcPartCache *cache, const gchar *prefix)
{
  GList *l;

  g_return_if_fail (cache != NULL);
  g_return_if_fail (prefix != NULL);

  l = cache->lru.head;
  while (l != NULL) {
    Entry *e = l->data;

    l = l->next;
    if (g_str_has_prefix (e->key, prefix))
      drop (cache, e);
  }
}

gsize
gc_part_cache_get_size (const GcPartCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return cache->size;
}

guint
gc_part_cache_get_n_entries (const GcPartCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return g_hash_table_size (cache->entries);
}

guint64
gc_part_cache_get_hits (const GcPartCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return cache->hits;
}

guint64
gc_part_cache_get_misses (const GcPartCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return cache->misses;
}

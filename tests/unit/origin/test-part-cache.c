/* test-part-cache.c — unit tests of the byte-bounded LRU part cache (orchestrator/part-cache.c).
 * Eviction order, the byte bound, replacement, prefix removal, hit and miss counts. */

#include <string.h>

#include "part-cache.h"

static GBytes *
bytes_of (gsize n, guint8 fill)
{
  guint8 *data = g_malloc (n);

  memset (data, fill, n);
  return g_bytes_new_take (data, n);
}

static void
insert (GcPartCache *cache, const gchar *key, gsize n)
{
  g_autoptr (GBytes) b = bytes_of (n, 0x5a);

  gc_part_cache_insert (cache, key, b);
}

static gboolean
has (GcPartCache *cache, const gchar *key)
{
  g_autoptr (GBytes) b = gc_part_cache_lookup (cache, key);

  return b != NULL;
}

static void
test_lookup_returns_bytes (void)
{
  g_autoptr (GcPartCache) cache = gc_part_cache_new (1000);
  g_autoptr (GBytes) in = bytes_of (10, 7);
  g_autoptr (GBytes) out = NULL;

  gc_part_cache_insert (cache, "c/v/part-1.0.m4s", in);
  out = gc_part_cache_lookup (cache, "c/v/part-1.0.m4s");
  g_assert_true (g_bytes_equal (in, out));
  g_assert_null (gc_part_cache_lookup (cache, "c/v/part-1.1.m4s"));
  g_assert_cmpuint (gc_part_cache_get_hits (cache), ==, 1);
  g_assert_cmpuint (gc_part_cache_get_misses (cache), ==, 1);
}

static void
test_evicts_least_recently_used (void)
{
  g_autoptr (GcPartCache) cache = gc_part_cache_new (300);

  insert (cache, "a", 100);
  insert (cache, "b", 100);
  insert (cache, "c", 100);
  g_assert_true (has (cache, "a")); /* a is now the most recent */
  insert (cache, "d", 100);         /* evicts b */
  g_assert_false (has (cache, "b"));
  g_assert_true (has (cache, "a"));
  g_assert_true (has (cache, "c"));
  g_assert_true (has (cache, "d"));
  g_assert_cmpuint (gc_part_cache_get_size (cache), ==, 300);
}

static void
test_bound_in_bytes (void)
{
  g_autoptr (GcPartCache) cache = gc_part_cache_new (250);

  insert (cache, "a", 100);
  insert (cache, "b", 100);
  insert (cache, "big", 200); /* needs both out */
  g_assert_false (has (cache, "a"));
  g_assert_false (has (cache, "b"));
  g_assert_true (has (cache, "big"));
  g_assert_cmpuint (gc_part_cache_get_size (cache), ==, 200);
}

static void
test_too_large_not_stored (void)
{
  g_autoptr (GcPartCache) cache = gc_part_cache_new (100);

  insert (cache, "a", 50);
  insert (cache, "huge", 101);
  g_assert_false (has (cache, "huge"));
  g_assert_true (has (cache, "a"));
}

static void
test_replace_same_key (void)
{
  g_autoptr (GcPartCache) cache = gc_part_cache_new (1000);

  insert (cache, "a", 100);
  insert (cache, "a", 30);
  g_assert_cmpuint (gc_part_cache_get_size (cache), ==, 30);
  g_assert_cmpuint (gc_part_cache_get_n_entries (cache), ==, 1);
}

static void
test_remove_prefix (void)
{
  g_autoptr (GcPartCache) cache = gc_part_cache_new (1000);

  insert (cache, "chan/video_0/a", 10);
  insert (cache, "chan/video_1/a", 10);
  insert (cache, "chan2/video_0/a", 10);
  gc_part_cache_remove_prefix (cache, "chan/");
  g_assert_false (has (cache, "chan/video_0/a"));
  g_assert_false (has (cache, "chan/video_1/a"));
  g_assert_true (has (cache, "chan2/video_0/a"));
  g_assert_cmpuint (gc_part_cache_get_size (cache), ==, 10);
  gc_part_cache_remove (cache, "chan2/video_0/a");
  g_assert_cmpuint (gc_part_cache_get_n_entries (cache), ==, 0);
}

static void
test_bytes_outlive_eviction (void)
{
  g_autoptr (GcPartCache) cache = gc_part_cache_new (100);
  g_autoptr (GBytes) held = NULL;

  insert (cache, "a", 100);
  held = gc_part_cache_lookup (cache, "a");
  insert (cache, "b", 100);
  g_assert_false (has (cache, "a"));
  g_assert_cmpuint (g_bytes_get_size (held), ==, 100);
  g_assert_cmpuint (((const guint8 *)g_bytes_get_data (held, NULL))[99], ==,
                    0x5a);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/part-cache/lookup", test_lookup_returns_bytes);
  g_test_add_func ("/origin/part-cache/evicts-lru",
                   test_evicts_least_recently_used);
  g_test_add_func ("/origin/part-cache/bound-in-bytes", test_bound_in_bytes);
  g_test_add_func ("/origin/part-cache/too-large", test_too_large_not_stored);
  g_test_add_func ("/origin/part-cache/replace", test_replace_same_key);
  g_test_add_func ("/origin/part-cache/remove-prefix", test_remove_prefix);
  g_test_add_func ("/origin/part-cache/bytes-outlive-eviction",
                   test_bytes_outlive_eviction);
  return g_test_run ();
}

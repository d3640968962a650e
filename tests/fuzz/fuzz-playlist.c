/* fuzz-playlist.c — libFuzzer target for the origin's playlist parser and renderer, and its query parser.
 * Input: a media playlist; its first line is also tried as an _HLS_ query string. */

#include <string.h>

#include "hls-query.h"
#include "playlist.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GcPlaylist) pl = NULL;
  g_autofree gchar *line = NULL;
  const guint8 *nl = memchr (data, '\n', size);
  GcHlsQuery query;
  gint64 msn;
  gint64 part;

  line = g_strndup ((const gchar *)data, nl ? (gsize)(nl - data) : size);
  if (gc_hls_query_parse (line, &query, NULL))
    g_assert (query.part < 0 || query.msn >= 0);

  pl = gc_playlist_parse ((const gchar *)data, size, NULL);
  if (pl == NULL)
    return 0;

  gc_playlist_get_live_edge (pl, &msn, &part);
  g_assert (msn >= gc_playlist_get_media_sequence (pl) - 1);
  g_assert (gc_playlist_get_last_complete_msn (pl) <= msn);
  (void)gc_playlist_satisfies (pl, msn, part);
  (void)gc_playlist_satisfies (pl, msn + 1, 0);
  (void)gc_playlist_satisfies (pl, msn, -1);
  (void)gc_playlist_lists_part (pl, "part-0.0.m4s");
  (void)gc_playlist_get_preload_hint (pl);

  for (guint skip = GC_PLAYLIST_SKIP_NONE; skip <= GC_PLAYLIST_SKIP_V2;
       skip++) {
    GcRenditionReport report = {"../video_1/media.m3u8", msn, part};
    gdouble until = 6.0 * gc_playlist_get_target_duration (pl);
    g_autofree gchar *out = gc_playlist_render (pl, skip, until, &report, 1);
    g_autoptr (GcPlaylist) again = NULL;

    g_assert (g_str_has_prefix (out, "#EXTM3U"));
    g_assert (gc_playlist_count_skippable (pl, until) <
                  gc_playlist_get_n_segments (pl) ||
              gc_playlist_get_n_segments (pl) == 0);
    /* What the origin serves must parse again. */
    again = gc_playlist_parse (out, strlen (out), NULL);
    g_assert (again != NULL);
  }
  return 0;
}

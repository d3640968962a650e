/* test-playlist.c — unit tests of the origin's playlist parser and renderer (orchestrator/playlist.c).
 * Live edge, blocking-reload conditions, delta updates, rendition reports, malformed input. */

#include <string.h>

#include "playlist.h"

/* A live playlist as llhlssink writes it: three complete segments (0..2),
 * segment 3 growing with two parts, a preload hint for the third. */
static const gchar live[] =
    "#EXTM3U\n"
    "#EXT-X-VERSION:6\n"
    "#EXT-X-TARGETDURATION:1\n"
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600,"
    "CAN-SKIP-UNTIL=2.0\n"
    "#EXT-X-PART-INF:PART-TARGET=0.20000\n"
    "#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXT-X-MAP:URI=\"init-0.mp4\"\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T00:50:07.467Z\n"
    "#EXTINF:1.00000,\n"
    "seg-0.m4s\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T00:50:08.467Z\n"
    "#EXT-X-DATERANGE:ID=\"d1\",START-DATE=\"2026-11-28T00:50:08.467Z\"\n"
    "#EXTINF:1.00000,\n"
    "seg-1.m4s\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T00:50:09.467Z\n"
    "#EXT-X-PART:DURATION=0.50000,URI=\"part-2.0.m4s\",INDEPENDENT=YES\n"
    "#EXT-X-PART:DURATION=0.50000,URI=\"part-2.1.m4s\"\n"
    "#EXTINF:1.00000,\n"
    "seg-2.m4s\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-11-28T00:50:10.467Z\n"
    "#EXT-X-PART:DURATION=0.20000,URI=\"part-3.0.m4s\",INDEPENDENT=YES\n"
    "#EXT-X-PART:DURATION=0.20000,URI=\"part-3.1.m4s\"\n"
    "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-3.2.m4s\"\n";

static GcPlaylist *
parse (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  GcPlaylist *pl = gc_playlist_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_nonnull (pl);
  return pl;
}

static void
test_header_values (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);

  g_assert_cmpint (gc_playlist_get_media_sequence (pl), ==, 0);
  g_assert_cmpuint (gc_playlist_get_target_duration (pl), ==, 1);
  g_assert_cmpfloat_with_epsilon (gc_playlist_get_part_target (pl), 0.2, 1e-9);
  g_assert_cmpfloat_with_epsilon (gc_playlist_get_can_skip_until (pl), 2.0,
                                  1e-9);
  g_assert_false (gc_playlist_has_endlist (pl));
  g_assert_cmpstr (gc_playlist_get_preload_hint (pl), ==, "part-3.2.m4s");
}

static void
test_live_edge_growing_segment (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);
  gint64 msn;
  gint64 part;

  gc_playlist_get_live_edge (pl, &msn, &part);
  g_assert_cmpint (msn, ==, 3);
  g_assert_cmpint (part, ==, 1);
  g_assert_cmpint (gc_playlist_get_last_complete_msn (pl), ==, 2);
  g_assert_cmpuint (gc_playlist_get_n_segments (pl), ==, 4);
}

static void
test_live_edge_complete_segment (void)
{
  const gchar *text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-MEDIA-SEQUENCE:7\n"
                      "#EXT-X-PART:DURATION=1,URI=\"part-7.0.m4s\"\n"
                      "#EXT-X-PART:DURATION=1,URI=\"part-7.1.m4s\"\n"
                      "#EXTINF:2,\nseg-7.m4s\n";
  g_autoptr (GcPlaylist) pl = parse (text);
  gint64 msn;
  gint64 part;

  gc_playlist_get_live_edge (pl, &msn, &part);
  g_assert_cmpint (msn, ==, 7);
  g_assert_cmpint (part, ==, 1);
  g_assert_cmpint (gc_playlist_get_last_complete_msn (pl), ==, 7);
}

static void
test_satisfies_part (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);

  g_assert_true (gc_playlist_satisfies (pl, 3, 0));
  g_assert_true (gc_playlist_satisfies (pl, 3, 1));
  g_assert_false (gc_playlist_satisfies (pl, 3, 2));
  g_assert_false (gc_playlist_satisfies (pl, 4, 0));
  /* Any part of an older segment is "or later". */
  g_assert_true (gc_playlist_satisfies (pl, 2, 5));
  g_assert_true (gc_playlist_satisfies (pl, 0, 0));
}

static void
test_satisfies_segment (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);

  /* _HLS_msn alone waits for the complete segment. */
  g_assert_true (gc_playlist_satisfies (pl, 2, -1));
  g_assert_false (gc_playlist_satisfies (pl, 3, -1));
}

static void
test_satisfies_part_beyond_last_of_segment (void)
{
  /* Segment 7 ended with two parts: part 7.5 will never exist, the next
   * thing published is 8.0. */
  const gchar *text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-MEDIA-SEQUENCE:7\n"
                      "#EXT-X-PART:DURATION=1,URI=\"part-7.0.m4s\"\n"
                      "#EXT-X-PART:DURATION=1,URI=\"part-7.1.m4s\"\n"
                      "#EXTINF:2,\nseg-7.m4s\n";
  const gchar *next = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-MEDIA-SEQUENCE:7\n"
                      "#EXT-X-PART:DURATION=1,URI=\"part-7.0.m4s\"\n"
                      "#EXT-X-PART:DURATION=1,URI=\"part-7.1.m4s\"\n"
                      "#EXTINF:2,\nseg-7.m4s\n"
                      "#EXT-X-PART:DURATION=1,URI=\"part-8.0.m4s\"\n";
  g_autoptr (GcPlaylist) pl = parse (text);
  g_autoptr (GcPlaylist) pl2 = parse (next);

  g_assert_false (gc_playlist_satisfies (pl, 7, 5));
  g_assert_true (gc_playlist_satisfies (pl2, 7, 5));
}

static void
test_satisfies_endlist (void)
{
  g_autofree gchar *text = g_strconcat (live, "#EXT-X-ENDLIST\n", NULL);
  g_autoptr (GcPlaylist) pl = parse (text);

  g_assert_true (gc_playlist_has_endlist (pl));
  g_assert_true (gc_playlist_satisfies (pl, 100, 0));
}

static void
test_lists_part (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);

  g_assert_true (gc_playlist_lists_part (pl, "part-3.1.m4s"));
  g_assert_true (gc_playlist_lists_part (pl, "part-2.0.m4s"));
  g_assert_false (gc_playlist_lists_part (pl, "part-3.2.m4s"));
}

static void
test_count_skippable (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);

  /* 3.4 s listed; skip boundary 2 s: segments ending at or before 1.4 s
   * (seg-0, ending at 1.0) go. */
  g_assert_cmpuint (gc_playlist_count_skippable (pl, 2.0), ==, 1);
  /* Boundary 1 s: seg-0 and seg-1 end by 2.4 s. */
  g_assert_cmpuint (gc_playlist_count_skippable (pl, 1.0), ==, 2);
  g_assert_cmpuint (gc_playlist_count_skippable (pl, 10.0), ==, 0);
  g_assert_cmpuint (gc_playlist_count_skippable (pl, 0), ==, 0);
}

static void
test_render_plain_keeps_writer_text (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);
  g_autofree gchar *out =
      gc_playlist_render (pl, GC_PLAYLIST_SKIP_NONE, 2.0, NULL, 0);

  g_assert_nonnull (strstr (out, "#EXT-X-VERSION:6\n"));
  g_assert_null (strstr (out, "#EXT-X-SKIP"));
  g_assert_nonnull (strstr (out, "seg-0.m4s\n"));
  g_assert_nonnull (strstr (out, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                                 "CAN-SKIP-UNTIL=2.000,CAN-SKIP-DATERANGES="
                                 "YES,PART-HOLD-BACK=0.600\n"));
  g_assert_true (
      g_str_has_suffix (out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-3.2."
                             "m4s\"\n"));
}

static void
test_render_skip_yes (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);
  g_autofree gchar *out =
      gc_playlist_render (pl, GC_PLAYLIST_SKIP_YES, 2.0, NULL, 0);

  g_assert_nonnull (strstr (out, "#EXT-X-VERSION:9\n"));
  g_assert_nonnull (strstr (out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n"));
  g_assert_null (strstr (out, "seg-0.m4s"));
  g_assert_null (strstr (out, "07.467Z"));
  g_assert_nonnull (strstr (out, "seg-1.m4s"));
  /* The first kept segment still knows its init section. */
  g_assert_nonnull (strstr (out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n"
                                 "#EXT-X-MAP:URI=\"init-0.mp4\"\n"));
  /* Media playlist tags stay before the skip. */
  g_assert_true (strstr (out, "#EXT-X-MEDIA-SEQUENCE:0") <
                 strstr (out, "#EXT-X-SKIP"));
}

static void
test_render_skip_v2_drops_dateranges (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);
  g_autofree gchar *v1 =
      gc_playlist_render (pl, GC_PLAYLIST_SKIP_YES, 1.0, NULL, 0);
  g_autofree gchar *v2 =
      gc_playlist_render (pl, GC_PLAYLIST_SKIP_V2, 1.0, NULL, 0);

  g_assert_nonnull (strstr (v1, "#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n"));
  g_assert_nonnull (strstr (v1, "#EXT-X-DATERANGE:ID=\"d1\""));
  g_assert_nonnull (strstr (v2, "#EXT-X-SKIP:SKIPPED-SEGMENTS=2,"
                                "RECENTLY-REMOVED-DATERANGES=\"\"\n"));
  g_assert_null (strstr (v2, "#EXT-X-DATERANGE"));
}

static void
test_render_skip_nothing_when_short (void)
{
  g_autoptr (GcPlaylist) pl = parse (live);
  g_autofree gchar *out =
      gc_playlist_render (pl, GC_PLAYLIST_SKIP_YES, 12.0, NULL, 0);

  g_assert_null (strstr (out, "#EXT-X-SKIP"));
  g_assert_nonnull (strstr (out, "#EXT-X-VERSION:6\n"));
}

static void
test_render_adds_version_for_skip (void)
{
  const gchar *text = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
                      "#EXTINF:1,\na.m4s\n#EXTINF:1,\nb.m4s\n"
                      "#EXTINF:1,\nc.m4s\n";
  g_autoptr (GcPlaylist) pl = parse (text);
  g_autofree gchar *out =
      gc_playlist_render (pl, GC_PLAYLIST_SKIP_YES, 1.0, NULL, 0);

  g_assert_true (g_str_has_prefix (out, "#EXTM3U\n#EXT-X-VERSION:9\n"));
  /* No SERVER-CONTROL from the writer: the origin adds its own. */
  g_assert_nonnull (strstr (out, "#EXT-X-TARGETDURATION:1\n"
                                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                                 "CAN-SKIP-UNTIL=1.000"));
  g_assert_nonnull (strstr (out, "SKIPPED-SEGMENTS=2\n#EXTINF:1,\nc.m4s\n"));
}

static void
test_render_rendition_reports (void)
{
  g_autofree gchar *text = g_strconcat (
      live, "#EXT-X-RENDITION-REPORT:URI=\"../stale/media.m3u8\",LAST-MSN=1\n",
      NULL);
  g_autoptr (GcPlaylist) pl = parse (text);
  GcRenditionReport reports[] = {
      {"../audio_0/media.m3u8", 3, 2},
      {"../video_1/media.m3u8", 2, -1},
  };
  g_autofree gchar *out = gc_playlist_render (pl, GC_PLAYLIST_SKIP_NONE, 6.0,
                                              reports, G_N_ELEMENTS (reports));

  g_assert_null (strstr (out, "stale"));
  g_assert_true (g_str_has_suffix (
      out, "#EXT-X-RENDITION-REPORT:URI=\"../audio_0/media.m3u8\","
           "LAST-MSN=3,LAST-PART=2\n"
           "#EXT-X-RENDITION-REPORT:URI=\"../video_1/media.m3u8\","
           "LAST-MSN=2\n"));
}

static void
test_crlf_lines (void)
{
  const gchar *text = "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n"
                      "#EXT-X-MEDIA-SEQUENCE:10\r\n#EXTINF:4.0,\r\n"
                      "s10.m4s\r\n";
  g_autoptr (GcPlaylist) pl = parse (text);

  g_assert_cmpint (gc_playlist_get_last_complete_msn (pl), ==, 10);
  g_assert_cmpuint (gc_playlist_get_target_duration (pl), ==, 4);
}

static void
test_malformed (gconstpointer data)
{
  const gchar *text = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GcPlaylist) pl = gc_playlist_parse (text, strlen (text), &error);

  g_assert_null (pl);
  g_assert_true (error->domain == GC_PLAYLIST_ERROR);
}

static void
test_embedded_nul (void)
{
  const gchar text[] = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n\0#EXTINF:1,\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (GcPlaylist) pl = gc_playlist_parse (text, sizeof text - 1, &error);

  g_assert_null (pl);
  g_assert_error (error, GC_PLAYLIST_ERROR, GC_PLAYLIST_ERROR_NOT_A_PLAYLIST);
}

static void
test_unterminated_attribute (void)
{
  /* A quote that never closes must not run off the end. */
  const gchar *text = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
                      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-1.0.m4s\n";
  g_autoptr (GcPlaylist) pl = parse (text);

  g_assert_null (gc_playlist_get_preload_hint (pl));
}

int
main (int argc, char **argv)
{
  static const struct {
    const gchar *path;
    const gchar *text;
  } malformed[] = {
      {"/origin/playlist/malformed/empty", ""},
      {"/origin/playlist/malformed/no-extm3u",
       "#EXT-X-TARGETDURATION:1\n#EXTINF:1,\na\n"},
      {"/origin/playlist/malformed/no-target-duration",
       "#EXTM3U\n#EXTINF:1,\na\n"},
      {"/origin/playlist/malformed/target-duration-text",
       "#EXTM3U\n#EXT-X-TARGETDURATION:abc\n"},
      {"/origin/playlist/malformed/target-duration-zero",
       "#EXTM3U\n#EXT-X-TARGETDURATION:0\n"},
      {"/origin/playlist/malformed/media-sequence-negative",
       "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:-3\n"},
      {"/origin/playlist/malformed/media-sequence-huge",
       "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
       "#EXT-X-MEDIA-SEQUENCE:99999999999999999999\n"},
      {"/origin/playlist/malformed/extinf-nan",
       "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:nan,\na\n"},
      {"/origin/playlist/malformed/uri-without-extinf",
       "#EXTM3U\n#EXT-X-TARGETDURATION:1\na.m4s\n"},
      {"/origin/playlist/malformed/part-without-uri",
       "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-PART:DURATION=1\n"},
      {"/origin/playlist/malformed/multivariant",
       "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/media.m3u8\n"},
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/playlist/header-values", test_header_values);
  g_test_add_func ("/origin/playlist/live-edge/growing-segment",
                   test_live_edge_growing_segment);
  g_test_add_func ("/origin/playlist/live-edge/complete-segment",
                   test_live_edge_complete_segment);
  g_test_add_func ("/origin/playlist/satisfies/part", test_satisfies_part);
  g_test_add_func ("/origin/playlist/satisfies/segment",
                   test_satisfies_segment);
  g_test_add_func ("/origin/playlist/satisfies/part-beyond-segment-end",
                   test_satisfies_part_beyond_last_of_segment);
  g_test_add_func ("/origin/playlist/satisfies/endlist",
                   test_satisfies_endlist);
  g_test_add_func ("/origin/playlist/lists-part", test_lists_part);
  g_test_add_func ("/origin/playlist/count-skippable", test_count_skippable);
  g_test_add_func ("/origin/playlist/render/plain",
                   test_render_plain_keeps_writer_text);
  g_test_add_func ("/origin/playlist/render/skip-yes", test_render_skip_yes);
  g_test_add_func ("/origin/playlist/render/skip-v2-dateranges",
                   test_render_skip_v2_drops_dateranges);
  g_test_add_func ("/origin/playlist/render/skip-nothing-when-short",
                   test_render_skip_nothing_when_short);
  g_test_add_func ("/origin/playlist/render/skip-adds-version",
                   test_render_adds_version_for_skip);
  g_test_add_func ("/origin/playlist/render/rendition-reports",
                   test_render_rendition_reports);
  g_test_add_func ("/origin/playlist/crlf", test_crlf_lines);
  g_test_add_func ("/origin/playlist/malformed/embedded-nul",
                   test_embedded_nul);
  g_test_add_func ("/origin/playlist/unterminated-attribute",
                   test_unterminated_attribute);
  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    g_test_add_data_func (malformed[i].path, malformed[i].text, test_malformed);
  return g_test_run ();
}

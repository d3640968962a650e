/* test-hls-query.c — unit tests of the LL-HLS delivery directive parser (orchestrator/hls-query.c).
 * What is accepted, and every way a query earns a 400. */

#include "hls-query.h"
#include "origin-error.h"

static void
test_none (void)
{
  GcHlsQuery q;
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_hls_query_parse (NULL, &q, &error));
  g_assert_cmpint (q.msn, ==, -1);
  g_assert_cmpint (q.part, ==, -1);
  g_assert_cmpint (q.skip, ==, GC_PLAYLIST_SKIP_NONE);
  g_assert_false (gc_hls_query_is_blocking (&q));
  g_assert_true (gc_hls_query_parse ("", &q, &error));
}

static void
test_msn_and_part (void)
{
  GcHlsQuery q;
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_hls_query_parse ("_HLS_msn=273&_HLS_part=2", &q, &error));
  g_assert_no_error (error);
  g_assert_cmpint (q.msn, ==, 273);
  g_assert_cmpint (q.part, ==, 2);
  g_assert_true (gc_hls_query_is_blocking (&q));
}

static void
test_msn_only (void)
{
  GcHlsQuery q;
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_hls_query_parse ("_HLS_msn=0", &q, &error));
  g_assert_cmpint (q.msn, ==, 0);
  g_assert_cmpint (q.part, ==, -1);
}

static void
test_skip (void)
{
  GcHlsQuery q;
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_hls_query_parse ("_HLS_skip=YES", &q, &error));
  g_assert_cmpint (q.skip, ==, GC_PLAYLIST_SKIP_YES);
  g_assert_false (gc_hls_query_is_blocking (&q));
  g_assert_true (
      gc_hls_query_parse ("_HLS_msn=5&_HLS_part=0&_HLS_skip=v2", &q, &error));
  g_assert_cmpint (q.skip, ==, GC_PLAYLIST_SKIP_V2);
  g_assert_cmpint (q.msn, ==, 5);
}

static void
test_other_parameters_ignored (void)
{
  GcHlsQuery q;
  g_autoptr (GError) error = NULL;

  g_assert_true (
      gc_hls_query_parse ("token=abc&_HLS_msn=4&x&_HLS_future=1", &q, &error));
  g_assert_no_error (error);
  g_assert_cmpint (q.msn, ==, 4);
}

static void
test_escaped_name (void)
{
  GcHlsQuery q;
  g_autoptr (GError) error = NULL;

  /* Escapes decode to the same directive; the value must still be digits. */
  g_assert_true (gc_hls_query_parse ("%5FHLS_msn=%37", &q, &error));
  g_assert_cmpint (q.msn, ==, 7);
}

static void
test_rejected (gconstpointer data)
{
  GcHlsQuery q;
  g_autoptr (GError) error = NULL;

  g_assert_false (gc_hls_query_parse (data, &q, &error));
  g_assert_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_BAD_REQUEST);
}

int
main (int argc, char **argv)
{
  static const gchar *const rejected[][2] = {
      {"part-without-msn", "_HLS_part=1"},
      {"msn-text", "_HLS_msn=abc"},
      {"msn-negative", "_HLS_msn=-1"},
      {"msn-plus", "_HLS_msn=+1"},
      {"msn-escaped-plus", "_HLS_msn=%2B1"},
      {"msn-fraction", "_HLS_msn=1.5"},
      {"msn-hex", "_HLS_msn=0x10"},
      {"msn-empty", "_HLS_msn="},
      {"msn-bare", "_HLS_msn"},
      {"msn-space", "_HLS_msn=%201"},
      {"msn-huge", "_HLS_msn=99999999999999999999"},
      {"msn-beyond-limit", "_HLS_msn=9007199254740993"},
      {"msn-repeated", "_HLS_msn=1&_HLS_msn=1"},
      {"part-negative", "_HLS_msn=1&_HLS_part=-2"},
      {"part-repeated", "_HLS_msn=1&_HLS_part=0&_HLS_part=0"},
      {"skip-no", "_HLS_skip=NO"},
      {"skip-lowercase", "_HLS_skip=yes"},
      {"skip-v3", "_HLS_skip=v3"},
      {"skip-repeated", "_HLS_skip=YES&_HLS_skip=YES"},
      {"bad-escape", "_HLS_msn=%zz"},
      {"escaped-nul", "_HLS_msn=1%00"},
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/hls-query/none", test_none);
  g_test_add_func ("/origin/hls-query/msn-and-part", test_msn_and_part);
  g_test_add_func ("/origin/hls-query/msn-only", test_msn_only);
  g_test_add_func ("/origin/hls-query/skip", test_skip);
  g_test_add_func ("/origin/hls-query/other-parameters-ignored",
                   test_other_parameters_ignored);
  g_test_add_func ("/origin/hls-query/escaped-name", test_escaped_name);
  for (guint i = 0; i < G_N_ELEMENTS (rejected); i++) {
    g_autofree gchar *path =
        g_strdup_printf ("/origin/hls-query/rejected/%s", rejected[i][0]);

    g_test_add_data_func (path, rejected[i][1], test_rejected);
  }
  return g_test_run ();
}

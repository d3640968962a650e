/* test-worker-pipeline.c — unit tests of the placeholders of channel pipelines (orchestrator/worker-pipeline.c).
 * Each is replaced by its value quoted for gst_parse_launch; an unset one by "". */

#include "worker-pipeline.h"

static void
test_every_placeholder_is_replaced_quoted (void)
{
  GcWorkerSettings settings = {
      .channel = "demo",
      .location = "/srv/live/demo",
      .redis = "unix:/var/lib/glasscast/redis/redis.sock",
      .chat_events = "gc:chat:room:{demo}:events",
  };
  g_autofree gchar *out = gc_worker_pipeline_expand (
      "a location={location} ! b name={channel} ! "
      "chatstamp redis-url={redis} redis-channel={chat-events}",
      &settings);

  g_assert_cmpstr (out, ==,
                   "a location=\"/srv/live/demo\" ! b name=\"demo\" ! "
                   "chatstamp redis-url=\"unix:/var/lib/glasscast/redis/"
                   "redis.sock\" redis-channel=\"gc:chat:room:{demo}:events\"");
}

static void
test_unset_values_become_empty_strings (void)
{
  GcWorkerSettings settings = {.channel = "demo", .location = "/l"};
  g_autofree gchar *out = gc_worker_pipeline_expand (
      "chatstamp redis-url={redis} redis-channel={chat-events}", &settings);

  g_assert_cmpstr (out, ==, "chatstamp redis-url=\"\" redis-channel=\"\"");
}

static void
test_quotes_and_backslashes_are_escaped (void)
{
  GcWorkerSettings settings = {
      .channel = "demo",
      .location = "/l",
      .redis = "unix:/tmp/a \"b\"\\c",
  };
  g_autofree gchar *out = gc_worker_pipeline_expand ("x={redis}", &settings);

  g_assert_cmpstr (out, ==, "x=\"unix:/tmp/a \\\"b\\\"\\\\c\"");
}

static void
test_unknown_braces_are_left_alone (void)
{
  GcWorkerSettings settings = {.channel = "demo", .location = "/l"};
  g_autofree gchar *out = gc_worker_pipeline_expand (
      "caps=\"x, a={ 1, 2 }\" {redis-url} {chat}", &settings);

  g_assert_cmpstr (out, ==, "caps=\"x, a={ 1, 2 }\" {redis-url} {chat}");
}

/* gst_parse_launch gets the exact strings back, braces, colons and
 * slashes included. */
static void
test_expanded_values_reach_the_elements (void)
{
  GcWorkerSettings settings = {
      .channel = "demo",
      .location = "/srv/live/demo",
      .chat_events = "gc:chat:room:{demo}:events",
  };
  g_autofree gchar *out = gc_worker_pipeline_expand (
      "fakesrc name={chat-events} ! fakesink name={location}", &settings);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) bin = gst_parse_launch (out, &error);
  g_autoptr (GstElement) src = NULL;
  g_autoptr (GstElement) sink = NULL;

  g_assert_no_error (error);
  src = gst_bin_get_by_name (GST_BIN (bin), "gc:chat:room:{demo}:events");
  sink = gst_bin_get_by_name (GST_BIN (bin), "/srv/live/demo");
  g_assert_nonnull (src);
  g_assert_nonnull (sink);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/worker-pipeline/expand/every-placeholder",
                   test_every_placeholder_is_replaced_quoted);
  g_test_add_func ("/worker-pipeline/expand/unset-is-empty",
                   test_unset_values_become_empty_strings);
  g_test_add_func ("/worker-pipeline/expand/escapes",
                   test_quotes_and_backslashes_are_escaped);
  g_test_add_func ("/worker-pipeline/expand/unknown-braces",
                   test_unknown_braces_are_left_alone);
  g_test_add_func ("/worker-pipeline/expand/parses",
                   test_expanded_values_reach_the_elements);
  return g_test_run ();
}

/* test-worker-pipeline.c — unit tests of the placeholders of channel pipelines (orchestrator/worker-pipeline.c).
 * Each is replaced by its value quoted for gst_parse_launch; an unset one by "". That the quoted values reach
 * the elements intact is shown end to end by tests/integration/chat/test_chat_emsg.py (the real pipeline). */

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/worker-pipeline/expand/every-placeholder",
                   test_every_placeholder_is_replaced_quoted);
  g_test_add_func ("/worker-pipeline/expand/unset-is-empty",
                   test_unset_values_become_empty_strings);
  g_test_add_func ("/worker-pipeline/expand/escapes",
                   test_quotes_and_backslashes_are_escaped);
  g_test_add_func ("/worker-pipeline/expand/unknown-braces",
                   test_unknown_braces_are_left_alone);
  return g_test_run ();
}

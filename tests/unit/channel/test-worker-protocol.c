/* test-worker-protocol.c — unit tests of the glasscastd <-> worker JSON lines (orchestrator/worker-protocol.c).
 * Every type parses, fields are type-checked, hostile lines are refused, lines split right. */

#include <string.h>

#include "worker-protocol.h"

static GcWorkerMsg *
parse (const gchar *line)
{
  return gc_worker_msg_parse (line, strlen (line), NULL);
}

static void
test_every_type_round_trips (void)
{
  for (guint t = GC_WORKER_MSG_OFFER; t <= GC_WORKER_MSG_HEARTBEAT; t++) {
    g_autoptr (GcWorkerMsg) msg = gc_worker_msg_new (t);
    g_autofree gchar *line = NULL;
    g_autoptr (GcWorkerMsg) back = NULL;

    /* Fill what each type requires. */
    gc_worker_msg_set_int (msg, "id", 7);
    gc_worker_msg_set_string (msg, "sdp", "v=0\r\nline two\n");
    gc_worker_msg_set_string (msg, "sdpfrag", "a=ice-ufrag:abcd");
    gc_worker_msg_set_string (msg, "state", "live");
    gc_worker_msg_set_string (msg, "code", "busy");
    gc_worker_msg_set_string (msg, "message", "already live");
    gc_worker_msg_set_string (msg, "text", "hi");
    line = gc_worker_msg_to_line (msg);
    g_assert_true (g_str_has_suffix (line, "\n"));
    g_assert_null (memchr (line, '\n', strlen (line) - 1));
    back = gc_worker_msg_parse (line, strlen (line) - 1, NULL);
    g_assert_nonnull (back);
    g_assert_cmpint (gc_worker_msg_get_msg_type (back), ==, t);
    g_assert_cmpstr (gc_worker_msg_get_string (back, "sdp"), ==,
                     "v=0\r\nline two\n");
  }
}

static void
test_fields_are_typed (void)
{
  g_autoptr (GcWorkerMsg) stats = parse (
      "{\"type\":\"stats\",\"bitrate\":2500000,\"fps\":29.97,\"width\":640}");
  g_autoptr (GcWorkerMsg) extra =
      parse ("{\"type\":\"heartbeat\",\"future\":[1,2,3]}");

  g_assert_nonnull (stats);
  g_assert_cmpfloat (gc_worker_msg_get_double (stats, "bitrate", -1), ==,
                     2500000);
  g_assert_cmpfloat (gc_worker_msg_get_double (stats, "fps", -1), ==, 29.97);
  g_assert_cmpint (gc_worker_msg_get_int (stats, "width", -1), ==, 640);
  g_assert_cmpint (gc_worker_msg_get_int (stats, "height", -1), ==, -1);
  g_assert_nonnull (extra);
}

static void
test_refused (gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcWorkerMsg) msg =
      gc_worker_msg_parse (data, strlen (data), &error);

  g_assert_null (msg);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_nul_and_utf8 (void)
{
  static const gchar nul[] = "{\"type\":\"stop\"}\0x";
  static const gchar latin1[] = "{\"type\":\"stop\",\"reason\":\"\xe9\"}";

  /* Valid UTF-8 text, but json-glib reads \327 as an octal escape. */
  static const gchar octal[] = "{\"type\":\"stop\",\"reason\":\"x\\327\"}";

  g_assert_null (gc_worker_msg_parse (nul, sizeof nul - 1, NULL));
  g_assert_null (gc_worker_msg_parse (latin1, strlen (latin1), NULL));
  /* The same in a field the message type does not know. */
  static const gchar octal_extra[] =
      "{\"type\":\"stop\",\"note\":[\"x\\327\"]}";

  g_assert_null (gc_worker_msg_parse (octal, strlen (octal), NULL));
  g_assert_null (gc_worker_msg_parse (octal_extra, strlen (octal_extra), NULL));
}

static void
test_lines_split_across_pushes (void)
{
  g_autoptr (GcLineBuffer) buf = gc_line_buffer_new ();
  gchar *line;
  gsize len;

  g_assert_true (gc_line_buffer_push (buf, (const guint8 *)"{\"ty", 4));
  g_assert_null (gc_line_buffer_pop (buf, &len));
  g_assert_true (gc_line_buffer_push (
      buf, (const guint8 *)"pe\":\"stop\"}\r\n{\"a\"", 17));
  line = gc_line_buffer_pop (buf, &len);
  g_assert_cmpstr (line, ==, "{\"type\":\"stop\"}");
  g_assert_cmpuint (len, ==, 15);
  g_free (line);
  g_assert_null (gc_line_buffer_pop (buf, &len));
}

static void
test_line_limit (void)
{
  g_autoptr (GcLineBuffer) buf = gc_line_buffer_new ();
  g_autofree guint8 *big = g_malloc0 (GC_WORKER_MAX_LINE + 2);

  memset (big, 'x', GC_WORKER_MAX_LINE + 1);
  g_assert_false (gc_line_buffer_push (buf, big, GC_WORKER_MAX_LINE + 1));
  g_assert_false (gc_line_buffer_push (buf, (const guint8 *)"\n", 1));
}

int
main (int argc, char **argv)
{
  static const gchar *const refused[] = {
      "",
      "not json",
      "[1,2]",
      "{}",
      "{\"type\":3}",
      "{\"type\":\"reboot\"}",
      "{\"type\":\"offer\",\"id\":1}",
      "{\"type\":\"offer\",\"id\":\"1\",\"sdp\":\"v=0\"}",
      "{\"type\":\"stats\",\"fps\":\"fast\"}",
      "{\"type\":\"stats\",\"width\":1.5}",
      "{\"type\":\"candidate\",\"end\":1}",
      "{\"type\":\"error\",\"code\":\"x\"}",
      "{\"type\":\"stop\",\"x\":[[[[[[[[[[1]]]]]]]]]]}",
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/worker-protocol/round-trip", test_every_type_round_trips);
  g_test_add_func ("/worker-protocol/typed-fields", test_fields_are_typed);
  g_test_add_func ("/worker-protocol/nul-and-utf8", test_nul_and_utf8);
  g_test_add_func ("/worker-protocol/lines/split",
                   test_lines_split_across_pushes);
  g_test_add_func ("/worker-protocol/lines/limit", test_line_limit);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autofree gchar *path = g_strdup_printf ("/worker-protocol/refused/%u", i);

    g_test_add_data_func (path, refused[i], test_refused);
  }
  return g_test_run ();
}

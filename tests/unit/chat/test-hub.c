/* test-hub.c — unit tests of the epoll hub (chat/hub.c) over socketpairs: adoption, messages to the main
 * context, shared broadcast per room, slow consumers dropped, ping/pong, close, protocol errors, floods. */

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat-test-client.h"
#include "hub.h"
#include "wsframe.h"

typedef struct {
  GMainContext *context;
  GcChatHub *hub;
  GPtrArray *texts; /* gchar* */
  guint opened;
  guint closed;
  guint16 last_close_code;
} Fixture;

static void
on_opened (GcChatHub *hub, guint64 conn, const gchar *room,
           GcChatIdentity *identity, gpointer user_data)
{
  ((Fixture *)user_data)->opened++;
}

static void
on_text (GcChatHub *hub, guint64 conn, const gchar *room,
         GcChatIdentity *identity, const gchar *text, gsize len,
         gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->texts,
                   g_strdup_printf ("%s/%s:%.*s", room,
                                    gc_chat_identity_get_login (identity),
                                    (int)len, text));
}

static void
on_closed (GcChatHub *hub, guint64 conn, const gchar *room,
           GcChatIdentity *identity, guint16 code, gpointer user_data)
{
  Fixture *f = user_data;

  f->closed++;
  f->last_close_code = code;
}

static void
start (Fixture *f, const GcChatHubConfig *config)
{
  static const GcChatHubCallbacks cb = {on_opened, on_text, on_closed};

  f->context = g_main_context_new ();
  f->texts = g_ptr_array_new_with_free_func (g_free);
  f->hub = gc_chat_hub_new (config, f->context, &cb, f, NULL);
  g_assert_nonnull (f->hub);
}

static void
setup (Fixture *f, gconstpointer data)
{
  GcChatHubConfig config;

  gc_chat_hub_config_init (&config);
  config.threads = 2;
  start (f, &config);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  gc_chat_hub_free (f->hub);
  g_ptr_array_unref (f->texts);
  g_main_context_unref (f->context);
}

/* Iterates the context until @cond holds or 3 s pass. */
#define WAIT_FOR(f, cond)                                                      \
  G_STMT_START                                                                 \
  {                                                                            \
    gint64 _deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;           \
    while (!(cond) && g_get_monotonic_time () < _deadline) {                   \
      g_main_context_iteration ((f)->context, FALSE);                          \
      g_usleep (1000);                                                         \
    }                                                                          \
    g_assert_true (cond);                                                      \
  }                                                                            \
  G_STMT_END

static TestWs *
connect_client (Fixture *f, const gchar *room, const gchar *login,
                GBytes *initial)
{
  int sv[2];
  g_autoptr (GcChatIdentity) id =
      gc_chat_identity_new (login, NULL, 0, 1, -1, "127.0.0.1");

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                   0);
  g_assert_cmpuint (
      gc_chat_hub_adopt_connection (f->hub, sv[0], room, id, initial), >, 0);
  return test_ws_new (sv[1], f->context);
}

static void
test_text_reaches_main_context (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "alice", NULL);

  WAIT_FOR (f, f->opened == 1);
  test_ws_send_text (ws, "{\"type\":\"join\"}");
  WAIT_FOR (f, f->texts->len == 1);
  g_assert_cmpstr (g_ptr_array_index (f->texts, 0), ==,
                   "lobby/alice:{\"type\":\"join\"}");
}

static void
test_initial_bytes_are_read (Fixture *f, gconstpointer data)
{
  guint8 mask[4] = {9, 8, 7, 6};
  g_autoptr (GBytes) frame =
      gc_ws_frame_encode_masked (GC_WS_OP_TEXT, TRUE, "early", 5, mask);
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "alice", frame);

  WAIT_FOR (f, f->texts->len == 1);
  g_assert_cmpstr (g_ptr_array_index (f->texts, 0), ==, "lobby/alice:early");
}

static void
test_broadcast_to_room_only (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) a = connect_client (f, "lobby", "a", NULL);
  g_autoptr (TestWs) b = connect_client (f, "lobby", "b", NULL);
  g_autoptr (TestWs) other = connect_client (f, "other", "c", NULL);
  g_autoptr (GBytes) frame = gc_ws_frame_encode (GC_WS_OP_TEXT, "hello", 5);
  g_autofree gchar *ta = NULL;
  g_autofree gchar *tb = NULL;
  g_autofree gchar *tc = NULL;
  GcChatHubStats stats;

  WAIT_FOR (f, f->opened == 3);
  gc_chat_hub_broadcast (f->hub, "lobby", frame);
  ta = test_ws_recv (a, 2000);
  tb = test_ws_recv (b, 2000);
  tc = test_ws_recv (other, 200);
  g_assert_cmpstr (ta, ==, "hello");
  g_assert_cmpstr (tb, ==, "hello");
  g_assert_null (tc);
  gc_chat_hub_get_stats (f->hub, &stats);
  g_assert_cmpuint (stats.frames_sent, ==, 2);
  g_assert_cmpuint (stats.connections, ==, 3);
}

static void
test_send_to_one (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) a = connect_client (f, "lobby", "a", NULL);
  g_autoptr (TestWs) b = connect_client (f, "lobby", "b", NULL);
  g_autoptr (GBytes) frame = gc_ws_frame_encode (GC_WS_OP_TEXT, "psst", 4);
  g_autofree gchar *ta = NULL;
  g_autofree gchar *tb = NULL;

  WAIT_FOR (f, f->opened == 2);
  /* Connection ids start at 1, in adoption order. */
  gc_chat_hub_send (f->hub, 2, frame);
  tb = test_ws_recv (b, 2000);
  ta = test_ws_recv (a, 200);
  g_assert_cmpstr (tb, ==, "psst");
  g_assert_null (ta);
}

static void
test_slow_consumer_dropped (void)
{
  Fixture fx = {0}, *f = &fx;
  GcChatHubConfig config;
  int sv[2];
  int small = 4096;
  g_autoptr (GcChatIdentity) id =
      gc_chat_identity_new ("slow", NULL, 0, 1, -1, NULL);
  g_autoptr (TestWs) fast = NULL;
  g_autofree gchar *payload = g_malloc0 (1000);
  g_autoptr (GBytes) frame = NULL;
  GcChatHubStats stats;
  guint received = 0;

  gc_chat_hub_config_init (&config);
  config.send_queue_bytes = 16384;
  start (f, &config);
  memset (payload, 'x', 999);
  frame = gc_ws_frame_encode (GC_WS_OP_TEXT, payload, 999);

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                   0);
  setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt (sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  gc_chat_hub_adopt_connection (f->hub, sv[0], "lobby", id, NULL);
  fast = connect_client (f, "lobby", "fast", NULL);
  WAIT_FOR (f, f->opened == 2);

  /* The slow reader never reads; the fast one keeps up. */
  for (guint i = 0; i < 200; i++) {
    g_autofree gchar *t = NULL;

    gc_chat_hub_broadcast (f->hub, "lobby", frame);
    t = test_ws_recv (fast, 2000);
    received += t != NULL;
  }
  WAIT_FOR (f, f->closed == 1);
  g_assert_cmpuint (f->last_close_code, ==, GC_WS_CLOSE_POLICY);
  g_assert_cmpuint (received, ==, 200);
  gc_chat_hub_get_stats (f->hub, &stats);
  g_assert_cmpuint (stats.slow_dropped, ==, 1);
  g_assert_cmpuint (stats.connections, ==, 1);
  close (sv[1]);
  g_clear_pointer (&fast, test_ws_free);
  teardown (f, NULL);
}

static void
test_ping_answered (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "a", NULL);
  guint8 mask[4] = {1, 1, 1, 1};
  g_autoptr (GBytes) ping =
      gc_ws_frame_encode_masked (GC_WS_OP_PING, TRUE, "hb", 2, mask);
  guint8 buf[16];
  ssize_t n;

  WAIT_FOR (f, f->opened == 1);
  test_ws_send_raw (ws, g_bytes_get_data (ping, NULL), g_bytes_get_size (ping));
  /* Read the raw pong: 0x8A, length 2, "hb". */
  n = recv (test_ws_fd (ws), buf, sizeof buf, 0);
  g_assert_cmpint (n, ==, 4);
  g_assert_cmpuint (buf[0], ==, 0x8a);
  g_assert_cmpuint (buf[1], ==, 2);
  g_assert_cmpmem (buf + 2, 2, "hb", 2);
}

static void
test_client_close (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "a", NULL);
  guint8 mask[4] = {1, 2, 3, 4};
  guint8 body[2] = {0x03, 0xe9}; /* 1001 */
  g_autoptr (GBytes) close =
      gc_ws_frame_encode_masked (GC_WS_OP_CLOSE, TRUE, body, 2, mask);
  guint16 code = 0;

  WAIT_FOR (f, f->opened == 1);
  test_ws_send_raw (ws, g_bytes_get_data (close, NULL),
                    g_bytes_get_size (close));
  WAIT_FOR (f, f->closed == 1);
  g_assert_cmpuint (f->last_close_code, ==, 1001);
  g_assert_true (test_ws_wait_closed (ws, 2000));
  test_ws_closed (ws, &code);
  g_assert_cmpuint (code, ==, 1001); /* echoed */
}

static void
test_server_close (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "a", NULL);
  guint16 code = 0;

  WAIT_FOR (f, f->opened == 1);
  gc_chat_hub_close (f->hub, 1, 4001, "banned");
  g_assert_true (test_ws_wait_closed (ws, 2000));
  test_ws_closed (ws, &code);
  g_assert_cmpuint (code, ==, 4001);
  WAIT_FOR (f, f->closed == 1);
}

static void
test_protocol_error_closes (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "a", NULL);
  const guint8 unmasked[] = {0x81, 0x02, 'h', 'i'};
  guint16 code = 0;

  WAIT_FOR (f, f->opened == 1);
  test_ws_send_raw (ws, unmasked, sizeof unmasked);
  g_assert_true (test_ws_wait_closed (ws, 2000));
  test_ws_closed (ws, &code);
  g_assert_cmpuint (code, ==, GC_WS_CLOSE_PROTOCOL_ERROR);
  WAIT_FOR (f, f->closed == 1);
  g_assert_cmpuint (f->texts->len, ==, 0);
}

static void
test_binary_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "a", NULL);
  guint8 mask[4] = {1, 2, 3, 4};
  g_autoptr (GBytes) bin =
      gc_ws_frame_encode_masked (GC_WS_OP_BINARY, TRUE, "x", 1, mask);
  guint16 code = 0;

  WAIT_FOR (f, f->opened == 1);
  test_ws_send_raw (ws, g_bytes_get_data (bin, NULL), g_bytes_get_size (bin));
  g_assert_true (test_ws_wait_closed (ws, 2000));
  test_ws_closed (ws, &code);
  g_assert_cmpuint (code, ==, GC_WS_CLOSE_UNSUPPORTED);
}

static void
test_inbound_flood_closed (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) ws = connect_client (f, "lobby", "a", NULL);
  guint16 code = 0;

  WAIT_FOR (f, f->opened == 1);
  /* 10/s with a 2 s burst: 100 at once is a flood. */
  for (guint i = 0; i < 100; i++)
    test_ws_send_text (ws, "x");
  g_assert_true (test_ws_wait_closed (ws, 2000));
  test_ws_closed (ws, &code);
  g_assert_cmpuint (code, ==, GC_WS_CLOSE_POLICY);
  WAIT_FOR (f, f->closed == 1);
  g_assert_cmpuint (f->texts->len, <, 100);
}

static void
test_pings_and_idle_timeout (void)
{
  Fixture fx = {0}, *f = &fx;
  GcChatHubConfig config;
  g_autoptr (TestWs) answering = NULL;
  int sv[2];
  g_autoptr (GcChatIdentity) id =
      gc_chat_identity_new ("mute", NULL, 0, 1, -1, NULL);

  gc_chat_hub_config_init (&config);
  config.ping_interval_seconds = 1;
  config.idle_timeout_seconds = 2;
  start (f, &config);
  answering = connect_client (f, "lobby", "a", NULL);
  /* A peer that never answers pings: idle. */
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                   0);
  gc_chat_hub_adopt_connection (f->hub, sv[0], "lobby", id, NULL);
  WAIT_FOR (f, f->opened == 2);
  {
    gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    while (f->closed == 0 && g_get_monotonic_time () < deadline) {
      g_free (test_ws_recv (answering, 50));
      g_main_context_iteration (f->context, FALSE);
    }
  }
  g_assert_cmpuint (f->closed, ==, 1);
  g_assert_cmpuint (test_ws_pings (answering), >=, 1);
  g_assert_false (test_ws_closed (answering, NULL));
  close (sv[1]);
  g_clear_pointer (&answering, test_ws_free);
  teardown (f, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/chat/hub/text-to-main", test_text_reaches_main_context);
  ADD ("/chat/hub/initial-bytes", test_initial_bytes_are_read);
  ADD ("/chat/hub/broadcast-room-only", test_broadcast_to_room_only);
  ADD ("/chat/hub/send-to-one", test_send_to_one);
  ADD ("/chat/hub/ping-answered", test_ping_answered);
  ADD ("/chat/hub/client-close", test_client_close);
  ADD ("/chat/hub/server-close", test_server_close);
  ADD ("/chat/hub/protocol-error", test_protocol_error_closes);
  ADD ("/chat/hub/binary-refused", test_binary_refused);
  ADD ("/chat/hub/inbound-flood", test_inbound_flood_closed);
#undef ADD
  g_test_add_func ("/chat/hub/slow-consumer-dropped",
                   test_slow_consumer_dropped);
  g_test_add_func ("/chat/hub/pings-and-idle-timeout",
                   test_pings_and_idle_timeout);
  return g_test_run ();
}

/* test-chat-cluster.c — integration tests: a real redis-server (unix socket, own temp dir) and two chat-node
 * processes sharing one room. Cross-node delivery, a ban enforced on the other node within 100 ms, and Redis
 * killed and restarted mid-test: no crash, local room keeps working, cross-node delivery and state resume. */

#include <errno.h>
#include <glib/gstdio.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chat-test-client.h"

typedef struct {
  gchar *dir;
  gchar *sock;
  GPid redis;
  GPid node[2];
  int node_stdin[2];
  guint16 port[2];
} Cluster;

/* Children die with the test, even when an assertion aborts it before the
 * teardown: no stray redis-server holding a runner's pipes open. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
redis_answers (const gchar *sock)
{
  struct timeval tv = {0, 200000};
  redisContext *c = redisConnectUnixWithTimeout (sock, tv);
  redisReply *r;
  gboolean ok = FALSE;

  if (c == NULL || c->err) {
    if (c != NULL)
      redisFree (c);
    return FALSE;
  }
  r = redisCommand (c, "PING");
  ok = r != NULL && r->type == REDIS_REPLY_STATUS;
  if (r != NULL)
    freeReplyObject (r);
  redisFree (c);
  return ok;
}

static void
start_redis (Cluster *c)
{
  g_autofree gchar *log = g_build_filename (c->dir, "redis.log", NULL);
  const gchar *argv[] = {
      REDIS_SERVER, "--port",           "0",   "--unixsocket",
      c->sock,      "--unixsocketperm", "700", "--save",
      "",           "--appendonly",     "no",  "--dir",
      c->dir,       "--logfile",        log,   NULL};
  g_autoptr (GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  /* Not inheriting our stdout: a test runner reading it would otherwise
   * wait for Redis to exit too. */
  g_assert_true (g_spawn_async (NULL, (gchar **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                die_with_parent, NULL, &c->redis, &error));
  g_assert_no_error (error);
  while (!redis_answers (c->sock) && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  g_assert_true (redis_answers (c->sock));
}

static void
kill_redis (Cluster *c)
{
  int status;

  kill (c->redis, SIGKILL);
  waitpid (c->redis, &status, 0);
  g_spawn_close_pid (c->redis);
  c->redis = 0;
}

static void
start_node (Cluster *c, guint i)
{
  g_autofree gchar *redis = g_strdup_printf ("unix:%s", c->sock);
  g_autofree gchar *id = g_strdup_printf ("node%u", i);
  const gchar *argv[] = {
      g_getenv ("CHAT_NODE"), "--redis", redis, "--node-id", id, NULL};
  g_autoptr (GError) error = NULL;
  int out;
  FILE *f;
  gchar line[64] = "";
  guint port = 0;

  g_assert_nonnull (argv[0]);
  g_assert_true (g_spawn_async_with_pipes (
      NULL, (gchar **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent,
      NULL, &c->node[i], &c->node_stdin[i], &out, NULL, &error));
  g_assert_no_error (error);
  f = fdopen (out, "r");
  g_assert_nonnull (fgets (line, sizeof line, f));
  fclose (f);
  g_assert_cmpint (sscanf (line, "PORT %u", &port), ==, 1);
  c->port[i] = (guint16)port;
}

static gboolean
node_alive (Cluster *c, guint i)
{
  int status;

  return waitpid (c->node[i], &status, WNOHANG) == 0;
}

static void
setup (Cluster *c, gconstpointer data)
{
  c->dir = g_dir_make_tmp ("gc-chat-cluster-XXXXXX", NULL);
  c->sock = g_build_filename (c->dir, "redis.sock", NULL);
  start_redis (c);
  start_node (c, 0);
  start_node (c, 1);
}

static void
teardown (Cluster *c, gconstpointer data)
{
  g_autoptr (GDir) d = NULL;
  const gchar *name;

  for (guint i = 0; i < 2; i++) {
    int status;
    gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;

    close (c->node_stdin[i]); /* the node exits on EOF */
    while (waitpid (c->node[i], &status, WNOHANG) == 0 &&
           g_get_monotonic_time () < deadline)
      g_usleep (10000);
    if (kill (c->node[i], 0) == 0 &&
        waitpid (c->node[i], &status, WNOHANG) == 0) {
      kill (c->node[i], SIGKILL);
      waitpid (c->node[i], &status, 0);
    }
  }
  if (c->redis != 0)
    kill_redis (c);
  d = g_dir_open (c->dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *p = g_build_filename (c->dir, name, NULL);

    g_unlink (p);
  }
  g_rmdir (c->dir);
  g_free (c->sock);
  g_free (c->dir);
}

static TestWs *
client (Cluster *c, guint node, const gchar *query)
{
  g_autofree gchar *path = g_strdup_printf ("/chat/lobby?%s", query);
  TestWs *ws = test_ws_connect (c->port[node], path, NULL);
  g_autoptr (JsonObject) welcome = NULL;

  g_assert_nonnull (ws);
  test_ws_send_text (ws, "{\"type\":\"join\"}");
  welcome = test_ws_expect (ws, "welcome", 5000);
  g_assert_nonnull (welcome);
  return ws;
}

static void
say (TestWs *ws, const gchar *text)
{
  g_autofree gchar *json =
      g_strdup_printf ("{\"type\":\"send\",\"text\":\"%s\"}", text);

  test_ws_send_text (ws, json);
}

/* Sends from @from until @to sees a message (the subscription of the other
 * node is asynchronous). Returns TRUE when one arrived in time. */
static gboolean
until_delivered (TestWs *from, TestWs *to, const gchar *label, gint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  for (guint n = 0; g_get_monotonic_time () < deadline; n++) {
    g_autofree gchar *text = g_strdup_printf ("%s %u", label, n);
    g_autoptr (JsonObject) m = NULL;

    say (from, text);
    m = test_ws_expect (to, "message", 250);
    if (m != NULL)
      return TRUE;
  }
  return FALSE;
}

/* Skips other settings frames (each node announces its settings after
 * loading the room) until @field has @value. */
static gboolean
expect_setting (TestWs *ws, const gchar *field, gint64 value, gint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (JsonObject) s = test_ws_expect (
        ws, "settings",
        (gint)MAX ((deadline - g_get_monotonic_time ()) / 1000, 1));

    if (s != NULL && json_object_get_int_member (s, field) == value)
      return TRUE;
  }
  return FALSE;
}

/* Joins @node as a new viewer until its welcome shows @field == @value. */
static gboolean
welcome_setting_becomes (Cluster *c, guint node, const gchar *field,
                         gint64 value, gint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    g_autoptr (TestWs) ws =
        test_ws_connect (c->port[node], "/chat/lobby", NULL);
    g_autoptr (JsonObject) w = NULL;

    if (ws == NULL)
      return FALSE;
    test_ws_send_text (ws, "{\"type\":\"join\"}");
    w = test_ws_expect (ws, "welcome", 2000);
    if (w != NULL &&
        json_object_get_int_member (
            json_object_get_object_member (w, "settings"), field) == value)
      return TRUE;
    g_usleep (200000);
  }
  return FALSE;
}

static void
test_message_crosses_nodes (Cluster *c, gconstpointer data)
{
  g_autoptr (TestWs) bob = client (c, 1, "user=bob");
  g_autoptr (TestWs) alice = client (c, 0, "user=alice&roles=subscriber");
  g_autoptr (JsonObject) m = NULL;
  gint64 t0;

  g_assert_true (until_delivered (alice, bob, "warm-up", 5000));
  /* Drain, then one timed message. */
  while (test_ws_expect (bob, "message", 200) != NULL)
    ;
  t0 = g_get_monotonic_time ();
  say (alice, "hello from node0");
  m = test_ws_expect (bob, "message", 2000);
  g_assert_nonnull (m);
  g_assert_cmpstr (json_object_get_string_member (m, "text"), ==,
                   "hello from node0");
  g_assert_cmpstr (json_object_get_string_member (m, "user"), ==, "alice");
  g_test_message ("node0 -> node1 delivery: %.1f ms",
                  (g_get_monotonic_time () - t0) / 1000.0);
}

static void
test_ban_enforced_on_other_node (Cluster *c, gconstpointer data)
{
  g_autoptr (TestWs) carol = client (c, 1, "user=carol");
  g_autoptr (TestWs) mod = client (c, 0, "user=mod&roles=moderator");
  g_autoptr (JsonObject) clear = NULL;
  g_autoptr (JsonObject) err = NULL;
  gint64 t0, seen;

  g_assert_true (until_delivered (carol, mod, "warm-up", 5000));
  t0 = g_get_monotonic_time ();
  say (mod, "/ban carol spamming");
  /* Node1 applies the ban when the event arrives: carol's own view is
   * cleared at that moment. */
  clear = test_ws_expect (carol, "clear", 1000);
  seen = g_get_monotonic_time ();
  g_assert_nonnull (clear);
  g_assert_cmpstr (json_object_get_string_member (clear, "user"), ==, "carol");
  g_test_message ("ban on node0 applied on node1 after %.1f ms",
                  (seen - t0) / 1000.0);
  g_assert_cmpint (seen - t0, <=, 100000);
  /* And enforced: 100 ms after the ban, carol's message on node1 fails. */
  if (g_get_monotonic_time () < t0 + 100000)
    g_usleep ((gulong)(t0 + 100000 - g_get_monotonic_time ()));
  say (carol, "am I still here");
  err = test_ws_expect (carol, "error", 2000);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "banned");
}

static void
test_settings_follow_across_nodes (Cluster *c, gconstpointer data)
{
  g_autoptr (TestWs) bob = client (c, 1, "user=bob");
  g_autoptr (TestWs) mod = client (c, 0, "user=mod&roles=moderator");
  g_autoptr (JsonObject) e = NULL;

  g_assert_true (until_delivered (bob, mod, "warm-up", 5000));
  say (mod, "/slow 60");
  g_assert_true (expect_setting (bob, "slow", 60, 2000));
  /* bob has posted (warm-up) within the minute: refused on node1. */
  say (bob, "again");
  e = test_ws_expect (bob, "error", 2000);
  g_assert_nonnull (e);
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "slow_mode");
}

static void
test_redis_restart (Cluster *c, gconstpointer data)
{
  g_autoptr (TestWs) bob = client (c, 1, "user=bob");
  g_autoptr (TestWs) alice = client (c, 0, "user=alice");
  g_autoptr (TestWs) dave = client (c, 0, "user=dave");
  g_autoptr (TestWs) mod = client (c, 0, "user=mod&roles=moderator");
  g_autoptr (JsonObject) local = NULL;

  g_assert_true (until_delivered (alice, bob, "warm-up", 5000));
  say (mod, "/ban mallory");

  kill_redis (c);
  g_usleep (300000);
  /* Redis is gone: node0's own room keeps working. */
  while (test_ws_expect (dave, "message", 100) != NULL)
    ;
  say (mod, "said while redis is down");
  local = test_ws_expect (dave, "message", 2000);
  g_assert_nonnull (local);
  g_assert_cmpstr (json_object_get_string_member (local, "text"), ==,
                   "said while redis is down");
  /* A change made while cut off... */
  say (mod, "/slow 7");
  g_assert_true (expect_setting (dave, "slow", 7, 2000));
  g_assert_true (node_alive (c, 0));
  g_assert_true (node_alive (c, 1));

  start_redis (c);
  /* ...cross-node delivery resumes once both nodes are back... */
  g_assert_true (until_delivered (mod, bob, "after restart", 15000));
  /* ...and node1 learns the change made on node0 while Redis was away
   * (read from a new viewer's welcome: frames skipped above are gone). */
  g_assert_true (welcome_setting_becomes (c, 1, "slow", 7, 10000));
  g_assert_true (node_alive (c, 0));
  g_assert_true (node_alive (c, 1));
}

static void
test_ban_survives_empty_redis (Cluster *c, gconstpointer data)
{
  g_autoptr (TestWs) mod = client (c, 0, "user=mod&roles=moderator");
  g_autoptr (TestWs) bob = client (c, 1, "user=bob");
  g_autoptr (TestWs) eve = NULL;
  g_autoptr (JsonObject) clear = NULL;
  g_autoptr (JsonObject) err = NULL;

  g_assert_true (until_delivered (bob, mod, "warm-up", 5000));
  say (mod, "/ban eve");
  clear = test_ws_expect (bob, "clear", 2000);
  g_assert_nonnull (clear);
  /* Redis restarts without its data; the nodes' caches put the ban back. */
  kill_redis (c);
  start_redis (c);
  g_assert_true (until_delivered (mod, bob, "after restart", 15000));
  eve = client (c, 1, "user=eve");
  say (eve, "hello?");
  err = test_ws_expect (eve, "error", 2000);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "banned");
}

int
main (int argc, char **argv)
{
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Cluster, NULL, setup, fn, teardown)
  ADD ("/chat/cluster/message-crosses-nodes", test_message_crosses_nodes);
  ADD ("/chat/cluster/ban-enforced-within-100ms",
       test_ban_enforced_on_other_node);
  ADD ("/chat/cluster/settings-follow", test_settings_follow_across_nodes);
  ADD ("/chat/cluster/redis-restart", test_redis_restart);
  ADD ("/chat/cluster/ban-survives-empty-redis", test_ban_survives_empty_redis);
#undef ADD
  return g_test_run ();
}

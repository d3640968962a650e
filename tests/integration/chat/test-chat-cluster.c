/* test-chat-cluster.c — integration tests: a real redis-server (unix socket, own temp dir) and two nodes sharing
 * one room, either chat-node processes (/chat/...) or two real glasscastd (/glasscastd/...: accounts, sessions as
 * bearer tokens, roles granted over the API by the channel's owner). Cross-node delivery, a ban enforced on the
 * other node within 100 ms, and Redis killed and restarted mid-test: no crash, local room keeps working,
 * cross-node delivery and state resume. */

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
  gboolean glasscastd; /* nodes are glasscastd, identities are accounts */
  GHashTable *tokens;  /* username -> session token (glasscastd) */
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

/* Both glasscastd share the accounts database (and so its session secret)
 * and the channel config; each has its own media folder and archive. */
static void
start_glasscastd (Cluster *c, guint i)
{
  g_autofree gchar *conf = g_strdup_printf ("%s/node%u.ini", c->dir, i);
  g_autofree gchar *text = g_strdup_printf (
      "[server]\nlisten=127.0.0.1:0\ndata-dir=%s/data%u\n"
      "media-dir=%s/media%u\nlog-level=warning\n"
      "[chat]\n%s%s%snode-id=node%u\narchive=%s/chat%u.db\n"
      "presence-interval=1000\n"
      "[accounts]\ndatabase=%s/accounts.db\n"
      "[channel:lobby]\nowner=owner\n",
      c->dir, i, c->dir, i, c->redis ? "redis=unix:" : "",
      c->redis ? c->sock : "", c->redis ? "\n" : "", i, c->dir, i, c->dir);
  const gchar *argv[] = {g_getenv ("GLASSCASTD"), "--config", conf, NULL};
  g_autoptr (GError) error = NULL;
  int out;
  FILE *f;
  gchar line[128] = "";
  guint port = 0;

  g_assert_nonnull (argv[0]);
  g_assert_true (g_file_set_contents (conf, text, -1, &error));
  g_assert_true (g_spawn_async_with_pipes (
      NULL, (gchar **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent,
      NULL, &c->node[i], NULL, &out, NULL, &error));
  g_assert_no_error (error);
  c->node_stdin[i] = -1;
  f = fdopen (out, "r");
  g_assert_nonnull (fgets (line, sizeof line, f));
  fclose (f);
  g_assert_cmpint (sscanf (line, "listening on http://127.0.0.1:%u", &port), ==,
                   1);
  c->port[i] = (guint16)port;
}

/* One blocking HTTP/1.1 exchange with a node. Returns the status; @body:
 * (out) (optional) (transfer full). */
static guint
http (Cluster *c, guint node, const gchar *method, const gchar *path,
      const gchar *token, const gchar *json, gchar **body)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *auth =
      token ? g_strdup_printf ("Authorization: Bearer %s\r\n", token)
            : g_strdup ("");
  g_autofree gchar *req = g_strdup_printf (
      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s"
      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
      method, path, c->port[node], auth, json ? strlen (json) : 0,
      json ? json : "");
  GString *resp = g_string_new (NULL);
  GInputStream *in;
  gchar buf[4096];
  gssize n;
  guint status = 0;
  const gchar *sep;

  g_socket_client_set_enable_proxy (client, FALSE);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", c->port[node],
                                          NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (
      g_io_stream_get_output_stream (G_IO_STREAM (conn)), req, strlen (req),
      NULL, NULL, &error));
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (resp, buf, n);
  sscanf (resp->str, "HTTP/1.1 %u", &status);
  sep = strstr (resp->str, "\r\n\r\n");
  if (body != NULL)
    *body = g_strdup (sep ? sep + 4 : "");
  g_string_free (resp, TRUE);
  return status;
}

/* The session token of @user, signing the account up the first time. */
static const gchar *
token_for (Cluster *c, const gchar *user)
{
  g_autofree gchar *json = NULL;
  g_autofree gchar *body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  const gchar *token;
  guint status;

  if (g_hash_table_contains (c->tokens, user))
    return g_hash_table_lookup (c->tokens, user);
  json = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"secret-of-%s\"}",
                          user, user);
  status = http (c, 0, "POST", "/api/v1/accounts", NULL, json, &body);
  g_assert_cmpuint (status, ==, 201);
  g_assert_true (json_parser_load_from_data (parser, body, -1, &error));
  token = json_object_get_string_member (
      json_node_get_object (json_parser_get_root (parser)), "token");
  g_assert_nonnull (token);
  g_hash_table_insert (c->tokens, g_strdup (user), g_strdup (token));
  return g_hash_table_lookup (c->tokens, user);
}

/* The channel's owner grants @role to @user over node @node's API. */
static void
grant (Cluster *c, guint node, const gchar *user, const gchar *role)
{
  g_autofree gchar *path =
      g_strdup_printf ("/api/v1/channels/lobby/roles/%s", user);
  g_autofree gchar *json = g_strdup_printf ("{\"roles\":[\"%s\"]}", role);
  const gchar *owner = token_for (c, "owner");

  token_for (c, user);
  g_assert_cmpuint (http (c, node, "PUT", path, owner, json, NULL), ==, 200);
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
  c->glasscastd = data != NULL;
  c->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (g_strcmp0 (data, "single") == 0) {
    /* One glasscastd with its own embedded Redis: no [chat] redis=. */
    c->node_stdin[1] = -1;
    start_glasscastd (c, 0);
    return;
  }
  start_redis (c);
  for (guint i = 0; i < 2; i++) {
    if (c->glasscastd)
      start_glasscastd (c, i);
    else
      start_node (c, i);
  }
}

static void
remove_tree (const gchar *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *p = g_build_filename (path, name, NULL);

    if (g_file_test (p, G_FILE_TEST_IS_DIR) &&
        !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
      remove_tree (p);
    else
      g_unlink (p);
  }
  g_rmdir (path);
}

static void
teardown (Cluster *c, gconstpointer data)
{
  for (guint i = 0; i < 2; i++) {
    int status;
    gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    if (c->node[i] == 0)
      continue;
    /* chat-node exits on EOF; glasscastd on SIGTERM, after its shutdown. */
    if (c->node_stdin[i] >= 0)
      close (c->node_stdin[i]);
    else
      kill (c->node[i], SIGTERM);
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
  remove_tree (c->dir);
  g_hash_table_unref (c->tokens);
  g_free (c->sock);
  g_free (c->dir);
}

/* A viewer of @node: "user=NAME[&roles=ROLE]". chat-node takes that from
 * the query; glasscastd from the session of an account holding the role. */
static TestWs *
client (Cluster *c, guint node, const gchar *query)
{
  g_autofree gchar *path = g_strdup_printf ("/chat/lobby?%s", query);
  g_autofree gchar *headers = NULL;
  TestWs *ws;
  g_autoptr (JsonObject) welcome = NULL;

  if (c->glasscastd) {
    g_autoptr (GHashTable) q =
        g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
    const gchar *user = g_hash_table_lookup (q, "user");
    const gchar *role = g_hash_table_lookup (q, "roles");

    g_assert_nonnull (user);
    if (role != NULL)
      grant (c, node, user, role);
    headers =
        g_strdup_printf ("Authorization: Bearer %s\r\n", token_for (c, user));
    g_free (path);
    path = g_strdup ("/chat/lobby");
  }
  ws = test_ws_connect_with_headers (c->port[node], path, headers, NULL);

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

/* ------------------------------------------------------------------ */
/* One glasscastd: the chat's HTTP side and its embedded Redis.        */

static gchar *
error_code_of (const gchar *body)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;

  if (!json_parser_load_from_data (parser, body, -1, NULL))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
  o = json_object_get_object_member (o, "error");
  return o ? g_strdup (json_object_get_string_member (o, "code")) : NULL;
}

static void
test_api_moderation (Cluster *c, gconstpointer data)
{
  const gchar *owner = token_for (c, "owner");
  const gchar *bob = token_for (c, "bob");
  g_autoptr (TestWs) alice = client (c, 0, "user=alice");
  g_autoptr (TestWs) watcher = client (c, 0, "user=watcher");
  g_autoptr (JsonObject) m = NULL;
  g_autoptr (JsonObject) clear = NULL;
  g_autoptr (JsonObject) err = NULL;
  g_autofree gchar *body = NULL;
  g_autofree gchar *code = NULL;
  const gchar *ban = "{\"type\":\"ban\",\"user\":\"alice\","
                     "\"reason\":\"spam\"}";

  say (alice, "before the ban");
  m = test_ws_expect (watcher, "message", 2000);
  g_assert_nonnull (m);

  /* Refused: anonymous, a viewer, malformed, join, unknown channel. */
  g_assert_cmpuint (
      http (c, 0, "POST", "/api/v1/chat/lobby/actions", NULL, ban, &body), ==,
      401);
  code = error_code_of (body);
  g_assert_cmpstr (code, ==, "login_required");
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&code, g_free);
  g_assert_cmpuint (
      http (c, 0, "POST", "/api/v1/chat/lobby/actions", bob, ban, &body), ==,
      403);
  code = error_code_of (body);
  g_assert_cmpstr (code, ==, "forbidden");
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&code, g_free);
  g_assert_cmpuint (http (c, 0, "POST", "/api/v1/chat/lobby/actions", owner,
                          "{\"type\":\"ban\",", &body),
                    ==, 400);
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (http (c, 0, "POST", "/api/v1/chat/lobby/actions", owner,
                          "{\"type\":\"join\"}", NULL),
                    ==, 400);
  g_assert_cmpuint (
      http (c, 0, "POST", "/api/v1/chat/nosuch/actions", owner, ban, NULL), ==,
      404);
  g_assert_cmpuint (
      http (c, 0, "GET", "/api/v1/chat/lobby/actions", owner, NULL, NULL), ==,
      405);
  /* Nothing of that reached the room: alice still posts. */
  say (alice, "still here");
  m = test_ws_expect (watcher, "message", 2000);
  g_assert_nonnull (m);
  g_assert_cmpstr (json_object_get_string_member (m, "text"), ==, "still here");

  /* The owner (broadcaster) bans over the API: the room sees it at once. */
  g_assert_cmpuint (
      http (c, 0, "POST", "/api/v1/chat/lobby/actions", owner, ban, &body), ==,
      200);
  clear = test_ws_expect (watcher, "clear", 2000);
  g_assert_nonnull (clear);
  g_assert_cmpstr (json_object_get_string_member (clear, "user"), ==, "alice");
  say (alice, "after the ban");
  err = test_ws_expect (alice, "error", 2000);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "banned");
  g_clear_pointer (&body, g_free);

  /* Audit: for the channel's moderators only, and it holds the ban. */
  g_assert_cmpuint (
      http (c, 0, "GET", "/api/v1/chat/lobby/audit", bob, NULL, NULL), ==, 403);
  g_assert_cmpuint (
      http (c, 0, "GET", "/api/v1/chat/lobby/audit", NULL, NULL, NULL), ==,
      401);
  {
    gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    gboolean seen = FALSE;

    /* The archive writes in the background: poll. */
    while (!seen && g_get_monotonic_time () < deadline) {
      g_clear_pointer (&body, g_free);
      g_assert_cmpuint (
          http (c, 0, "GET", "/api/v1/chat/lobby/audit", owner, NULL, &body),
          ==, 200);
      seen = strstr (body, "\"action\":\"ban\"") != NULL &&
             strstr (body, "\"target\":\"alice\"") != NULL;
      if (!seen)
        g_usleep (100000);
    }
    g_assert_true (seen);
  }
  /* The archive: public, alice's removed messages are marked, not shown. */
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (http (c, 0, "GET", "/api/v1/chat/lobby/messages?from_ms=0",
                          NULL, NULL, &body),
                    ==, 200);
  g_assert_null (strstr (body, "still here"));
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (
      http (c, 0, "GET",
            "/api/v1/chat/lobby/messages?from_ms=0&include_deleted=1", owner,
            NULL, &body),
      ==, 200);
  g_assert_nonnull (strstr (body, "still here"));
  g_assert_nonnull (strstr (body, "\"deleted\":true"));
  g_assert_cmpuint (http (c, 0, "GET", "/api/v1/chat/lobby/messages?from_ms=x",
                          NULL, NULL, NULL),
                    ==, 400);
}

static void
test_cross_origin_socket_is_anonymous (Cluster *c, gconstpointer data)
{
  const gchar *tok = token_for (c, "carol");
  g_autofree gchar *evil = g_strdup_printf (
      "Cookie: gc_session=%s\r\nOrigin: http://evil.example\r\n", tok);
  g_autofree gchar *same = g_strdup_printf (
      "Cookie: gc_session=%s\r\nOrigin: http://127.0.0.1:%u\r\n", tok,
      c->port[0]);
  g_autoptr (TestWs) a =
      test_ws_connect_with_headers (c->port[0], "/chat/lobby", evil, NULL);
  g_autoptr (TestWs) b =
      test_ws_connect_with_headers (c->port[0], "/chat/lobby", same, NULL);
  g_autoptr (JsonObject) wa = NULL;
  g_autoptr (JsonObject) wb = NULL;
  g_autoptr (JsonObject) err = NULL;

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  test_ws_send_text (a, "{\"type\":\"join\"}");
  test_ws_send_text (b, "{\"type\":\"join\"}");
  wa = test_ws_expect (a, "welcome", 3000);
  wb = test_ws_expect (b, "welcome", 3000);
  g_assert_nonnull (wa);
  g_assert_nonnull (wb);
  g_assert_true (json_object_get_null_member (wa, "you"));
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (wb, "you"), "user"),
                   ==, "carol");
  say (a, "posted from another site");
  err = test_ws_expect (a, "error", 2000);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==,
                   "login_required");
  /* Unknown channels are not upgraded. */
  g_assert_null (test_ws_connect (c->port[0], "/chat/nosuch", NULL));
}

static GPid
find_embedded_redis (Cluster *c)
{
  g_autofree gchar *sock =
      g_build_filename (c->dir, "data0", "redis", "redis.sock", NULL);
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const gchar *name;

  while (proc && (name = g_dir_read_name (proc)) != NULL) {
    g_autofree gchar *path = g_strdup_printf ("/proc/%s/cmdline", name);
    g_autofree gchar *cmd = NULL;
    gsize len = 0;

    if (!g_ascii_isdigit (name[0]) ||
        !g_file_get_contents (path, &cmd, &len, NULL))
      continue;
    for (gsize i = 0; i + 1 < len; i++)
      if (cmd[i] == '\0')
        cmd[i] = ' ';
    if (strstr (cmd, "redis-server") && strstr (cmd, sock))
      return (GPid)atoi (name);
  }
  return 0;
}

static void
test_embedded_redis_restarts (Cluster *c, gconstpointer data)
{
  g_autofree gchar *sock =
      g_build_filename (c->dir, "data0", "redis", "redis.sock", NULL);
  GPid first = find_embedded_redis (c);
  GPid second = 0;
  gint64 deadline;
  g_autoptr (TestWs) ann = NULL;
  g_autoptr (TestWs) ben = NULL;
  g_autoptr (JsonObject) m = NULL;
  g_autofree gchar *metrics = NULL;

  g_assert_cmpint (first, >, 0);
  g_assert_true (redis_answers (sock));
  kill (first, SIGKILL);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline &&
         ((second = find_embedded_redis (c)) == 0 || second == first ||
          !redis_answers (sock)))
    g_usleep (50000);
  g_assert_cmpint (second, >, 0);
  g_assert_cmpint (second, !=, first);
  g_assert_true (redis_answers (sock));
  g_assert_true (node_alive (c, 0));
  /* The chat goes on, and its Redis link comes back. */
  ann = client (c, 0, "user=ann");
  ben = client (c, 0, "user=ben");
  say (ann, "after the restart");
  m = test_ws_expect (ben, "message", 3000);
  g_assert_nonnull (m);
  deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  do {
    g_clear_pointer (&metrics, g_free);
    g_assert_cmpuint (http (c, 0, "GET", "/metrics", NULL, NULL, &metrics), ==,
                      200);
    if (strstr (metrics, "glasscast_chat_redis_up 1"))
      break;
    g_usleep (100000);
  } while (g_get_monotonic_time () < deadline);
  g_assert_nonnull (strstr (metrics, "glasscast_chat_redis_up 1"));
  g_assert_nonnull (strstr (metrics, "glasscast_chat_connections 2"));
}

int
main (int argc, char **argv)
{
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  /* The same specification for both kinds of node: the library's stand-in
   * and the real service. */
  for (guint kind = 0; kind < 2; kind++) {
    const gchar *prefix = kind ? "/glasscastd/cluster" : "/chat/cluster";
    gconstpointer data = kind ? "glasscastd" : NULL;

    if (kind == 1 && g_getenv ("GLASSCASTD") == NULL)
      break;
#define ADD(name, fn)                                                          \
  do {                                                                         \
    g_autofree gchar *path = g_strconcat (prefix, name, NULL);                 \
    g_test_add (path, Cluster, data, setup, fn, teardown);                     \
  } while (0)
    ADD ("/message-crosses-nodes", test_message_crosses_nodes);
    ADD ("/ban-enforced-within-100ms", test_ban_enforced_on_other_node);
    ADD ("/settings-follow", test_settings_follow_across_nodes);
    ADD ("/redis-restart", test_redis_restart);
    ADD ("/ban-survives-empty-redis", test_ban_survives_empty_redis);
#undef ADD
  }
  if (g_getenv ("GLASSCASTD") != NULL) {
    g_test_add ("/glasscastd/single/api-moderation", Cluster, "single", setup,
                test_api_moderation, teardown);
    g_test_add ("/glasscastd/single/cross-origin-socket-is-anonymous", Cluster,
                "single", setup, test_cross_origin_socket_is_anonymous,
                teardown);
    g_test_add ("/glasscastd/single/embedded-redis-restarts", Cluster, "single",
                setup, test_embedded_redis_restarts, teardown);
  }
  return g_test_run ();
}

/* test-service.c — unit tests of GcChatService on one node without Redis (chat/service*.c), end to end over
 * socketpairs: join/welcome, posting, errors, slash-command moderation, delay mode, review queue, archive, audit. */

#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat-error.h"
#include "chat-test-client.h"
#include "service-private.h" /* the Redis subscriber entry point */
#include "service.h"

typedef struct {
  GMainContext *context;
  GcChatService *service;
  gchar *dir;
  GPtrArray *audit; /* gchar* "actor action target" */
} Fixture;

static void
on_audit (const GcChatAuditRecord *r, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->audit, g_strdup_printf ("%s %s %s", r->actor, r->action,
                                              r->target ? r->target : "-"));
}

static gint64
offset_of (const gchar *room, gint64 ts_ms, gpointer user_data)
{
  return 42000; /* the stream is 42 s in */
}

static void
setup (Fixture *f, gconstpointer data)
{
  GcChatConfig config;
  g_autofree gchar *db = NULL;
  g_autoptr (GError) error = NULL;

  f->context = g_main_context_new ();
  f->dir = g_dir_make_tmp ("gc-chat-service-XXXXXX", NULL);
  db = g_build_filename (f->dir, "chat.db", NULL);
  f->audit = g_ptr_array_new_with_free_func (g_free);
  gc_chat_config_init (&config);
  config.archive_path = db;
  config.node_id = "n1";
  config.presence_interval_ms = 200;
  f->service = gc_chat_service_new (&config, f->context, &error);
  g_assert_no_error (error);
  gc_chat_service_set_audit_func (f->service, on_audit, f, NULL);
  gc_chat_service_set_offset_func (f->service, offset_of, NULL, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) d = NULL;
  const gchar *name;

  gc_chat_service_free (f->service);
  g_main_context_unref (f->context);
  d = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *p = g_build_filename (f->dir, name, NULL);

    g_unlink (p);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_ptr_array_unref (f->audit);
}

static TestWs *
join (Fixture *f, const gchar *login, GcChatRoles roles)
{
  int sv[2];
  g_autoptr (GcChatIdentity) id =
      login ? gc_chat_identity_new (login, NULL, roles, 1, 1, "192.0.2.1")
            : gc_chat_identity_new_anonymous ("192.0.2.2");
  TestWs *ws;
  g_autoptr (JsonObject) welcome = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                   0);
  g_assert_cmpuint (
      gc_chat_service_adopt_connection (f->service, sv[0], "lobby", id, NULL),
      >, 0);
  ws = test_ws_new (sv[1], f->context);
  test_ws_send_text (ws, "{\"type\":\"join\",\"history\":10}");
  welcome = test_ws_expect (ws, "welcome", 2000);
  g_assert_nonnull (welcome);
  return ws;
}

static JsonObject *
expect (TestWs *ws, const gchar *type)
{
  JsonObject *o = test_ws_expect (ws, type, 3000);

  g_assert_nonnull (o);
  return o;
}

static void
say (TestWs *ws, const gchar *text)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) n = NULL;
  g_autofree gchar *s = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "send");
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_set_member_name (b, "nonce");
  json_builder_add_string_value (b, "c1");
  json_builder_end_object (b);
  n = json_builder_get_root (b);
  s = json_to_string (n, FALSE);
  test_ws_send_text (ws, s);
}

static void
test_welcome (Fixture *f, gconstpointer data)
{
  int sv[2];
  g_autoptr (GcChatIdentity) id = gc_chat_identity_new (
      "alice", "Alice", GC_CHAT_ROLE_SUBSCRIBER, 1, 1, NULL);
  g_autoptr (TestWs) ws = NULL;
  g_autoptr (JsonObject) w = NULL;
  JsonObject *you;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
  gc_chat_service_adopt_connection (f->service, sv[0], "lobby", id, NULL);
  ws = test_ws_new (sv[1], f->context);
  test_ws_send_text (ws, "{\"type\":\"join\"}");
  w = expect (ws, "welcome");
  g_assert_cmpstr (json_object_get_string_member (w, "room"), ==, "lobby");
  you = json_object_get_object_member (w, "you");
  g_assert_cmpstr (json_object_get_string_member (you, "display_name"), ==,
                   "Alice");
  g_assert_true (json_object_has_member (
      json_object_get_object_member (w, "settings"), "slow"));
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (w, "history")), ==,
      0);
}

static void
test_bad_room_refused (Fixture *f, gconstpointer data)
{
  int sv[2];
  g_autoptr (GcChatIdentity) id = gc_chat_identity_new_anonymous (NULL);

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
  g_assert_cmpuint (
      gc_chat_service_adopt_connection (f->service, sv[0], "../etc", id, NULL),
      ==, 0);
  close (sv[1]);
}

static void
test_message_fans_out (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) alice = join (f, "alice", GC_CHAT_ROLE_SUBSCRIBER);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (TestWs) anon = join (f, NULL, 0);
  g_autoptr (JsonObject) sent = NULL;
  g_autoptr (JsonObject) mb = NULL;
  g_autoptr (JsonObject) ma = NULL;
  g_autoptr (JsonObject) mc = NULL;
  gint64 before = g_get_real_time () / 1000;

  say (alice, "hello room");
  /* The sender's own copy comes first, then the acknowledgement. */
  ma = expect (alice, "message");
  sent = expect (alice, "sent");
  g_assert_cmpstr (json_object_get_string_member (sent, "nonce"), ==, "c1");
  mb = expect (bob, "message");
  mc = expect (anon, "message");
  g_assert_cmpstr (json_object_get_string_member (mb, "text"), ==,
                   "hello room");
  g_assert_cmpstr (json_object_get_string_member (mb, "user"), ==, "alice");
  g_assert_cmpstr (json_object_get_string_member (mb, "id"), ==,
                   json_object_get_string_member (sent, "id"));
  g_assert_cmpint (json_object_get_int_member (mb, "ts"), >=, before);
  g_assert_cmpint (json_object_get_int_member (mb, "ts"), <=,
                   g_get_real_time () / 1000);
  g_assert_false (json_object_has_member (mb, "nonce"));
}

static void
test_history_in_welcome (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) alice = join (f, "alice", 0);
  g_autoptr (TestWs) late = NULL;
  g_autoptr (JsonObject) m = NULL;
  g_autoptr (JsonObject) w = NULL;
  int sv[2];
  g_autoptr (GcChatIdentity) id = gc_chat_identity_new_anonymous (NULL);

  say (alice, "first");
  m = expect (alice, "message");
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
  gc_chat_service_adopt_connection (f->service, sv[0], "lobby", id, NULL);
  late = test_ws_new (sv[1], f->context);
  test_ws_send_text (late, "{\"type\":\"join\",\"history\":5}");
  w = expect (late, "welcome");
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (w, "history")), ==,
      1);
  g_assert_null (json_object_get_object_member (w, "you"));
}

static void
test_errors_have_codes (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) anon = join (f, NULL, 0);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (JsonObject) e1 = NULL;
  g_autoptr (JsonObject) e2 = NULL;
  g_autoptr (JsonObject) e3 = NULL;
  g_autoptr (JsonObject) e4 = NULL;

  say (anon, "hi");
  e1 = expect (anon, "error");
  g_assert_cmpstr (json_object_get_string_member (e1, "code"), ==,
                   "login_required");
  g_assert_cmpstr (json_object_get_string_member (e1, "nonce"), ==, "c1");
  test_ws_send_text (bob, "not json");
  e2 = expect (bob, "error");
  g_assert_cmpstr (json_object_get_string_member (e2, "code"), ==,
                   "bad_request");
  say (bob, "/ban alice");
  e3 = expect (bob, "error");
  g_assert_cmpstr (json_object_get_string_member (e3, "code"), ==, "forbidden");
  say (bob, "/dance");
  e4 = expect (bob, "error");
  g_assert_cmpstr (json_object_get_string_member (e4, "code"), ==,
                   "unknown_command");
}

static void
test_slow_mode_error_says_when (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) mod = join (f, "mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (JsonObject) s = NULL;
  g_autoptr (JsonObject) m = NULL;
  g_autoptr (JsonObject) e = NULL;

  say (mod, "/slow 30");
  s = expect (bob, "settings");
  g_assert_cmpint (json_object_get_int_member (s, "slow"), ==, 30);
  say (bob, "one");
  m = expect (bob, "message");
  say (bob, "two");
  e = expect (bob, "error");
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "slow_mode");
  g_assert_cmpint (json_object_get_int_member (e, "retry_after_ms"), >, 29000);
}

static void
test_ban_by_slash_command (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) mod = join (f, "mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (JsonObject) m = NULL;
  g_autoptr (JsonObject) clear = NULL;
  g_autoptr (JsonObject) done = NULL;
  g_autoptr (JsonObject) e = NULL;
  g_autoptr (GPtrArray) archived = NULL;
  g_autoptr (GPtrArray) audit = NULL;
  GcChatArchive *archive = gc_chat_service_get_archive (f->service);

  say (bob, "spam spam");
  m = expect (mod, "message");
  say (mod, "/ban bob spamming");
  done = expect (mod, "notice");
  g_assert_cmpstr (json_object_get_string_member (done, "code"), ==, "done");
  clear = expect (bob, "clear");
  g_assert_cmpstr (json_object_get_string_member (clear, "user"), ==, "bob");
  say (bob, "let me in");
  e = expect (bob, "error");
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "banned");

  g_assert_cmpuint (f->audit->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->audit, 0), ==, "mod ban bob");
  gc_chat_archive_flush (archive, NULL);
  archived = gc_chat_archive_read_range (archive, "lobby",
                                         GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 0,
                                         G_MAXINT64, TRUE, NULL);
  g_assert_cmpuint (archived->len, ==, 1);
  g_assert_true (((GcChatArchivedMessage *)archived->pdata[0])->deleted);
  g_assert_cmpint (
      ((GcChatArchivedMessage *)archived->pdata[0])->stream_offset_ms, ==,
      42000);
  audit = gc_chat_archive_read_audit (archive, "lobby", 0, G_MAXINT64, NULL);
  g_assert_cmpuint (audit->len, ==, 1);
}

static void
test_delete_one_message (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) mod = join (f, "mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (JsonObject) m = NULL;
  g_autoptr (JsonObject) d = NULL;
  g_autofree gchar *cmd = NULL;

  say (bob, "oops");
  m = expect (mod, "message");
  cmd = g_strdup_printf ("{\"type\":\"delete\",\"id\":\"%s\"}",
                         json_object_get_string_member (m, "id"));
  test_ws_send_text (mod, cmd);
  d = expect (bob, "delete");
  g_assert_cmpstr (json_object_get_string_member (d, "id"), ==,
                   json_object_get_string_member (m, "id"));
}

static void
test_delay_mode (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) mod = join (f, "mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (TestWs) eve = join (f, "eve", 0);
  g_autoptr (JsonObject) s = NULL;
  g_autoptr (JsonObject) pending_mod = NULL;
  g_autoptr (JsonObject) pending_self = NULL;
  g_autoptr (JsonObject) early = NULL;
  g_autoptr (JsonObject) late = NULL;
  gint64 t0;

  say (mod, "/delay 2");
  s = expect (eve, "settings");
  t0 = g_get_monotonic_time ();
  say (bob, "delayed words");
  pending_mod = expect (mod, "message");
  g_assert_true (json_object_get_boolean_member (pending_mod, "pending"));
  pending_self = expect (bob, "message");
  g_assert_true (json_object_get_boolean_member (pending_self, "pending"));
  /* Viewers see nothing for two seconds, then the message. */
  early = test_ws_expect (eve, "message", 1500);
  g_assert_null (early);
  late = expect (eve, "message");
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 1900000);
  g_assert_false (json_object_has_member (late, "pending"));
}

static void
test_delay_mode_deleted_never_shown (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) mod = join (f, "mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (TestWs) eve = join (f, "eve", 0);
  g_autoptr (JsonObject) s = NULL;
  g_autoptr (JsonObject) pending = NULL;
  g_autoptr (JsonObject) shown = NULL;
  g_autofree gchar *cmd = NULL;

  say (mod, "/delay 2");
  s = expect (eve, "settings");
  say (bob, "something awful");
  pending = expect (mod, "message");
  cmd = g_strdup_printf ("/delete %s",
                         json_object_get_string_member (pending, "id"));
  say (mod, cmd);
  shown = test_ws_expect (eve, "message", 3000);
  g_assert_null (shown);
}

static void
test_hold_and_approve (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) mod = join (f, "mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (TestWs) bob = join (f, "bob", 0);
  g_autoptr (TestWs) eve = join (f, "eve", 0);
  g_autoptr (JsonObject) done = NULL;
  g_autoptr (JsonObject) held = NULL;
  g_autoptr (JsonObject) notice = NULL;
  g_autoptr (JsonObject) early = NULL;
  g_autoptr (JsonObject) shown = NULL;
  g_autofree gchar *cmd = NULL;
  JsonObject *msg;

  say (mod, "/hold crypto");
  done = expect (mod, "notice");
  say (bob, "free CRYPTO here");
  held = expect (mod, "held");
  g_assert_cmpstr (json_object_get_string_member (held, "term"), ==, "crypto");
  notice = expect (bob, "notice");
  g_assert_cmpstr (json_object_get_string_member (notice, "code"), ==,
                   "held_for_review");
  early = test_ws_expect (eve, "message", 300);
  g_assert_null (early);
  msg = json_object_get_object_member (held, "message");
  cmd = g_strdup_printf ("/approve %s",
                         json_object_get_string_member (msg, "id"));
  say (mod, cmd);
  shown = expect (eve, "message");
  g_assert_cmpstr (json_object_get_string_member (shown, "text"), ==,
                   "free CRYPTO here");
}

static void
test_reject_unknown_held (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) mod = join (f, "mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (JsonObject) e = NULL;

  say (mod, "/reject nope-1");
  e = expect (mod, "error");
  g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "not_found");
}

static void
test_perform_api (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) eve = join (f, "eve", 0);
  g_autoptr (GcChatIdentity) caster = gc_chat_identity_new (
      "caster", NULL, GC_CHAT_ROLE_BROADCASTER, 1, 1, NULL);
  g_autoptr (GcChatIdentity) nobody =
      gc_chat_identity_new ("nobody", NULL, 0, 1, 1, NULL);
  g_autoptr (GcChatAction) a = gc_chat_action_new (GC_CHAT_ACTION_SETTINGS);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) s = NULL;

  a->settings.mask = GC_CHAT_SETTING_EMOTE_ONLY;
  a->settings.values.emote_only = TRUE;
  g_assert_false (
      gc_chat_service_perform (f->service, "lobby", nobody, a, &error));
  g_assert_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_FORBIDDEN);
  g_assert_true (
      gc_chat_service_perform (f->service, "lobby", caster, a, NULL));
  s = expect (eve, "settings");
  g_assert_true (json_object_get_boolean_member (s, "emoteonly"));
}

/* The welcome a viewer joining now gets (@history items asked for). */
static JsonObject *
late_welcome (Fixture *f, guint history, TestWs **out)
{
  int sv[2];
  g_autoptr (GcChatIdentity) id = gc_chat_identity_new_anonymous (NULL);
  g_autofree gchar *join =
      g_strdup_printf ("{\"type\":\"join\",\"history\":%u}", history);

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                   0);
  g_assert_cmpuint (
      gc_chat_service_adopt_connection (f->service, sv[0], "lobby", id, NULL),
      >, 0);
  *out = test_ws_new (sv[1], f->context);
  test_ws_send_text (*out, join);
  return expect (*out, "welcome");
}

static void
test_tip_event (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) eve = join (f, "eve", 0);
  GcChatTip tip = {"t-1", "lobby", "bob", "Bob", 500, "EUR", "gg", 1};
  GcChatTip silent = {"t-2", "lobby", "ann", NULL, 7, "JPY", NULL, 3};
  g_autoptr (JsonObject) t = NULL;
  g_autoptr (JsonObject) t2 = NULL;
  g_autoptr (JsonObject) m = NULL;
  g_autoptr (JsonObject) w = NULL;
  g_autoptr (TestWs) late = NULL;
  JsonArray *history;
  JsonObject *h;

  gc_chat_service_publish_tip (f->service, &tip);
  t = expect (eve, "tip");
  g_assert_cmpint (json_object_get_int_member (t, "amount"), ==, 500);
  say (eve, "thanks bob");
  m = expect (eve, "message");
  gc_chat_service_publish_tip (f->service, &silent);
  t2 = expect (eve, "tip");

  /* A viewer who joins later finds both tips in the history, in order
   * among the messages, as tips. */
  w = late_welcome (f, 10, &late);
  history = json_object_get_array_member (w, "history");
  g_assert_cmpuint (json_array_get_length (history), ==, 3);
  h = json_array_get_object_element (history, 0);
  g_assert_cmpstr (json_object_get_string_member (h, "kind"), ==, "tip");
  g_assert_cmpstr (json_object_get_string_member (h, "id"), ==, "t-1");
  g_assert_cmpstr (json_object_get_string_member (h, "user"), ==, "bob");
  g_assert_cmpint (json_object_get_int_member (h, "amount"), ==, 500);
  g_assert_cmpstr (json_object_get_string_member (h, "currency"), ==, "EUR");
  g_assert_cmpstr (json_object_get_string_member (h, "text"), ==, "gg");
  g_assert_cmpint (json_object_get_int_member (h, "ts"), ==, 1);
  g_assert_false (json_object_has_member (h, "type"));
  h = json_array_get_object_element (history, 1);
  g_assert_false (json_object_has_member (h, "kind"));
  g_assert_cmpstr (json_object_get_string_member (h, "text"), ==, "thanks bob");
  h = json_array_get_object_element (history, 2);
  g_assert_cmpstr (json_object_get_string_member (h, "kind"), ==, "tip");
  g_assert_cmpstr (json_object_get_string_member (h, "display_name"), ==,
                   "ann");
  g_assert_cmpstr (json_object_get_string_member (h, "text"), ==, "");
  g_assert_cmpint (json_object_get_int_member (h, "amount"), ==, 7);
}

/* A tip another node published: passed on to this node's viewers and kept
 * in its history; an unreadable one is neither. */
static void
test_remote_tip_in_history (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) eve = join (f, "eve", 0);
  g_autofree gchar *channel = gc_chat_room_events_channel (NULL, "lobby");
  const gchar *good =
      "{\"node\":\"n2\",\"kind\":\"tip\",\"tip\":{\"type\":\"tip\",\"id\":"
      "\"t-9\",\"user\":\"bob\",\"display_name\":\"Bob\",\"amount\":250,"
      "\"currency\":\"USD\",\"ts\":5}}";
  const gchar *bad[] = {
      "{\"node\":\"n2\",\"kind\":\"tip\",\"tip\":{\"type\":\"tip\",\"id\":"
      "\"t-8\",\"user\":\"bob\",\"amount\":2.5,\"currency\":\"USD\"}}",
      "{\"node\":\"n2\",\"kind\":\"tip\",\"tip\":{\"type\":\"tip\",\"id\":"
      "\"t-7\",\"user\":\"bob\",\"amount\":0,\"currency\":\"USD\"}}",
      "{\"node\":\"n2\",\"kind\":\"tip\",\"tip\":{\"type\":\"tip\",\"id\":"
      "\"t-6\",\"user\":\"bob\",\"amount\":5,\"currency\":\"usd\"}}",
      "{\"node\":\"n2\",\"kind\":\"message\",\"message\":{\"kind\":\"tip\","
      "\"id\":\"t-5\",\"user\":\"bob\",\"text\":\"x\",\"amount\":5,"
      "\"currency\":\"USD\"}}",
  };
  g_autoptr (JsonObject) t = NULL;
  g_autoptr (JsonObject) w = NULL;
  g_autoptr (JsonObject) none = NULL;
  g_autoptr (TestWs) late = NULL;
  JsonArray *history;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    gc_chat_service_on_redis_message (channel, bad[i], strlen (bad[i]),
                                      f->service);
  gc_chat_service_on_redis_message (channel, good, strlen (good), f->service);
  t = expect (eve, "tip");
  g_assert_cmpstr (json_object_get_string_member (t, "id"), ==, "t-9");
  none = test_ws_expect (eve, "message", 200);
  g_assert_null (none);
  w = late_welcome (f, 10, &late);
  history = json_object_get_array_member (w, "history");
  g_assert_cmpuint (json_array_get_length (history), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (history, 0), "id"),
                   ==, "t-9");
}

static void
test_presence_counts (Fixture *f, gconstpointer data)
{
  g_autoptr (TestWs) a = join (f, "a", 0);
  g_autoptr (TestWs) b = join (f, "b", 0);
  gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  gint64 viewers = 0;

  while (viewers != 2 && g_get_monotonic_time () < deadline) {
    g_autoptr (JsonObject) p = test_ws_expect (a, "presence", 1000);

    if (p != NULL)
      viewers = json_object_get_int_member (p, "viewers");
  }
  g_assert_cmpint (viewers, ==, 2);
}

/* The name chatstamp subscribes to (glasscastd's {chat-events}) is the
 * one REDIS.md documents and the store publishes on. */
static void
test_events_channel_name (void)
{
  g_autofree gchar *def = gc_chat_room_events_channel (NULL, "demo");
  g_autofree gchar *custom = gc_chat_room_events_channel ("x:", "r_1");

  g_assert_cmpstr (def, ==, "gc:chat:room:{demo}:events");
  g_assert_cmpstr (custom, ==, "x:room:{r_1}:events");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/service/events-channel-name",
                   test_events_channel_name);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/chat/service/welcome", test_welcome);
  ADD ("/chat/service/bad-room", test_bad_room_refused);
  ADD ("/chat/service/fan-out", test_message_fans_out);
  ADD ("/chat/service/history", test_history_in_welcome);
  ADD ("/chat/service/error-codes", test_errors_have_codes);
  ADD ("/chat/service/slow-mode-retry-after", test_slow_mode_error_says_when);
  ADD ("/chat/service/ban-command", test_ban_by_slash_command);
  ADD ("/chat/service/delete", test_delete_one_message);
  ADD ("/chat/service/delay", test_delay_mode);
  ADD ("/chat/service/delay-deleted", test_delay_mode_deleted_never_shown);
  ADD ("/chat/service/hold-approve", test_hold_and_approve);
  ADD ("/chat/service/reject-unknown", test_reject_unknown_held);
  ADD ("/chat/service/perform-api", test_perform_api);
  ADD ("/chat/service/tip", test_tip_event);
  ADD ("/chat/service/remote-tip", test_remote_tip_in_history);
  ADD ("/chat/service/presence", test_presence_counts);
#undef ADD
  return g_test_run ();
}

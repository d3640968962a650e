/* test-protocol.c — unit tests of the chat protocol (chat/protocol.c): request validation tables, slash commands
 * inside "send", server frame writers, and the action round trip used between nodes. */

#include <string.h>

#include "chat-error.h"
#include "protocol.h"

static GcChatAction *
parse (const gchar *json, GError **error)
{
  return gc_chat_protocol_parse_request (json, strlen (json), error);
}

static GcChatAction *
parse_ok (const gchar *json)
{
  g_autoptr (GError) error = NULL;
  GcChatAction *a = parse (json, &error);

  g_assert_no_error (error);
  g_assert_nonnull (a);
  return a;
}

static void
assert_refused (const gchar *json, GcChatErrorCode code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcChatAction) a = parse (json, &error);

  g_assert_null (a);
  g_assert_error (error, GC_CHAT_ERROR, (gint)code);
}

static JsonObject *
object_of (const GString *json)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (p, json->str, (gssize)json->len, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static void
test_join (void)
{
  g_autoptr (GcChatAction) a =
      parse_ok ("{\"type\":\"join\",\"history\":20,\"since\":1700000000000}");
  g_autoptr (GcChatAction) b = parse_ok ("{\"type\":\"join\"}");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_JOIN);
  g_assert_cmpint (a->history, ==, 20);
  g_assert_cmpint (a->since, ==, 1700000000000);
  g_assert_cmpint (b->history, ==, 0);
  assert_refused ("{\"type\":\"join\",\"history\":501}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"join\",\"history\":\"5\"}",
                  GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_send (void)
{
  g_autoptr (GcChatAction) a =
      parse_ok ("{\"type\":\"send\",\"text\":\"hi\",\"reply_to\":\"n-1\","
                "\"nonce\":\"c7\"}");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_SEND);
  g_assert_cmpstr (a->text, ==, "hi");
  g_assert_cmpstr (a->reply_to, ==, "n-1");
  g_assert_cmpstr (a->nonce, ==, "c7");
  assert_refused ("{\"type\":\"send\"}", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"send\",\"text\":\"   \"}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"send\",\"text\":5}", GC_CHAT_ERROR_BAD_REQUEST);
}

/* json-glib reads "\\327" as an octal escape to a raw byte: such text
 * would reach every viewer as invalid UTF-8 (browsers close the socket). */
static void
test_send_octal_escape_refused (void)
{
  assert_refused ("{\"type\":\"send\",\"text\":\"x\\327y\"}",
                  GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_send_too_large (void)
{
  g_autoptr (GString) big = g_string_new ("{\"type\":\"send\",\"text\":\"");

  for (guint i = 0; i < GC_CHAT_PROTOCOL_MAX_TEXT + 1; i++)
    g_string_append_c (big, 'a');
  g_string_append (big, "\"}");
  assert_refused (big->str, GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_send_slash_command_becomes_action (void)
{
  g_autoptr (GcChatAction) a = parse_ok (
      "{\"type\":\"send\",\"text\":\"/timeout bob 30\",\"nonce\":\"x\"}");
  g_autoptr (GcChatAction) lit =
      parse_ok ("{\"type\":\"send\",\"text\":\"//not a command\"}");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_TIMEOUT);
  g_assert_cmpint (a->seconds, ==, 30);
  g_assert_cmpstr (a->nonce, ==, "x");
  g_assert_cmpint (lit->type, ==, GC_CHAT_ACTION_SEND);
  g_assert_cmpstr (lit->text, ==, "/not a command");
  assert_refused ("{\"type\":\"send\",\"text\":\"/nope\"}",
                  GC_CHAT_ERROR_UNKNOWN_COMMAND);
}

static void
test_moderation_requests (void)
{
  g_autoptr (GcChatAction) del =
      parse_ok ("{\"type\":\"delete\",\"id\":\"a-1\"}");
  g_autoptr (GcChatAction) ban =
      parse_ok ("{\"type\":\"ban\",\"user\":\"Bob\",\"reason\":\"r\","
                "\"by_address\":true}");
  g_autoptr (GcChatAction) ipban =
      parse_ok ("{\"type\":\"ban\",\"address\":\"2001:db8::1\"}");
  g_autoptr (GcChatAction) to =
      parse_ok ("{\"type\":\"timeout\",\"user\":\"bob\",\"seconds\":60}");
  g_autoptr (GcChatAction) clear = parse_ok ("{\"type\":\"clear\"}");
  g_autoptr (GcChatAction) block =
      parse_ok ("{\"type\":\"block\",\"term\":\"spam*\",\"hold\":true}");
  g_autoptr (GcChatAction) approve =
      parse_ok ("{\"type\":\"approve\",\"id\":\"a-2\"}");

  g_assert_cmpstr (del->id, ==, "a-1");
  g_assert_cmpstr (ban->user, ==, "bob");
  g_assert_true (ban->by_address);
  g_assert_cmpstr (ipban->address, ==, "2001:db8::1");
  g_assert_cmpint (to->seconds, ==, 60);
  g_assert_null (clear->user);
  g_assert_true (block->hold);
  g_assert_cmpint (approve->type, ==, GC_CHAT_ACTION_APPROVE);

  assert_refused ("{\"type\":\"ban\"}", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"ban\",\"address\":\"not-an-ip\"}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"timeout\",\"user\":\"bob\",\"seconds\":0}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"timeout\",\"user\":\"bob\",\"seconds\":1209601}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"timeout\",\"user\":\"bob\"}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"mod\",\"user\":\"b o b\"}",
                  GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_settings_request (void)
{
  g_autoptr (GcChatAction) a =
      parse_ok ("{\"type\":\"settings\",\"slow\":10,\"subonly\":true,"
                "\"followers\":\"off\"}");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_SETTINGS);
  g_assert_cmpuint (a->settings.mask, ==,
                    GC_CHAT_SETTING_SLOW | GC_CHAT_SETTING_SUBSCRIBERS_ONLY |
                        GC_CHAT_SETTING_FOLLOWERS);
  g_assert_cmpuint (a->settings.values.slow_seconds, ==, 10);
  g_assert_true (a->settings.values.subscribers_only);
  g_assert_cmpint (a->settings.values.followers_minutes, ==, -1);
  assert_refused ("{\"type\":\"settings\",\"slwo\":10}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"settings\",\"delay\":5}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"settings\",\"subonly\":1}",
                  GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"settings\"}", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_malformed (void)
{
  assert_refused ("", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("not json", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("[1,2]", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{}", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"dance\"}", GC_CHAT_ERROR_UNKNOWN_TYPE);
  /* A type of the wrong JSON kind is refused, without a GLib critical
   * (fatal here). */
  assert_refused ("{\"type\":{}}", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":[\"send\"]}", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":7}", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("{\"type\":\"send\",\"text\":\"a\",\"nonce\":{}}",
                  GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_unknown_members_ignored (void)
{
  g_autoptr (GcChatAction) a =
      parse_ok ("{\"type\":\"send\",\"text\":\"x\",\"future\":[1]}");

  g_assert_cmpstr (a->text, ==, "x");
}

static void
test_action_round_trip (void)
{
  const gchar *requests[] = {
      "{\"type\":\"ban\",\"user\":\"bob\",\"by_address\":true,\"reason\":"
      "\"r\"}",
      "{\"type\":\"timeout\",\"user\":\"bob\",\"seconds\":600}",
      "{\"type\":\"settings\",\"slow\":0,\"delay\":4,\"review\":true}",
      "{\"type\":\"send\",\"text\":\"//slash\",\"nonce\":\"n\"}",
      "{\"type\":\"block\",\"term\":\"a*b\",\"hold\":true}",
      "{\"type\":\"clear\",\"user\":\"bob\"}",
      "{\"type\":\"reject\",\"id\":\"x-1\",\"reason\":\"no\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++) {
    g_autoptr (GcChatAction) a = parse_ok (requests[i]);
    g_autoptr (GString) out = g_string_new (NULL);
    g_autoptr (GcChatAction) b = NULL;
    g_autoptr (GString) again = g_string_new (NULL);

    gc_chat_protocol_write_action (out, a);
    b = parse_ok (out->str);
    gc_chat_protocol_write_action (again, b);
    g_assert_cmpstr (out->str, ==, again->str);
    g_assert_cmpint (a->type, ==, b->type);
    g_assert_cmpstr (a->text, ==, b->text);
    g_assert_cmpuint (a->settings.mask, ==, b->settings.mask);
  }
}

static GcChatMessage *
sample_message (void)
{
  GcChatMessage *m = gc_chat_message_new ();

  m->id = g_strdup ("n1-2a");
  m->room = g_strdup ("lobby");
  m->user = g_strdup ("alice");
  m->display_name = g_strdup ("Alice \"A\"");
  m->badges = GC_CHAT_ROLE_MODERATOR | GC_CHAT_ROLE_SUBSCRIBER;
  m->text = g_strdup ("line\nbreak \xe2\x80\xa8 and \\");
  m->nonce = g_strdup ("c1");
  m->ts_ms = 1700000000123;
  m->release_ms = 1700000002123;
  return m;
}

static void
test_write_message (void)
{
  g_autoptr (GcChatMessage) m = sample_message ();
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (JsonObject) o = NULL;
  JsonArray *badges;

  gc_chat_protocol_write_message (json, m, GC_CHAT_WRITE_NONE);
  o = object_of (json);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "message");
  g_assert_cmpstr (json_object_get_string_member (o, "display_name"), ==,
                   "Alice \"A\"");
  g_assert_cmpstr (json_object_get_string_member (o, "text"), ==, m->text);
  g_assert_cmpint (json_object_get_int_member (o, "ts"), ==, m->ts_ms);
  g_assert_false (json_object_has_member (o, "nonce"));
  g_assert_false (json_object_has_member (o, "release"));
  g_assert_null (strstr (json->str, "\xe2\x80\xa8")); /* escaped */
  badges = json_object_get_array_member (o, "badges");
  g_assert_cmpuint (json_array_get_length (badges), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (badges, 0), ==, "moderator");
}

static void
test_internal_message_round_trip (void)
{
  g_autoptr (GcChatMessage) m = sample_message ();
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (JsonObject) o = NULL;
  g_autoptr (GcChatMessage) back = NULL;

  gc_chat_protocol_write_message (json, m, GC_CHAT_WRITE_INTERNAL);
  o = object_of (json);
  back = gc_chat_protocol_parse_message (o, "lobby", NULL);
  g_assert_nonnull (back);
  g_assert_cmpstr (back->id, ==, m->id);
  g_assert_cmpstr (back->text, ==, m->text);
  g_assert_cmpint (back->ts_ms, ==, m->ts_ms);
  g_assert_cmpint (back->release_ms, ==, m->release_ms);
  g_assert_cmpuint (back->badges, ==, m->badges);
  g_assert_null (back->nonce);
}

/* A tip in the history: written with its kind, amount and currency, read
 * back the same; a tip frame from another node reads as one too; a tip
 * without a positive integer amount or an ISO code is refused. */
static void
test_tip_message_round_trip (void)
{
  GcChatTip tip = {"t1", "lobby", "bob", "Bob", 1234, "KWD", NULL, 42};
  g_autoptr (GcChatMessage) m = gc_chat_message_new_tip (&tip);
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (JsonObject) o = NULL;
  g_autoptr (JsonObject) frame = NULL;
  g_autoptr (GcChatMessage) back = NULL;
  g_autoptr (GcChatMessage) from_frame = NULL;
  const gchar *bad[] = {
      "{\"kind\":\"tip\",\"id\":\"a\",\"user\":\"b\",\"currency\":\"USD\"}",
      "{\"kind\":\"tip\",\"id\":\"a\",\"user\":\"b\",\"amount\":\"5\","
      "\"currency\":\"USD\"}",
      "{\"kind\":\"tip\",\"id\":\"a\",\"user\":\"b\",\"amount\":5.5,"
      "\"currency\":\"USD\"}",
      "{\"kind\":\"tip\",\"id\":\"a\",\"user\":\"b\",\"amount\":-5,"
      "\"currency\":\"USD\"}",
      "{\"kind\":\"tip\",\"id\":\"a\",\"user\":\"b\",\"amount\":5}",
      "{\"kind\":\"tip\",\"id\":\"a\",\"user\":\"b\",\"amount\":5,"
      "\"currency\":\"US\"}",
      "{\"kind\":\"tip\",\"id\":\"a\",\"user\":\"b\",\"amount\":5,"
      "\"currency\":\"U1D\"}",
      "{\"kind\":\"cheer\",\"id\":\"a\",\"user\":\"b\",\"text\":\"x\"}",
  };

  g_assert_cmpint (m->kind, ==, GC_CHAT_MESSAGE_TIP);
  g_assert_cmpstr (m->display_name, ==, "Bob");
  g_assert_cmpstr (m->text, ==, "");
  gc_chat_protocol_write_message (
      json, m, GC_CHAT_WRITE_INTERNAL | GC_CHAT_WRITE_NO_TYPE);
  o = object_of (json);
  g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "tip");
  g_assert_cmpint (json_object_get_int_member (o, "amount"), ==, 1234);
  back = gc_chat_protocol_parse_message (o, "lobby", NULL);
  g_assert_nonnull (back);
  g_assert_cmpint (back->kind, ==, GC_CHAT_MESSAGE_TIP);
  g_assert_cmpstr (back->id, ==, "t1");
  g_assert_cmpint (back->amount, ==, 1234);
  g_assert_cmpstr (back->currency, ==, "KWD");
  g_assert_cmpstr (back->text, ==, "");
  g_assert_cmpint (back->ts_ms, ==, 42);
  g_assert_cmpint (back->release_ms, ==, 42);

  g_string_truncate (json, 0);
  gc_chat_protocol_write_tip (json, &tip);
  frame = object_of (json);
  from_frame = gc_chat_protocol_parse_message (frame, "lobby", NULL);
  g_assert_nonnull (from_frame);
  g_assert_cmpint (from_frame->kind, ==, GC_CHAT_MESSAGE_TIP);
  g_assert_cmpint (from_frame->amount, ==, 1234);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GString) text = g_string_new (bad[i]);
    g_autoptr (JsonObject) b = object_of (text);
    g_autoptr (GError) error = NULL;
    g_autoptr (GcChatMessage) refused =
        gc_chat_protocol_parse_message (b, "lobby", &error);

    g_assert_null (refused);
    g_assert_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST);
  }
}

static void
test_write_other_frames (void)
{
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GError) error =
      g_error_new (GC_CHAT_ERROR, GC_CHAT_ERROR_SLOW_MODE, "wait");
  GcChatSettings settings;
  GcChatTip tip = {"t1", "lobby", "bob", "Bob", 500, "EUR", "gg", 42};

  gc_chat_protocol_write_delete (json, "n-1");
  g_assert_cmpstr (json->str, ==, "{\"type\":\"delete\",\"id\":\"n-1\"}");
  g_string_truncate (json, 0);
  gc_chat_protocol_write_clear (json, NULL);
  g_assert_cmpstr (json->str, ==, "{\"type\":\"clear\"}");
  g_string_truncate (json, 0);
  gc_chat_protocol_write_clear (json, "bob");
  g_assert_cmpstr (json->str, ==, "{\"type\":\"clear\",\"user\":\"bob\"}");
  g_string_truncate (json, 0);
  gc_chat_protocol_write_error (json, error, "c1", 1500);
  g_assert_cmpstr (json->str, ==,
                   "{\"type\":\"error\",\"code\":\"slow_mode\",\"message\":"
                   "\"wait\",\"nonce\":\"c1\",\"retry_after_ms\":1500}");
  g_string_truncate (json, 0);
  gc_chat_protocol_write_presence (json, 12345);
  g_assert_cmpstr (json->str, ==, "{\"type\":\"presence\",\"viewers\":12345}");
  g_string_truncate (json, 0);
  gc_chat_protocol_write_notice (json, "done", "ok");
  g_assert_cmpstr (
      json->str, ==,
      "{\"type\":\"notice\",\"code\":\"done\",\"message\":\"ok\"}");
  g_string_truncate (json, 0);
  gc_chat_settings_init (&settings);
  settings.slow_seconds = 5;
  gc_chat_protocol_write_settings (json, &settings);
  g_assert_cmpstr (json->str, ==,
                   "{\"type\":\"settings\",\"slow\":5,\"subonly\":false,"
                   "\"emoteonly\":false,\"uniquechat\":false,\"followers\":-1,"
                   "\"accountage\":0,\"delay\":0,\"review\":false}");
  g_string_truncate (json, 0);
  gc_chat_protocol_write_tip (json, &tip);
  g_assert_cmpstr (json->str, ==,
                   "{\"type\":\"tip\",\"id\":\"t1\",\"user\":\"bob\","
                   "\"display_name\":\"Bob\",\"amount\":500,\"currency\":"
                   "\"EUR\",\"text\":\"gg\",\"ts\":42}");
}

static void
test_write_welcome (void)
{
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GcChatIdentity) you = gc_chat_identity_new (
      "Alice", "Alice", GC_CHAT_ROLE_SUBSCRIBER, 0, -1, NULL);
  g_autoptr (GcChatMessage) m = sample_message ();
  g_autoptr (GPtrArray) history = g_ptr_array_new ();
  g_autoptr (JsonObject) o = NULL;
  GcChatSettings settings;

  gc_chat_settings_init (&settings);
  g_ptr_array_add (history, m);
  gc_chat_protocol_write_welcome (
      json, "lobby", you, GC_CHAT_ROLE_SUBSCRIBER | GC_CHAT_ROLE_TIMED_OUT,
      &settings, history, 7);
  o = object_of (json);
  g_assert_cmpstr (json_object_get_string_member (o, "room"), ==, "lobby");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (o, "you"), "user"),
                   ==, "alice");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                        json_object_get_object_member (o, "you"), "roles")),
                    ==, 2);
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (o, "history")), ==,
      1);
  g_assert_cmpint (json_object_get_int_member (o, "viewers"), ==, 7);

  g_string_truncate (json, 0);
  gc_chat_protocol_write_welcome (json, "lobby", NULL, 0, &settings, NULL, 0);
  g_assert_nonnull (strstr (json->str, "\"you\":null"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/protocol/join", test_join);
  g_test_add_func ("/chat/protocol/send", test_send);
  g_test_add_func ("/chat/protocol/send-too-large", test_send_too_large);
  g_test_add_func ("/chat/protocol/send-octal-escape-refused",
                   test_send_octal_escape_refused);
  g_test_add_func ("/chat/protocol/send-slash-command",
                   test_send_slash_command_becomes_action);
  g_test_add_func ("/chat/protocol/moderation-requests",
                   test_moderation_requests);
  g_test_add_func ("/chat/protocol/settings-request", test_settings_request);
  g_test_add_func ("/chat/protocol/malformed", test_malformed);
  g_test_add_func ("/chat/protocol/unknown-members-ignored",
                   test_unknown_members_ignored);
  g_test_add_func ("/chat/protocol/action-round-trip", test_action_round_trip);
  g_test_add_func ("/chat/protocol/write-message", test_write_message);
  g_test_add_func ("/chat/protocol/internal-message-round-trip",
                   test_internal_message_round_trip);
  g_test_add_func ("/chat/protocol/tip-message-round-trip",
                   test_tip_message_round_trip);
  g_test_add_func ("/chat/protocol/write-frames", test_write_other_frames);
  g_test_add_func ("/chat/protocol/write-welcome", test_write_welcome);
  return g_test_run ();
}

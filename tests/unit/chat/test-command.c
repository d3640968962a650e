/* test-command.c — unit tests of slash commands (chat/command.c): every command, its arguments and errors.
 * Each becomes the same GcChatAction as the JSON API. */

#include "chat-error.h"
#include "command.h"

static GcChatAction *
parse_ok (const gchar *line)
{
  g_autoptr (GError) error = NULL;
  GcChatAction *a = gc_chat_command_parse (line, &error);

  g_assert_no_error (error);
  g_assert_nonnull (a);
  return a;
}

static void
assert_refused (const gchar *line, GcChatErrorCode code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcChatAction) a = gc_chat_command_parse (line, &error);

  g_assert_null (a);
  g_assert_error (error, GC_CHAT_ERROR, (gint)code);
}

static void
test_is_command (void)
{
  g_assert_true (gc_chat_command_is_command ("/ban x"));
  g_assert_false (gc_chat_command_is_command ("//literal"));
  g_assert_false (gc_chat_command_is_command ("hello /ban"));
}

static void
test_ban (void)
{
  g_autoptr (GcChatAction) a = parse_ok ("/ban @Bob spamming links");
  g_autoptr (GcChatAction) b = parse_ok ("/ban bob");
  g_autoptr (GcChatAction) c = parse_ok ("/ipban bob evading");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_BAN);
  g_assert_cmpstr (a->user, ==, "bob");
  g_assert_cmpstr (a->reason, ==, "spamming links");
  g_assert_false (a->by_address);
  g_assert_null (b->reason);
  g_assert_true (c->by_address);
  assert_refused ("/ban", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("/ban no-such!", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_unban (void)
{
  g_autoptr (GcChatAction) a = parse_ok ("/unban bob");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_UNBAN);
  g_assert_cmpstr (a->user, ==, "bob");
  assert_refused ("/unban bob extra", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_timeout (void)
{
  g_autoptr (GcChatAction) a = parse_ok ("/timeout bob 90 calm down");
  g_autoptr (GcChatAction) b = parse_ok ("/timeout bob 10m");
  g_autoptr (GcChatAction) c = parse_ok ("/timeout bob");
  g_autoptr (GcChatAction) d = parse_ok ("/timeout bob 14d");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_TIMEOUT);
  g_assert_cmpint (a->seconds, ==, 90);
  g_assert_cmpstr (a->reason, ==, "calm down");
  g_assert_cmpint (b->seconds, ==, 600);
  g_assert_cmpint (c->seconds, ==, 600);
  g_assert_cmpint (d->seconds, ==, 14 * 86400);
  assert_refused ("/timeout bob 15d", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("/timeout bob 0", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("/timeout bob 5x", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_untimeout (void)
{
  g_autoptr (GcChatAction) a = parse_ok ("/untimeout bob");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_UNTIMEOUT);
  g_assert_cmpstr (a->user, ==, "bob");
}

static void
assert_setting (const gchar *line, GcChatSettingMask bit, gint64 value)
{
  g_autoptr (GcChatAction) a = parse_ok (line);
  const GcChatSettingField *f = NULL;
  guint n;
  const GcChatSettingField *fields = gc_chat_setting_fields (&n);

  for (guint i = 0; i < n; i++)
    if (fields[i].bit == bit)
      f = &fields[i];
  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_SETTINGS);
  g_assert_cmpuint (a->settings.mask, ==, bit);
  g_assert_cmpint (gc_chat_settings_get (&a->settings.values, f), ==, value);
}

static void
test_slow (void)
{
  assert_setting ("/slow 30", GC_CHAT_SETTING_SLOW, 30);
  assert_setting ("/slow 2m", GC_CHAT_SETTING_SLOW, 120);
  assert_setting ("/slow off", GC_CHAT_SETTING_SLOW, 0);
  assert_setting ("/slow", GC_CHAT_SETTING_SLOW, 30);
  assert_setting ("/slowoff", GC_CHAT_SETTING_SLOW, 0);
  assert_refused ("/slow 2d", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("/slow fast", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_modes (void)
{
  assert_setting ("/subonly", GC_CHAT_SETTING_SUBSCRIBERS_ONLY, 1);
  assert_setting ("/subonly off", GC_CHAT_SETTING_SUBSCRIBERS_ONLY, 0);
  assert_setting ("/emoteonly on", GC_CHAT_SETTING_EMOTE_ONLY, 1);
  assert_setting ("/emoteonly off", GC_CHAT_SETTING_EMOTE_ONLY, 0);
  assert_setting ("/uniquechat", GC_CHAT_SETTING_UNIQUE_CHAT, 1);
  assert_setting ("/review on", GC_CHAT_SETTING_REVIEW, 1);
  assert_refused ("/subonly maybe", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_followers (void)
{
  assert_setting ("/followers 10", GC_CHAT_SETTING_FOLLOWERS, 10);
  assert_setting ("/followers", GC_CHAT_SETTING_FOLLOWERS, 0);
  assert_setting ("/followers off", GC_CHAT_SETTING_FOLLOWERS, -1);
  assert_setting ("/followers 2h", GC_CHAT_SETTING_FOLLOWERS, 120);
  assert_setting ("/accountage 60", GC_CHAT_SETTING_ACCOUNT_AGE, 60);
  assert_setting ("/accountage off", GC_CHAT_SETTING_ACCOUNT_AGE, 0);
}

static void
test_delay (void)
{
  assert_setting ("/delay 0", GC_CHAT_SETTING_DELAY, 0);
  assert_setting ("/delay 2", GC_CHAT_SETTING_DELAY, 2);
  assert_setting ("/delay 6", GC_CHAT_SETTING_DELAY, 6);
  assert_refused ("/delay 3", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("/delay 8", GC_CHAT_ERROR_BAD_REQUEST);
  assert_refused ("/delay", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_clear_and_delete (void)
{
  g_autoptr (GcChatAction) room = parse_ok ("/clear");
  g_autoptr (GcChatAction) user = parse_ok ("/clear bob");
  g_autoptr (GcChatAction) del = parse_ok ("/delete a1b2-3f");

  g_assert_cmpint (room->type, ==, GC_CHAT_ACTION_CLEAR);
  g_assert_null (room->user);
  g_assert_cmpstr (user->user, ==, "bob");
  g_assert_cmpint (del->type, ==, GC_CHAT_ACTION_DELETE);
  g_assert_cmpstr (del->id, ==, "a1b2-3f");
  assert_refused ("/delete", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_roles (void)
{
  const struct {
    const gchar *line;
    GcChatActionType type;
  } cases[] = {
      {"/mod bob", GC_CHAT_ACTION_MOD},
      {"/unmod bob", GC_CHAT_ACTION_UNMOD},
      {"/vip bob", GC_CHAT_ACTION_VIP},
      {"/unvip bob", GC_CHAT_ACTION_UNVIP},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GcChatAction) a = parse_ok (cases[i].line);

    g_assert_cmpint (a->type, ==, cases[i].type);
    g_assert_cmpstr (a->user, ==, "bob");
  }
  assert_refused ("/mod", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_terms (void)
{
  g_autoptr (GcChatAction) a = parse_ok ("/block buy  followers");
  g_autoptr (GcChatAction) b = parse_ok ("/unblock spam*");
  g_autoptr (GcChatAction) c = parse_ok ("/hold maybe");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_BLOCK);
  g_assert_cmpstr (a->term, ==, "buy  followers");
  g_assert_false (a->hold);
  g_assert_cmpint (b->type, ==, GC_CHAT_ACTION_UNBLOCK);
  g_assert_cmpstr (b->term, ==, "spam*");
  g_assert_true (c->hold);
  assert_refused ("/block", GC_CHAT_ERROR_BAD_REQUEST);
}

static void
test_review_queue (void)
{
  g_autoptr (GcChatAction) a = parse_ok ("/approve n1-5");
  g_autoptr (GcChatAction) r = parse_ok ("/reject n1-5 rude");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_APPROVE);
  g_assert_cmpstr (a->id, ==, "n1-5");
  g_assert_cmpint (r->type, ==, GC_CHAT_ACTION_REJECT);
  g_assert_cmpstr (r->reason, ==, "rude");
}

static void
test_unknown_command (void)
{
  assert_refused ("/frobnicate", GC_CHAT_ERROR_UNKNOWN_COMMAND);
  assert_refused ("/", GC_CHAT_ERROR_UNKNOWN_COMMAND);
}

static void
test_case_insensitive_names (void)
{
  g_autoptr (GcChatAction) a = parse_ok ("/BAN Bob");

  g_assert_cmpint (a->type, ==, GC_CHAT_ACTION_BAN);
  g_assert_cmpstr (a->user, ==, "bob");
}

static void
test_durations (void)
{
  gint64 s;

  g_assert_true (gc_chat_parse_duration ("45", &s));
  g_assert_cmpint (s, ==, 45);
  g_assert_true (gc_chat_parse_duration ("3h", &s));
  g_assert_cmpint (s, ==, 3 * 3600);
  g_assert_true (gc_chat_parse_duration ("1w", &s));
  g_assert_cmpint (s, ==, 7 * 86400);
  g_assert_false (gc_chat_parse_duration ("-1", &s));
  g_assert_false (gc_chat_parse_duration ("1hh", &s));
  g_assert_false (gc_chat_parse_duration ("99999999999", &s));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/command/is-command", test_is_command);
  g_test_add_func ("/chat/command/ban", test_ban);
  g_test_add_func ("/chat/command/unban", test_unban);
  g_test_add_func ("/chat/command/timeout", test_timeout);
  g_test_add_func ("/chat/command/untimeout", test_untimeout);
  g_test_add_func ("/chat/command/slow", test_slow);
  g_test_add_func ("/chat/command/modes", test_modes);
  g_test_add_func ("/chat/command/followers", test_followers);
  g_test_add_func ("/chat/command/delay", test_delay);
  g_test_add_func ("/chat/command/clear-delete", test_clear_and_delete);
  g_test_add_func ("/chat/command/roles", test_roles);
  g_test_add_func ("/chat/command/terms", test_terms);
  g_test_add_func ("/chat/command/review-queue", test_review_queue);
  g_test_add_func ("/chat/command/unknown", test_unknown_command);
  g_test_add_func ("/chat/command/case-insensitive",
                   test_case_insensitive_names);
  g_test_add_func ("/chat/command/durations", test_durations);
  return g_test_run ();
}

/* test-rules.c — unit tests of the moderation engine (chat/room.c, chat/room-rules.c): every posting rule,
 * every moderation action's effect on the state, role exemptions, and who may do what. */

#include "chat-error.h"
#include "command.h"
#include "room.h"

#define NOW 1700000000000 /* ms */
#define MINUTE 60000

static GcChatIdentity *
user (const gchar *login, GcChatRoles roles)
{
  /* Account a year old, following for a day. */
  return gc_chat_identity_new (login, NULL, roles, NOW - 365LL * 86400000,
                               NOW - 86400000, "192.0.2.1");
}

static GcChatRoom *
room_new (void)
{
  GcChatLimits limits;

  gc_chat_limits_init (&limits);
  limits.max_message_chars = 20;
  limits.rate_messages = 3;
  limits.rate_window_seconds = 30;
  return gc_chat_room_new ("lobby", &limits);
}

/* Runs a slash command as the broadcaster. */
static void
command (GcChatRoom *room, const gchar *line, gint64 now)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcChatAction) a = gc_chat_command_parse (line, &error);

  g_assert_no_error (error);
  gc_chat_room_apply (room, a, now, NULL, &error);
  g_assert_no_error (error);
}

static GcChatVerdict
check_at (GcChatRoom *room, GcChatIdentity *who, const gchar *text, gint64 now,
          GcChatErrorCode *code, gint64 *retry)
{
  g_autoptr (GError) error = NULL;
  GcChatCheck check = {0};
  GcChatVerdict v =
      gc_chat_room_check_message (room, who, text, now, &check, &error);

  if (code != NULL)
    *code = error ? (GcChatErrorCode)error->code : (GcChatErrorCode)-1;
  if (retry != NULL)
    *retry = check.retry_after_ms;
  gc_chat_check_clear (&check);
  return v;
}

static void
assert_refused (GcChatRoom *room, GcChatIdentity *who, const gchar *text,
                gint64 now, GcChatErrorCode expected)
{
  GcChatErrorCode code;

  g_assert_cmpint (check_at (room, who, text, now, &code, NULL), ==,
                   GC_CHAT_VERDICT_REFUSE);
  g_assert_cmpint (code, ==, expected);
}

static void
assert_accepted (GcChatRoom *room, GcChatIdentity *who, const gchar *text,
                 gint64 now)
{
  g_assert_cmpint (check_at (room, who, text, now, NULL, NULL), ==,
                   GC_CHAT_VERDICT_ACCEPT);
}

/* What the service does with an accepted message. */
static void
post (GcChatRoom *room, GcChatIdentity *who, const gchar *text, gint64 now)
{
  static guint n;
  g_autoptr (GcChatMessage) m = gc_chat_message_new ();

  assert_accepted (room, who, text, now);
  m->id = g_strdup_printf ("t-%u", ++n);
  m->room = g_strdup ("lobby");
  m->user = g_strdup (gc_chat_identity_get_login (who));
  m->badges = gc_chat_room_get_roles (room, who, now);
  m->text = g_strdup (text);
  m->ts_ms = now;
  m->release_ms = now;
  gc_chat_room_note_message (room, m);
}

static void
test_anonymous_cannot_post (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) anon =
      gc_chat_identity_new_anonymous ("192.0.2.9");

  assert_refused (room, anon, "hi", NOW, GC_CHAT_ERROR_LOGIN_REQUIRED);
}

static void
test_length_limit (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);

  assert_accepted (room, bob, "12345678901234567890", NOW);
  assert_refused (room, bob, "123456789012345678901", NOW,
                  GC_CHAT_ERROR_TOO_LONG);
  /* Characters, not bytes: 20 two-byte characters fit. */
  assert_accepted (room, bob,
                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                   NOW);
  assert_refused (room, bob, "", NOW, GC_CHAT_ERROR_EMPTY);
}

static void
test_clean_text (void)
{
  g_autofree gchar *a = gc_chat_clean_text ("  hi\tthere\n ");
  g_autofree gchar *b = gc_chat_clean_text ("a\x01"
                                            "b");

  g_assert_cmpstr (a, ==, "hi there");
  g_assert_cmpstr (b, ==, "a b");
}

static void
test_rate_limit (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  gint64 retry = 0;
  GcChatErrorCode code;

  post (room, bob, "one", NOW);
  post (room, bob, "two", NOW + 1);
  post (room, bob, "three", NOW + 2);
  g_assert_cmpint (check_at (room, bob, "four", NOW + 3, &code, &retry), ==,
                   GC_CHAT_VERDICT_REFUSE);
  g_assert_cmpint (code, ==, GC_CHAT_ERROR_RATE_LIMITED);
  g_assert_cmpint (retry, >, 0);
  g_assert_cmpint (retry, <=, 10000); /* one token per 10 s */
  /* Tokens come back with time. */
  assert_accepted (room, bob, "later", NOW + 3 + retry);
}

static void
test_rate_limit_is_per_user (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GcChatIdentity) eve = user ("eve", 0);

  post (room, bob, "one", NOW);
  post (room, bob, "two", NOW);
  post (room, bob, "three", NOW);
  assert_accepted (room, eve, "mine", NOW);
}

static void
test_moderators_have_larger_rate_limit (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) mod = user ("mod", GC_CHAT_ROLE_MODERATOR);

  for (guint i = 0; i < 10; i++)
    post (room, mod, "again", NOW + i);
  post (room, mod, "more", NOW + 10);
}

static void
test_slow_mode (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  GcChatErrorCode code;
  gint64 retry;

  command (room, "/slow 10", NOW);
  post (room, bob, "first", NOW);
  g_assert_cmpint (check_at (room, bob, "second", NOW + 4000, &code, &retry),
                   ==, GC_CHAT_VERDICT_REFUSE);
  g_assert_cmpint (code, ==, GC_CHAT_ERROR_SLOW_MODE);
  g_assert_cmpint (retry, ==, 6000);
  assert_accepted (room, bob, "second", NOW + 10000);
}

static void
test_slow_mode_exemptions (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) mod = user ("mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (GcChatIdentity) vip = user ("vip", GC_CHAT_ROLE_VIP);
  g_autoptr (GcChatIdentity) caster = user ("caster", GC_CHAT_ROLE_BROADCASTER);

  command (room, "/slow 60", NOW);
  post (room, mod, "a", NOW);
  post (room, mod, "b", NOW + 1);
  post (room, vip, "a", NOW);
  post (room, vip, "b", NOW + 1);
  post (room, caster, "a", NOW);
  post (room, caster, "b", NOW + 1);
}

static void
test_slow_mode_clock_from_other_node (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);

  command (room, "/slow 30", NOW);
  /* Loaded from Redis: bob posted 10 s ago on another node. */
  gc_chat_room_set_slow_clock (room, "bob", NOW - 10000);
  assert_refused (room, bob, "hi", NOW, GC_CHAT_ERROR_SLOW_MODE);
  command (room, "/slow off", NOW);
  assert_accepted (room, bob, "hi", NOW);
}

static void
test_subscribers_only (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GcChatIdentity) sub = user ("sub", GC_CHAT_ROLE_SUBSCRIBER);
  g_autoptr (GcChatIdentity) vip = user ("vip", GC_CHAT_ROLE_VIP);
  g_autoptr (GcChatIdentity) mod = user ("mod", GC_CHAT_ROLE_MODERATOR);

  command (room, "/subonly", NOW);
  assert_refused (room, bob, "hi", NOW, GC_CHAT_ERROR_SUBSCRIBERS_ONLY);
  assert_accepted (room, sub, "hi", NOW);
  assert_accepted (room, vip, "hi", NOW);
  assert_accepted (room, mod, "hi", NOW);
  command (room, "/subonly off", NOW);
  assert_accepted (room, bob, "hi", NOW);
}

static void
test_followers_only (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) fan = user ("fan", 0); /* following for 1 day */
  g_autoptr (GcChatIdentity) stranger =
      gc_chat_identity_new ("stranger", NULL, 0, NOW - 86400000, -1, NULL);
  g_autoptr (GcChatIdentity) fresh = gc_chat_identity_new (
      "fresh", NULL, 0, NOW - 86400000, NOW - MINUTE, NULL);
  gint64 retry;
  GcChatErrorCode code;

  command (room, "/followers", NOW);
  assert_refused (room, stranger, "hi", NOW, GC_CHAT_ERROR_FOLLOWERS_ONLY);
  assert_accepted (room, fan, "hi", NOW);
  assert_accepted (room, fresh, "hi", NOW);
  command (room, "/followers 10", NOW);
  g_assert_cmpint (check_at (room, fresh, "hi", NOW, &code, &retry), ==,
                   GC_CHAT_VERDICT_REFUSE);
  g_assert_cmpint (code, ==, GC_CHAT_ERROR_FOLLOWERS_ONLY);
  g_assert_cmpint (retry, ==, 9 * MINUTE);
  assert_accepted (room, fan, "hi", NOW);
  command (room, "/followers off", NOW);
  assert_accepted (room, stranger, "hi", NOW);
}

static void
test_account_age_gate (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) young =
      gc_chat_identity_new ("young", NULL, 0, NOW - 5 * MINUTE, -1, NULL);
  g_autoptr (GcChatIdentity) unknown =
      gc_chat_identity_new ("unknown", NULL, 0, 0, -1, NULL);
  g_autoptr (GcChatIdentity) old = user ("old", 0);

  command (room, "/accountage 60", NOW);
  assert_refused (room, young, "hi", NOW, GC_CHAT_ERROR_ACCOUNT_TOO_NEW);
  assert_refused (room, unknown, "hi", NOW, GC_CHAT_ERROR_ACCOUNT_TOO_NEW);
  assert_accepted (room, old, "hi", NOW);
}

static void
test_emote_only (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GcChatIdentity) mod = user ("mod", GC_CHAT_ROLE_MODERATOR);

  command (room, "/emoteonly", NOW);
  assert_accepted (room, bob, ":wave:", NOW);
  assert_accepted (room, bob, ":wave: :heart_2:", NOW);
  assert_refused (room, bob, ":wave: hi", NOW, GC_CHAT_ERROR_EMOTE_ONLY);
  assert_refused (room, bob, "::", NOW, GC_CHAT_ERROR_EMOTE_ONLY);
  assert_refused (room, bob, ":wave:x", NOW, GC_CHAT_ERROR_EMOTE_ONLY);
  assert_refused (room, bob, ":no space:", NOW, GC_CHAT_ERROR_EMOTE_ONLY);
  assert_accepted (room, mod, "words ok for mods", NOW);
}

static void
test_unique_chat (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GcChatIdentity) eve = user ("eve", 0);

  command (room, "/uniquechat", NOW);
  post (room, bob, "copy pasta", NOW);
  /* Same normalised text, other user, other case and width: refused. */
  assert_refused (room, eve, "COPY PASTA", NOW + 1000, GC_CHAT_ERROR_DUPLICATE);
  assert_refused (room, eve, "\xef\xbd\x83opy pasta", NOW + 1000, /* ｃopy */
                  GC_CHAT_ERROR_DUPLICATE);
  assert_accepted (room, eve, "copy pasta!", NOW + 1000);
  /* The window (30 s by default) passes. */
  gc_chat_room_expire (room, NOW + 31000);
  assert_accepted (room, eve, "copy pasta", NOW + 31000);
  command (room, "/uniquechat off", NOW);
  post (room, eve, "again", NOW + 40000);
  assert_accepted (room, bob, "again", NOW + 40000);
}

static void
test_blocked_terms (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GcChatIdentity) mod = user ("mod", GC_CHAT_ROLE_MODERATOR);

  command (room, "/block spam*", NOW);
  assert_refused (room, bob, "buy SPAMMY things", NOW,
                  GC_CHAT_ERROR_BLOCKED_TERM);
  assert_refused (room, bob, "\xef\xbd\x93pam", NOW, /* ｓpam */
                  GC_CHAT_ERROR_BLOCKED_TERM);
  assert_accepted (room, bob, "antispam", NOW);
  assert_accepted (room, mod, "spam spam", NOW);
  command (room, "/unblock SPAM*", NOW);
  assert_accepted (room, bob, "spam", NOW);
}

static void
test_hold_terms_and_review_mode (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GError) error = NULL;
  GcChatCheck check = {0};

  command (room, "/hold maybe", NOW);
  command (room, "/block never", NOW);
  g_assert_cmpint (
      gc_chat_room_check_message (room, bob, "maybe so", NOW, &check, &error),
      ==, GC_CHAT_VERDICT_HOLD);
  g_assert_no_error (error);
  g_assert_cmpstr (check.term, ==, "maybe");
  gc_chat_check_clear (&check);
  assert_refused (room, bob, "never", NOW, GC_CHAT_ERROR_BLOCKED_TERM);
  /* Review mode holds every blocked-term hit. */
  command (room, "/review on", NOW);
  g_assert_cmpint (check_at (room, bob, "never", NOW, NULL, NULL), ==,
                   GC_CHAT_VERDICT_HOLD);
}

static void
test_review_queue (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatMessage) m = gc_chat_message_new ();
  g_autoptr (GcChatMessage) taken = NULL;

  m->id = g_strdup ("h-1");
  m->user = g_strdup ("bob");
  m->text = g_strdup ("maybe");
  gc_chat_room_hold (room, m, "maybe");
  gc_chat_room_hold (room, m, "maybe"); /* once only */
  g_assert_cmpstr (gc_chat_room_get_held_term (room, "h-1"), ==, "maybe");
  {
    g_autoptr (GPtrArray) held = gc_chat_room_list_held (room);

    g_assert_cmpuint (held->len, ==, 1);
  }
  taken = gc_chat_room_take_held (room, "h-1");
  g_assert_true (taken == m);
  g_assert_null (gc_chat_room_take_held (room, "h-1"));
}

static void
test_timeout (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  gint64 retry;
  GcChatErrorCode code;

  command (room, "/timeout bob 60", NOW);
  g_assert_cmpint (check_at (room, bob, "hi", NOW + 1000, &code, &retry), ==,
                   GC_CHAT_VERDICT_REFUSE);
  g_assert_cmpint (code, ==, GC_CHAT_ERROR_TIMED_OUT);
  g_assert_cmpint (retry, ==, 59000);
  g_assert_true (gc_chat_room_get_roles (room, bob, NOW) &
                 GC_CHAT_ROLE_TIMED_OUT);
  /* It ends by itself... */
  assert_accepted (room, bob, "hi", NOW + 60000);
  /* ...or earlier with /untimeout. */
  command (room, "/timeout bob 1d", NOW);
  command (room, "/untimeout bob", NOW);
  assert_accepted (room, bob, "hi", NOW + 1);
}

static void
test_timeout_bounds (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);

  command (room, "/timeout bob 1", NOW);
  assert_refused (room, bob, "hi", NOW + 999, GC_CHAT_ERROR_TIMED_OUT);
  assert_accepted (room, bob, "hi", NOW + 1000);
  command (room, "/timeout bob 14d", NOW);
  assert_refused (room, bob, "hi", NOW + 14LL * 86400000 - 1,
                  GC_CHAT_ERROR_TIMED_OUT);
  assert_accepted (room, bob, "hi", NOW + 14LL * 86400000);
}

static void
test_ban_by_account (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("Bob", 0);

  command (room, "/timeout bob 60", NOW);
  command (room, "/ban bob spam", NOW);
  assert_refused (room, bob, "hi", NOW, GC_CHAT_ERROR_BANNED);
  g_assert_true (gc_chat_room_is_banned (room, "bob"));
  /* A ban replaces a timeout. */
  g_assert_cmpint (gc_chat_room_get_timeout (room, "bob", NOW), ==, 0);
  command (room, "/unban bob", NOW);
  assert_accepted (room, bob, "hi", NOW);
}

static void
test_ban_by_address (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob =
      gc_chat_identity_new ("bob", NULL, 0, NOW - 86400000, -1, "198.51.100.7");
  g_autoptr (GcChatIdentity) sock = gc_chat_identity_new (
      "sock", NULL, 0, NOW - 86400000, -1, "198.51.100.7");
  g_autoptr (GcChatIdentity) other = user ("other", 0);
  g_autoptr (GPtrArray) added = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GcChatAction) ban = gc_chat_command_parse ("/ipban bob", NULL);
  g_autoptr (GcChatAction) unban = gc_chat_action_new (GC_CHAT_ACTION_UNBAN);

  gc_chat_room_note_identity (room, bob);
  g_assert_true (gc_chat_room_apply (room, ban, NOW, &added, &error));
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (added, 0), ==, "198.51.100.7");
  /* The sock puppet on the same address is refused too. */
  assert_refused (room, sock, "hi", NOW, GC_CHAT_ERROR_BANNED);
  assert_accepted (room, other, "hi", NOW);
  unban->address = g_strdup ("198.51.100.7");
  gc_chat_room_apply (room, unban, NOW, NULL, NULL);
  assert_accepted (room, sock, "hi", NOW);
}

static void
test_role_grants (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GcChatIdentity) dbmod = user ("dbmod", GC_CHAT_ROLE_MODERATOR);

  command (room, "/mod bob", NOW);
  g_assert_true (gc_chat_room_get_roles (room, bob, NOW) &
                 GC_CHAT_ROLE_MODERATOR);
  command (room, "/unmod bob", NOW);
  g_assert_false (gc_chat_room_get_roles (room, bob, NOW) &
                  GC_CHAT_ROLE_MODERATOR);
  /* /unmod also revokes a role that came with the identity. */
  command (room, "/unmod dbmod", NOW);
  g_assert_false (gc_chat_room_get_roles (room, dbmod, NOW) &
                  GC_CHAT_ROLE_MODERATOR);
  command (room, "/vip bob", NOW);
  g_assert_true (gc_chat_room_get_roles (room, bob, NOW) & GC_CHAT_ROLE_VIP);
  command (room, "/unvip bob", NOW);
  g_assert_false (gc_chat_room_get_roles (room, bob, NOW) & GC_CHAT_ROLE_VIP);
}

static gboolean
authorized (GcChatRoom *room, GcChatIdentity *actor, const gchar *line)
{
  g_autoptr (GcChatAction) a = gc_chat_command_parse (line, NULL);
  g_autoptr (GError) error = NULL;
  gboolean ok;

  g_assert_nonnull (a);
  ok = gc_chat_room_authorize (room, actor, a, NOW, &error);
  if (!ok)
    g_assert_true (error->code == GC_CHAT_ERROR_FORBIDDEN ||
                   error->code == GC_CHAT_ERROR_LOGIN_REQUIRED);
  return ok;
}

static void
test_who_may_moderate (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) caster = user ("caster", GC_CHAT_ROLE_BROADCASTER);
  g_autoptr (GcChatIdentity) mod = user ("mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (GcChatIdentity) mod2 = user ("mod2", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (GcChatIdentity) vip = user ("vip", GC_CHAT_ROLE_VIP);
  g_autoptr (GcChatIdentity) bob = user ("bob", 0);
  g_autoptr (GcChatIdentity) anon = gc_chat_identity_new_anonymous (NULL);

  gc_chat_room_note_identity (room, caster);
  gc_chat_room_note_identity (room, mod2);
  g_assert_true (authorized (room, mod, "/ban bob"));
  g_assert_true (authorized (room, mod, "/slow 5"));
  g_assert_true (authorized (room, mod, "/delete x-1"));
  g_assert_true (authorized (room, mod, "/vip bob"));
  g_assert_false (authorized (room, bob, "/ban mod"));
  g_assert_false (authorized (room, vip, "/timeout bob"));
  g_assert_false (authorized (room, anon, "/clear"));
  /* Only the broadcaster makes moderators. */
  g_assert_false (authorized (room, mod, "/mod bob"));
  g_assert_true (authorized (room, caster, "/mod bob"));
  /* Nobody acts on the broadcaster; moderators not on moderators. */
  g_assert_false (authorized (room, mod, "/ban caster"));
  g_assert_false (authorized (room, mod, "/timeout mod2"));
  g_assert_true (authorized (room, caster, "/timeout mod2"));
  g_assert_false (authorized (room, mod, "/ban mod"));
  /* A banned moderator cannot moderate. */
  command (room, "/ban mod", NOW);
  g_assert_false (authorized (room, mod, "/ban bob"));
}

static void
test_history_window (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) mod = user ("mod", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (GPtrArray) last2 = NULL;
  g_autoptr (GPtrArray) since = NULL;
  g_autoptr (GPtrArray) none = NULL;

  for (guint i = 0; i < 5; i++)
    post (room, mod, "m", NOW + i * 1000);
  last2 = gc_chat_room_get_history (room, 2, 0);
  g_assert_cmpuint (last2->len, ==, 2);
  g_assert_cmpint (((GcChatMessage *)last2->pdata[0])->ts_ms, ==, NOW + 3000);
  g_assert_cmpint (((GcChatMessage *)last2->pdata[1])->ts_ms, ==, NOW + 4000);
  since = gc_chat_room_get_history (room, 50, NOW + 2000);
  g_assert_cmpuint (since->len, ==, 2);
  none = gc_chat_room_get_history (room, 0, 0);
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_delete_and_clear_history (void)
{
  g_autoptr (GcChatRoom) room = room_new ();
  g_autoptr (GcChatIdentity) bob = user ("bob", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (GcChatIdentity) eve = user ("eve", GC_CHAT_ROLE_MODERATOR);
  g_autoptr (GPtrArray) h = NULL;
  GcChatMessage *first;

  post (room, bob, "a", NOW);
  post (room, eve, "b", NOW + 1);
  post (room, bob, "c", NOW + 2);
  h = gc_chat_room_get_history (room, 10, 0);
  first = g_ptr_array_index (h, 0);
  g_assert_true (gc_chat_room_remove_message (room, first->id));
  g_assert_cmpuint (gc_chat_room_remove_messages_by (room, "bob"), ==, 1);
  g_assert_cmpuint (gc_chat_room_remove_messages_by (room, NULL), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/rules/anonymous", test_anonymous_cannot_post);
  g_test_add_func ("/chat/rules/length", test_length_limit);
  g_test_add_func ("/chat/rules/clean-text", test_clean_text);
  g_test_add_func ("/chat/rules/rate-limit", test_rate_limit);
  g_test_add_func ("/chat/rules/rate-limit-per-user",
                   test_rate_limit_is_per_user);
  g_test_add_func ("/chat/rules/rate-limit-moderators",
                   test_moderators_have_larger_rate_limit);
  g_test_add_func ("/chat/rules/slow-mode", test_slow_mode);
  g_test_add_func ("/chat/rules/slow-mode-exemptions",
                   test_slow_mode_exemptions);
  g_test_add_func ("/chat/rules/slow-mode-remote-clock",
                   test_slow_mode_clock_from_other_node);
  g_test_add_func ("/chat/rules/subscribers-only", test_subscribers_only);
  g_test_add_func ("/chat/rules/followers-only", test_followers_only);
  g_test_add_func ("/chat/rules/account-age", test_account_age_gate);
  g_test_add_func ("/chat/rules/emote-only", test_emote_only);
  g_test_add_func ("/chat/rules/unique-chat", test_unique_chat);
  g_test_add_func ("/chat/rules/blocked-terms", test_blocked_terms);
  g_test_add_func ("/chat/rules/hold-and-review",
                   test_hold_terms_and_review_mode);
  g_test_add_func ("/chat/rules/review-queue", test_review_queue);
  g_test_add_func ("/chat/rules/timeout", test_timeout);
  g_test_add_func ("/chat/rules/timeout-bounds", test_timeout_bounds);
  g_test_add_func ("/chat/rules/ban-account", test_ban_by_account);
  g_test_add_func ("/chat/rules/ban-address", test_ban_by_address);
  g_test_add_func ("/chat/rules/role-grants", test_role_grants);
  g_test_add_func ("/chat/rules/authorization", test_who_may_moderate);
  g_test_add_func ("/chat/rules/history-window", test_history_window);
  g_test_add_func ("/chat/rules/delete-clear-history",
                   test_delete_and_clear_history);
  return g_test_run ();
}

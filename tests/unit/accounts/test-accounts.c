/* test-accounts.c — unit tests of the accounts store (accounts/): sign-up, sign-in, tokens, roles.
 * Each test gets a fresh database in its own temporary directory, and a clock it can move. */

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "accounts.h"
#include "identity.h"

/* Roles go straight into a GcChatIdentity: the values must agree. */
G_STATIC_ASSERT ((int)GC_ACCOUNTS_ROLE_BROADCASTER ==
                 (int)GC_CHAT_ROLE_BROADCASTER);
G_STATIC_ASSERT ((int)GC_ACCOUNTS_ROLE_MODERATOR ==
                 (int)GC_CHAT_ROLE_MODERATOR);
G_STATIC_ASSERT ((int)GC_ACCOUNTS_ROLE_VIP == (int)GC_CHAT_ROLE_VIP);
G_STATIC_ASSERT ((int)GC_ACCOUNTS_ROLE_SUBSCRIBER ==
                 (int)GC_CHAT_ROLE_SUBSCRIBER);

/* In the future, so the wall-clock purge on reopen keeps our revocations. */
#define START_TIME G_GINT64_CONSTANT (4000000000)

typedef struct {
  gchar *dir;
  gchar *path;
  GcAccounts *accounts;
  gint64 now;
} Fixture;

static gint64
fixture_clock (gpointer user_data)
{
  Fixture *f = user_data;

  return f->now;
}

static void
fixture_open (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->accounts = gc_accounts_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->accounts);
  gc_accounts_set_clock (f->accounts, fixture_clock, f);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("gc-accounts-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "accounts.db", NULL);
  f->now = START_TIME;
  fixture_open (f);
}

static void
remove_dir (const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *file = g_build_filename (dir, name, NULL);

    g_unlink (file);
  }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->accounts, gc_accounts_free);
  remove_dir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static gint64
sign_up (Fixture *f, const gchar *username, const gchar *password)
{
  g_autoptr (GError) error = NULL;
  gint64 id = gc_accounts_sign_up (f->accounts, username, password, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static gchar *
issue (Fixture *f, gint64 id, gint64 ttl)
{
  g_autoptr (GError) error = NULL;
  gchar *token = gc_accounts_issue_token (f->accounts, id, ttl, &error);

  g_assert_no_error (error);
  g_assert_nonnull (token);
  return token;
}

static void
assert_token_refused (Fixture *f, const gchar *token, gint code)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (gc_accounts_check_token (f->accounts, token, &error), ==, 0);
  g_assert_error (error, GC_ACCOUNTS_ERROR, code);
}

static void
test_sign_up_then_verify (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *username = NULL;
  gint64 created_ms = 0;
  gint64 id = sign_up (f, "Alice_01", "correct horse");

  g_assert_cmpint (
      gc_accounts_verify (f->accounts, "alice_01", "correct horse", &error), ==,
      id);
  g_assert_no_error (error);
  /* Logins are case-insensitive, as in chat. */
  g_assert_cmpint (
      gc_accounts_verify (f->accounts, "ALICE_01", "correct horse", &error), ==,
      id);
  g_assert_no_error (error);

  g_assert_true (
      gc_accounts_lookup (f->accounts, id, &username, &created_ms, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (username, ==, "alice_01");
  g_assert_cmpint (created_ms, ==, START_TIME * 1000);
}

static void
test_duplicate_username_is_taken (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  sign_up (f, "bob", "password1");
  g_assert_cmpint (
      gc_accounts_sign_up (f->accounts, "BOB", "password2", &error), ==, 0);
  g_assert_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_USERNAME_TAKEN);
}

static void
test_invalid_usernames_are_refused (Fixture *f, gconstpointer data)
{
  static const gchar *const bad[] = {"",
                                     "ab",
                                     "abcdefghijklmnopqrstuvwxyz",
                                     "with space",
                                     "dash-ed",
                                     "dot.ted",
                                     "caf\xc3\xa9",
                                     "semi;colon"};

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_cmpint (
        gc_accounts_sign_up (f->accounts, bad[i], "long enough", &error), ==,
        0);
    g_assert_error (error, GC_ACCOUNTS_ERROR,
                    GC_ACCOUNTS_ERROR_INVALID_USERNAME);
  }
  g_assert_true (gc_accounts_username_is_valid ("abc"));
  g_assert_true (gc_accounts_username_is_valid ("abcdefghijklmnopqrstuvwxy"));
}

static void
test_weak_passwords_are_refused (Fixture *f, gconstpointer data)
{
  static const gchar *const weak[] = {"", "1234567",
                                      "\xc3\xa9\xc3\xa9\xc3\xa9"
                                      "\xc3\xa9",
                                      "bad\xff utf8"};

  for (gsize i = 0; i < G_N_ELEMENTS (weak); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_cmpint (
        gc_accounts_sign_up (f->accounts, "carol", weak[i], &error), ==, 0);
    g_assert_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_WEAK_PASSWORD);
  }
  sign_up (f, "carol", "12345678");
}

static void
test_wrong_password_and_unknown_user_look_alike (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) wrong = NULL;
  g_autoptr (GError) unknown = NULL;
  g_autoptr (GError) invalid = NULL;

  sign_up (f, "dave", "the password");
  g_assert_cmpint (
      gc_accounts_verify (f->accounts, "dave", "not the password", &wrong), ==,
      0);
  g_assert_cmpint (
      gc_accounts_verify (f->accounts, "nobody", "the password", &unknown), ==,
      0);
  g_assert_cmpint (
      gc_accounts_verify (f->accounts, "in valid!", "the password", &invalid),
      ==, 0);
  g_assert_error (wrong, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_BAD_CREDENTIALS);
  g_assert_error (unknown, GC_ACCOUNTS_ERROR,
                  GC_ACCOUNTS_ERROR_BAD_CREDENTIALS);
  g_assert_error (invalid, GC_ACCOUNTS_ERROR,
                  GC_ACCOUNTS_ERROR_BAD_CREDENTIALS);
  g_assert_cmpstr (wrong->message, ==, unknown->message);
  g_assert_cmpstr (wrong->message, ==, invalid->message);
}

static void
test_token_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = sign_up (f, "erin", "password123");
  g_autofree gchar *token = issue (f, id, 3600);
  g_autofree gchar *other = issue (f, id, 3600);
  g_autofree gchar *prefix = g_strdup_printf (
      "v1.%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".", id, START_TIME + 3600);

  g_assert_true (g_str_has_prefix (token, prefix));
  g_assert_cmpstr (token, !=, other); /* fresh nonce each time */
  g_assert_cmpint (gc_accounts_check_token (f->accounts, token, &error), ==,
                   id);
  g_assert_no_error (error);
}

/* Flipping any one character of any part, or changing the shape, is refused;
 * never accepted. */
static void
test_tampered_tokens_are_refused (Fixture *f, gconstpointer data)
{
  gint64 id = sign_up (f, "frank", "password123");
  g_autofree gchar *token = issue (f, id, 3600);
  g_autofree gchar *forged_id = NULL;
  g_auto (GStrv) parts = g_strsplit (token, ".", -1);
  gsize len = strlen (token);

  g_assert_cmpuint (g_strv_length (parts), ==, 5);

  for (gsize i = 0; i < len; i++) {
    g_autofree gchar *t = g_strdup (token);

    if (t[i] == '.')
      continue;
    t[i] = t[i] == 'A'
               ? 'B'
               : (g_ascii_isdigit (t[i]) ? (t[i] == '9' ? '8' : '9') : 'A');
    {
      g_autoptr (GError) error = NULL;

      g_assert_cmpint (gc_accounts_check_token (f->accounts, t, &error), ==, 0);
      g_assert_true (g_error_matches (error, GC_ACCOUNTS_ERROR,
                                      GC_ACCOUNTS_ERROR_TOKEN_MALFORMED) ||
                     g_error_matches (error, GC_ACCOUNTS_ERROR,
                                      GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE));
    }
  }

  /* Well-formed but re-signed by nobody: each field changed in turn. */
  forged_id =
      g_strjoin (".", parts[0], "2", parts[2], parts[3], parts[4], NULL);
  assert_token_refused (f, forged_id, GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
  {
    g_autofree gchar *t = g_strjoin (".", parts[0], parts[1], "9999999999",
                                     parts[3], parts[4], NULL);

    assert_token_refused (f, t, GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
  }
  {
    g_autofree gchar *t = g_strjoin (".", parts[0], parts[1], parts[2],
                                     "AAAAAAAAAAAAAAAAAAAAAA", parts[4], NULL);

    assert_token_refused (f, t, GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
  }
  {
    g_autofree gchar *t =
        g_strjoin (".", parts[0], parts[1], parts[2], parts[3],
                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL);

    assert_token_refused (f, t, GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
  }
  {
    g_autofree gchar *t =
        g_strjoin (".", "v2", parts[1], parts[2], parts[3], parts[4], NULL);

    assert_token_refused (f, t, GC_ACCOUNTS_ERROR_TOKEN_MALFORMED);
  }
  {
    g_autofree gchar *t =
        g_strjoin (".", parts[0], "0", parts[2], parts[3], parts[4], NULL);

    assert_token_refused (f, t, GC_ACCOUNTS_ERROR_TOKEN_MALFORMED);
  }
  {
    g_autofree gchar *t = g_strjoin (".", parts[0], parts[1], parts[2],
                                     parts[3], parts[4], "x", NULL);

    assert_token_refused (f, t, GC_ACCOUNTS_ERROR_TOKEN_MALFORMED);
  }
  {
    g_autofree gchar *t = g_strconcat ("0", token, NULL);

    assert_token_refused (f, t, GC_ACCOUNTS_ERROR_TOKEN_MALFORMED);
  }
  assert_token_refused (f, "", GC_ACCOUNTS_ERROR_TOKEN_MALFORMED);
  assert_token_refused (f, "v1....", GC_ACCOUNTS_ERROR_TOKEN_MALFORMED);
}

static void
test_token_from_another_secret_is_refused (Fixture *f, gconstpointer data)
{
  guint8 secret[GC_ACCOUNTS_SECRET_BYTES] = {1, 2, 3};
  guint8 nonce[GC_ACCOUNTS_NONCE_BYTES] = {0};
  g_autofree gchar *token =
      gc_accounts_token_format (secret, 1, START_TIME + 60, nonce);

  assert_token_refused (f, token, GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
}

static void
test_expired_token_is_refused (Fixture *f, gconstpointer data)
{
  gint64 id = sign_up (f, "grace", "password123");
  g_autofree gchar *token = issue (f, id, 60);
  g_autoptr (GError) error = NULL;

  f->now += 59;
  g_assert_cmpint (gc_accounts_check_token (f->accounts, token, &error), ==,
                   id);
  g_assert_no_error (error);
  f->now += 1;
  assert_token_refused (f, token, GC_ACCOUNTS_ERROR_TOKEN_EXPIRED);
}

static void
test_revoked_token_is_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = sign_up (f, "heidi", "password123");
  g_autofree gchar *token = issue (f, id, 600);
  g_autofree gchar *other = issue (f, id, 600);

  g_assert_true (gc_accounts_revoke_token (f->accounts, token, &error));
  g_assert_no_error (error);
  g_assert_true (gc_accounts_revoke_token (f->accounts, token, &error));
  g_assert_no_error (error);
  assert_token_refused (f, token, GC_ACCOUNTS_ERROR_TOKEN_REVOKED);
  /* Signing out one session leaves the others. */
  g_assert_cmpint (gc_accounts_check_token (f->accounts, other, &error), ==,
                   id);
  g_assert_no_error (error);

  /* Revocation survives a restart; once expired, the token stays dead. */
  g_clear_pointer (&f->accounts, gc_accounts_free);
  fixture_open (f);
  assert_token_refused (f, token, GC_ACCOUNTS_ERROR_TOKEN_REVOKED);
  f->now += 600;
  g_assert_true (gc_accounts_purge_revoked (f->accounts, &error));
  g_assert_no_error (error);
  assert_token_refused (f, token, GC_ACCOUNTS_ERROR_TOKEN_EXPIRED);
}

static void
test_forged_token_cannot_be_revoked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (
      gc_accounts_revoke_token (f->accounts,
                                "v1.1.9999999999.AAAAAAAAAAAAAAAAAAAAAA."
                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                &error));
  g_assert_error (error, GC_ACCOUNTS_ERROR,
                  GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
}

static void
test_roles_set_and_get (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 owner = sign_up (f, "ivan", "password123");
  gint64 mod = sign_up (f, "judy", "password123");
  GcAccountsRoles roles = GC_ACCOUNTS_ROLE_NONE;
  gint64 granted_by = -1, granted_ms = -1;

  g_assert_true (gc_accounts_get_roles (f->accounts, "ivan", mod, &roles,
                                        &granted_by, &granted_ms, &error));
  g_assert_no_error (error);
  g_assert_cmpint (roles, ==, GC_ACCOUNTS_ROLE_NONE);
  g_assert_cmpint (granted_by, ==, 0);

  g_assert_true (gc_accounts_set_roles (
      f->accounts, "ivan", owner, GC_ACCOUNTS_ROLE_BROADCASTER, 0, &error));
  g_assert_no_error (error);
  f->now += 10;
  g_assert_true (gc_accounts_set_roles (
      f->accounts, "ivan", mod,
      GC_ACCOUNTS_ROLE_MODERATOR | GC_ACCOUNTS_ROLE_VIP, owner, &error));
  g_assert_no_error (error);

  g_assert_true (gc_accounts_get_roles (f->accounts, "ivan", mod, &roles,
                                        &granted_by, &granted_ms, &error));
  g_assert_cmpint (roles, ==,
                   GC_ACCOUNTS_ROLE_MODERATOR | GC_ACCOUNTS_ROLE_VIP);
  g_assert_cmpint (granted_by, ==, owner);
  g_assert_cmpint (granted_ms, ==, (START_TIME + 10) * 1000);
  /* Roles are per channel. */
  g_assert_true (gc_accounts_get_roles (f->accounts, "other", mod, &roles, NULL,
                                        NULL, &error));
  g_assert_cmpint (roles, ==, GC_ACCOUNTS_ROLE_NONE);

  /* Replacing, then removing. */
  g_assert_true (gc_accounts_set_roles (
      f->accounts, "ivan", mod, GC_ACCOUNTS_ROLE_SUBSCRIBER, owner, &error));
  g_assert_true (gc_accounts_get_roles (f->accounts, "ivan", mod, &roles, NULL,
                                        NULL, &error));
  g_assert_cmpint (roles, ==, GC_ACCOUNTS_ROLE_SUBSCRIBER);
  g_assert_true (gc_accounts_set_roles (f->accounts, "ivan", mod,
                                        GC_ACCOUNTS_ROLE_NONE, owner, &error));
  g_assert_true (gc_accounts_get_roles (f->accounts, "ivan", mod, &roles, NULL,
                                        NULL, &error));
  g_assert_cmpint (roles, ==, GC_ACCOUNTS_ROLE_NONE);
  g_assert_no_error (error);
}

static void
test_find_by_username (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = sign_up (f, "lena", "password123");

  g_assert_cmpint (gc_accounts_find (f->accounts, "lena", &error), ==, id);
  g_assert_no_error (error);
  g_assert_cmpint (gc_accounts_find (f->accounts, "LeNa", &error), ==, id);
  g_assert_no_error (error);
  g_assert_cmpint (gc_accounts_find (f->accounts, "nobody", &error), ==, 0);
  g_assert_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (gc_accounts_find (f->accounts, "no way", &error), ==, 0);
  g_assert_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_NOT_FOUND);
}

static void
test_roles_list_one_channel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) grants = NULL;
  gint64 owner = sign_up (f, "mia", "password123");
  gint64 zed = sign_up (f, "zed", "password123");
  gint64 abe = sign_up (f, "abe", "password123");
  GcAccountsGrant *g;

  grants = gc_accounts_list_roles (f->accounts, "mia", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (grants->len, ==, 0);
  g_clear_pointer (&grants, g_ptr_array_unref);

  g_assert_true (gc_accounts_set_roles (f->accounts, "mia", zed,
                                        GC_ACCOUNTS_ROLE_VIP, owner, &error));
  g_assert_true (gc_accounts_set_roles (f->accounts, "mia", abe,
                                        GC_ACCOUNTS_ROLE_MODERATOR, 0, &error));
  g_assert_true (gc_accounts_set_roles (
      f->accounts, "other", zed, GC_ACCOUNTS_ROLE_SUBSCRIBER, 0, &error));
  g_assert_no_error (error);

  grants = gc_accounts_list_roles (f->accounts, "mia", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (grants->len, ==, 2);
  g = grants->pdata[0];
  g_assert_cmpstr (g->username, ==, "abe");
  g_assert_cmpint (g->account_id, ==, abe);
  g_assert_cmpint (g->roles, ==, GC_ACCOUNTS_ROLE_MODERATOR);
  g_assert_cmpint (g->granted_by, ==, 0);
  g = grants->pdata[1];
  g_assert_cmpstr (g->username, ==, "zed");
  g_assert_cmpint (g->roles, ==, GC_ACCOUNTS_ROLE_VIP);
  g_assert_cmpint (g->granted_by, ==, owner);
  g_assert_cmpint (g->granted_ms, ==, START_TIME * 1000);
  g_clear_pointer (&grants, g_ptr_array_unref);

  g_assert_null (gc_accounts_list_roles (f->accounts, "", &error));
  g_assert_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_INVALID_ARGUMENT);
}

static void
test_roles_refuse_bad_input (Fixture *f, gconstpointer data)
{
  gint64 id = sign_up (f, "kim", "password123");

  {
    g_autoptr (GError) error = NULL;

    /* Banned (chat's 1 << 4) is Redis state, never granted here. */
    g_assert_false (gc_accounts_set_roles (
        f->accounts, "kim", id, (GcAccountsRoles)(1 << 4), 0, &error));
    g_assert_error (error, GC_ACCOUNTS_ERROR,
                    GC_ACCOUNTS_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (gc_accounts_set_roles (f->accounts, "", id,
                                           GC_ACCOUNTS_ROLE_VIP, 0, &error));
    g_assert_error (error, GC_ACCOUNTS_ERROR,
                    GC_ACCOUNTS_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (gc_accounts_set_roles (f->accounts, "kim", id + 100,
                                           GC_ACCOUNTS_ROLE_VIP, 0, &error));
    g_assert_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_NOT_FOUND);
  }
}

static void
test_database_survives_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = sign_up (f, "leo", "password123");
  g_autofree gchar *token = issue (f, id, 3600);
  GcAccountsRoles roles = GC_ACCOUNTS_ROLE_NONE;
  g_autofree gchar *secret_path =
      g_build_filename (f->dir, "session-secret", NULL);
  GStatBuf st;

  g_assert_true (gc_accounts_set_roles (
      f->accounts, "leo", id, GC_ACCOUNTS_ROLE_BROADCASTER, 0, &error));
  g_clear_pointer (&f->accounts, gc_accounts_free);

  g_assert_cmpint (g_stat (secret_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (st.st_size, ==, GC_ACCOUNTS_SECRET_BYTES);

  fixture_open (f);
  g_assert_cmpint (
      gc_accounts_verify (f->accounts, "leo", "password123", &error), ==, id);
  g_assert_no_error (error);
  /* Same secret file, so sessions outlive a restart. */
  g_assert_cmpint (gc_accounts_check_token (f->accounts, token, &error), ==,
                   id);
  g_assert_no_error (error);
  g_assert_true (gc_accounts_get_roles (f->accounts, "leo", id, &roles, NULL,
                                        NULL, &error));
  g_assert_cmpint (roles, ==, GC_ACCOUNTS_ROLE_BROADCASTER);
  {
    g_autoptr (GError) taken = NULL;

    g_assert_cmpint (
        gc_accounts_sign_up (f->accounts, "leo", "password123", &taken), ==, 0);
    g_assert_error (taken, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_USERNAME_TAKEN);
  }
}

static void
test_configured_secret_replaces_the_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint8 secret[GC_ACCOUNTS_SECRET_BYTES];
  gint64 id = sign_up (f, "mia", "password123");
  g_autofree gchar *token = issue (f, id, 3600);
  g_autoptr (GcAccounts) configured = NULL;

  memset (secret, 0x5a, sizeof secret);
  g_clear_pointer (&f->accounts, gc_accounts_free);
  configured = gc_accounts_open_with_secret (f->path, secret, &error);
  g_assert_no_error (error);
  gc_accounts_set_clock (configured, fixture_clock, f);
  g_assert_cmpint (gc_accounts_check_token (configured, token, &error), ==, 0);
  g_assert_error (error, GC_ACCOUNTS_ERROR,
                  GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn)                                                          \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/accounts/sign-up/then-verify", test_sign_up_then_verify);
  ADD ("/accounts/sign-up/duplicate-is-taken",
       test_duplicate_username_is_taken);
  ADD ("/accounts/sign-up/invalid-usernames",
       test_invalid_usernames_are_refused);
  ADD ("/accounts/sign-up/weak-passwords", test_weak_passwords_are_refused);
  ADD ("/accounts/verify/wrong-password-like-unknown-user",
       test_wrong_password_and_unknown_user_look_alike);
  ADD ("/accounts/token/round-trip", test_token_round_trip);
  ADD ("/accounts/token/tampered", test_tampered_tokens_are_refused);
  ADD ("/accounts/token/other-secret",
       test_token_from_another_secret_is_refused);
  ADD ("/accounts/token/expired", test_expired_token_is_refused);
  ADD ("/accounts/token/revoked", test_revoked_token_is_refused);
  ADD ("/accounts/token/forged-cannot-be-revoked",
       test_forged_token_cannot_be_revoked);
  ADD ("/accounts/roles/set-and-get", test_roles_set_and_get);
  ADD ("/accounts/roles/bad-input", test_roles_refuse_bad_input);
  ADD ("/accounts/roles/list", test_roles_list_one_channel);
  ADD ("/accounts/find/by-username", test_find_by_username);
  ADD ("/accounts/store/survives-reopen", test_database_survives_reopen);
  ADD ("/accounts/store/configured-secret",
       test_configured_secret_replaces_the_file);
#undef ADD

  return g_test_run ();
}

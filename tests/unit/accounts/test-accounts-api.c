/* test-accounts-api.c — unit tests of the request parsers of glasscastd's accounts API (orchestrator/accounts-api.c):
 * where a session token comes from, sign-up/sign-in bodies, role lists. */

#include <string.h>

#include "accounts-api.h"
#include "channel-error.h"
#include "secret.h"

static void
assert_token (const gchar *authorization, const gchar *cookie,
              const gchar *expected)
{
  gchar *token = gc_accounts_api_request_token (authorization, cookie);

  g_assert_cmpstr (token, ==, expected);
  if (token != NULL)
    gc_secret_free (token);
}

static void
test_token_from_bearer (void)
{
  assert_token ("Bearer abc.def", NULL, "abc.def");
  assert_token ("bearer  abc.def  ", NULL, "abc.def");
  assert_token ("BEARER\tabc", NULL, "abc");
  assert_token ("Bearer ", NULL, NULL);
  assert_token ("Bearerabc", NULL, NULL);
}

static void
test_token_from_cookie (void)
{
  assert_token (NULL, "gc_session=v1.a.b", "v1.a.b");
  assert_token (NULL, "theme=dark; gc_session=v1.a.b; lang=fr", "v1.a.b");
  assert_token (NULL, "theme=dark;gc_session=v1.a.b", "v1.a.b");
  /* The first of two wins (the most specific path comes first). */
  assert_token (NULL, "gc_session=one; gc_session=two", "one");
  assert_token (NULL, "gc_session=", NULL);
  assert_token (NULL, "gc_session=; gc_session=two", "two");
  assert_token (NULL, "xgc_session=v1; gc_sessionx=v2", NULL);
  assert_token (NULL, "gc_session", NULL);
  assert_token (NULL, "", NULL);
  assert_token (NULL, ";;; ;", NULL);
  assert_token (NULL, NULL, NULL);
}

static void
test_bearer_beats_cookie (void)
{
  assert_token ("Bearer from-header", "gc_session=from-cookie", "from-header");
  /* A bad bearer is still the bearer: the cookie is not a fallback. */
  assert_token ("Bearer x", "gc_session=from-cookie", "x");
  /* Other schemes are not session tokens. */
  assert_token ("Basic dXNlcjpwYXNz", "gc_session=from-cookie", "from-cookie");
}

static gboolean
parse_credentials (const gchar *json, gchar **username, GError **error)
{
  g_autofree gchar *password = NULL;
  gboolean ok = gc_accounts_api_parse_credentials (json, strlen (json),
                                                   username, &password, error);

  g_assert_true (ok == (password != NULL));
  return ok;
}

static void
test_credentials (void)
{
  static const gchar *const bad[] = {
      "",
      "{",
      "[]",
      "\"alice\"",
      "{\"username\": \"alice\"}",
      "{\"password\": \"password123\"}",
      "{\"username\": 1, \"password\": \"password123\"}",
      "{\"username\": \"alice\", \"password\": null}",
      "{\"username\": [\"alice\"], \"password\": \"password123\"}",
  };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *username = NULL;
  g_autofree gchar *big = NULL;

  g_assert_true (parse_credentials (
      "{\"username\": \"Alice\", \"password\": \"pass word 1\"}", &username,
      &error));
  g_assert_no_error (error);
  g_assert_cmpstr (username, ==, "Alice");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *none = NULL;

    g_assert_false (parse_credentials (bad[i], &none, &error));
    g_assert_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST);
    g_assert_null (none);
    g_clear_error (&error);
  }
  /* Over the body limit, even when well-formed. */
  big = g_strdup_printf ("{\"username\": \"alice\", \"password\": \"%0*d\"}",
                         5000, 0);
  {
    g_autofree gchar *none = NULL;

    g_assert_false (parse_credentials (big, &none, &error));
    g_assert_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST);
  }
}

static void
test_roles (void)
{
  static const struct {
    const gchar *json;
    GcAccountsRoles roles;
  } good[] = {
      {"{\"roles\": []}", GC_ACCOUNTS_ROLE_NONE},
      {"{\"roles\": [\"vip\"]}", GC_ACCOUNTS_ROLE_VIP},
      {"{\"roles\": [\"moderator\", \"subscriber\"]}",
       GC_ACCOUNTS_ROLE_MODERATOR | GC_ACCOUNTS_ROLE_SUBSCRIBER},
      {"{\"roles\": [\"vip\", \"vip\"], \"other\": 1}", GC_ACCOUNTS_ROLE_VIP},
  };
  static const gchar *const bad[] = {
      "",
      "{}",
      "{\"roles\": \"vip\"}",
      "{\"roles\": null}",
      "{\"roles\": [\"broadcaster\"]}",
      "{\"roles\": [\"VIP\"]}",
      "{\"roles\": [\"vip\", \"king\"]}",
      "{\"roles\": [1]}",
      "{\"roles\": [[\"vip\"]]}",
      "[\"vip\"]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    GcAccountsRoles roles = (GcAccountsRoles)0xff;

    g_assert_true (gc_accounts_api_parse_roles (
        good[i].json, strlen (good[i].json), &roles, &error));
    g_assert_no_error (error);
    g_assert_cmpint (roles, ==, good[i].roles);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    GcAccountsRoles roles = GC_ACCOUNTS_ROLE_NONE;

    g_assert_false (
        gc_accounts_api_parse_roles (bad[i], strlen (bad[i]), &roles, &error));
    g_assert_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/accounts-api/token/bearer", test_token_from_bearer);
  g_test_add_func ("/accounts-api/token/cookie", test_token_from_cookie);
  g_test_add_func ("/accounts-api/token/bearer-beats-cookie",
                   test_bearer_beats_cookie);
  g_test_add_func ("/accounts-api/parse/credentials", test_credentials);
  g_test_add_func ("/accounts-api/parse/roles", test_roles);

  return g_test_run ();
}

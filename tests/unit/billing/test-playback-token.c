/* test-playback-token.c — unit tests of billing/playback-token.c: minting, verification, rotation, strict parsing.
 * Known answers come from playback-token-vectors.py (Python's hmac), run at test time: one test per vector. */

#include <string.h>

#include "vectors.h"

#include "playback-token.h"

#define NOW G_GINT64_CONSTANT (1700000000)

/* One line of playback-token-vectors.py. */
typedef struct {
  gchar *expect;
  gint64 now;
  gchar *channel;
  GPtrArray *secrets; /* GBytes, NULL-terminated */
  gchar *token;
  gint64 viewer;
  gint64 expires;
} Vector;

static void
vector_free (gpointer data)
{
  Vector *v = data;

  g_free (v->expect);
  g_free (v->channel);
  g_ptr_array_unref (v->secrets);
  g_free (v->token);
  g_free (v);
}

static GBytes *
secret_of (guint8 seed, gsize len)
{
  guint8 *bytes = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    bytes[i] = (guint8)(seed + 13 * i);
  return g_bytes_new_take (bytes, len);
}

static void
test_vector (gconstpointer data)
{
  const Vector *v = data;
  GBytes *const *secrets = (GBytes *const *)v->secrets->pdata;
  g_autoptr (GError) error = NULL;
  gint64 expires = 0;
  gint64 viewer;

  if (g_str_equal (v->expect, "mint")) {
    g_autofree gchar *token = gc_playback_token_mint (
        secrets[0], v->channel, v->viewer, v->expires, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (token, ==, v->token);
    return;
  }
  viewer = gc_playback_token_verify (secrets, v->token, v->channel, v->now,
                                     &expires, &error);
  if (g_str_equal (v->expect, "ok")) {
    g_assert_no_error (error);
    g_assert_cmpint (viewer, ==, v->viewer);
    g_assert_cmpint (expires, ==, v->expires);
    return;
  }
  g_assert_cmpint (viewer, ==, 0);
  g_assert_cmpint (expires, ==, 0);
  if (g_str_equal (v->expect, "malformed"))
    g_assert_error (error, GC_PLAYBACK_TOKEN_ERROR,
                    GC_PLAYBACK_TOKEN_ERROR_MALFORMED);
  else if (g_str_equal (v->expect, "bad-mac"))
    g_assert_error (error, GC_PLAYBACK_TOKEN_ERROR,
                    GC_PLAYBACK_TOKEN_ERROR_BAD_MAC);
  else if (g_str_equal (v->expect, "wrong-channel"))
    g_assert_error (error, GC_PLAYBACK_TOKEN_ERROR,
                    GC_PLAYBACK_TOKEN_ERROR_WRONG_CHANNEL);
  else if (g_str_equal (v->expect, "expired"))
    g_assert_error (error, GC_PLAYBACK_TOKEN_ERROR,
                    GC_PLAYBACK_TOKEN_ERROR_EXPIRED);
  else
    g_assert_not_reached ();
  /* Tokens are secrets: no message may repeat one. */
  if (strlen (v->token) > 8)
    g_assert_null (strstr (error->message, v->token));
}

/* Runs playback-token-vectors.py and adds one test per vector. */
static void
add_vector_tests (void)
{
  g_autoptr (GPtrArray) vectors =
      test_vectors_run (PYTHON3, PLAYBACK_TOKEN_VECTORS_SCRIPT, 8);
  guint added = 0;

  for (guint i = 0; i < vectors->len; i++) {
    GStrv fields = vectors->pdata[i];
    g_auto (GStrv) secrets_hex = NULL;
    g_autofree gchar *path = NULL;
    Vector *v;

    v = g_new0 (Vector, 1);
    v->expect = g_strdup (fields[1]);
    v->now = g_ascii_strtoll (fields[2], NULL, 10);
    v->channel = g_strdup (fields[3]);
    v->secrets = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
    secrets_hex = g_strsplit (fields[4], ",", -1);
    for (gsize s = 0; secrets_hex[s] != NULL; s++)
      g_ptr_array_add (v->secrets, test_vectors_from_hex (secrets_hex[s]));
    g_ptr_array_add (v->secrets, NULL);
    v->token = g_strdup (fields[5]);
    v->viewer = g_ascii_strtoll (fields[6], NULL, 10);
    v->expires = g_ascii_strtoll (fields[7], NULL, 10);
    path = g_strdup_printf ("/billing/playback-token/vector/%s", fields[0]);
    g_test_add_data_func_full (path, v, test_vector, vector_free);
    added++;
  }
  /* The script writes dozens; a handful means it broke half-way. */
  g_assert_cmpuint (added, >=, 40);
}

static void
test_minted_token_verifies (void)
{
  g_autoptr (GBytes) secret = secret_of (1, 32);
  GBytes *secrets[] = {secret, NULL};
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token =
      gc_playback_token_mint (secret, "ppv", 42, NOW + 300, &error);
  gint64 expires = 0;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (token, "v1.ppv.42.1700000300."));
  g_assert_cmpint (
      gc_playback_token_verify (secrets, token, "ppv", NOW, &expires, &error),
      ==, 42);
  g_assert_no_error (error);
  g_assert_cmpint (expires, ==, NOW + 300);
}

static void
test_token_is_url_safe (void)
{
  g_autoptr (GBytes) secret = secret_of (9, 40);

  /* Many MACs: every base64url character shows up somewhere. */
  for (gint64 viewer = 1; viewer <= 200; viewer++) {
    g_autofree gchar *token =
        gc_playback_token_mint (secret, "c_h-1", viewer, NOW, NULL);

    for (const gchar *p = token; *p != '\0'; p++)
      g_assert_true (g_ascii_isalnum (*p) || strchr ("-_.", *p) != NULL);
  }
}

static void
test_mint_refuses_bad_input (void)
{
  g_autoptr (GBytes) secret = secret_of (1, 32);
  g_autoptr (GBytes) short_secret = secret_of (1, 31);
  struct {
    GBytes *secret;
    const gchar *channel;
    gint64 viewer;
    gint64 expires;
  } cases[] = {
      {short_secret, "ppv", 1, NOW}, {NULL, "ppv", 1, NOW},
      {secret, "", 1, NOW},          {secret, "a.b", 1, NOW},
      {secret, NULL, 1, NOW},        {secret, "ppv", 0, NOW},
      {secret, "ppv", -5, NOW},      {secret, "ppv", 1, 0},
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *token =
        gc_playback_token_mint (cases[i].secret, cases[i].channel,
                                cases[i].viewer, cases[i].expires, &error);

    g_assert_null (token);
    g_assert_error (error, GC_PLAYBACK_TOKEN_ERROR,
                    GC_PLAYBACK_TOKEN_ERROR_INVALID_ARGUMENT);
  }
}

/* A configured secret too short to be safe signs nothing it is asked to
 * check, even a token made with exactly those bytes. */
static void
test_verify_ignores_short_secrets (void)
{
  g_autoptr (GBytes) secret = secret_of (3, 32);
  g_autoptr (GBytes) prefix = g_bytes_new_from_bytes (secret, 0, 16);
  GBytes *secrets[] = {prefix, NULL};
  g_autofree gchar *token =
      gc_playback_token_mint (secret, "ppv", 1, NOW, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (
      gc_playback_token_verify (secrets, token, "ppv", NOW - 1, NULL, &error),
      ==, 0);
  g_assert_error (error, GC_PLAYBACK_TOKEN_ERROR,
                  GC_PLAYBACK_TOKEN_ERROR_BAD_MAC);
}

static void
test_verify_null_token_is_malformed (void)
{
  g_autoptr (GBytes) secret = secret_of (3, 32);
  GBytes *secrets[] = {secret, NULL};
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (
      gc_playback_token_verify (secrets, NULL, "ppv", NOW, NULL, &error), ==,
      0);
  g_assert_error (error, GC_PLAYBACK_TOKEN_ERROR,
                  GC_PLAYBACK_TOKEN_ERROR_MALFORMED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/billing/playback-token/minted-token-verifies",
                   test_minted_token_verifies);
  g_test_add_func ("/billing/playback-token/url-safe", test_token_is_url_safe);
  g_test_add_func ("/billing/playback-token/mint-refuses-bad-input",
                   test_mint_refuses_bad_input);
  g_test_add_func ("/billing/playback-token/verify-ignores-short-secrets",
                   test_verify_ignores_short_secrets);
  g_test_add_func ("/billing/playback-token/verify-null-token-is-malformed",
                   test_verify_null_token_is_malformed);
  add_vector_tests ();
  return g_test_run ();
}

/* test-secret.c — unit tests of stream key hashing (orchestrator/secret.c).
 * PBKDF2 matches an independent implementation, hashes verify, anything else does not. */

#include "secret.h"

#include <string.h>

static void
test_hash_verifies (void)
{
  g_autofree gchar *key = gc_secret_generate ();
  g_autofree gchar *hash = gc_secret_hash (key, 1000);
  g_autofree gchar *again = gc_secret_hash (key, 1000);

  g_assert_cmpuint (strlen (key), ==, 64);
  g_assert_true (g_str_has_prefix (hash, "pbkdf2-sha256$1000$"));
  g_assert_null (strstr (hash, key));
  g_assert_cmpstr (hash, !=, again); /* salted */
  g_assert_true (gc_secret_hash_validate (hash, NULL));
  g_assert_true (gc_secret_verify (key, hash));
  g_assert_false (gc_secret_verify ("wrong", hash));
  g_assert_false (gc_secret_verify ("", hash));
  g_assert_false (gc_secret_verify (key, NULL));
}

/* A known answer computed independently (Python's hashlib.pbkdf2_hmac:
 * P="passwd", S="saltsaltsaltsalt", c=1000, dkLen=32), in our format. */
static void
test_known_answer (void)
{
  static const gchar hash[] = "pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA$"
                              "n4PA7KayQ8H-KYljp2Dl_38BO3UhEmLfrgsulEpdxsE";

  g_assert_true (gc_secret_hash_validate (hash, NULL));
  g_assert_true (gc_secret_verify ("passwd", hash));
  g_assert_false (gc_secret_verify ("passwe", hash));
}

static void
test_malformed_hashes (void)
{
  static const gchar *const bad[] = {
      "",
      "sha256:abcd",
      "pbkdf2-sha256$",
      "pbkdf2-sha256$1000$$",
      "pbkdf2-sha256$999$AAAAAAAAAAA$"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "pbkdf2-sha256$1000$AA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "pbkdf2-sha256$1000$AAAAAAAAAAA$short",
      "pbkdf2-sha256$1000$AAAA+AAAAAA$"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_false (gc_secret_hash_validate (bad[i], &error));
    g_assert_nonnull (error);
    g_assert_false (gc_secret_verify ("x", bad[i]));
  }
}

static void
on_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gint *out = user_data;

  *out = gc_secret_verify_finish (result) ? 1 : 0;
}

static void
test_async (void)
{
  g_autofree gchar *hash = gc_secret_hash ("k", 1000);
  gint ok = -1;
  gint bad = -1;

  gc_secret_verify_async ("k", hash, NULL, on_verified, &ok);
  gc_secret_verify_async ("no", hash, NULL, on_verified, &bad);
  while (ok < 0 || bad < 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (ok, ==, 1);
  g_assert_cmpint (bad, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/secret/hash-verifies", test_hash_verifies);
  g_test_add_func ("/secret/known-answer", test_known_answer);
  g_test_add_func ("/secret/malformed", test_malformed_hashes);
  g_test_add_func ("/secret/async", test_async);
  return g_test_run ();
}

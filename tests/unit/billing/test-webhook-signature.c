/* test-webhook-signature.c — unit tests of billing/webhook-signature.c: Stripe-Signature parsing and verification.
 * Known answers come from signature-vectors.py (Python's hmac), run at test time: one test per vector. */

#include <string.h>

#include "vectors.h"

#include "webhook-signature.h"

#define TOLERANCE GC_STRIPE_SIGNATURE_TOLERANCE
#define SECRET "whsec_test_secret"
#define HEX64 "5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
#define HEX64_B                                                                \
  "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"

/* One line of signature-vectors.py. */
typedef struct {
  gchar *expect;
  gint64 now;
  gchar **secrets;
  gchar *header;
  GBytes *payload;
} Vector;

static void
vector_free (gpointer data)
{
  Vector *v = data;

  g_free (v->expect);
  g_strfreev (v->secrets);
  g_free (v->header);
  g_bytes_unref (v->payload);
  g_free (v);
}

static gchar *
text_from_hex (const gchar *hex)
{
  g_autoptr (GBytes) bytes = test_vectors_from_hex (hex);
  gsize len = 0;
  const gchar *data = g_bytes_get_data (bytes, &len);

  return g_strndup (data != NULL ? data : "", len);
}

static void
test_vector (gconstpointer data)
{
  const Vector *v = data;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const guint8 *payload = g_bytes_get_data (v->payload, &len);
  gboolean ok;

  if (g_str_equal (v->expect, "format")) {
    g_autofree gchar *header =
        gc_stripe_signature_format (v->secrets[0], v->now, payload, len);

    g_assert_cmpstr (header, ==, v->header);
    return;
  }

  ok = gc_stripe_signature_verify (v->header, payload, len,
                                   (const gchar *const *)v->secrets, v->now,
                                   TOLERANCE, &error);
  if (g_str_equal (v->expect, "ok")) {
    g_assert_no_error (error);
    g_assert_true (ok);
    return;
  }
  g_assert_false (ok);
  if (g_str_equal (v->expect, "mismatch"))
    g_assert_error (error, GC_BILLING_ERROR,
                    GC_BILLING_ERROR_SIGNATURE_MISMATCH);
  else if (g_str_equal (v->expect, "stale"))
    g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_SIGNATURE_STALE);
  else if (g_str_equal (v->expect, "no-v1"))
    g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_SIGNATURE_NO_V1);
  else if (g_str_equal (v->expect, "malformed"))
    g_assert_error (error, GC_BILLING_ERROR,
                    GC_BILLING_ERROR_SIGNATURE_MALFORMED);
  else
    g_assert_not_reached ();
}

/* Runs signature-vectors.py and adds one test per vector. */
static void
add_vector_tests (void)
{
  g_autoptr (GPtrArray) vectors =
      test_vectors_run (PYTHON3, SIGNATURE_VECTORS_SCRIPT, 6);
  guint added = 0;

  for (guint i = 0; i < vectors->len; i++) {
    GStrv fields = vectors->pdata[i];
    g_auto (GStrv) secrets_hex = NULL;
    g_autofree gchar *path = NULL;
    Vector *v;
    gsize n;

    v = g_new0 (Vector, 1);
    v->expect = g_strdup (fields[1]);
    v->now = g_ascii_strtoll (fields[2], NULL, 10);
    secrets_hex = g_strsplit (fields[3], ",", -1);
    n = g_strv_length (secrets_hex);
    v->secrets = g_new0 (gchar *, n + 1);
    for (gsize s = 0; s < n; s++)
      v->secrets[s] = text_from_hex (secrets_hex[s]);
    v->header = text_from_hex (fields[4]);
    v->payload = test_vectors_from_hex (fields[5]);
    path = g_strdup_printf ("/billing/signature/vector/%s", fields[0]);
    g_test_add_data_func_full (path, v, test_vector, vector_free);
    added++;
  }
  /* The script writes dozens; a handful means it broke half-way. */
  g_assert_cmpuint (added, >=, 40);
}

static void
test_parse_reads_every_field (void)
{
  g_autoptr (GError) error = NULL;
  GcStripeSignature sig;

  g_assert_true (gc_stripe_signature_parse (
      "t=1492774577,v1=" HEX64 ",v0=" HEX64_B ",v1=" HEX64_B, &sig, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sig.timestamp, ==, 1492774577);
  g_assert_cmpstr (sig.timestamp_text, ==, "1492774577");
  g_assert_cmpuint (sig.n_v1, ==, 2);
  g_assert_cmpuint (sig.v1[0][0], ==, 0x52);
  g_assert_cmpuint (sig.v1[0][31], ==, 0xbd);
  g_assert_cmpuint (sig.v1[1][0], ==, 0x6f);
}

static void
test_parse_refuses_malformed_headers (void)
{
  static const struct {
    const gchar *header;
    gint code;
  } cases[] = {
      {"", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {",,,", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"=1", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1 2,v1=" HEX64, GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=+1,v1=" HEX64, GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=0x10,v1=" HEX64, GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      /* 19 digits: could overflow, and is no time Stripe will send. */
      {"t=1234567890123456789,v1=" HEX64, GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1;v1=" HEX64, GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1,v1=" HEX64 "0", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1,v1=" HEX64 " x", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1,v1=", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1,v1", GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1,=" HEX64, GC_BILLING_ERROR_SIGNATURE_MALFORMED},
      {"t=1", GC_BILLING_ERROR_SIGNATURE_NO_V1},
      {"t=1,,", GC_BILLING_ERROR_SIGNATURE_NO_V1},
      {"t=1,v0=" HEX64, GC_BILLING_ERROR_SIGNATURE_NO_V1},
      {"t=1,V1=" HEX64, GC_BILLING_ERROR_SIGNATURE_NO_V1},
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    GcStripeSignature sig;

    g_test_message ("header: \"%s\"", cases[i].header);
    g_assert_false (gc_stripe_signature_parse (cases[i].header, &sig, &error));
    g_assert_error (error, GC_BILLING_ERROR, cases[i].code);
  }
}

static void
test_parse_limits (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) header = g_string_new ("t=1");
  GcStripeSignature sig;

  for (guint i = 0; i < GC_STRIPE_SIGNATURE_MAX_V1; i++)
    g_string_append (header, ",v1=" HEX64);
  g_assert_true (gc_stripe_signature_parse (header->str, &sig, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sig.n_v1, ==, GC_STRIPE_SIGNATURE_MAX_V1);

  g_string_append (header, ",v1=" HEX64);
  g_assert_false (gc_stripe_signature_parse (header->str, &sig, &error));
  g_assert_error (error, GC_BILLING_ERROR,
                  GC_BILLING_ERROR_SIGNATURE_MALFORMED);
  g_clear_error (&error);

  /* Padding that would be harmless is still refused past the limit. */
  g_string_assign (header, "t=1,v1=" HEX64 ",");
  while (header->len <= GC_STRIPE_SIGNATURE_HEADER_MAX)
    g_string_append_c (header, ' ');
  g_assert_false (gc_stripe_signature_parse (header->str, &sig, &error));
  g_assert_error (error, GC_BILLING_ERROR,
                  GC_BILLING_ERROR_SIGNATURE_MALFORMED);
}

static void
test_verify_needs_a_secret (void)
{
  const gchar *none[] = {NULL};
  const gchar *empty[] = {SECRET, "", NULL};
  const guint8 body[] = "{}";
  g_autofree gchar *header = gc_stripe_signature_format (SECRET, 1000, body, 2);
  g_autoptr (GError) error = NULL;

  g_assert_false (
      gc_stripe_signature_verify (header, body, 2, none, 1000, 300, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (
      gc_stripe_signature_verify (header, body, 2, empty, 1000, 300, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
}

/* The clock is a parameter: the same header is fresh, then stale, as "now"
 * moves, and the tolerance is the caller's. */
static void
test_verify_uses_the_given_clock (void)
{
  const gchar *secrets[] = {SECRET, NULL};
  const guint8 body[] = "{\"id\":\"evt_1\"}";
  gsize len = sizeof body - 1;
  g_autofree gchar *header =
      gc_stripe_signature_format (SECRET, 5000, body, len);
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_stripe_signature_verify (
      header, body, len, secrets, 5000 + TOLERANCE, TOLERANCE, &error));
  g_assert_no_error (error);
  g_assert_false (gc_stripe_signature_verify (
      header, body, len, secrets, 5000 + TOLERANCE + 1, TOLERANCE, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_SIGNATURE_STALE);
  g_clear_error (&error);
  g_assert_true (gc_stripe_signature_verify (header, body, len, secrets,
                                             5000 + 3600, 3600, &error));
  g_assert_no_error (error);
  g_assert_false (
      gc_stripe_signature_verify (header, body, len, secrets, 4999, 0, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_SIGNATURE_STALE);
  g_clear_error (&error);
  /* A clock far from any plausible time does not overflow the check. */
  g_assert_false (gc_stripe_signature_verify (header, body, len, secrets,
                                              G_MININT64, TOLERANCE, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_SIGNATURE_STALE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/billing/signature/parse/every-field",
                   test_parse_reads_every_field);
  g_test_add_func ("/billing/signature/parse/malformed",
                   test_parse_refuses_malformed_headers);
  g_test_add_func ("/billing/signature/parse/limits", test_parse_limits);
  g_test_add_func ("/billing/signature/verify/needs-a-secret",
                   test_verify_needs_a_secret);
  g_test_add_func ("/billing/signature/verify/given-clock",
                   test_verify_uses_the_given_clock);
  add_vector_tests ();

  return g_test_run ();
}

/* fuzz-billing-signature.c — libFuzzer target for the Stripe-Signature parser and verifier (billing/webhook-signature.c).
 * Input: a header, a newline, then the raw body. Whatever is accepted must be consistent; nothing may crash or read out of bounds. */

#include <string.h>

#include "webhook-signature.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const gchar *const secrets[] = {"whsec_fuzz_old", "whsec_fuzz_new",
                                       NULL};

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const guint8 *newline = memchr (data, '\n', size);
  gsize header_len = newline != NULL ? (gsize)(newline - data) : size;
  const guint8 *body = newline != NULL ? newline + 1 : data + size;
  gsize body_len = size - (gsize)(body - data);
  g_autofree gchar *header = g_strndup ((const gchar *)data, header_len);
  g_autofree gchar *signed_header = NULL;
  g_autoptr (GError) error = NULL;
  GcStripeSignature sig;

  if (!gc_stripe_signature_parse (header, &sig, &error)) {
    g_assert (error != NULL && error->domain == GC_BILLING_ERROR);
    g_assert (error->code == GC_BILLING_ERROR_SIGNATURE_MALFORMED ||
              error->code == GC_BILLING_ERROR_SIGNATURE_NO_V1);
    g_clear_error (&error);
  } else {
    g_assert (sig.n_v1 >= 1 && sig.n_v1 <= GC_STRIPE_SIGNATURE_MAX_V1);
    g_assert (sig.timestamp >= 0);
    g_assert (strlen (sig.timestamp_text) >= 1);
    g_assert (g_ascii_strtoll (sig.timestamp_text, NULL, 10) == sig.timestamp);
  }

  /* At the header's own time, so the fuzzer can reach the HMAC check; a
   * forged match would be a finding in itself. */
  if (gc_stripe_signature_verify (header, body, body_len, secrets,
                                  sig.timestamp, GC_STRIPE_SIGNATURE_TOLERANCE,
                                  &error))
    g_assert (error == NULL);
  else
    g_assert (error != NULL && error->domain == GC_BILLING_ERROR);
  g_clear_error (&error);

  /* What we sign we accept, with the old secret or the new. */
  signed_header =
      gc_stripe_signature_format (secrets[1], 1700000000, body, body_len);
  g_assert (gc_stripe_signature_verify (signed_header, body, body_len, secrets,
                                        1700000000, 0, NULL));
  return 0;
}

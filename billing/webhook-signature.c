/* webhook-signature.c — parses Stripe-Signature headers and checks them against the raw body and configured secrets.
 * No SQLite, no clock, no allocation while parsing: the parser is fuzzed (tests/fuzz/fuzz-billing-signature.c). */

#include "webhook-signature.h"

#include <string.h>

#define TIMESTAMP_DIGITS_MAX 18
#define V1_HEX_CHARS (2 * GC_STRIPE_SIGNATURE_BYTES)

static gboolean
malformed (GError **error, const gchar *why)
{
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_SIGNATURE_MALFORMED,
               "malformed Stripe-Signature header: %s", why);
  return FALSE;
}

static gboolean
is_blank (gchar c)
{
  return c == ' ' || c == '\t';
}

/* Narrows [*start, *end) to exclude blanks at both ends. */
static void
trim (const gchar **start, const gchar **end)
{
  while (*start < *end && is_blank (**start))
    (*start)++;
  while (*end > *start && is_blank ((*end)[-1]))
    (*end)--;
}

static gboolean
parse_timestamp (const gchar *value, gsize len, GcStripeSignature *signature)
{
  gint64 t = 0;

  if (len == 0 || len > TIMESTAMP_DIGITS_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isdigit (value[i]))
      return FALSE;
    /* At most 18 digits: below 10^18, so no overflow. */
    t = t * 10 + (value[i] - '0');
  }
  signature->timestamp = t;
  memcpy (signature->timestamp_text, value, len);
  signature->timestamp_text[len] = '\0';
  return TRUE;
}

static gboolean
parse_v1 (const gchar *value, gsize len, guint8 *out)
{
  if (len != V1_HEX_CHARS)
    return FALSE;
  for (gsize i = 0; i < GC_STRIPE_SIGNATURE_BYTES; i++) {
    gint hi = g_ascii_xdigit_value (value[2 * i]);
    gint lo = g_ascii_xdigit_value (value[2 * i + 1]);

    if (hi < 0 || lo < 0)
      return FALSE;
    out[i] = (guint8)(hi << 4 | lo);
  }
  return TRUE;
}

gboolean
gc_stripe_signature_parse (const gchar *header, GcStripeSignature *signature,
                           GError **error)
{
  const gchar *item, *end;
  gboolean have_t = FALSE;
  gsize len;

  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (signature, 0, sizeof *signature);
  len = strnlen (header, GC_STRIPE_SIGNATURE_HEADER_MAX + 1);
  if (len > GC_STRIPE_SIGNATURE_HEADER_MAX)
    return malformed (error, "too long");
  end = header + len;

  for (item = header; item <= end;) {
    const gchar *comma = memchr (item, ',', (gsize)(end - item));
    const gchar *item_end = comma != NULL ? comma : end;
    const gchar *key = item, *key_end, *value, *value_end = item_end;
    const gchar *equals;

    trim (&key, &value_end);
    if (key == value_end) {
      item = item_end + 1;
      continue;
    }
    equals = memchr (key, '=', (gsize)(value_end - key));
    if (equals == NULL)
      return malformed (error, "an item without '='");
    key_end = equals;
    value = equals + 1;
    trim (&key, &key_end);
    trim (&value, &value_end);
    if (key == key_end)
      return malformed (error, "an item without a key");

    if (key_end - key == 1 && key[0] == 't') {
      if (have_t)
        return malformed (error, "more than one t");
      if (!parse_timestamp (value, (gsize)(value_end - value), signature))
        return malformed (error, "t is not a decimal timestamp");
      have_t = TRUE;
    } else if (key_end - key == 2 && key[0] == 'v' && key[1] == '1') {
      if (signature->n_v1 == GC_STRIPE_SIGNATURE_MAX_V1)
        return malformed (error, "too many v1 signatures");
      if (!parse_v1 (value, (gsize)(value_end - value),
                     signature->v1[signature->n_v1]))
        return malformed (error, "v1 is not 64 hex digits");
      signature->n_v1++;
    }
    /* Any other scheme (v0 is Stripe's test-mode SHA-1 one) is ignored. */
    item = item_end + 1;
  }

  if (!have_t)
    return malformed (error, "no t");
  if (signature->n_v1 == 0) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_SIGNATURE_NO_V1,
                         "Stripe-Signature header has no v1 signature");
    return FALSE;
  }
  return TRUE;
}

void
gc_stripe_signature_compute (const gchar *secret, const gchar *timestamp_text,
                             const guint8 *payload, gsize payload_len,
                             guint8 digest[GC_STRIPE_SIGNATURE_BYTES])
{
  GHmac *hmac;
  gsize n = GC_STRIPE_SIGNATURE_BYTES;

  g_return_if_fail (secret != NULL && timestamp_text != NULL);
  g_return_if_fail (payload != NULL || payload_len == 0);

  hmac =
      g_hmac_new (G_CHECKSUM_SHA256, (const guchar *)secret, strlen (secret));
  g_hmac_update (hmac, (const guchar *)timestamp_text, -1);
  g_hmac_update (hmac, (const guchar *)".", 1);
  /* g_hmac_update() takes a gssize: feed huge bodies in pieces. */
  while (payload_len > 0) {
    gsize piece = MIN (payload_len, (gsize)G_MAXSSIZE);

    g_hmac_update (hmac, payload, (gssize)piece);
    payload += piece;
    payload_len -= piece;
  }
  g_hmac_get_digest (hmac, digest, &n);
  g_hmac_unref (hmac);
}

/* Time depends only on the length, never on where the first difference is. */
static gboolean
equal_constant_time (const guint8 *a, const guint8 *b, gsize len)
{
  volatile guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= (guint8)(a[i] ^ b[i]);
  return diff == 0;
}

gboolean
gc_stripe_signature_verify (const gchar *header, const guint8 *payload,
                            gsize payload_len, const gchar *const *secrets,
                            gint64 now, gint64 tolerance, GError **error)
{
  GcStripeSignature signature;
  guint8 expected[GC_STRIPE_SIGNATURE_BYTES];
  gboolean matched = FALSE;
  gint64 age;

  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (payload != NULL || payload_len == 0, FALSE);
  g_return_val_if_fail (tolerance >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (secrets == NULL || secrets[0] == NULL) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_INVALID_ARGUMENT,
                         "no webhook secret configured");
    return FALSE;
  }
  for (gsize i = 0; secrets[i] != NULL; i++) {
    if (secrets[i][0] == '\0') {
      g_set_error_literal (error, GC_BILLING_ERROR,
                           GC_BILLING_ERROR_INVALID_ARGUMENT,
                           "an empty webhook secret is configured");
      return FALSE;
    }
  }

  if (!gc_stripe_signature_parse (header, &signature, error))
    return FALSE;

  /* Every secret against every v1, without stopping at the first match:
   * the work done does not depend on which one matched. */
  for (gsize i = 0; secrets[i] != NULL; i++) {
    gc_stripe_signature_compute (secrets[i], signature.timestamp_text, payload,
                                 payload_len, expected);
    for (guint j = 0; j < signature.n_v1; j++)
      matched |= equal_constant_time (expected, signature.v1[j],
                                      GC_STRIPE_SIGNATURE_BYTES);
  }
  memset (expected, 0, sizeof expected);
  if (!matched) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_SIGNATURE_MISMATCH,
                         "no Stripe-Signature v1 matches a configured secret");
    return FALSE;
  }

  /* Checked after the signature, so "stale" is only ever said of a request
   * Stripe really signed (a replay or a badly wrong clock). */
  if (__builtin_sub_overflow (now, signature.timestamp, &age) ||
      age > tolerance || age < -tolerance) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_SIGNATURE_STALE,
                 "Stripe-Signature timestamp %" G_GINT64_FORMAT
                 " is more than %" G_GINT64_FORMAT " s %s",
                 signature.timestamp, tolerance,
                 signature.timestamp < now ? "old" : "in the future");
    return FALSE;
  }
  return TRUE;
}

gchar *
gc_stripe_signature_format (const gchar *secret, gint64 timestamp,
                            const guint8 *payload, gsize payload_len)
{
  gchar timestamp_text[24];
  guint8 digest[GC_STRIPE_SIGNATURE_BYTES];
  GString *header;

  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (timestamp >= 0, NULL);
  g_return_val_if_fail (payload != NULL || payload_len == 0, NULL);

  g_snprintf (timestamp_text, sizeof timestamp_text, "%" G_GINT64_FORMAT,
              timestamp);
  gc_stripe_signature_compute (secret, timestamp_text, payload, payload_len,
                               digest);
  header = g_string_new ("t=");
  g_string_append (header, timestamp_text);
  g_string_append (header, ",v1=");
  for (gsize i = 0; i < sizeof digest; i++)
    g_string_append_printf (header, "%02x", digest[i]);
  return g_string_free (header, FALSE);
}

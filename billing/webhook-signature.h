/* webhook-signature.h — Stripe's webhook signatures: the Stripe-Signature header, HMAC-SHA256 of "t.payload".
 * Pure functions (no I/O; the clock is a parameter): the webhook handler verifies the raw body before parsing it. */

#pragma once

#include <glib.h>

#include "billing-error.h"

G_BEGIN_DECLS

/* Stripe's default: a signature older (or further ahead) than 5 minutes is
 * refused, which bounds how long a captured request can be replayed. */
#define GC_STRIPE_SIGNATURE_TOLERANCE 300
/* Longer headers are refused before parsing; Stripe's are ~150 bytes. */
#define GC_STRIPE_SIGNATURE_HEADER_MAX 4096
/* At most this many v1 values (Stripe sends one per secret being rolled). */
#define GC_STRIPE_SIGNATURE_MAX_V1 8
#define GC_STRIPE_SIGNATURE_BYTES 32

/* A parsed Stripe-Signature header. */
typedef struct {
  gint64 timestamp; /* t: seconds since the epoch */
  /* t's digits exactly as sent: the signed payload is "<these>.<body>". */
  gchar timestamp_text[19];
  guint n_v1;
  guint8 v1[GC_STRIPE_SIGNATURE_MAX_V1][GC_STRIPE_SIGNATURE_BYTES];
} GcStripeSignature;

/* Parses "t=1492774577,v1=5257a8...,v0=6ffbb5...": comma-separated
 * key=value items, blanks around items, keys and values ignored, empty items
 * skipped. Exactly one t (1 to 18 decimal digits); each v1 is 64 hex digits
 * (either case); other schemes (v0, anything else) are ignored.
 * Fails with SIGNATURE_MALFORMED, or SIGNATURE_NO_V1 when well-formed but
 * without any v1. @header: NUL-terminated, at most
 * GC_STRIPE_SIGNATURE_HEADER_MAX bytes. */
gboolean gc_stripe_signature_parse (const gchar *header,
                                    GcStripeSignature *signature,
                                    GError **error);

/* HMAC-SHA256 with the bytes of @secret ("whsec_...", used whole, as Stripe
 * does) over "@timestamp_text.@payload". */
void gc_stripe_signature_compute (const gchar *secret,
                                  const gchar *timestamp_text,
                                  const guint8 *payload, gsize payload_len,
                                  guint8 digest[GC_STRIPE_SIGNATURE_BYTES]);

/* Verifies a webhook: parses @header, accepts it if ANY v1 equals the
 * signature under ANY of @secrets (compared in constant time; several
 * secrets let an old and a new one both work while rotating), then checks
 * |@now - t| <= @tolerance. @payload: the raw body bytes, exactly as
 * received. @secrets: (array zero-terminated=1): at least one non-empty.
 * Fails with SIGNATURE_MALFORMED, SIGNATURE_NO_V1, SIGNATURE_MISMATCH,
 * SIGNATURE_STALE (only for a correctly signed header), or INVALID_ARGUMENT
 * when no secret is configured. */
gboolean gc_stripe_signature_verify (const gchar *header, const guint8 *payload,
                                     gsize payload_len,
                                     const gchar *const *secrets, gint64 now,
                                     gint64 tolerance, GError **error);

/* Returns: (transfer full): "t=@timestamp,v1=<hex>" signing @payload with
 * @secret, as Stripe would send it (for fakes and tests). */
gchar *gc_stripe_signature_format (const gchar *secret, gint64 timestamp,
                                   const guint8 *payload, gsize payload_len);

G_END_DECLS

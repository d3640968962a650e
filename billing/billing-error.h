/* billing-error.h — the error domain of the billing library (GC_BILLING_ERROR).
 * glasscastd maps these codes to HTTP statuses in one place; messages never contain webhook secrets. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_BILLING_ERROR (gc_billing_error_quark ())
GQuark gc_billing_error_quark (void);

typedef enum {
  GC_BILLING_ERROR_INVALID_ARGUMENT,  /* non-positive amount, bad name, share */
  GC_BILLING_ERROR_UNKNOWN_CURRENCY,  /* not in the ISO 4217 table (money.c) */
  GC_BILLING_ERROR_CURRENCY_MISMATCH, /* adding USD to EUR, refunding in JPY */
  GC_BILLING_ERROR_OVERFLOW,          /* outside -(2^63-1) .. 2^63-1 */
  GC_BILLING_ERROR_UNBALANCED,        /* a journal not summing to zero */
  GC_BILLING_ERROR_NOT_FOUND,         /* refund of an unknown charge... */
  /* An external reference already applied with a different request. */
  GC_BILLING_ERROR_CONFLICT,
  GC_BILLING_ERROR_INSUFFICIENT_FUNDS, /* payout above the creator's balance */
  /* Refund above what is left of a charge, closing a closed dispute. */
  GC_BILLING_ERROR_INVALID_STATE,
  GC_BILLING_ERROR_STORAGE, /* SQLite failure */
  /* Stripe-Signature: not "t=<digits>,v1=<64 hex>..." */
  GC_BILLING_ERROR_SIGNATURE_MALFORMED,
  GC_BILLING_ERROR_SIGNATURE_NO_V1,    /* well-formed, but no v1 scheme */
  GC_BILLING_ERROR_SIGNATURE_MISMATCH, /* no v1 matches any configured secret */
  /* Correctly signed, but its timestamp is outside the tolerance (too old:
   * a replay; or too far ahead). Checked after the signature. */
  GC_BILLING_ERROR_SIGNATURE_STALE,
} GcBillingErrorCode;

G_END_DECLS

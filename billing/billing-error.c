/* billing-error.c — the GC_BILLING_ERROR quark.
 * Separate from ledger.c so the signature parser's fuzz target needs no SQLite. */

#include "billing-error.h"

GQuark
gc_billing_error_quark (void)
{
  return g_quark_from_static_string ("gc-billing-error-quark");
}

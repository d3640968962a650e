/* accounts-error.c — the GC_ACCOUNTS_ERROR quark.
 * Separate from accounts.c so the token parser's fuzz target needs neither SQLite nor libsodium. */

#include "accounts-error.h"

GQuark
gc_accounts_error_quark (void)
{
  return g_quark_from_static_string ("gc-accounts-error-quark");
}

/* accounts-error.h — the error domain of the accounts library (GC_ACCOUNTS_ERROR).
 * glasscastd maps these codes to HTTP statuses in one place; the messages never contain passwords or tokens. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_ACCOUNTS_ERROR (gc_accounts_error_quark ())
GQuark gc_accounts_error_quark (void);

typedef enum {
  GC_ACCOUNTS_ERROR_INVALID_USERNAME, /* not 3-25 of [a-z0-9_] */
  GC_ACCOUNTS_ERROR_WEAK_PASSWORD,    /* under 8 characters, or not UTF-8 */
  GC_ACCOUNTS_ERROR_USERNAME_TAKEN,
  /* Unknown user and wrong password alike: callers must not tell them apart. */
  GC_ACCOUNTS_ERROR_BAD_CREDENTIALS,
  GC_ACCOUNTS_ERROR_TOKEN_MALFORMED,
  GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE,
  GC_ACCOUNTS_ERROR_TOKEN_EXPIRED,
  GC_ACCOUNTS_ERROR_TOKEN_REVOKED,
  GC_ACCOUNTS_ERROR_INVALID_ARGUMENT, /* bad channel name, role bits, ttl */
  GC_ACCOUNTS_ERROR_NOT_FOUND,        /* no such account */
  GC_ACCOUNTS_ERROR_STORAGE,          /* SQLite or secret file failure */
} GcAccountsErrorCode;

G_END_DECLS

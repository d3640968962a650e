/* token.h — session tokens: "v1.<account-id>.<expiry>.<nonce>.<mac>", signed with HMAC-SHA256.
 * Pure functions over a server secret (no I/O, no clock): expiry and revocation are checked by accounts.c. */

#pragma once

#include <glib.h>

#include "accounts-error.h"

G_BEGIN_DECLS

#define GC_ACCOUNTS_SECRET_BYTES 32
#define GC_ACCOUNTS_NONCE_BYTES 16
/* Longer input is refused before any parsing: a real token is ~110 bytes. */
#define GC_ACCOUNTS_TOKEN_MAX_LEN 256

/* Returns: (transfer full): the token for @account_id (> 0) valid until
 * @expiry (seconds since the epoch), with @nonce encoded as base64url and an
 * HMAC-SHA256 over everything before the last dot, base64url, unpadded. */
gchar *gc_accounts_token_format (const guint8 *secret, gint64 account_id,
                                 gint64 expiry, const guint8 *nonce);

/* Checks the shape of @token and its signature (compared in constant time).
 * On success fills @account_id, @expiry and @nonce ((transfer full), the
 * nonce's base64url text, the key revocation uses). Fails with
 * GC_ACCOUNTS_ERROR_TOKEN_MALFORMED or GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE;
 * does not look at the time. */
gboolean gc_accounts_token_parse (const guint8 *secret, const gchar *token,
                                  gint64 *account_id, gint64 *expiry,
                                  gchar **nonce, GError **error);

G_END_DECLS

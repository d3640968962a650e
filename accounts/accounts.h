/* accounts.h — Glasscast's accounts: usernames with Argon2id password hashes, signed session tokens, channel roles.
 * One SQLite file (WAL) per glasscastd; the identities chat (GcChatIdentity) and billing build on. */

#pragma once

#include <glib.h>

#include "accounts-error.h"
#include "token.h"

G_BEGIN_DECLS

/* Grantable roles in one channel. The values are GcChatRoles' (chat/identity.h)
 * so glasscastd passes them straight into a GcChatIdentity. Banned and
 * timed-out are not stored here: they live in chat's Redis state. */
typedef enum {
  GC_ACCOUNTS_ROLE_NONE = 0,
  GC_ACCOUNTS_ROLE_BROADCASTER = 1 << 0,
  GC_ACCOUNTS_ROLE_MODERATOR = 1 << 1,
  GC_ACCOUNTS_ROLE_VIP = 1 << 2,
  GC_ACCOUNTS_ROLE_SUBSCRIBER = 1 << 3,
} GcAccountsRoles;

#define GC_ACCOUNTS_ROLES_ALL                                                  \
  (GC_ACCOUNTS_ROLE_BROADCASTER | GC_ACCOUNTS_ROLE_MODERATOR |                 \
   GC_ACCOUNTS_ROLE_VIP | GC_ACCOUNTS_ROLE_SUBSCRIBER)

/* Seconds since the Unix epoch; tests inject one to move time. */
typedef gint64 (*GcAccountsClockFunc) (gpointer user_data);

/* Thread-safe: a mutex guards the database and is never held while hashing,
 * so gc_accounts_sign_up() and gc_accounts_verify() (each ~50 ms of Argon2id
 * and 64 MiB) may run on worker threads while the main context issues and
 * checks tokens. glasscastd should run those two on a worker thread. */
typedef struct _GcAccounts GcAccounts;

/* Opens (creating if needed) the database at @path, and the session secret:
 * the 32 bytes of "session-secret" beside @path, created 0600 from
 * libsodium's random source when missing. Purges expired revocations.
 * Returns: (transfer full) (nullable): the store, or NULL with @error. */
GcAccounts *gc_accounts_open (const gchar *path, GError **error);

/* As gc_accounts_open(), with the secret from the configuration
 * (@secret: GC_ACCOUNTS_SECRET_BYTES bytes, copied) instead of the file. */
GcAccounts *gc_accounts_open_with_secret (const gchar *path,
                                          const guint8 *secret, GError **error);

void gc_accounts_free (GcAccounts *accounts);

/* Replaces the wall clock (for tests); @func NULL restores it. */
void gc_accounts_set_clock (GcAccounts *accounts, GcAccountsClockFunc func,
                            gpointer user_data);

/* Usernames: 3 to 25 of [a-z0-9_] after lower-casing (ASCII only). */
gboolean gc_accounts_username_is_valid (const gchar *username);

/* Creates an account; @username is stored lower-cased. @password: valid
 * UTF-8, at least 8 characters and at most 1024 bytes. Slow (Argon2id).
 * Returns: the new account id (> 0), or 0 with @error. */
gint64 gc_accounts_sign_up (GcAccounts *accounts, const gchar *username,
                            const gchar *password, GError **error);

/* Checks a password. An unknown user is verified against a dummy hash, so
 * both failures take as long and both give GC_ACCOUNTS_ERROR_BAD_CREDENTIALS.
 * Slow (Argon2id). Returns: the account id, or 0 with @error. */
gint64 gc_accounts_verify (GcAccounts *accounts, const gchar *username,
                           const gchar *password, GError **error);

/* Looks an account up by id. @username: (out) (transfer full) (optional).
 * @created_ms: (out) (optional): creation time, ms since the epoch. */
gboolean gc_accounts_lookup (GcAccounts *accounts, gint64 account_id,
                             gchar **username, gint64 *created_ms,
                             GError **error);

/* Finds the account called @username (any case; stored lower-cased).
 * Returns: its id, or 0 with @error (NOT_FOUND, also for an invalid name,
 * or STORAGE). One indexed lookup: fine on the main context. */
gint64 gc_accounts_find (GcAccounts *accounts, const gchar *username,
                         GError **error);

/* Returns: (transfer full) (nullable): a session token for @account_id valid
 * for @ttl_seconds (1 s to 1 year), or NULL with @error. */
gchar *gc_accounts_issue_token (GcAccounts *accounts, gint64 account_id,
                                gint64 ttl_seconds, GError **error);

/* Checks signature, expiry and revocation of @token.
 * Returns: the account id, or 0 with @error (TOKEN_MALFORMED,
 * TOKEN_BAD_SIGNATURE, TOKEN_EXPIRED, TOKEN_REVOKED or STORAGE). */
gint64 gc_accounts_check_token (GcAccounts *accounts, const gchar *token,
                                GError **error);

/* Sign-out: revokes @token (by its nonce, remembered until it expires).
 * Only a valid token is recorded; an expired one is already dead and
 * succeeds. Revoking twice succeeds. */
gboolean gc_accounts_revoke_token (GcAccounts *accounts, const gchar *token,
                                   GError **error);

/* Forgets revocations of tokens that have expired (also done on open; call
 * from glasscastd's cron to keep the table small). */
gboolean gc_accounts_purge_revoked (GcAccounts *accounts, GError **error);

/* Sets the roles of @account_id in @channel (replacing any before);
 * GC_ACCOUNTS_ROLE_NONE removes the row. @granted_by: the granting account,
 * 0 for the system (billing, channel creation). @channel: 1 to 64 bytes. */
gboolean gc_accounts_set_roles (GcAccounts *accounts, const gchar *channel,
                                gint64 account_id, GcAccountsRoles roles,
                                gint64 granted_by, GError **error);

/* @roles: (out): the roles, GC_ACCOUNTS_ROLE_NONE when none were granted.
 * @granted_by, @granted_ms: (out) (optional): who granted them and when
 * (0 when none). */
gboolean gc_accounts_get_roles (GcAccounts *accounts, const gchar *channel,
                                gint64 account_id, GcAccountsRoles *roles,
                                gint64 *granted_by, gint64 *granted_ms,
                                GError **error);

/* One account's roles in a channel, as gc_accounts_list_roles() gives them. */
typedef struct {
  gint64 account_id;
  gchar *username;
  GcAccountsRoles roles;
  gint64 granted_by; /* the granting account; 0: the system or the admin */
  gint64 granted_ms; /* ms since the epoch */
} GcAccountsGrant;

void gc_accounts_grant_free (GcAccountsGrant *grant);

/* Returns: (transfer full) (element-type GcAccountsGrant) (nullable): every
 * grant in @channel, sorted by username, or NULL with @error. */
GPtrArray *gc_accounts_list_roles (GcAccounts *accounts, const gchar *channel,
                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcAccounts, gc_accounts_free)

G_END_DECLS

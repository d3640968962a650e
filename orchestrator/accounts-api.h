/* accounts-api.h — GcAccountsApi: sign-up, sign-in, sign-out, /me and channel roles under /api/v1/,
 * and the session (bearer token or gc_session cookie) behind any request. */

#pragma once

#include <libsoup/soup.h>

#include "accounts.h"
#include "channels.h"
#include "config.h"

G_BEGIN_DECLS

/* The cookie pages carry the session token in. */
#define GC_ACCOUNTS_API_COOKIE "gc_session"

#define GC_TYPE_ACCOUNTS_API (gc_accounts_api_get_type ())
G_DECLARE_FINAL_TYPE (GcAccountsApi, gc_accounts_api, GC, ACCOUNTS_API, GObject)

/* @accounts: (transfer full): the store, freed with the API.
 * @config must outlive the API.
 * Returns: (transfer full): the API, not attached yet. */
GcAccountsApi *gc_accounts_api_new (GcAccounts *accounts, GcChannels *channels,
                                    const GcConfig *config);

/* Serves /api/v1/accounts, /api/v1/sessions and /api/v1/me on @soup.
 * The channel roles arrive through gc_accounts_api_handle_roles() (api.c
 * owns /api/v1/channels). */
void gc_accounts_api_attach (GcAccountsApi *api, SoupServer *soup);

/* The signed-in account making @msg: the token of "Authorization: Bearer",
 * else of the gc_session cookie, checked for signature, expiry and
 * revocation. Cheap (an HMAC and one indexed lookup): fine on the main
 * context. Never logs the token.
 * @username: (out) (optional) (transfer full): the account's username.
 * @created_ms: (out) (optional): its creation, ms since the epoch.
 * Returns: the account id, 0 for anonymous (no, invalid, expired or revoked
 * token; the out arguments are then untouched). */
gint64 gc_accounts_api_session (GcAccountsApi *api, SoupServerMessage *msg,
                                gchar **username, gint64 *created_ms);

/* Returns: (transfer none): the accounts store. */
GcAccounts *gc_accounts_api_get_accounts (GcAccountsApi *api);

/* Whether @username (any case) owns @channel (its [channel] owner=, or the
 * "owner" it was created with). FALSE for unknown channels and NULLs. */
gboolean gc_accounts_api_owns_channel (GcAccountsApi *api,
                                       const gchar *username,
                                       const gchar *channel);

/* Answers GET /api/v1/channels/@channel/roles (@username NULL: every grant)
 * and GET/PUT .../roles/@username, for the channel's owner or the admin
 * token. api.c routes these here. */
void gc_accounts_api_handle_roles (GcAccountsApi *api, SoupServerMessage *msg,
                                   const gchar *channel, const gchar *username);

/* The parsers behind the handlers, exposed for unit tests. */

/* The session token of a request: the credentials of @authorization when
 * its scheme is Bearer (even if they turn out bad: bearer beats cookie),
 * else the first gc_session cookie in @cookie.
 * Returns: (transfer full) (nullable): the token; free with
 * gc_secret_free(). */
gchar *gc_accounts_api_request_token (const gchar *authorization,
                                      const gchar *cookie);

/* Parses {"username": "...", "password": "..."} (@len bytes of @data).
 * Returns: FALSE with GC_CHANNEL_ERROR_BAD_REQUEST on anything else;
 * @password is then NULL, else free it with gc_secret_free(). */
gboolean gc_accounts_api_parse_credentials (const gchar *data, gsize len,
                                            gchar **username, gchar **password,
                                            GError **error);

/* Parses {"roles": ["moderator", "vip", "subscriber"]} (any subset, [] for
 * none). "broadcaster" is refused: it comes from owning the channel.
 * Returns: FALSE with GC_CHANNEL_ERROR_BAD_REQUEST on anything else. */
gboolean gc_accounts_api_parse_roles (const gchar *data, gsize len,
                                      GcAccountsRoles *roles, GError **error);

G_END_DECLS

/* playback-token.h — short-lived signed playback tokens: "v1.<channel>.<viewer>.<expires>.<mac>", HMAC-SHA256.
 * Pure functions (no I/O; the clock is a parameter): glasscastd mints and checks them, the nginx edge checks the same format in njs. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A token is
 *   v1.<channel>.<viewer>.<expires>.<mac>
 * channel: 1 to 64 of [A-Za-z0-9_-]; viewer: the account id, decimal,
 * 1 .. 2^63-1, no leading zero; expires: unix seconds, decimal, no leading
 * zero; mac: unpadded base64url (43 characters) of HMAC-SHA256 under the
 * secret over everything before the last '.' ("v1.<channel>.<viewer>.
 * <expires>"). Every character is URL-safe, so a token goes into a query
 * or a cookie as it is. Tokens are secrets: never log one. */

#define GC_PLAYBACK_TOKEN_ERROR (gc_playback_token_error_quark ())
GQuark gc_playback_token_error_quark (void);

typedef enum {
  GC_PLAYBACK_TOKEN_ERROR_INVALID_ARGUMENT, /* minting with bad input */
  GC_PLAYBACK_TOKEN_ERROR_MALFORMED,        /* not the format above */
  GC_PLAYBACK_TOKEN_ERROR_BAD_MAC,          /* signed by no known secret */
  /* Correctly signed, but for another channel. Checked after the MAC. */
  GC_PLAYBACK_TOKEN_ERROR_WRONG_CHANNEL,
  /* Correctly signed, but @now >= expires. Checked after the MAC. */
  GC_PLAYBACK_TOKEN_ERROR_EXPIRED,
} GcPlaybackTokenErrorCode;

/* Secrets are random bytes, at least this many. */
#define GC_PLAYBACK_TOKEN_SECRET_MIN 32
/* The default lifetime: short, since a token in a URL gets shared; the
 * player fetches a new one before this runs out. */
#define GC_PLAYBACK_TOKEN_DEFAULT_LIFETIME 300
/* Longer input is refused before parsing. */
#define GC_PLAYBACK_TOKEN_MAX_LENGTH 256

/* Returns: (transfer full) (nullable): a token for @viewer_id (> 0) to
 * watch @channel until @expires (unix seconds, > 0), signed with @secret
 * (at least GC_PLAYBACK_TOKEN_SECRET_MIN bytes), or NULL with
 * INVALID_ARGUMENT. */
gchar *gc_playback_token_mint (GBytes *secret, const gchar *channel,
                               gint64 viewer_id, gint64 expires,
                               GError **error);

/* Checks @token for @channel at @now: signed under ANY of @secrets (the
 * MACs compared in constant time; two secrets let old tokens live while
 * rotating), then for @channel, then not expired (@now < expires).
 * @secrets: (array zero-terminated=1): at least one.
 * @expires: (out) (optional): the token's expiry.
 * Returns: the viewer id, or 0 with MALFORMED, BAD_MAC, WRONG_CHANNEL or
 * EXPIRED (messages never contain the token). */
gint64 gc_playback_token_verify (GBytes *const *secrets, const gchar *token,
                                 const gchar *channel, gint64 now,
                                 gint64 *expires, GError **error);

G_END_DECLS

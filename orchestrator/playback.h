/* playback.h — GcPlayback: who may watch a channel. Checks playback tokens on /live/ requests of
 * playback=token channels, issues tokens at /api/v1/playback-token, and rewrites playlists so players carry them. */

#pragma once

#include <libsoup/soup.h>

#include "accounts-api.h"
#include "config.h"

G_BEGIN_DECLS

/* The cookie the watch page carries its token in (Path=/live/<channel>/). */
#define GC_PLAYBACK_COOKIE "gc_play"
/* The query parameter players that cannot send cookies use. */
#define GC_PLAYBACK_QUERY "token"
/* The secret glasscastd creates under data-dir when
 * [server] playback-token-secret-file is unset. */
#define GC_PLAYBACK_SECRET_FILE "playback-token-secret"

/* Decides whether signed-in @viewer_id may watch @channel (a pay-per-view
 * entitlement, a subscription...). Called on the main context for every
 * token issued; keep it cheap. The channel's owner never reaches it. */
typedef gboolean (*GcPlaybackAuthorizeFunc) (const gchar *channel,
                                             gint64 viewer_id,
                                             gpointer user_data);

#define GC_TYPE_PLAYBACK (gc_playback_get_type ())
G_DECLARE_FINAL_TYPE (GcPlayback, gc_playback, GC, PLAYBACK, GObject)

/* Reads the token secrets ([server] playback-token-secret-file and
 * playback-token-old-secret-file; without the first, data-dir/
 * GC_PLAYBACK_SECRET_FILE, created with 32 random bytes, mode 0600, on
 * first start) and which channels are playback=token. @config must outlive
 * the result.
 * Returns: (transfer full) (nullable): the checker, or NULL with @error. */
GcPlayback *gc_playback_new (const GcConfig *config, GError **error);

/* The signed-in viewer of a token request comes from @api (the server
 * keeps a reference). Without it every token request is 401. */
void gc_playback_set_accounts (GcPlayback *playback, GcAccountsApi *api);

/* Who besides a channel's owner gets tokens for playback=token channels;
 * without an authorizer nobody else does (deny by default). Any signed-in
 * viewer gets them for public channels without asking it. @destroy frees
 * @user_data. */
void gc_playback_set_authorizer (GcPlayback *playback,
                                 GcPlaybackAuthorizeFunc func,
                                 gpointer user_data, GDestroyNotify destroy);

/* Whether @channel is configured playback=token. */
gboolean gc_playback_channel_needs_token (GcPlayback *playback,
                                          const gchar *channel);

/* For a request of /live/@channel/...: TRUE at once for public channels;
 * for token channels, TRUE when the "token" query parameter (else a
 * gc_play cookie) is valid for @channel now, else FALSE with
 * GC_ORIGIN_ERROR_FORBIDDEN. A valid query token is remembered on @msg for
 * gc_playback_request_query_token(). */
gboolean gc_playback_check_request (GcPlayback *playback,
                                    SoupServerMessage *msg,
                                    const gchar *channel, GError **error);

/* Returns: (transfer none) (nullable): the query token that
 * gc_playback_check_request() accepted for @msg, or NULL (public channel,
 * cookie, no check). Playlists for such requests carry it in every URI. */
const gchar *gc_playback_request_query_token (SoupServerMessage *msg);

/* Returns: (transfer full): @playlist (an m3u8) with "token=@token" added
 * to every URI: URI lines and every URI="..." attribute (EXT-X-MAP, -PART,
 * -PRELOAD-HINT, -RENDITION-REPORT, -MEDIA...). @token must be URL-safe
 * (a verified token is). */
GBytes *gc_playback_rewrite_playlist (GBytes *playlist, const gchar *token);

/* Serves GET /api/v1/playback-token?channel=NAME on @soup:
 * {"token","expires","channel"} and the gc_play cookie for the signed-in
 * viewer, 401 anonymous, 403 not authorized. */
void gc_playback_attach (GcPlayback *playback, SoupServer *soup);

/* The cookie and query token of a request, exposed for tests. */

/* Returns: (transfer full) (array zero-terminated=1): the values of every
 * gc_play cookie in @cookie_header (at most 4), possibly empty. */
gchar **gc_playback_cookie_tokens (const gchar *cookie_header);

G_END_DECLS

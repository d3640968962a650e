/* server.h — GcServer, glasscastd's one HTTP face: a SoupServer with /healthz, /metrics and the origin.
 * Later services (WHIP, chat, billing) mount their handlers on it too. */

#pragma once

#include <libsoup/soup.h>

#include "accounts-api.h"
#include "billing-http.h"
#include "channels.h"
#include "chat-http.h"
#include "origin.h"
#include "playback.h"

G_BEGIN_DECLS

#define GC_TYPE_SERVER (gc_server_get_type ())
G_DECLARE_FINAL_TYPE (GcServer, gc_server, GC, SERVER, GObject)

/* Returns: (transfer full): a server that serves @origin at /live. */
GcServer *gc_server_new (GcOrigin *origin);

/* Serves WHIP at /whip and the channel API at /api/v1 for @channels, and
 * adds their health to /metrics. @config must outlive the server. */
void gc_server_add_channels (GcServer *server, GcChannels *channels,
                             const GcConfig *config);

/* Serves the ingest and watch pages (/ingest/<channel>, /watch/<channel>)
 * and their files (/web/) from @config's web-dir and hlsjs-path. */
void gc_server_add_web (GcServer *server, const GcConfig *config);

/* Serves sign-up, sign-in, sign-out, /api/v1/me and channel roles with
 * @api (call after gc_server_add_channels(): roles and owners go through
 * the channel API). The server keeps a reference. */
void gc_server_add_accounts (GcServer *server, GcAccountsApi *api);

/* Returns: (transfer none) (nullable): the accounts API, NULL before
 * gc_server_add_accounts() (and in origin-only mode). */
GcAccountsApi *gc_server_get_accounts_api (GcServer *server);

/* Serves the chat (/chat/<channel>, /api/v1/chat/) and adds its figures
 * to /metrics. @chat must outlive the server's listening. */
void gc_server_add_chat (GcServer *server, GcChatHttp *chat);

/* Checks playback tokens on the origin's token channels and serves
 * /api/v1/playback-token with @playback (both keep a reference). */
void gc_server_add_playback (GcServer *server, GcPlayback *playback);

/* Serves the Stripe webhook and the billing API under /api/v1/billing/.
 * @billing must outlive the server's listening. */
void gc_server_add_billing (GcServer *server, GcBillingHttp *billing);

/* Listens on @address (port 0: the kernel picks one).
 * Returns: (transfer full) (nullable): the URI actually bound, e.g.
 * "http://127.0.0.1:39311", or NULL with @error. */
gchar *gc_server_listen (GcServer *server, GSocketAddress *address,
                         GError **error);

/* Stops listening and closes every connection. */
void gc_server_stop (GcServer *server);

G_END_DECLS

/* api.h — GcApi, the JSON channel API under /api/v1/: channel health for everyone, creation for the admin.
 * Errors are {"error":{"code","message"}} through http-util.c, like every glasscastd handler. */

#pragma once

#include <libsoup/soup.h>

#include "accounts-api.h"
#include "channels.h"
#include "origin.h"

G_BEGIN_DECLS

#define GC_TYPE_API (gc_api_get_type ())
G_DECLARE_FINAL_TYPE (GcApi, gc_api, GC, API, GObject)

/* Returns: (transfer full): the API over @channels; @origin (nullable)
 * gives last part times; @config (admin token hash) must outlive it. */
GcApi *gc_api_new (GcChannels *channels, GcOrigin *origin,
                   const GcConfig *config);

/* Serves /api/v1 on @server. */
void gc_api_attach (GcApi *api, SoupServer *server);

/* Enables channel owners ("owner" on create, checked against @accounts)
 * and routes /api/v1/channels/<name>/roles[/<username>] to @accounts. */
void gc_api_set_accounts (GcApi *api, GcAccountsApi *accounts);

G_END_DECLS

/* whip.h — GcWhip, glasscastd's WHIP endpoint (RFC 9725): /whip/<channel> and its sessions.
 * Checks keys and offers, hands offers to the channel's worker, answers asynchronously. */

#pragma once

#include <libsoup/soup.h>

#include "channels.h"

G_BEGIN_DECLS

#define GC_TYPE_WHIP (gc_whip_get_type ())
G_DECLARE_FINAL_TYPE (GcWhip, gc_whip, GC, WHIP, GObject)

/* Returns: (transfer full): an endpoint for @channels; @config (STUN/TURN
 * Link headers, public address) must outlive it. */
GcWhip *gc_whip_new (GcChannels *channels, const GcConfig *config);

/* Serves /whip on @server. */
void gc_whip_attach (GcWhip *whip, SoupServer *server);

G_END_DECLS

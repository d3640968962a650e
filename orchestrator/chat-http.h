/* chat-http.h — the chat as glasscastd serves it: /chat/<channel> WebSocket upgrades handed to the
 * chat hub, the moderation and archive JSON API under /api/v1/chat/, chat figures for /metrics. */

#pragma once

#include <libsoup/soup.h>

#include "accounts-api.h"
#include "channels.h"
#include "config.h"
#include "service.h"

G_BEGIN_DECLS

typedef struct _GcChatHttp GcChatHttp;

/* Starts the chat service (hub threads, Redis links to config->chat.redis,
 * archive) for the channels of @channels; identities come from
 * @accounts_api's sessions. @config must outlive the result.
 * Returns: (transfer full) (nullable) */
GcChatHttp *gc_chat_http_new (const GcConfig *config, GcChannels *channels,
                              GcAccountsApi *accounts_api, GError **error);

void gc_chat_http_attach (GcChatHttp *chat, SoupServer *soup);

/* Appends glasscast_chat_* series in the Prometheus text format. */
void gc_chat_http_append_metrics (GcChatHttp *chat, GString *out);

GcChatService *gc_chat_http_get_service (GcChatHttp *chat);

/* Called on the main context when a moderator of this node bans @login
 * (a username) from @room; billing stops the viewer's renewals. */
typedef void (*GcChatBanFunc) (const gchar *room, const gchar *login,
                               gpointer user_data);
void gc_chat_http_set_ban_func (GcChatHttp *chat, GcChatBanFunc func,
                                gpointer user_data);

/* Stops the hub (every viewer's socket closes) and the service. */
void gc_chat_http_free (GcChatHttp *chat);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcChatHttp, gc_chat_http_free)

G_END_DECLS

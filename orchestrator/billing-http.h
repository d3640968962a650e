/* billing-http.h — billing as glasscastd serves it: the Stripe webhook (/api/v1/billing/stripe/webhook) and the
 * creators' and viewers' JSON API under /api/v1/billing/; SQLite work on one billing thread, one job at a time. */

#pragma once

#include <libsoup/soup.h>

#include "accounts-api.h"
#include "billing.h"
#include "config.h"
#include "service.h"

G_BEGIN_DECLS

typedef struct _GcBillingHttp GcBillingHttp;

/* Opens the ledger ([billing] database, else data-dir/billing.db) and the
 * billing tables, sets the split to [billing] platform-share, and reads
 * the webhook secrets (webhook-secrets-file, one whsec_ per line, or
 * $GLASSCAST_STRIPE_WEBHOOK_SECRETS, comma-separated). Without secrets the
 * webhook answers 503 "billing not configured"; the read API still works.
 * Returns: (transfer full) (nullable) */
GcBillingHttp *gc_billing_http_new (const GcConfig *config, GError **error);

/* Sessions for the read API (creator = signed-in account). */
void gc_billing_http_set_accounts (GcBillingHttp *http, GcAccountsApi *api);

/* Where tips are announced (gc_chat_service_publish_tip, on the main
 * context) once their payment succeeded. @service: (nullable) */
void gc_billing_http_set_chat (GcBillingHttp *http, GcChatService *service);

void gc_billing_http_attach (GcBillingHttp *http, SoupServer *soup);

/* Whether webhook secrets are configured. */
gboolean gc_billing_http_is_enabled (GcBillingHttp *http);

/* A banned viewer's renewals stop: called by the chat wiring when @viewer
 * (an accounts id) is banned from @channel. Marks their subscriptions to
 * the channel cancel_at_period_end (access lasts to the end of the paid
 * period) and records a "cancel_at_period_end" intent in billing_outbound
 * for the Stripe client. Queued on the billing thread; returns at once. */
void gc_billing_on_ban (GcBillingHttp *http, gint64 viewer,
                        const gchar *channel);

/* Waits for queued jobs, then closes the ledger. */
void gc_billing_http_free (GcBillingHttp *http);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBillingHttp, gc_billing_http_free)

G_END_DECLS

/* billing-http.h — billing as glasscastd serves it: the Stripe webhook (/api/v1/billing/stripe/webhook) and the
 * creators' and viewers' JSON API under /api/v1/billing/; SQLite work on one billing thread, one job at a time. */

#pragma once

#include <libsoup/soup.h>

#include "accounts-api.h"
#include "billing.h"
#include "config.h"
#include "channels.h"
#include "service.h"

G_BEGIN_DECLS

typedef struct _GcBillingHttp GcBillingHttp;
typedef struct _GcBillingActions GcBillingActions;

/* Opens the ledger ([billing] database, else data-dir/billing.db) and the
 * billing tables, sets the split to [billing] platform-share, and reads
 * the webhook secrets (webhook-secrets-file, one whsec_ per line, or
 * $GLASSCAST_STRIPE_WEBHOOK_SECRETS, comma-separated). Without secrets the
 * webhook answers 503 "billing not configured"; the read API still works.
 * Returns: (transfer full) (nullable) */
GcBillingHttp *gc_billing_http_new (const GcConfig *config, GError **error);

/* Sessions for the read API (creator = signed-in account). */
void gc_billing_http_set_accounts (GcBillingHttp *http, GcAccountsApi *api);
/* Returns: (transfer none) (nullable) */
GcAccountsApi *gc_billing_http_get_accounts (GcBillingHttp *http);

/* Where tips are announced (gc_chat_service_publish_tip, on the main
 * context) once their payment succeeded. @service: (nullable) */
void gc_billing_http_set_chat (GcBillingHttp *http, GcChatService *service);

/* Where viewer actions find a channel's owner. @channels: (nullable) */
void gc_billing_http_set_channels (GcBillingHttp *http, GcChannels *channels);

/* Returns: (transfer none): the viewer and creator actions
 * (billing-actions.h): subscribe, tip, buy PPV, onboarding, payouts. */
GcBillingActions *gc_billing_http_get_actions (GcBillingHttp *http);

void gc_billing_http_attach (GcBillingHttp *http, SoupServer *soup);

/* Runs @func with the state on the billing thread and waits for it. For
 * worker threads only: never from the main context (a request would wait
 * behind queued jobs) nor from the billing thread itself (deadlock). */
typedef void (*GcBillingStateFunc) (GcBillingState *state, gpointer data);
void gc_billing_http_run_sync (GcBillingHttp *http, GcBillingStateFunc func,
                               gpointer data);

/* Queues @func with the state on the billing thread and returns at once;
 * @done then runs with @data on the main context (where a paused request
 * is answered and @data freed). For the main context: work that is SQLite
 * only need not wait behind a worker's Stripe call. */
void gc_billing_http_run_async (GcBillingHttp *http, GcBillingStateFunc func,
                                GSourceFunc done, gpointer data);

/* Whether webhook secrets are configured. */
gboolean gc_billing_http_is_enabled (GcBillingHttp *http);

/* A banned viewer's renewals stop: called by the chat wiring when @viewer
 * (an accounts id) is banned from @channel. Marks their subscriptions to
 * the channel cancel_at_period_end (access lasts to the end of the paid
 * period) and records a "cancel_at_period_end" intent in billing_outbound
 * for the Stripe client, which performs it next (billing-actions.c).
 * Queued on the billing thread; returns at once. */
void gc_billing_on_ban (GcBillingHttp *http, gint64 viewer,
                        const gchar *channel);

/* Waits for queued jobs, then closes the ledger. */
void gc_billing_http_free (GcBillingHttp *http);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBillingHttp, gc_billing_http_free)

G_END_DECLS

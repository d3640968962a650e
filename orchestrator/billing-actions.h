/* billing-actions.h — what viewers and creators ask Stripe for through glasscastd: onboarding, subscribing (at the
 * channel's own monthly price), tips, PPV purchases, cancelling, payouts; the ban hook's outbound cancels; the
 * playback authorizer for PPV events. */

#pragma once

#include <libsoup/soup.h>

#include "accounts-api.h"
#include "billing-http.h"
#include "billing.h"
#include "channels.h"
#include "config.h"

G_BEGIN_DECLS

/* Made by gc_billing_http_new() for its state (@state is used only here,
 * on the calling thread, before any job runs: it creates the actions'
 * tables). The Stripe client comes from [billing] stripe-api-base and the
 * key in stripe-secret-key-file, else $GLASSCAST_STRIPE_API_KEY; without a
 * key the actions answer 503 and everything else still works.
 * Returns: (transfer full) (nullable) */
GcBillingActions *gc_billing_actions_new (const GcConfig *config,
                                          GcBillingHttp *http,
                                          GcBillingState *state,
                                          GError **error);

/* Sessions and channel owners. NULL arguments leave what was set. */
void gc_billing_actions_set_lookup (GcBillingActions *actions,
                                    GcAccountsApi *api, GcChannels *channels);

/* Serves the action endpoints (orchestrator/API.md "Billing") for
 * billing-http's handler, on the main context: TRUE when @path was one of
 * them (answered, or paused until a worker thread is done; a channel's
 * price, SQLite only, until the billing thread is). @account is the
 * signed-in caller (0: anonymous). */
gboolean gc_billing_actions_route (GcBillingActions *actions,
                                   SoupServerMessage *msg, const gchar *path,
                                   GHashTable *query, gint64 account,
                                   const gchar *username);

/* Performs the outbound intents (billing_outbound: a banned viewer's
 * cancel_at_period_end) on a worker thread, unless a run is going on.
 * Also runs every 30 s, so failed calls are retried. */
void gc_billing_actions_kick_outbound (GcBillingActions *actions);

/* A GcPlaybackAuthorizeFunc (@user_data: the actions), asked about
 * playback=token channels: TRUE for a viewer entitled to one of its PPV
 * events whose window holds now (starts_at - 1 h to ends_at, or to
 * starts_at + 12 h without an end). One indexed read on its own read-only
 * SQLite connection, on the main context. */
gboolean gc_billing_actions_authorize (const gchar *channel, gint64 viewer,
                                       gpointer user_data);

/* Waits for the worker threads (they may be waiting for Stripe). */
void gc_billing_actions_free (GcBillingActions *actions);

G_END_DECLS

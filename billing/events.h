/* events.h — applies one verified Stripe webhook event, exactly once: the event id and its effects (ledger flows,
 * state rows) in one transaction; any delivery order and any duplicates end in the same state. */

#pragma once

#include <glib.h>

#include "state.h"

G_BEGIN_DECLS

/* The metadata the Stripe client puts on what it creates (billing/README.md,
 * "Metadata"): on payment intents (payment_intent_data[metadata] in
 * Checkout), on subscriptions (subscription_data[metadata]) and on the
 * Checkout session itself; creators' connected accounts carry
 * glasscast_creator. Ids are decimal accounts ids. */
#define GC_BILLING_META_KIND "glasscast_kind" /* tip, subscription, ppv */
#define GC_BILLING_META_CREATOR "glasscast_creator"
#define GC_BILLING_META_VIEWER "glasscast_viewer"
#define GC_BILLING_META_VIEWER_NAME "glasscast_viewer_name"
#define GC_BILLING_META_CHANNEL "glasscast_channel"
#define GC_BILLING_META_MESSAGE "glasscast_message"
#define GC_BILLING_META_PPV_EVENT "glasscast_ppv_event"

typedef enum {
  GC_BILLING_EVENT_FAILED = 0, /* with a GError; nothing was recorded */
  GC_BILLING_EVENT_APPLIED,    /* recorded, effects written */
  GC_BILLING_EVENT_DUPLICATE,  /* this event id was processed before */
  GC_BILLING_EVENT_IGNORED,    /* recorded; a type (or object) not ours */
  /* Depends on an event not seen yet (a refund before its charge...):
   * nothing recorded, the GError says what; answer non-2xx so Stripe
   * delivers it again. */
  GC_BILLING_EVENT_RETRY,
} GcBillingEventOutcome;

/* A tip whose payment succeeded with this event, to show in chat. */
typedef struct {
  gchar *id; /* the payment intent */
  gchar *channel;
  gint64 viewer;
  gchar *viewer_name; /* (nullable) */
  gchar *message;     /* (nullable) */
  GcMoney amount;
} GcBillingTip;

void gc_billing_tip_free (GcBillingTip *tip);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBillingTip, gc_billing_tip_free)

/* Announcing tips in chat happens after the commit that made them succeed,
 * so a crash in between would lose it: the caller records each
 * announcement, and on start announces what succeeded since @since (event
 * time, seconds) and was never announced.
 * Returns: (transfer full) (element-type GcBillingTip) (nullable): oldest
 * first; NULL with @error on a storage error. */
GPtrArray *gc_billing_unannounced_tips (GcBillingState *state, gint64 since,
                                        GError **error);

/* Records that tip @id was announced at @when (seconds); again: nothing. */
gboolean gc_billing_mark_tip_announced (GcBillingState *state, const gchar *id,
                                        gint64 when, GError **error);

/* Applies the Stripe event @json (@len bytes, the verified raw body) to
 * @state and its ledger in one transaction (BEGIN IMMEDIATE ... COMMIT):
 * the event id goes into billing_events and every effect is written, or
 * nothing is. @now: the local clock (processed_at).
 * @tip: (out) (optional) (transfer full) (nullable): set when this event
 * made a tip succeed (at most once per tip, even across events).
 * Errors: INVALID_ARGUMENT for JSON that is no Stripe event (answer 400);
 * NOT_FOUND / INSUFFICIENT_FUNDS with RETRY; STORAGE, CONFLICT, ... with
 * FAILED (answer 500: Stripe retries). */
GcBillingEventOutcome gc_billing_apply_event (GcBillingState *state,
                                              const gchar *json, gsize len,
                                              gint64 now, GcBillingTip **tip,
                                              GError **error);

/* Returns: (transfer none): "applied", "duplicate", "ignored", "retry",
 * "failed". */
const gchar *gc_billing_event_outcome_to_string (GcBillingEventOutcome outcome);

G_END_DECLS

/* fuzz-billing-events.c — libFuzzer target for the Stripe webhook event reader and its ledger effects
 * (billing/events.c over state.c and ledger.c). Input: one event body, as it arrives after its signature was
 * verified. Every input is applied to the same in-memory ledger, so sequences (a payment, then its refund,
 * dispute...) build up across runs. Nothing may crash or leak, a refused event must say why, and the ledger
 * must balance after every input. */

#include "events.h"
#include "ledger.h"
#include "state.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* 2025-01-15T00:00:00Z */
#define FUZZ_NOW G_GINT64_CONSTANT (1736899200)
/* A fresh ledger now and then keeps each run fast. */
#define FUZZ_EVENTS_PER_LEDGER 20000

static GcLedger *ledger;
static GcBillingState *state;
static guint applied;

static void
open_ledger (void)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&state, gc_billing_state_free);
  g_clear_pointer (&ledger, gc_ledger_free);
  ledger = gc_ledger_open (":memory:", &error);
  g_assert (ledger != NULL);
  state = gc_billing_state_new (ledger, &error);
  g_assert (state != NULL);
  applied = 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcBillingTip) tip = NULL;
  GcBillingEventOutcome outcome;

  if (state == NULL || ++applied > FUZZ_EVENTS_PER_LEDGER)
    open_ledger ();
  outcome = gc_billing_apply_event (state, (const gchar *)data, size, FUZZ_NOW,
                                    &tip, &error);
  g_assert (gc_billing_event_outcome_to_string (outcome) != NULL);
  if (outcome == GC_BILLING_EVENT_FAILED || outcome == GC_BILLING_EVENT_RETRY)
    g_assert (error != NULL && error->message != NULL);
  else
    g_assert (error == NULL);
  g_assert (tip == NULL || outcome == GC_BILLING_EVENT_APPLIED);
  g_clear_error (&error);
  g_assert (gc_ledger_verify (ledger, &error));
  return 0;
}

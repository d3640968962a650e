/* test-events.c — billing/events.c: each Stripe event type's effects on the ledger and the state, duplicates,
 * out-of-order delivery, and every flow's events applied in 50 random orders with duplicates (issue 6, acceptance 3). */

#include <glib/gstdio.h>
#include <string.h>

#include "billing.h"
#include "event-fixtures.h"

typedef struct {
  gchar *dir;
  GcLedger *ledger;
  GcBillingState *state;
} Fixture;

static void
fixture_open (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = g_build_filename (f->dir, "billing.db", NULL);

  f->ledger = gc_ledger_open (path, &error);
  g_assert_no_error (error);
  f->state = gc_billing_state_new (f->ledger, &error);
  g_assert_no_error (error);
}

static void
fixture_close (Fixture *f)
{
  g_autofree gchar *path = g_build_filename (f->dir, "billing.db", NULL);
  g_autofree gchar *wal = g_strconcat (path, "-wal", NULL);
  g_autofree gchar *shm = g_strconcat (path, "-shm", NULL);

  g_clear_pointer (&f->state, gc_billing_state_free);
  g_clear_pointer (&f->ledger, gc_ledger_free);
  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("billing-events-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  fixture_open (f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (gc_ledger_verify (f->ledger, &error));
  g_assert_no_error (error);
  fixture_close (f);
  g_rmdir (f->dir);
  g_free (f->dir);
}

static gint64
balance (Fixture *f, const gchar *account)
{
  g_autoptr (GError) error = NULL;
  gint64 value = 0;

  g_assert_true (gc_ledger_balance (f->ledger, account, "USD", &value, &error));
  g_assert_no_error (error);
  return value;
}

static gint64
creator_balance (Fixture *f)
{
  g_autofree gchar *account = gc_ledger_creator_account (FX_CREATOR);

  return balance (f, account);
}

static GcBillingEventOutcome
apply_tip (Fixture *f, const gchar *json, GcBillingTip **tip)
{
  g_autoptr (GError) error = NULL;
  GcBillingEventOutcome outcome = gc_billing_apply_event (
      f->state, json, strlen (json), FX_T0, tip, &error);

  g_assert_true (outcome != GC_BILLING_EVENT_FAILED);
  return outcome;
}

/* --- one event type at a time -------------------------------------------------- */

static void
test_tip_succeeded (Fixture *f, gconstpointer data)
{
  g_autofree gchar *ev =
      fx_payment ("evt_tip", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL,
                  "\"glasscast_message\": \"gg, \\\"nice\\\"\", "
                  "\"glasscast_viewer_name\": \"Bob\"");
  g_autoptr (GcBillingTip) tip = NULL;
  g_autoptr (GcBillingTip) again = NULL;

  g_assert_cmpint (apply_tip (f, ev, &tip), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_nonnull (tip);
  g_assert_cmpstr (tip->id, ==, "pi_tip");
  g_assert_cmpstr (tip->channel, ==, FX_CHANNEL);
  g_assert_cmpstr (tip->viewer_name, ==, "Bob");
  g_assert_cmpstr (tip->message, ==, "gg, \"nice\"");
  g_assert_cmpint (tip->viewer, ==, FX_VIEWER);
  g_assert_cmpint (tip->amount.amount, ==, 1000);
  g_assert_cmpstr (tip->amount.currency, ==, "USD");
  /* 85/15 */
  g_assert_cmpint (creator_balance (f), ==, 850);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_PLATFORM_FEES), ==, 150);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS), ==, -1000);
  /* The same event again: nothing, and no second alert. */
  g_assert_cmpint (apply_tip (f, ev, &again), ==, GC_BILLING_EVENT_DUPLICATE);
  g_assert_null (again);
  g_assert_cmpint (creator_balance (f), ==, 850);
  g_assert_cmpint (gc_billing_state_count_events (f->state), ==, 1);
}

static void
test_tip_other_event_same_payment (Fixture *f, gconstpointer data)
{
  g_autofree gchar *a =
      fx_payment ("evt_a", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autofree gchar *b =
      fx_payment ("evt_b", FX_T0 + 11, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autoptr (GcBillingTip) first = NULL;
  g_autoptr (GcBillingTip) second = NULL;

  g_assert_cmpint (apply_tip (f, a, &first), ==, GC_BILLING_EVENT_APPLIED);
  /* Another event id about the same charge: recorded, money once. */
  g_assert_cmpint (apply_tip (f, b, &second), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_nonnull (first);
  g_assert_null (second);
  g_assert_cmpint (creator_balance (f), ==, 850);
}

static void
test_tip_failed_then_succeeded (Fixture *f, gconstpointer data)
{
  g_autofree gchar *failed =
      fx_payment ("evt_f", FX_T0 + 10, "payment_intent.payment_failed",
                  "pi_tip", "ch_f", 1000, "tip", NULL, NULL);
  g_autofree gchar *ok =
      fx_payment ("evt_ok", FX_T0 + 20, "payment_intent.succeeded", "pi_tip",
                  "ch_ok", 1000, "tip", NULL, NULL);
  g_autoptr (GcBillingTip) tip = NULL;

  g_assert_cmpint (fx_apply (f->state, failed), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 0);
  g_assert_cmpint (apply_tip (f, ok, &tip), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_nonnull (tip);
  g_assert_cmpint (creator_balance (f), ==, 850);
}

static void
test_refund_before_charge_retries (Fixture *f, gconstpointer data)
{
  gint64 amounts[] = {400};
  g_autofree gchar *refund =
      fx_refunded ("evt_r", FX_T0 + 30, "ch_tip", 1000, 1, amounts);
  g_autofree gchar *pay =
      fx_payment ("evt_p", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (gc_billing_apply_event (f->state, refund, strlen (refund),
                                           FX_T0, NULL, &error),
                   ==, GC_BILLING_EVENT_RETRY);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND);
  /* Not recorded: its redelivery applies it. */
  g_assert_cmpint (gc_billing_state_count_events (f->state), ==, 0);
  g_assert_cmpint (fx_apply (f->state, pay), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (fx_apply (f->state, refund), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 850 - 340);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_PLATFORM_FEES), ==, 90);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS), ==, -600);
}

static void
test_refund_partial_then_full (Fixture *f, gconstpointer data)
{
  gint64 amounts[] = {333, 667};
  g_autofree gchar *pay =
      fx_payment ("evt_p", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autofree gchar *first =
      fx_refunded ("evt_r1", FX_T0 + 30, "ch_tip", 1000, 1, amounts);
  g_autofree gchar *both =
      fx_refunded ("evt_r2", FX_T0 + 40, "ch_tip", 1000, 2, amounts);

  fx_apply (f->state, pay);
  /* The later event lists both refunds: the first again changes nothing. */
  fx_apply (f->state, both);
  fx_apply (f->state, first);
  g_assert_cmpint (creator_balance (f), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_PLATFORM_FEES), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS), ==, 0);
}

/* API versions since 2022-11-15: charge.refunded lists no refunds, the
 * refund.* events carry them. Each refund moves money once by its id,
 * whichever events name it (a list from an older version included). */
static void
test_refund_events (Fixture *f, gconstpointer data)
{
  gint64 listed[] = {400};
  g_autofree gchar *pay =
      fx_payment ("evt_p", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autofree gchar *bare =
      fx_refunded_bare ("evt_c", FX_T0 + 30, "ch_tip", 1000, 400);
  g_autofree gchar *created =
      fx_refund ("evt_r1", FX_T0 + 30, "refund.created", "re_ch_tip_0",
                 "ch_tip", 400, "pending");
  g_autofree gchar *updated =
      fx_refund ("evt_r2", FX_T0 + 31, "refund.updated", "re_ch_tip_0",
                 "ch_tip", 400, "succeeded");
  g_autofree gchar *list =
      fx_refunded ("evt_l", FX_T0 + 32, "ch_tip", 1000, 1, listed);
  g_autofree gchar *failed = fx_refund ("evt_r3", FX_T0 + 40, "refund.created",
                                        "re_2", "ch_tip", 100, "failed");
  g_autofree gchar *second = fx_refund ("evt_r4", FX_T0 + 50, "refund.created",
                                        "re_3", "ch_tip", 600, "succeeded");

  g_assert_cmpint (fx_apply (f->state, pay), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (fx_apply (f->state, bare), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 850);
  g_assert_cmpint (fx_apply (f->state, created), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 850 - 340);
  g_assert_cmpint (fx_apply (f->state, updated), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (fx_apply (f->state, list), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 850 - 340);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS), ==, -600);
  /* A failed refund moves nothing; the rest of the charge, all of it. */
  g_assert_cmpint (fx_apply (f->state, failed), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 850 - 340);
  g_assert_cmpint (fx_apply (f->state, second), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_PLATFORM_FEES), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS), ==, 0);
}

/* A refund.* event before its charge is in the ledger is retried; one
 * without a charge, or a refunds list with no objects in it, is refused
 * without a GLib critical (fatal here) and records nothing. */
static void
test_refund_event_order_and_malformed (Fixture *f, gconstpointer data)
{
  g_autofree gchar *pay =
      fx_payment ("evt_p", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autofree gchar *early = fx_refund ("evt_r1", FX_T0 + 30, "refund.created",
                                       "re_1", "ch_tip", 250, "succeeded");
  g_autofree gchar *no_charge =
      fx_event ("evt_x1", FX_T0 + 31, "refund.created", NULL,
                "{\"id\": \"re_9\", \"object\": \"refund\", \"amount\": 5, "
                "\"status\": \"succeeded\"}");
  g_autofree gchar *odd_list = fx_event (
      "evt_x2", FX_T0 + 32, "charge.refunded", NULL,
      "{\"id\": \"ch_tip\", \"object\": \"charge\", \"amount\": 1000, "
      "\"currency\": \"usd\", \"metadata\": {}, \"transfer_data\": "
      "{\"destination\": \"" FX_ACCT "\"}, \"refunds\": {\"object\": "
      "\"list\", \"data\": [7, \"re_1\"]}}");
  const gchar *bad[] = {no_charge, odd_list};
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (gc_billing_apply_event (f->state, early, strlen (early),
                                           FX_T0, NULL, &error),
                   ==, GC_BILLING_EVENT_RETRY);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND);
  g_assert_cmpint (gc_billing_state_count_events (f->state), ==, 0);
  g_assert_cmpint (fx_apply (f->state, pay), ==, GC_BILLING_EVENT_APPLIED);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) e = NULL;

    g_assert_cmpint (gc_billing_apply_event (f->state, bad[i], strlen (bad[i]),
                                             FX_T0, NULL, &e),
                     ==, GC_BILLING_EVENT_FAILED);
    g_assert_nonnull (e);
  }
  g_assert_cmpint (gc_billing_state_count_events (f->state), ==, 1);
  g_assert_cmpint (creator_balance (f), ==, 850);
  g_assert_cmpint (fx_apply (f->state, early), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 850 - 212);
}

/* Succeeded tips not announced yet, since a time, oldest first; announced
 * once; a failed one never listed. */
static void
test_unannounced_tips (Fixture *f, gconstpointer data)
{
  g_autofree gchar *old =
      fx_payment ("evt_o", FX_T0 + 10, "payment_intent.succeeded", "pi_old",
                  "ch_old", 300, "tip", NULL, NULL);
  g_autofree gchar *a =
      fx_payment ("evt_a", FX_T0 + 100, "payment_intent.succeeded", "pi_a",
                  "ch_a", 500, "tip", NULL, "\"glasscast_message\": \"hi\"");
  g_autofree gchar *b =
      fx_payment ("evt_b", FX_T0 + 90, "payment_intent.succeeded", "pi_b",
                  "ch_b", 700, "tip", NULL, NULL);
  g_autofree gchar *failed =
      fx_payment ("evt_f", FX_T0 + 95, "payment_intent.payment_failed", "pi_f",
                  "ch_f", 900, "tip", NULL, NULL);
  g_autoptr (GPtrArray) tips = NULL;
  g_autoptr (GPtrArray) left = NULL;
  g_autoptr (GError) error = NULL;
  GcBillingTip *t;

  fx_apply (f->state, old);
  fx_apply (f->state, a);
  fx_apply (f->state, b);
  fx_apply (f->state, failed);
  tips = gc_billing_unannounced_tips (f->state, FX_T0 + 50, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tips->len, ==, 2);
  t = g_ptr_array_index (tips, 0);
  g_assert_cmpstr (t->id, ==, "pi_b");
  g_assert_cmpint (t->amount.amount, ==, 700);
  g_assert_cmpstr (t->amount.currency, ==, "USD");
  g_assert_cmpstr (t->channel, ==, FX_CHANNEL);
  g_assert_cmpint (t->viewer, ==, FX_VIEWER);
  t = g_ptr_array_index (tips, 1);
  g_assert_cmpstr (t->id, ==, "pi_a");
  g_assert_cmpstr (t->message, ==, "hi");
  g_assert_true (
      gc_billing_mark_tip_announced (f->state, "pi_b", FX_T0 + 200, &error));
  g_assert_true (
      gc_billing_mark_tip_announced (f->state, "pi_b", FX_T0 + 300, &error));
  left = gc_billing_unannounced_tips (f->state, FX_T0 + 50, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (left->len, ==, 1);
  g_assert_cmpstr (((GcBillingTip *)g_ptr_array_index (left, 0))->id, ==,
                   "pi_a");
}

static void
test_dispute_won (Fixture *f, gconstpointer data)
{
  g_autofree gchar *pay =
      fx_payment ("evt_p", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autofree gchar *opened =
      fx_dispute ("evt_d1", FX_T0 + 50, "charge.dispute.created", "du_1",
                  "ch_tip", 1000, "needs_response");
  g_autofree gchar *won =
      fx_dispute ("evt_d2", FX_T0 + 60, "charge.dispute.closed", "du_1",
                  "ch_tip", 1000, "won");

  fx_apply (f->state, pay);
  fx_apply (f->state, opened);
  g_assert_cmpint (creator_balance (f), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_DISPUTES_HELD), ==, 1000);
  fx_apply (f->state, won);
  g_assert_cmpint (creator_balance (f), ==, 850);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_DISPUTES_HELD), ==, 0);
}

static void
test_dispute_lost_closed_before_created (Fixture *f, gconstpointer data)
{
  g_autofree gchar *pay =
      fx_payment ("evt_p", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 1000, "tip", NULL, NULL);
  g_autofree gchar *opened =
      fx_dispute ("evt_d1", FX_T0 + 50, "charge.dispute.created", "du_1",
                  "ch_tip", 1000, "needs_response");
  g_autofree gchar *lost =
      fx_dispute ("evt_d2", FX_T0 + 60, "charge.dispute.closed", "du_1",
                  "ch_tip", 1000, "lost");

  fx_apply (f->state, pay);
  g_assert_cmpint (fx_apply (f->state, lost), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (fx_apply (f->state, opened), ==, GC_BILLING_EVENT_APPLIED);
  g_assert_cmpint (creator_balance (f), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_PLATFORM_FEES), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_DISPUTES_HELD), ==, 0);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS), ==, 0);
}

static void
test_subscription_lifecycle (Fixture *f, gconstpointer data)
{
  gint64 p1 = FX_T0 + FX_MONTH;
  gint64 p2 = FX_T0 + 2 * FX_MONTH;
  g_autofree gchar *acct = fx_account ("evt_acct", FX_T0, TRUE);
  g_autofree gchar *inv1 = fx_invoice ("evt_i1", FX_T0 + 1, "invoice.paid",
                                       "in_1", "sub_1", "cus_1", 500, p1);
  g_autofree gchar *pay1 =
      fx_payment ("evt_p1", FX_T0 + 1, "payment_intent.succeeded", "pi_s1",
                  "ch_s1", 500, NULL, "cus_1", NULL);
  g_autofree gchar *active =
      fx_subscription ("evt_s1", FX_T0 + 1, "customer.subscription.updated",
                       "sub_1", "cus_1", "active", p1, FALSE);
  g_autofree gchar *fail2 =
      fx_invoice ("evt_i2f", p1 + 1, "invoice.payment_failed", "in_2", "sub_1",
                  "cus_1", 500, p2);
  g_autofree gchar *past_due =
      fx_subscription ("evt_s2", p1 + 1, "customer.subscription.updated",
                       "sub_1", "cus_1", "past_due", p2, FALSE);
  g_autofree gchar *paid2 = fx_invoice ("evt_i2p", p1 + 100, "invoice.paid",
                                        "in_2", "sub_1", "cus_1", 500, p2);
  g_autofree gchar *pay2 =
      fx_payment ("evt_p2", p1 + 100, "payment_intent.succeeded", "pi_s2",
                  "ch_s2", 500, NULL, "cus_1", NULL);
  g_autofree gchar *cancel =
      fx_subscription ("evt_s3", p1 + 200, "customer.subscription.updated",
                       "sub_1", "cus_1", "active", p2, TRUE);
  g_autofree gchar *deleted =
      fx_subscription ("evt_s4", p2, "customer.subscription.deleted", "sub_1",
                       "cus_1", "canceled", p2, TRUE);
  g_autoptr (GPtrArray) subs = NULL;
  g_autoptr (GError) error = NULL;
  GcBillingSubscription *sub;

  fx_apply (f->state, acct);
  /* The invoice's payment intent carries no metadata: it waits for an
   * event naming its customer's subscription. */
  g_assert_cmpint (gc_billing_apply_event (f->state, pay1, strlen (pay1), FX_T0,
                                           NULL, &error),
                   ==, GC_BILLING_EVENT_RETRY);
  g_clear_error (&error);
  fx_apply (f->state, inv1);
  fx_apply (f->state, pay1);
  fx_apply (f->state, active);
  g_assert_cmpint (creator_balance (f), ==, 425);
  g_assert_true (gc_billing_state_has_active_subscription (
      f->state, FX_VIEWER, FX_CHANNEL, FX_T0 + 100));
  g_assert_false (gc_billing_state_has_active_subscription (
      f->state, FX_VIEWER, "other", FX_T0 + 100));
  g_assert_false (gc_billing_state_has_active_subscription (
      f->state, FX_VIEWER + 1, FX_CHANNEL, FX_T0 + 100));

  /* Renewal fails: past due, access for the grace days after p1. */
  fx_apply (f->state, fail2);
  fx_apply (f->state, past_due);
  subs = gc_billing_state_list_subscriptions (f->state, FX_VIEWER, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (subs->len, ==, 1);
  sub = subs->pdata[0];
  g_assert_cmpstr (sub->status, ==, "past_due");
  g_assert_cmpint (sub->paid_through, ==, p1);
  g_assert_true (gc_billing_state_has_active_subscription (
      f->state, FX_VIEWER, FX_CHANNEL, p1 + 3 * 86400 - 1));
  g_assert_false (gc_billing_state_has_active_subscription (
      f->state, FX_VIEWER, FX_CHANNEL, p1 + 3 * 86400));
  gc_billing_state_set_grace_days (f->state, 0);
  g_assert_false (gc_billing_state_has_active_subscription (f->state, FX_VIEWER,
                                                            FX_CHANNEL, p1));
  gc_billing_state_set_grace_days (f->state, 3);
  g_clear_pointer (&subs, g_ptr_array_unref);

  /* Paid on retry: active through p2. */
  fx_apply (f->state, pay2);
  fx_apply (f->state, paid2);
  g_assert_cmpint (creator_balance (f), ==, 850);
  subs = gc_billing_state_list_subscriptions (f->state, FX_VIEWER, &error);
  sub = subs->pdata[0];
  g_assert_cmpstr (sub->status, ==, "active");
  g_assert_cmpint (sub->paid_through, ==, p2);
  g_clear_pointer (&subs, g_ptr_array_unref);

  /* Canceled at period end: access to p2, then none. */
  fx_apply (f->state, cancel);
  fx_apply (f->state, deleted);
  subs = gc_billing_state_list_subscriptions (f->state, FX_VIEWER, &error);
  sub = subs->pdata[0];
  g_assert_cmpstr (sub->status, ==, "canceled");
  g_assert_true (sub->cancel_at_period_end);
  g_assert_false (gc_billing_state_has_active_subscription (f->state, FX_VIEWER,
                                                            FX_CHANNEL, p2));
}

static void
test_subscription_older_update_loses (Fixture *f, gconstpointer data)
{
  gint64 p1 = FX_T0 + FX_MONTH;
  g_autofree gchar *newer =
      fx_subscription ("evt_new", FX_T0 + 50, "customer.subscription.updated",
                       "sub_1", "cus_1", "active", p1, TRUE);
  g_autofree gchar *older =
      fx_subscription ("evt_old", FX_T0 + 10, "customer.subscription.updated",
                       "sub_1", "cus_1", "active", p1, FALSE);
  g_autoptr (GPtrArray) subs = NULL;

  fx_apply (f->state, newer);
  fx_apply (f->state, older);
  subs = gc_billing_state_list_subscriptions (f->state, 0, NULL);
  g_assert_cmpuint (subs->len, ==, 1);
  g_assert_true (
      ((GcBillingSubscription *)subs->pdata[0])->cancel_at_period_end);
}

static void
test_ppv_entitlement (Fixture *f, gconstpointer data)
{
  g_autofree gchar *cs = fx_checkout_ppv ("evt_cs", FX_T0 + 10, "pi_ppv", 42);
  g_autofree gchar *pay = fx_payment (
      "evt_p", FX_T0 + 9, "payment_intent.succeeded", "pi_ppv", "ch_ppv", 1500,
      "ppv", NULL, "\"glasscast_ppv_event\": \"42\"");

  g_assert_false (gc_billing_state_has_entitlement (f->state, FX_VIEWER, 42));
  fx_apply (f->state, cs);
  g_assert_true (gc_billing_state_has_entitlement (f->state, FX_VIEWER, 42));
  fx_apply (f->state, pay);
  g_assert_true (gc_billing_state_has_entitlement (f->state, FX_VIEWER, 42));
  g_assert_false (gc_billing_state_has_entitlement (f->state, FX_VIEWER, 43));
  g_assert_cmpint (creator_balance (f), ==, 1275);
}

static void
test_account_updated_links_creator (Fixture *f, gconstpointer data)
{
  g_autofree gchar *on = fx_account ("evt_on", FX_T0 + 20, TRUE);
  g_autofree gchar *off = fx_account ("evt_off", FX_T0 + 10, FALSE);
  g_autofree gchar *dump = NULL;

  fx_apply (f->state, on);
  fx_apply (f->state, off); /* older: loses */
  g_assert_cmpint (gc_billing_state_creator_for_account (f->state, FX_ACCT), ==,
                   FX_CREATOR);
  dump = gc_billing_state_dump (f->state, NULL);
  g_assert_nonnull (strstr (dump, FX_ACCT "|7|1|1|1|NULL|"));
}

static void
test_payout_paid_and_failed (Fixture *f, gconstpointer data)
{
  g_autofree gchar *acct = fx_account ("evt_acct", FX_T0, TRUE);
  g_autofree gchar *pay =
      fx_payment ("evt_p", FX_T0 + 10, "payment_intent.succeeded", "pi_tip",
                  "ch_tip", 10000, "tip", NULL, NULL);
  g_autofree gchar *created = fx_payout (
      "evt_po0", FX_T0 + 5000, "payout.created", "po_1", 3000, "pending");
  g_autofree gchar *paid =
      fx_payout ("evt_po1", FX_T0 + 6000, "payout.paid", "po_1", 3000, "paid");
  g_autofree gchar *failed = fx_payout (
      "evt_po2", FX_T0 + 6000, "payout.failed", "po_2", 2000, "failed");
  g_autoptr (GPtrArray) payouts = NULL;
  g_autoptr (GError) error = NULL;
  GcBillingPayout *po;

  /* No creator known for the account yet: later. */
  g_assert_cmpint (gc_billing_apply_event (f->state, paid, strlen (paid), FX_T0,
                                           NULL, &error),
                   ==, GC_BILLING_EVENT_RETRY);
  g_clear_error (&error);
  fx_apply (f->state, acct);
  fx_apply (f->state, pay);
  fx_apply (f->state, paid);
  fx_apply (f->state, created); /* older status: stays paid */
  fx_apply (f->state, failed);
  g_assert_cmpint (creator_balance (f), ==, 8500 - 3000);
  g_assert_cmpint (balance (f, GC_LEDGER_ACCOUNT_PAYOUTS_SENT), ==, 3000);
  payouts = gc_billing_state_list_payouts (f->state, FX_CREATOR, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (payouts->len, ==, 2);
  po = payouts->pdata[0];
  g_assert_cmpstr (po->id, ==, "po_1");
  g_assert_cmpstr (po->status, ==, "paid");
  g_assert_cmpuint (po->history->len, ==, 2);
  po = payouts->pdata[1];
  g_assert_cmpstr (po->status, ==, "failed");
  g_assert_cmpstr (po->failure_code, ==, "account_closed");
}

static void
test_unknown_type_ignored (Fixture *f, gconstpointer data)
{
  g_autofree gchar *ev = fx_event ("evt_x", FX_T0, "customer.created", NULL,
                                   "{\"id\": \"cus_1\"}");

  g_assert_cmpint (fx_apply (f->state, ev), ==, GC_BILLING_EVENT_IGNORED);
  g_assert_cmpint (fx_apply (f->state, ev), ==, GC_BILLING_EVENT_DUPLICATE);
}

static void
test_malformed_refused (Fixture *f, gconstpointer data)
{
  const gchar *bad[] = {
      "",
      "[]",
      "{\"id\": \"evt_1\"}",
      "not json",
      "{\"id\": \"evt_1\", \"type\": \"payment_intent.succeeded\", "
      "\"created\": 1, \"data\": {\"object\": {\"id\": \"pi_1\"}}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_cmpint (gc_billing_apply_event (f->state, bad[i], strlen (bad[i]),
                                             FX_T0, NULL, &error),
                     ==, GC_BILLING_EVENT_FAILED);
    g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  }
  g_assert_cmpint (gc_billing_state_count_events (f->state), ==, 0);
}

/* --- every flow in any order ----------------------------------------------------- */

typedef GPtrArray *(*FlowFunc) (void);

static GPtrArray *
flow_tip (void)
{
  GPtrArray *evs = g_ptr_array_new_with_free_func (g_free);
  gint64 part[] = {250, 750};

  g_ptr_array_add (evs, fx_account ("evt_acct", FX_T0, TRUE));
  g_ptr_array_add (evs, fx_payment ("evt_t1", FX_T0 + 10,
                                    "payment_intent.payment_failed", "pi_t1",
                                    "ch_t1f", 1000, "tip", NULL, NULL));
  g_ptr_array_add (evs,
                   fx_payment ("evt_t2", FX_T0 + 11, "payment_intent.succeeded",
                               "pi_t1", "ch_t1", 1000, "tip", NULL,
                               "\"glasscast_message\": \"hi\""));
  g_ptr_array_add (evs,
                   fx_payment ("evt_t3", FX_T0 + 12, "payment_intent.succeeded",
                               "pi_t2", "ch_t2", 777, "tip", NULL, NULL));
  g_ptr_array_add (evs,
                   fx_refunded ("evt_t4", FX_T0 + 20, "ch_t1", 1000, 1, part));
  g_ptr_array_add (evs,
                   fx_refunded ("evt_t5", FX_T0 + 21, "ch_t1", 1000, 2, part));
  return evs;
}

static GPtrArray *
flow_subscription (void)
{
  GPtrArray *evs = g_ptr_array_new_with_free_func (g_free);
  gint64 p1 = FX_T0 + FX_MONTH;
  gint64 p2 = FX_T0 + 2 * FX_MONTH;

  g_ptr_array_add (evs, fx_account ("evt_acct", FX_T0, TRUE));
  g_ptr_array_add (evs,
                   fx_subscription ("evt_s0", FX_T0 + 1,
                                    "customer.subscription.created", "sub_1",
                                    "cus_1", "incomplete", p1, FALSE));
  g_ptr_array_add (evs,
                   fx_payment ("evt_s1", FX_T0 + 1, "payment_intent.succeeded",
                               "pi_s1", "ch_s1", 499, NULL, "cus_1", NULL));
  g_ptr_array_add (evs, fx_invoice ("evt_s2", FX_T0 + 1, "invoice.paid", "in_1",
                                    "sub_1", "cus_1", 499, p1));
  g_ptr_array_add (evs,
                   fx_subscription ("evt_s3", FX_T0 + 1,
                                    "customer.subscription.updated", "sub_1",
                                    "cus_1", "active", p1, FALSE));
  g_ptr_array_add (
      evs, fx_checkout_subscription ("evt_s4", FX_T0 + 1, "sub_1", "cus_1"));
  g_ptr_array_add (evs, fx_invoice ("evt_s5", p1, "invoice.payment_failed",
                                    "in_2", "sub_1", "cus_1", 499, p2));
  g_ptr_array_add (
      evs, fx_subscription ("evt_s6", p1, "customer.subscription.updated",
                            "sub_1", "cus_1", "past_due", p2, FALSE));
  g_ptr_array_add (evs,
                   fx_payment ("evt_s7", p1 + 5, "payment_intent.succeeded",
                               "pi_s2", "ch_s2", 499, NULL, "cus_1", NULL));
  g_ptr_array_add (evs, fx_invoice ("evt_s8", p1 + 5, "invoice.paid", "in_2",
                                    "sub_1", "cus_1", 499, p2));
  g_ptr_array_add (
      evs, fx_subscription ("evt_s9", p1 + 5, "customer.subscription.updated",
                            "sub_1", "cus_1", "active", p2, FALSE));
  g_ptr_array_add (evs, fx_subscription ("evt_s10", p1 + 9,
                                         "customer.subscription.updated",
                                         "sub_1", "cus_1", "active", p2, TRUE));
  g_ptr_array_add (
      evs, fx_subscription ("evt_s11", p2, "customer.subscription.deleted",
                            "sub_1", "cus_1", "canceled", p2, TRUE));
  return evs;
}

static GPtrArray *
flow_ppv_and_disputes (void)
{
  GPtrArray *evs = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (evs, fx_checkout_ppv ("evt_v1", FX_T0 + 30, "pi_v1", 42));
  g_ptr_array_add (evs,
                   fx_payment ("evt_v2", FX_T0 + 30, "payment_intent.succeeded",
                               "pi_v1", "ch_v1", 1999, "ppv", NULL,
                               "\"glasscast_ppv_event\": \"42\""));
  g_ptr_array_add (evs,
                   fx_dispute ("evt_v3", FX_T0 + 40, "charge.dispute.created",
                               "du_v1", "ch_v1", 1999, "needs_response"));
  g_ptr_array_add (evs,
                   fx_dispute ("evt_v4", FX_T0 + 50, "charge.dispute.closed",
                               "du_v1", "ch_v1", 1999, "won"));
  g_ptr_array_add (evs,
                   fx_payment ("evt_v5", FX_T0 + 31, "payment_intent.succeeded",
                               "pi_v2", "ch_v2", 1234, "tip", NULL, NULL));
  g_ptr_array_add (evs,
                   fx_dispute ("evt_v6", FX_T0 + 41, "charge.dispute.created",
                               "du_v2", "ch_v2", 1234, "needs_response"));
  g_ptr_array_add (evs,
                   fx_dispute ("evt_v7", FX_T0 + 51, "charge.dispute.closed",
                               "du_v2", "ch_v2", 1234, "lost"));
  return evs;
}

static GPtrArray *
flow_payouts (void)
{
  GPtrArray *evs = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (evs, fx_account ("evt_acct", FX_T0, TRUE));
  g_ptr_array_add (evs,
                   fx_payment ("evt_o1", FX_T0 + 10, "payment_intent.succeeded",
                               "pi_o1", "ch_o1", 20000, "tip", NULL, NULL));
  g_ptr_array_add (evs, fx_payout ("evt_o2", FX_T0 + 5000, "payout.created",
                                   "po_1", 5000, "pending"));
  g_ptr_array_add (evs, fx_payout ("evt_o3", FX_T0 + 6000, "payout.paid",
                                   "po_1", 5000, "paid"));
  g_ptr_array_add (evs, fx_payout ("evt_o4", FX_T0 + 5000, "payout.created",
                                   "po_2", 4000, "pending"));
  g_ptr_array_add (evs, fx_payout ("evt_o5", FX_T0 + 6000, "payout.failed",
                                   "po_2", 4000, "failed"));
  return evs;
}

static GPtrArray *
flow_all (void)
{
  FlowFunc flows[] = {flow_tip, flow_subscription, flow_ppv_and_disputes,
                      flow_payouts};
  GPtrArray *evs = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (flows); i++) {
    g_autoptr (GPtrArray) part = flows[i]();

    for (guint j = 0; j < part->len; j++)
      g_ptr_array_add (evs, g_strdup (part->pdata[j]));
  }
  return evs;
}

/* Delivers @events as Stripe would: every event at least once, retried
 * until it is applied. Returns the number of deliveries. */
static guint
deliver_until_applied (GcBillingState *state, GPtrArray *events)
{
  g_autoptr (GPtrArray) pending = g_ptr_array_new ();
  guint deliveries = 0;

  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (pending, events->pdata[i]);
  for (guint round = 0; pending->len > 0; round++) {
    g_autoptr (GPtrArray) again = g_ptr_array_new ();

    g_assert_cmpuint (round, <, 100);
    for (guint i = 0; i < pending->len; i++) {
      deliveries++;
      if (fx_apply (state, pending->pdata[i]) == GC_BILLING_EVENT_RETRY)
        g_ptr_array_add (again, pending->pdata[i]);
    }
    g_ptr_array_set_size (pending, 0);
    for (guint i = 0; i < again->len; i++)
      g_ptr_array_add (pending, again->pdata[i]);
  }
  return deliveries;
}

static void
test_order_independent (Fixture *f, gconstpointer data)
{
  FlowFunc flow = (FlowFunc)data;
  g_autoptr (GPtrArray) events = flow ();
  g_autofree gchar *reference = NULL;
  gint64 n_events;
  guint32 seed = g_test_rand_int ();
  GRand *rand = g_rand_new_with_seed (seed);

  g_test_message ("seed %u (%u events)", seed, events->len);
  deliver_until_applied (f->state, events);
  reference = gc_billing_state_dump (f->state, NULL);
  g_assert_nonnull (reference);
  n_events = gc_billing_state_count_events (f->state);
  for (guint run_no = 0; run_no < 50; run_no++) {
    g_autoptr (GPtrArray) shuffled = g_ptr_array_new ();
    g_autofree gchar *dump = NULL;
    g_autoptr (GError) error = NULL;

    for (guint i = 0; i < events->len; i++) {
      guint copies = 1 + (g_rand_int_range (rand, 0, 3) == 0 ? 1 : 0) +
                     (g_rand_int_range (rand, 0, 10) == 0 ? 1 : 0);

      for (guint c = 0; c < copies; c++)
        g_ptr_array_add (shuffled, events->pdata[i]);
    }
    for (guint i = shuffled->len; i > 1; i--) {
      guint j = g_rand_int_range (rand, 0, i);
      gpointer tmp = shuffled->pdata[i - 1];

      shuffled->pdata[i - 1] = shuffled->pdata[j];
      shuffled->pdata[j] = tmp;
    }
    fixture_close (f);
    fixture_open (f);
    deliver_until_applied (f->state, shuffled);
    dump = gc_billing_state_dump (f->state, NULL);
    if (g_strcmp0 (dump, reference) != 0)
      g_error ("seed %u, run %u: state differs\n--- reference\n%s\n--- got\n%s",
               seed, run_no, reference, dump);
    g_assert_true (gc_ledger_verify (f->ledger, &error));
    g_assert_no_error (error);
    g_assert_cmpint (gc_billing_state_count_events (f->state), ==, n_events);
  }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn)                                                          \
  g_test_add ("/billing/events/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("tip/succeeded-pays-creator-and-alerts-once", test_tip_succeeded);
  ADD ("tip/second-event-same-charge-pays-once",
       test_tip_other_event_same_payment);
  ADD ("tip/failed-then-succeeded", test_tip_failed_then_succeeded);
  ADD ("refund/before-charge-retries", test_refund_before_charge_retries);
  ADD ("refund/partial-then-full", test_refund_partial_then_full);
  ADD ("refund/refund-events", test_refund_events);
  ADD ("tip/unannounced", test_unannounced_tips);
  ADD ("refund/refund-event-order-and-malformed",
       test_refund_event_order_and_malformed);
  ADD ("dispute/won", test_dispute_won);
  ADD ("dispute/lost-closed-before-created",
       test_dispute_lost_closed_before_created);
  ADD ("subscription/lifecycle", test_subscription_lifecycle);
  ADD ("subscription/older-update-loses", test_subscription_older_update_loses);
  ADD ("ppv/entitlement", test_ppv_entitlement);
  ADD ("account/updated-links-creator", test_account_updated_links_creator);
  ADD ("payout/paid-and-failed", test_payout_paid_and_failed);
  ADD ("unknown-type-ignored", test_unknown_type_ignored);
  ADD ("malformed-refused", test_malformed_refused);
#undef ADD
  g_test_add ("/billing/events/order/tip", Fixture, flow_tip, setup,
              test_order_independent, teardown);
  g_test_add ("/billing/events/order/subscription", Fixture, flow_subscription,
              setup, test_order_independent, teardown);
  g_test_add ("/billing/events/order/ppv-and-disputes", Fixture,
              flow_ppv_and_disputes, setup, test_order_independent, teardown);
  g_test_add ("/billing/events/order/payouts", Fixture, flow_payouts, setup,
              test_order_independent, teardown);
  g_test_add ("/billing/events/order/all-flows", Fixture, flow_all, setup,
              test_order_independent, teardown);
  return g_test_run ();
}

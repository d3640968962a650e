/* test-state.c — billing/state.c: earnings statements by type and since the last payout, exact to the minor
 * unit; CSV (RFC 4180) and decimal formatting; PPV events; a ban cancelling renewals. */

#include <glib/gstdio.h>
#include <string.h>

#include "billing.h"
#include "event-fixtures.h"

typedef struct {
  gchar *dir;
  gchar *path;
  GcLedger *ledger;
  GcBillingState *state;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("billing-state-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "billing.db", NULL);
  f->ledger = gc_ledger_open (f->path, &error);
  g_assert_no_error (error);
  f->state = gc_billing_state_new (f->ledger, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree gchar *shm = g_strconcat (f->path, "-shm", NULL);

  g_assert_true (gc_ledger_verify (f->ledger, &error));
  g_clear_pointer (&f->state, gc_billing_state_free);
  g_clear_pointer (&f->ledger, gc_ledger_free);
  g_unlink (f->path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
apply_all (Fixture *f)
{
  gint64 refund[] = {250};
  g_autofree gchar *acct = fx_account ("evt_a", FX_T0, TRUE);
  g_autofree gchar *tip =
      fx_payment ("evt_t", FX_T0 + 10, "payment_intent.succeeded", "pi_t",
                  "ch_t", 1000, "tip", NULL, NULL);
  g_autofree gchar *ppv =
      fx_payment ("evt_v", FX_T0 + 20, "payment_intent.succeeded", "pi_v",
                  "ch_v", 1999, "ppv", NULL, "\"glasscast_ppv_event\": \"1\"");
  g_autofree gchar *re =
      fx_refunded ("evt_r", FX_T0 + 30, "ch_t", 1000, 1, refund);
  g_autofree gchar *po =
      fx_payout ("evt_p", FX_T0 + 6000, "payout.paid", "po_1", 500, "paid");

  fx_apply (f->state, acct);
  fx_apply (f->state, tip);
  fx_apply (f->state, ppv);
  fx_apply (f->state, re);
  fx_apply (f->state, po);
}

static const GcBillingStatementLine *
line_of (const GcBillingStatement *st, const gchar *type)
{
  for (guint i = 0; i < st->lines->len; i++) {
    const GcBillingStatementLine *l =
        &g_array_index (st->lines, GcBillingStatementLine, i);

    if (strcmp (l->type, type) == 0)
      return l;
  }
  return NULL;
}

static void
assert_line (const GcBillingStatement *st, const gchar *type, guint count,
             gint64 gross, gint64 fee, gint64 net)
{
  const GcBillingStatementLine *l = line_of (st, type);

  g_assert_nonnull (l);
  g_assert_cmpstr (l->currency, ==, "USD");
  g_assert_cmpuint (l->count, ==, count);
  g_assert_cmpint (l->gross, ==, gross);
  g_assert_cmpint (l->fee, ==, fee);
  g_assert_cmpint (l->net, ==, net);
}

static void
test_statement_by_type (Fixture *f, gconstpointer data)
{
  g_autoptr (GcBillingStatement) st = NULL;
  g_autoptr (GError) error = NULL;

  apply_all (f);
  st = gc_billing_state_statement (f->state, FX_CREATOR, FX_T0, FX_T0 + 86400,
                                   &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st->lines->len, ==, 4);
  /* Sorted by type. fee(1999) = 299.85 -> 300; the refund of 250 gives
   * back fee(250) = 37.5 -> 38 (half up). */
  g_assert_cmpstr (g_array_index (st->lines, GcBillingStatementLine, 0).type,
                   ==, "payout");
  assert_line (st, "payout", 1, -500, 0, -500);
  assert_line (st, "ppv", 1, 1999, 300, 1699);
  assert_line (st, "refund", 1, -250, -38, -212);
  assert_line (st, "tip", 1, 1000, 150, 850);
  g_assert_cmpuint (st->items->len, ==, 4);
}

static void
test_statement_period_bounds (Fixture *f, gconstpointer data)
{
  g_autoptr (GcBillingStatement) st = NULL;
  g_autoptr (GcBillingStatement) other = NULL;

  apply_all (f);
  /* [from, to): the tip at T0+10 only. */
  st = gc_billing_state_statement (f->state, FX_CREATOR, FX_T0 + 10, FX_T0 + 20,
                                   NULL);
  g_assert_cmpuint (st->lines->len, ==, 1);
  assert_line (st, "tip", 1, 1000, 150, 850);
  other = gc_billing_state_statement (f->state, FX_CREATOR + 1, 0, G_MAXINT64,
                                      NULL);
  g_assert_cmpuint (other->lines->len, ==, 0);
}

static void
test_statement_since_payout (Fixture *f, gconstpointer data)
{
  g_autoptr (GcBillingStatement) st = NULL;
  g_autoptr (GcBillingStatement) later = NULL;
  g_autofree gchar *tip =
      fx_payment ("evt_t2", FX_T0 + 7000, "payment_intent.succeeded", "pi_t2",
                  "ch_t2", 2001, "tip", NULL, NULL);

  apply_all (f);
  st = gc_billing_state_statement_since_payout (f->state, FX_CREATOR, NULL);
  g_assert_cmpuint (st->items->len, ==, 0);
  fx_apply (f->state, tip);
  later = gc_billing_state_statement_since_payout (f->state, FX_CREATOR, NULL);
  g_assert_cmpuint (later->lines->len, ==, 1);
  /* fee(2001) = 300.15 -> 300 */
  assert_line (later, "tip", 1, 2001, 300, 1701);
}

static void
test_statement_csv (Fixture *f, gconstpointer data)
{
  g_autoptr (GcBillingStatement) st = NULL;
  g_autofree gchar *csv = NULL;

  apply_all (f);
  st = gc_billing_state_statement (f->state, FX_CREATOR, FX_T0, FX_T0 + 31,
                                   NULL);
  csv = gc_billing_statement_to_csv (st);
  g_assert_cmpstr (
      csv, ==,
      "occurred_at,type,reference,currency,gross_minor,gross,fee_minor,fee,"
      "net_minor,net\r\n"
      "2025-01-01T00:00:10Z,tip,ch_t,USD,1000,10.00,150,1.50,850,8.50\r\n"
      "2025-01-01T00:00:20Z,ppv,ch_v,USD,1999,19.99,300,3.00,1699,16.99\r\n");
}

static void
test_decimal_format (void)
{
  struct {
    gint64 amount;
    const gchar *currency;
    const gchar *text;
  } cases[] = {
      {0, "USD", "0.00"},
      {5, "USD", "0.05"},
      {-5, "usd", "-0.05"},
      {123456, "EUR", "1234.56"},
      {1500, "JPY", "1500"},
      {-1500, "JPY", "-1500"},
      {1234, "KWD", "1.234"},
      {-1234567, "KWD", "-1234.567"},
      {G_MAXINT64, "USD", "92233720368547758.07"},
      {-G_MAXINT64, "USD", "-92233720368547758.07"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text =
        gc_billing_format_decimal (cases[i].amount, cases[i].currency);

    g_assert_cmpstr (text, ==, cases[i].text);
  }
  g_assert_null (gc_billing_format_decimal (1, "XYZ"));
}

static void
test_csv_quoting (void)
{
  g_autoptr (GString) out = g_string_new (NULL);

  gc_billing_csv_append_field (out, "plain");
  g_string_append_c (out, ',');
  gc_billing_csv_append_field (out, "a,b");
  g_string_append_c (out, ',');
  gc_billing_csv_append_field (out, "say \"hi\"");
  g_string_append_c (out, ',');
  gc_billing_csv_append_field (out, "two\r\nlines");
  g_string_append_c (out, ',');
  gc_billing_csv_append_field (out, "");
  g_assert_cmpstr (out->str, ==,
                   "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",");
}

static void
test_ppv_events (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  GcMoney price;
  GcMoney free_price = {0, "USD"};
  gint64 id = 0;
  GcBillingPpvEvent *ev;

  g_assert_true (gc_money_init (&price, 1999, "usd", NULL));
  g_assert_true (gc_billing_state_create_ppv (f->state, "chan", FX_CREATOR,
                                              "Finale", FX_T0 + 3600, &price,
                                              &id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_false (gc_billing_state_create_ppv (
      f->state, "chan", FX_CREATOR, "Free", FX_T0, &free_price, NULL, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  list = gc_billing_state_list_ppv (f->state, "chan", NULL);
  g_assert_cmpuint (list->len, ==, 1);
  ev = list->pdata[0];
  g_assert_cmpint (ev->id, ==, id);
  g_assert_cmpstr (ev->title, ==, "Finale");
  g_assert_cmpint (ev->price.amount, ==, 1999);
  g_assert_cmpstr (ev->price.currency, ==, "USD");
  g_assert_cmpint (ev->ends_at, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = gc_billing_state_list_ppv (f->state, "other", NULL);
  g_assert_cmpuint (list->len, ==, 0);
}

static void
test_ppv_event_end (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  GcMoney price;
  gint64 id = 0;

  g_assert_true (gc_money_init (&price, 500, "usd", NULL));
  g_assert_true (gc_billing_state_create_ppv (
      f->state, "chan", FX_CREATOR, "Match", FX_T0, &price, &id, NULL));
  g_assert_false (gc_billing_state_set_ppv_end (f->state, id, FX_T0, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (
      gc_billing_state_set_ppv_end (f->state, id + 1, FX_T0 + 60, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (
      gc_billing_state_set_ppv_end (f->state, id, FX_T0 + 7200, &error));
  g_assert_no_error (error);
  list = gc_billing_state_list_ppv (f->state, "chan", NULL);
  g_assert_cmpint (((GcBillingPpvEvent *)list->pdata[0])->ends_at, ==,
                   FX_T0 + 7200);
}

static void
test_ban_cancels_renewals (Fixture *f, gconstpointer data)
{
  gint64 p1 = FX_T0 + FX_MONTH;
  g_autofree gchar *sub =
      fx_subscription ("evt_s", FX_T0 + 1, "customer.subscription.updated",
                       "sub_1", "cus_1", "active", p1, FALSE);
  g_autofree gchar *stale =
      fx_subscription ("evt_s0", FX_T0, "customer.subscription.updated",
                       "sub_1", "cus_1", "active", p1, FALSE);
  g_autoptr (GPtrArray) out = NULL;
  g_autoptr (GPtrArray) subs = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;

  fx_apply (f->state, sub);
  g_assert_true (gc_billing_state_on_ban (f->state, FX_VIEWER, FX_CHANNEL,
                                          FX_T0 + 100, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (gc_billing_state_on_ban (f->state, FX_VIEWER, FX_CHANNEL,
                                          FX_T0 + 200, &n, &error));
  /* An event from before the ban does not undo it. */
  fx_apply (f->state, stale);
  subs = gc_billing_state_list_subscriptions (f->state, FX_VIEWER, NULL);
  g_assert_true (
      ((GcBillingSubscription *)subs->pdata[0])->cancel_at_period_end);
  /* Access lasts to the end of the paid period. */
  g_assert_true (gc_billing_state_has_active_subscription (f->state, FX_VIEWER,
                                                           FX_CHANNEL, p1 - 1));
  out = gc_billing_state_list_outbound (f->state, &error);
  g_assert_cmpuint (out->len, ==, 1);
  g_assert_cmpstr (((GcBillingOutbound *)out->pdata[0])->kind, ==,
                   "cancel_at_period_end");
  g_assert_cmpstr (((GcBillingOutbound *)out->pdata[0])->object, ==, "sub_1");
  g_assert_true (gc_billing_state_outbound_done (
      f->state, ((GcBillingOutbound *)out->pdata[0])->id, FX_T0 + 300, NULL));
  g_clear_pointer (&out, g_ptr_array_unref);
  out = gc_billing_state_list_outbound (f->state, NULL);
  g_assert_cmpuint (out->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn)                                                          \
  g_test_add ("/billing/state/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("statement/by-type", test_statement_by_type);
  ADD ("statement/period-bounds", test_statement_period_bounds);
  ADD ("statement/since-payout", test_statement_since_payout);
  ADD ("statement/csv", test_statement_csv);
  ADD ("ppv/create-and-list", test_ppv_events);
  ADD ("ppv/end-after-start", test_ppv_event_end);
  ADD ("ban/cancels-renewals", test_ban_cancels_renewals);
#undef ADD
  g_test_add_func ("/billing/state/text/decimal", test_decimal_format);
  g_test_add_func ("/billing/state/text/csv-quoting", test_csv_quoting);
  return g_test_run ();
}

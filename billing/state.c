/* state.c — the billing tables beside the ledger (events processed, accounts, subscriptions, PPV, tips, payouts)
 * and the pure queries over them: access, statements by type, payout history, CSV. events.c writes the rows. */

#include "state.h"

#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

struct _GcBillingState {
  GcLedger *ledger; /* (unowned) */
  sqlite3 *db;      /* (unowned) the ledger's */
  guint grace_days;
};

/* Every table is keyed by Stripe's ids so that applying an event is an
 * upsert, and the fields that change over time are either monotone
 * (paid_through only grows; canceled, paid and failed only become true) or
 * carry the time of the event that set them (newest wins): that is what
 * makes any delivery order end in the same rows. */
static const gchar schema[] =
    "CREATE TABLE IF NOT EXISTS billing_events ("
    "  id TEXT PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  processed_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS billing_accounts ("
    "  stripe_account TEXT PRIMARY KEY,"
    "  creator INTEGER,"
    "  charges_enabled INTEGER NOT NULL DEFAULT 0,"
    "  payouts_enabled INTEGER NOT NULL DEFAULT 0,"
    "  details_submitted INTEGER NOT NULL DEFAULT 0,"
    "  details TEXT,"
    "  updated INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX IF NOT EXISTS billing_accounts_by_creator"
    "  ON billing_accounts (creator);"
    "CREATE TABLE IF NOT EXISTS billing_subscriptions ("
    "  stripe_id TEXT PRIMARY KEY,"
    "  viewer INTEGER,"
    "  channel TEXT,"
    "  creator INTEGER,"
    "  customer TEXT,"
    "  current_period_end INTEGER NOT NULL DEFAULT 0,"
    "  paid_through INTEGER NOT NULL DEFAULT 0,"
    "  cancel_at_period_end INTEGER NOT NULL DEFAULT 0,"
    "  cancel_set_at INTEGER NOT NULL DEFAULT 0,"
    "  canceled INTEGER NOT NULL DEFAULT 0,"
    "  ended_at INTEGER NOT NULL DEFAULT 0,"
    "  unpaid_period_end INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX IF NOT EXISTS billing_subscriptions_by_viewer"
    "  ON billing_subscriptions (viewer, channel);"
    "CREATE INDEX IF NOT EXISTS billing_subscriptions_by_customer"
    "  ON billing_subscriptions (customer);"
    "CREATE TABLE IF NOT EXISTS billing_invoices ("
    "  id TEXT PRIMARY KEY,"
    "  subscription TEXT NOT NULL,"
    "  period_end INTEGER NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  paid INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX IF NOT EXISTS billing_invoices_by_subscription"
    "  ON billing_invoices (subscription, period_end);"
    "CREATE TABLE IF NOT EXISTS billing_payments ("
    "  charge TEXT PRIMARY KEY,"
    "  payment_intent TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  creator INTEGER NOT NULL,"
    "  viewer INTEGER,"
    "  channel TEXT,"
    "  object TEXT,"
    "  amount INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  occurred_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS billing_ppv_events ("
    "  id INTEGER PRIMARY KEY,"
    "  channel TEXT NOT NULL,"
    "  creator INTEGER NOT NULL,"
    "  title TEXT NOT NULL,"
    "  starts_at INTEGER NOT NULL,"
    "  price INTEGER NOT NULL CHECK (price > 0),"
    "  currency TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX IF NOT EXISTS billing_ppv_by_channel"
    "  ON billing_ppv_events (channel, starts_at);"
    "CREATE TABLE IF NOT EXISTS billing_entitlements ("
    "  viewer INTEGER NOT NULL,"
    "  ppv_event INTEGER NOT NULL,"
    "  source TEXT NOT NULL,"
    "  PRIMARY KEY (viewer, ppv_event)) STRICT;"
    "CREATE TABLE IF NOT EXISTS billing_tips ("
    "  id TEXT PRIMARY KEY,"
    "  channel TEXT,"
    "  viewer INTEGER,"
    "  viewer_name TEXT,"
    "  amount INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  message TEXT,"
    "  status TEXT NOT NULL,"
    "  occurred_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS billing_payouts ("
    "  id TEXT PRIMARY KEY,"
    "  creator INTEGER NOT NULL,"
    "  stripe_account TEXT NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  fee INTEGER NOT NULL DEFAULT 0,"
    "  currency TEXT NOT NULL,"
    "  method TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  status_rank INTEGER NOT NULL,"
    "  failure_code TEXT,"
    "  created INTEGER NOT NULL,"
    "  arrival_date INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX IF NOT EXISTS billing_payouts_by_creator"
    "  ON billing_payouts (creator, created);"
    "CREATE TABLE IF NOT EXISTS billing_payout_history ("
    "  payout TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (payout, status)) STRICT;"
    /* Stripe's fee of a payout, from the reply to its creation (webhook
     * payouts carry no fee): the payout's ledger journal takes it. */
    "CREATE TABLE IF NOT EXISTS billing_payout_fees ("
    "  payout TEXT PRIMARY KEY,"
    "  fee INTEGER NOT NULL CHECK (fee >= 0),"
    "  currency TEXT NOT NULL) STRICT;"
    /* Tips announced in chat (after the commit that made them succeed):
     * apart from billing_tips, so announcing, which depends on when
     * glasscastd runs, never changes the state webhooks build. */
    "CREATE TABLE IF NOT EXISTS billing_tip_announcements ("
    "  tip TEXT PRIMARY KEY,"
    "  announced_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS billing_outbound ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER,"
    "  UNIQUE (kind, object)) STRICT;";

static gboolean
storage_error (GcBillingState *state, GError **error, const gchar *what)
{
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE, "%s: %s",
               what, sqlite3_errmsg (state->db));
  return FALSE;
}

static sqlite3_stmt *
prepare (GcBillingState *state, const gchar *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (state->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    storage_error (state, error, "prepare");
    return NULL;
  }
  return stmt;
}

static gchar *
column_text (sqlite3_stmt *stmt, int col)
{
  const guchar *text = sqlite3_column_text (stmt, col);

  return text ? g_strdup ((const gchar *)text) : NULL;
}

static void
copy_currency (gchar dst[4], sqlite3_stmt *stmt, int col)
{
  const guchar *text = sqlite3_column_text (stmt, col);

  g_strlcpy (dst, text ? (const gchar *)text : "", 4);
}

/* Files made before PPV events had an end get the column (0: no end). */
static gboolean
add_ppv_ends_at (sqlite3 *db)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean found = FALSE;

  if (sqlite3_prepare_v2 (db, "PRAGMA table_info (billing_ppv_events)", -1,
                          &stmt, NULL) != SQLITE_OK)
    return FALSE;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    found = found || g_strcmp0 ((const gchar *)sqlite3_column_text (stmt, 1),
                                "ends_at") == 0;
  return found ||
         sqlite3_exec (db,
                       "ALTER TABLE billing_ppv_events"
                       " ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0",
                       NULL, NULL, NULL) == SQLITE_OK;
}

GcBillingState *
gc_billing_state_new (GcLedger *ledger, GError **error)
{
  GcBillingState *state;
  sqlite3 *db;

  g_return_val_if_fail (ledger != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  db = gc_ledger_get_db (ledger);
  if (sqlite3_exec (db, schema, NULL, NULL, NULL) != SQLITE_OK ||
      !add_ppv_ends_at (db)) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "billing tables: %s", sqlite3_errmsg (db));
    return NULL;
  }
  state = g_new0 (GcBillingState, 1);
  state->ledger = ledger;
  state->db = db;
  state->grace_days = GC_BILLING_DEFAULT_GRACE_DAYS;
  return state;
}

void
gc_billing_state_free (GcBillingState *state)
{
  g_free (state);
}

GcLedger *
gc_billing_state_get_ledger (GcBillingState *state)
{
  g_return_val_if_fail (state != NULL, NULL);
  return state->ledger;
}

void
gc_billing_state_set_grace_days (GcBillingState *state, guint days)
{
  g_return_if_fail (state != NULL);
  state->grace_days = days;
}

gboolean
gc_billing_state_link_account (GcBillingState *state, gint64 creator,
                               const gchar *stripe_account, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  if (creator <= 0 || stripe_account == NULL ||
      !g_str_has_prefix (stripe_account, "acct_")) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_INVALID_ARGUMENT,
                         "a creator id and an acct_ id are needed");
    return FALSE;
  }
  stmt = prepare (state,
                  "INSERT INTO billing_accounts (stripe_account, creator)"
                  " VALUES (?1, ?2) ON CONFLICT (stripe_account)"
                  " DO UPDATE SET creator = ?2",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, stripe_account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, creator);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return storage_error (state, error, "link account");
  return TRUE;
}

gint64
gc_billing_state_creator_for_account (GcBillingState *state,
                                      const gchar *stripe_account)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, 0);
  if (stripe_account == NULL)
    return 0;
  stmt = prepare (state,
                  "SELECT creator FROM billing_accounts"
                  " WHERE stripe_account = ?1 AND creator IS NOT NULL",
                  NULL);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, stripe_account, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64 (stmt, 0);
}

/* --- subscriptions -------------------------------------------------------- */

#define SUBSCRIPTION_COLUMNS                                                   \
  "s.stripe_id, s.channel, s.viewer, s.creator, s.current_period_end,"         \
  " s.paid_through, s.cancel_at_period_end, s.canceled, s.ended_at,"           \
  " s.unpaid_period_end,"                                                      \
  " (SELECT i.paid * 2 + i.failed FROM billing_invoices i"                     \
  "  WHERE i.subscription = s.stripe_id"                                       \
  "  ORDER BY i.period_end DESC, i.paid DESC LIMIT 1),"                        \
  " (SELECT i.period_end FROM billing_invoices i"                              \
  "  WHERE i.subscription = s.stripe_id"                                       \
  "  ORDER BY i.period_end DESC, i.paid DESC LIMIT 1)"

/* The status follows from monotone facts, not from whichever event came
 * last: canceled once Stripe said so; past due (or unpaid) while the
 * newest invoice failed and was never paid; active once anything was paid. */
static GcBillingSubscription *
subscription_from_row (GcBillingState *state, sqlite3_stmt *stmt)
{
  GcBillingSubscription *sub = g_new0 (GcBillingSubscription, 1);
  gboolean canceled = sqlite3_column_int64 (stmt, 7) != 0;
  gint64 ended_at = sqlite3_column_int64 (stmt, 8);
  gint64 unpaid_period_end = sqlite3_column_int64 (stmt, 9);
  gboolean has_invoice = sqlite3_column_type (stmt, 10) != SQLITE_NULL;
  gint64 newest = sqlite3_column_int64 (stmt, 10);
  gint64 newest_period_end = sqlite3_column_int64 (stmt, 11);

  sub->stripe_id = column_text (stmt, 0);
  sub->channel = column_text (stmt, 1);
  sub->viewer = sqlite3_column_int64 (stmt, 2);
  sub->creator = sqlite3_column_int64 (stmt, 3);
  sub->current_period_end = sqlite3_column_int64 (stmt, 4);
  sub->paid_through = sqlite3_column_int64 (stmt, 5);
  sub->cancel_at_period_end = sqlite3_column_int64 (stmt, 6) != 0;
  sub->access_until = sub->paid_through;
  if (canceled) {
    sub->status = "canceled";
    if (ended_at > 0 && ended_at < sub->access_until)
      sub->access_until = ended_at;
  } else if (has_invoice && newest == 1) {
    if (unpaid_period_end > 0 && unpaid_period_end >= newest_period_end) {
      sub->status = "unpaid";
    } else {
      sub->status = "past_due";
      sub->access_until += (gint64)state->grace_days * 86400;
    }
  } else if (sub->paid_through > 0) {
    sub->status = "active";
  } else {
    sub->status = "incomplete";
  }
  return sub;
}

void
gc_billing_subscription_free (GcBillingSubscription *sub)
{
  if (sub == NULL)
    return;
  g_free (sub->stripe_id);
  g_free (sub->channel);
  g_free (sub);
}

gboolean
gc_billing_state_has_active_subscription (GcBillingState *state, gint64 viewer,
                                          const gchar *channel, gint64 now)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  if (channel == NULL || viewer <= 0)
    return FALSE;
  stmt = prepare (state,
                  "SELECT " SUBSCRIPTION_COLUMNS " FROM billing_subscriptions s"
                  " WHERE s.viewer = ?1 AND s.channel = ?2",
                  NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, viewer);
  sqlite3_bind_text (stmt, 2, channel, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW) {
    g_autoptr (GcBillingSubscription) sub = subscription_from_row (state, stmt);

    if (now < sub->access_until)
      return TRUE;
  }
  return FALSE;
}

GPtrArray *
gc_billing_state_list_subscriptions (GcBillingState *state, gint64 viewer,
                                     GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) subs = NULL;
  int rc;

  g_return_val_if_fail (state != NULL, NULL);
  stmt = prepare (state,
                  "SELECT " SUBSCRIPTION_COLUMNS " FROM billing_subscriptions s"
                  " WHERE ?1 = 0 OR s.viewer = ?1"
                  " ORDER BY s.created DESC, s.stripe_id",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, viewer);
  subs = g_ptr_array_new_with_free_func (
      (GDestroyNotify)gc_billing_subscription_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (subs, subscription_from_row (state, stmt));
  if (rc != SQLITE_DONE) {
    storage_error (state, error, "subscriptions");
    return NULL;
  }
  return g_steal_pointer (&subs);
}

gboolean
gc_billing_state_on_ban (GcBillingState *state, gint64 viewer,
                         const gchar *channel, gint64 now, guint *n_changed,
                         GError **error)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (sqlite3_stmt) select = NULL;
  g_autoptr (sqlite3_stmt) update = NULL;
  g_autoptr (sqlite3_stmt) intent = NULL;
  int rc;

  g_return_val_if_fail (state != NULL && channel != NULL, FALSE);
  select = prepare (state,
                    "SELECT stripe_id FROM billing_subscriptions"
                    " WHERE viewer = ?1 AND channel = ?2 AND canceled = 0",
                    error);
  update = prepare (state,
                    "UPDATE billing_subscriptions SET cancel_at_period_end = 1,"
                    " cancel_set_at = max (cancel_set_at, ?2)"
                    " WHERE stripe_id = ?1",
                    error);
  intent = prepare (state,
                    "INSERT OR IGNORE INTO billing_outbound"
                    " (kind, object, created_at)"
                    " VALUES ('cancel_at_period_end', ?1, ?2)",
                    error);
  if (select == NULL || update == NULL || intent == NULL)
    return FALSE;
  sqlite3_bind_int64 (select, 1, viewer);
  sqlite3_bind_text (select, 2, channel, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    g_ptr_array_add (ids, column_text (select, 0));
  if (rc != SQLITE_DONE)
    return storage_error (state, error, "ban");
  if (!gc_ledger_begin (state->ledger, error))
    return FALSE;
  for (guint i = 0; i < ids->len; i++) {
    sqlite3_reset (update);
    sqlite3_reset (intent);
    sqlite3_bind_text (update, 1, ids->pdata[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (update, 2, now);
    sqlite3_bind_text (intent, 1, ids->pdata[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (intent, 2, now);
    if (sqlite3_step (update) != SQLITE_DONE ||
        sqlite3_step (intent) != SQLITE_DONE) {
      storage_error (state, error, "ban");
      gc_ledger_rollback (state->ledger);
      return FALSE;
    }
  }
  if (!gc_ledger_commit (state->ledger, error))
    return FALSE;
  if (n_changed != NULL)
    *n_changed = ids->len;
  return TRUE;
}

void
gc_billing_outbound_free (GcBillingOutbound *intent)
{
  if (intent == NULL)
    return;
  g_free (intent->kind);
  g_free (intent->object);
  g_free (intent);
}

GPtrArray *
gc_billing_state_list_outbound (GcBillingState *state, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) out = NULL;
  int rc;

  g_return_val_if_fail (state != NULL, NULL);
  stmt = prepare (state,
                  "SELECT id, kind, object, created_at FROM billing_outbound"
                  " WHERE done_at IS NULL ORDER BY id",
                  error);
  if (stmt == NULL)
    return NULL;
  out =
      g_ptr_array_new_with_free_func ((GDestroyNotify)gc_billing_outbound_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    GcBillingOutbound *intent = g_new0 (GcBillingOutbound, 1);

    intent->id = sqlite3_column_int64 (stmt, 0);
    intent->kind = column_text (stmt, 1);
    intent->object = column_text (stmt, 2);
    intent->created_at = sqlite3_column_int64 (stmt, 3);
    g_ptr_array_add (out, intent);
  }
  if (rc != SQLITE_DONE) {
    storage_error (state, error, "outbound");
    return NULL;
  }
  return g_steal_pointer (&out);
}

gboolean
gc_billing_state_outbound_done (GcBillingState *state, gint64 id, gint64 now,
                                GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  stmt = prepare (
      state, "UPDATE billing_outbound SET done_at = ?2 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return storage_error (state, error, "outbound");
  return TRUE;
}

/* --- pay-per-view ------------------------------------------------------------ */

gboolean
gc_billing_state_has_entitlement (GcBillingState *state, gint64 viewer,
                                  gint64 ppv_event)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  stmt = prepare (state,
                  "SELECT 1 FROM billing_entitlements"
                  " WHERE viewer = ?1 AND ppv_event = ?2",
                  NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, viewer);
  sqlite3_bind_int64 (stmt, 2, ppv_event);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

void
gc_billing_ppv_event_free (GcBillingPpvEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->channel);
  g_free (event->title);
  g_free (event);
}

gboolean
gc_billing_state_create_ppv (GcBillingState *state, const gchar *channel,
                             gint64 creator, const gchar *title,
                             gint64 starts_at, const GcMoney *price, gint64 *id,
                             GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL && price != NULL, FALSE);
  if (channel == NULL || title == NULL || title[0] == '\0' ||
      strlen (title) > 200 || creator <= 0 || price->amount <= 0 ||
      gc_currency_exponent (price->currency) < 0) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_INVALID_ARGUMENT,
                         "a PPV event needs a channel, a title (1 to 200 "
                         "bytes) and a positive price in a known currency");
    return FALSE;
  }
  stmt = prepare (state,
                  "INSERT INTO billing_ppv_events (channel, creator, title,"
                  " starts_at, price, currency, created_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, upper (?6), ?7)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, creator);
  sqlite3_bind_text (stmt, 3, title, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, starts_at);
  sqlite3_bind_int64 (stmt, 5, price->amount);
  sqlite3_bind_text (stmt, 6, price->currency, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 7, g_get_real_time () / G_USEC_PER_SEC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return storage_error (state, error, "create PPV event");
  if (id != NULL)
    *id = sqlite3_last_insert_rowid (state->db);
  return TRUE;
}

gboolean
gc_billing_state_set_ppv_end (GcBillingState *state, gint64 id, gint64 ends_at,
                              GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  stmt = prepare (state,
                  "UPDATE billing_ppv_events SET ends_at = ?2"
                  " WHERE id = ?1 AND (?2 = 0 OR ?2 > starts_at)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, ends_at);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return storage_error (state, error, "PPV event end");
  if (sqlite3_changes (state->db) == 0) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_INVALID_ARGUMENT,
                         "no such PPV event, or it would end before it starts");
    return FALSE;
  }
  return TRUE;
}

gboolean
gc_billing_state_set_payout_fee (GcBillingState *state, const gchar *payout_id,
                                 const GcMoney *fee, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (payout_id != NULL && fee != NULL, FALSE);
  if (fee->amount < 0) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_INVALID_ARGUMENT,
                         "a payout fee is not negative");
    return FALSE;
  }
  /* The first value stays: Stripe reports one fee per payout. */
  stmt = prepare (state,
                  "INSERT OR IGNORE INTO billing_payout_fees (payout, fee,"
                  " currency) VALUES (?1, ?2, ?3)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, payout_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, fee->amount);
  sqlite3_bind_text (stmt, 3, fee->currency, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return storage_error (state, error, "payout fee");
  return TRUE;
}

gboolean
gc_billing_state_get_payout_fee (GcBillingState *state, const gchar *payout_id,
                                 GcMoney *fee, gboolean *known, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (payout_id != NULL && fee != NULL && known != NULL,
                        FALSE);
  *known = FALSE;
  stmt = prepare (state,
                  "SELECT fee, currency FROM billing_payout_fees"
                  " WHERE payout = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, payout_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return storage_error (state, error, "payout fee");
  if (!gc_money_init (fee, sqlite3_column_int64 (stmt, 0),
                      (const gchar *)sqlite3_column_text (stmt, 1), error))
    return FALSE;
  *known = TRUE;
  return TRUE;
}

GPtrArray *
gc_billing_state_list_ppv (GcBillingState *state, const gchar *channel,
                           GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) out = NULL;
  int rc;

  g_return_val_if_fail (state != NULL, NULL);
  stmt = prepare (state,
                  "SELECT id, channel, creator, title, starts_at, price,"
                  " currency, ends_at FROM billing_ppv_events"
                  " WHERE ?1 IS NULL OR channel = ?1 ORDER BY starts_at, id",
                  error);
  if (stmt == NULL)
    return NULL;
  if (channel != NULL)
    sqlite3_bind_text (stmt, 1, channel, -1, SQLITE_TRANSIENT);
  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify)gc_billing_ppv_event_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    GcBillingPpvEvent *event = g_new0 (GcBillingPpvEvent, 1);

    event->id = sqlite3_column_int64 (stmt, 0);
    event->channel = column_text (stmt, 1);
    event->creator = sqlite3_column_int64 (stmt, 2);
    event->title = column_text (stmt, 3);
    event->starts_at = sqlite3_column_int64 (stmt, 4);
    event->price.amount = sqlite3_column_int64 (stmt, 5);
    copy_currency (event->price.currency, stmt, 6);
    event->ends_at = sqlite3_column_int64 (stmt, 7);
    g_ptr_array_add (out, event);
  }
  if (rc != SQLITE_DONE) {
    storage_error (state, error, "PPV events");
    return NULL;
  }
  return g_steal_pointer (&out);
}

/* --- earnings ------------------------------------------------------------------ */

/* One row per (journal, currency): the platform's part (fees and payout
 * fees) and the creator's. A charge's type is the kind recorded for it in
 * billing_payments; its refunds and disputes point at it (journals.charge).
 * Failed payouts come back as adjustments "payout-failed:<po_...>". */
static const gchar statement_sql[] =
    "SELECT j.id, j.kind, j.reference, j.occurred_at, e.currency,"
    "  sum (CASE WHEN a.name IN ('platform:fees', 'platform:payout-fees')"
    "      THEN e.amount ELSE 0 END),"
    "  sum (CASE WHEN a.name = ?2 THEN e.amount ELSE 0 END),"
    "  (SELECT p.kind FROM billing_payments p WHERE p.charge ="
    "     CASE WHEN j.kind = 'charge' THEN j.reference"
    "     ELSE (SELECT c.reference FROM journals c WHERE c.id = j.charge)"
    "     END)"
    " FROM journals j JOIN entries e ON e.journal = j.id"
    " JOIN accounts a ON a.id = e.account"
    " WHERE (j.creator = ?1 OR (j.kind = 'adjustment' AND j.reference IN"
    "   (SELECT 'payout-failed:' || id FROM billing_payouts"
    "    WHERE creator = ?1)))"
    "  AND j.occurred_at >= ?3 AND j.occurred_at < ?4 AND j.id > ?5"
    " GROUP BY j.id, e.currency ORDER BY j.occurred_at, j.id, e.currency";

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  const GcBillingStatementLine *la = a;
  const GcBillingStatementLine *lb = b;
  gint c = strcmp (la->type, lb->type);

  return c != 0 ? c : strcmp (la->currency, lb->currency);
}

static const gchar *
item_type (const gchar *kind, const gchar *payment_kind)
{
  if (strcmp (kind, "charge") == 0)
    return payment_kind ? payment_kind : "other";
  if (strcmp (kind, "refund") == 0)
    return "refund";
  if (g_str_has_prefix (kind, "dispute_"))
    return "dispute";
  return "payout";
}

static GcBillingStatement *
statement_query (GcBillingState *state, gint64 creator, gint64 from, gint64 to,
                 gint64 after_journal, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GcBillingStatement) st = g_new0 (GcBillingStatement, 1);
  g_autofree gchar *account = gc_ledger_creator_account (creator);
  int rc;

  st->creator = creator;
  st->from = from;
  st->to = to;
  st->items = g_array_new (FALSE, TRUE, sizeof (GcBillingStatementItem));
  st->lines = g_array_new (FALSE, TRUE, sizeof (GcBillingStatementLine));
  stmt = prepare (state, statement_sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, creator);
  sqlite3_bind_text (stmt, 2, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, from);
  sqlite3_bind_int64 (stmt, 4, to);
  sqlite3_bind_int64 (stmt, 5, after_journal);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    GcBillingStatementItem item = {0};
    GcBillingStatementLine *line = NULL;
    const gchar *kind = (const gchar *)sqlite3_column_text (stmt, 1);
    const gchar *pkind = (const gchar *)sqlite3_column_text (stmt, 7);

    item.journal = sqlite3_column_int64 (stmt, 0);
    g_strlcpy (item.type, item_type (kind, pkind), sizeof item.type);
    g_strlcpy (item.reference, (const gchar *)sqlite3_column_text (stmt, 2),
               sizeof item.reference);
    item.occurred_at = sqlite3_column_int64 (stmt, 3);
    copy_currency (item.currency, stmt, 4);
    item.fee = sqlite3_column_int64 (stmt, 5);
    item.net = sqlite3_column_int64 (stmt, 6);
    if (strcmp (item.type, "payout") == 0) {
      /* The fee entry is the platform's gain; within the payout it is a
       * part of what left the creator's balance. */
      item.gross = item.net;
    } else {
      item.gross = item.fee + item.net;
    }
    g_array_append_val (st->items, item);
    for (guint i = 0; i < st->lines->len; i++) {
      GcBillingStatementLine *l =
          &g_array_index (st->lines, GcBillingStatementLine, i);

      if (strcmp (l->type, item.type) == 0 &&
          strcmp (l->currency, item.currency) == 0)
        line = l;
    }
    if (line == NULL) {
      GcBillingStatementLine fresh = {0};

      g_strlcpy (fresh.type, item.type, sizeof fresh.type);
      g_strlcpy (fresh.currency, item.currency, sizeof fresh.currency);
      g_array_append_val (st->lines, fresh);
      line = &g_array_index (st->lines, GcBillingStatementLine,
                             st->lines->len - 1);
    }
    line->count++;
    line->gross += item.gross;
    line->fee += item.fee;
    line->net += item.net;
  }
  if (rc != SQLITE_DONE) {
    storage_error (state, error, "statement");
    return NULL;
  }
  g_array_sort (st->lines, compare_lines);
  return g_steal_pointer (&st);
}

GcBillingStatement *
gc_billing_state_statement (GcBillingState *state, gint64 creator, gint64 from,
                            gint64 to, GError **error)
{
  g_return_val_if_fail (state != NULL, NULL);
  return statement_query (state, creator, from, to, 0, error);
}

GcBillingStatement *
gc_billing_state_statement_since_payout (GcBillingState *state, gint64 creator,
                                         GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 after = 0;

  g_return_val_if_fail (state != NULL, NULL);
  stmt = prepare (state,
                  "SELECT max (id) FROM journals"
                  " WHERE kind = 'payout' AND creator = ?1",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, creator);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    after = sqlite3_column_int64 (stmt, 0);
  return statement_query (state, creator, 0, G_MAXINT64, after, error);
}

void
gc_billing_statement_free (GcBillingStatement *statement)
{
  if (statement == NULL)
    return;
  g_clear_pointer (&statement->items, g_array_unref);
  g_clear_pointer (&statement->lines, g_array_unref);
  g_free (statement);
}

void
gc_billing_payout_free (GcBillingPayout *payout)
{
  if (payout == NULL)
    return;
  g_free (payout->id);
  g_free (payout->stripe_account);
  g_free (payout->method);
  g_free (payout->status);
  g_free (payout->failure_code);
  g_clear_pointer (&payout->history, g_ptr_array_unref);
  g_free (payout);
}

GPtrArray *
gc_billing_state_list_payouts (GcBillingState *state, gint64 creator,
                               GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (sqlite3_stmt) hist = NULL;
  g_autoptr (GPtrArray) out = NULL;
  int rc;

  g_return_val_if_fail (state != NULL, NULL);
  stmt = prepare (state,
                  "SELECT id, stripe_account, amount, fee, currency, method,"
                  " status, failure_code, created, arrival_date"
                  " FROM billing_payouts WHERE creator = ?1"
                  " ORDER BY created DESC, id",
                  error);
  hist = prepare (state,
                  "SELECT status, at FROM billing_payout_history"
                  " WHERE payout = ?1 ORDER BY at, status",
                  error);
  if (stmt == NULL || hist == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, creator);
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)gc_billing_payout_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    GcBillingPayout *po = g_new0 (GcBillingPayout, 1);

    po->id = column_text (stmt, 0);
    po->stripe_account = column_text (stmt, 1);
    po->amount = sqlite3_column_int64 (stmt, 2);
    po->fee = sqlite3_column_int64 (stmt, 3);
    copy_currency (po->currency, stmt, 4);
    po->method = column_text (stmt, 5);
    po->status = column_text (stmt, 6);
    po->failure_code = column_text (stmt, 7);
    po->created = sqlite3_column_int64 (stmt, 8);
    po->arrival_date = sqlite3_column_int64 (stmt, 9);
    po->history = g_ptr_array_new_with_free_func (g_free);
    sqlite3_reset (hist);
    sqlite3_bind_text (hist, 1, po->id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step (hist) == SQLITE_ROW)
      g_ptr_array_add (
          po->history,
          g_strdup_printf ("%s@%" G_GINT64_FORMAT,
                           sqlite3_column_text (hist, 0),
                           (gint64)sqlite3_column_int64 (hist, 1)));
    g_ptr_array_add (out, po);
  }
  if (rc != SQLITE_DONE) {
    storage_error (state, error, "payouts");
    return NULL;
  }
  return g_steal_pointer (&out);
}

/* --- text ---------------------------------------------------------------------- */

gchar *
gc_billing_format_decimal (gint64 amount, const gchar *currency)
{
  gint exponent = gc_currency_exponent (currency);
  guint64 magnitude;
  guint64 unit = 1;

  g_return_val_if_fail (amount != G_MININT64, NULL);
  if (exponent < 0)
    return NULL;
  magnitude = amount < 0 ? (guint64)-amount : (guint64)amount;
  if (exponent == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT, amount < 0 ? "-" : "",
                            magnitude);
  for (gint i = 0; i < exponent; i++)
    unit *= 10;
  return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT,
                          amount < 0 ? "-" : "", magnitude / unit, exponent,
                          magnitude % unit);
}

void
gc_billing_csv_append_field (GString *out, const gchar *field)
{
  g_return_if_fail (out != NULL);
  if (field == NULL)
    return;
  if (strpbrk (field, ",\"\r\n") == NULL) {
    g_string_append (out, field);
    return;
  }
  g_string_append_c (out, '"');
  for (const gchar *p = field; *p != '\0'; p++) {
    if (*p == '"')
      g_string_append_c (out, '"');
    g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
}

static void
csv_money (GString *out, gint64 amount, const gchar *currency)
{
  g_autofree gchar *decimal = gc_billing_format_decimal (amount, currency);

  g_string_append_printf (out, ",%" G_GINT64_FORMAT ",", amount);
  gc_billing_csv_append_field (out, decimal ? decimal : "");
}

gchar *
gc_billing_statement_to_csv (const GcBillingStatement *statement)
{
  GString *out = g_string_new (
      "occurred_at,type,reference,currency,gross_minor,gross,fee_minor,fee,"
      "net_minor,net\r\n");

  g_return_val_if_fail (statement != NULL, NULL);
  for (guint i = 0; i < statement->items->len; i++) {
    const GcBillingStatementItem *item =
        &g_array_index (statement->items, GcBillingStatementItem, i);
    g_autoptr (GDateTime) dt =
        g_date_time_new_from_unix_utc (item->occurred_at);
    g_autofree gchar *when =
        dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");

    gc_billing_csv_append_field (out, when);
    g_string_append_c (out, ',');
    gc_billing_csv_append_field (out, item->type);
    g_string_append_c (out, ',');
    gc_billing_csv_append_field (out, item->reference);
    g_string_append_c (out, ',');
    gc_billing_csv_append_field (out, item->currency);
    csv_money (out, item->gross, item->currency);
    csv_money (out, item->fee, item->currency);
    csv_money (out, item->net, item->currency);
    g_string_append (out, "\r\n");
  }
  return g_string_free (out, FALSE);
}

/* --- for tests ------------------------------------------------------------------- */

gint64
gc_billing_state_count_events (GcBillingState *state)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, -1);
  stmt = prepare (state, "SELECT count (*) FROM billing_events", NULL);
  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    return -1;
  return sqlite3_column_int64 (stmt, 0);
}

/* Each query's rows, every column as text, in a fixed order. */
static const gchar *const dump_queries[] = {
    "SELECT id, type, created FROM billing_events ORDER BY id",
    "SELECT * FROM billing_accounts ORDER BY stripe_account",
    "SELECT * FROM billing_subscriptions ORDER BY stripe_id",
    "SELECT * FROM billing_invoices ORDER BY id",
    "SELECT * FROM billing_payments ORDER BY charge",
    "SELECT viewer, ppv_event, source FROM billing_entitlements"
    " ORDER BY viewer, ppv_event",
    "SELECT * FROM billing_tips ORDER BY id",
    "SELECT * FROM billing_payouts ORDER BY id",
    "SELECT * FROM billing_payout_history ORDER BY payout, status",
    "SELECT kind, object FROM billing_outbound ORDER BY kind, object",
    "SELECT kind, reference, request, creator FROM journals"
    " ORDER BY kind, reference",
    "SELECT a.name, e.currency, sum (e.amount) FROM entries e"
    " JOIN accounts a ON a.id = e.account GROUP BY a.name, e.currency"
    " ORDER BY a.name, e.currency",
};

gchar *
gc_billing_state_dump (GcBillingState *state, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_return_val_if_fail (state != NULL, NULL);
  for (guint q = 0; q < G_N_ELEMENTS (dump_queries); q++) {
    g_autoptr (sqlite3_stmt) stmt = prepare (state, dump_queries[q], error);
    int rc;

    if (stmt == NULL)
      return NULL;
    g_string_append_printf (out, "# %s\n", dump_queries[q]);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count (stmt); c++) {
        const guchar *text = sqlite3_column_text (stmt, c);

        g_string_append_printf (out, "%s%s", c ? "|" : "",
                                text ? (const gchar *)text : "NULL");
      }
      g_string_append_c (out, '\n');
    }
    if (rc != SQLITE_DONE) {
      storage_error (state, error, "dump");
      return NULL;
    }
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

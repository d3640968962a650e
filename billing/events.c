/* events.c — Stripe webhook events to ledger flows and state rows: one transaction per event, keyed by the
 * event id (processed once) and by Stripe's object ids (each money movement once, whatever event carries it). */

#include "events.h"

#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* What one event's handler works with. */
typedef struct {
  GcBillingState *state;
  GcLedger *ledger;
  sqlite3 *db;
  const gchar *id;
  const gchar *type;
  gint64 created;
  const gchar *account; /* (nullable) Connect events: the acct_ */
  JsonObject *object;   /* data.object */
  gboolean retry;       /* set with the error: deliver again later */
  gboolean ignored;
  GcBillingTip *tip;
} Event;

typedef gboolean (*HandlerFunc) (Event *ev, GError **error);

void
gc_billing_tip_free (GcBillingTip *tip)
{
  if (tip == NULL)
    return;
  g_free (tip->id);
  g_free (tip->channel);
  g_free (tip->viewer_name);
  g_free (tip->message);
  g_free (tip);
}

const gchar *
gc_billing_event_outcome_to_string (GcBillingEventOutcome outcome)
{
  switch (outcome) {
    case GC_BILLING_EVENT_APPLIED:
      return "applied";
    case GC_BILLING_EVENT_DUPLICATE:
      return "duplicate";
    case GC_BILLING_EVENT_IGNORED:
      return "ignored";
    case GC_BILLING_EVENT_RETRY:
      return "retry";
    case GC_BILLING_EVENT_FAILED:
    default:
      return "failed";
  }
}

/* --- JSON ------------------------------------------------------------------ */

static const gchar *
get_str (JsonObject *obj, const gchar *name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* An integer member; FALSE if absent, null or not an integer. */
static gboolean
get_int (JsonObject *obj, const gchar *name, gint64 *out)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gint64
get_int_or (JsonObject *obj, const gchar *name, gint64 fallback)
{
  gint64 v;

  return get_int (obj, name, &v) ? v : fallback;
}

static gboolean
get_bool (JsonObject *obj, const gchar *name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (node);
}

static JsonObject *
get_obj (JsonObject *obj, const gchar *name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
             ? json_node_get_object (node)
             : NULL;
}

/* A reference Stripe sends either as an id or, expanded, as the object. */
static const gchar *
get_ref (JsonObject *obj, const gchar *name)
{
  const gchar *id = get_str (obj, name);

  return id ? id : get_str (get_obj (obj, name), "id");
}

/* Element @i of @array when it is an object, else NULL (json-glib's own
 * getter raises a critical on another type). */
static JsonObject *
array_obj (JsonArray *array, guint i)
{
  JsonNode *node = json_array_get_element (array, i);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
             ? json_node_get_object (node)
             : NULL;
}

static JsonArray *
get_list_data (JsonObject *obj, const gchar *name)
{
  JsonObject *list = get_obj (obj, name);
  JsonNode *node = list ? json_object_get_member (list, "data") : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  return json_node_get_array (node);
}

static const gchar *
or_str (const gchar *a, const gchar *b)
{
  return a != NULL ? a : b;
}

/* A decimal accounts id from metadata; 0 when absent or not one. */
static gint64
meta_id (JsonObject *meta, const gchar *name)
{
  const gchar *text = get_str (meta, name);
  guint64 v;

  if (text == NULL ||
      !g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &v, NULL))
    return 0;
  return (gint64)v;
}

/* --- SQL --------------------------------------------------------------------- */

static gboolean
fail_storage (Event *ev, GError **error)
{
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE, "%s",
               sqlite3_errmsg (ev->db));
  return FALSE;
}

/* Runs @sql with parameters described by @types, one letter each: 't' a
 * string (NULL binds NULL), 'i' a gint64. @changes: (out) (optional). */
static gboolean
run (Event *ev, gint *changes, GError **error, const gchar *sql,
     const gchar *types, ...)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  va_list args;

  if (sqlite3_prepare_v2 (ev->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return fail_storage (ev, error);
  va_start (args, types);
  for (int i = 0; types[i] != '\0'; i++) {
    if (types[i] == 't')
      sqlite3_bind_text (stmt, i + 1, va_arg (args, const gchar *), -1,
                         SQLITE_TRANSIENT);
    else
      sqlite3_bind_int64 (stmt, i + 1, va_arg (args, gint64));
  }
  va_end (args);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return fail_storage (ev, error);
  if (changes != NULL)
    *changes = sqlite3_changes (ev->db);
  return TRUE;
}

static gboolean retry (Event *ev, GError **error, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
retry (Event *ev, GError **error, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  ev->retry = TRUE;
  g_set_error_literal (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND,
                       message);
  return FALSE;
}

static gboolean
malformed (GError **error, const gchar *what)
{
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
               "not a Stripe event: %s", what);
  return FALSE;
}

/* A ledger flow's outcome: NOT_FOUND and INSUFFICIENT_FUNDS mean an event it
 * depends on has not arrived yet. */
static gboolean
ledger_done (Event *ev, GcLedgerOutcome outcome, GError **error)
{
  if (outcome != GC_LEDGER_FAILED)
    return TRUE;
  if (g_error_matches (*error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND) ||
      g_error_matches (*error, GC_BILLING_ERROR,
                       GC_BILLING_ERROR_INSUFFICIENT_FUNDS))
    ev->retry = TRUE;
  return FALSE;
}

/* --- subscriptions ------------------------------------------------------------- */

/* Who a subscription is for never changes: the first event that knows it
 * fills it in, whatever came before. */
static gboolean
upsert_subscription (Event *ev, const gchar *sub_id, const gchar *customer,
                     JsonObject *meta, gint64 created, GError **error)
{
  gint64 viewer = meta_id (meta, GC_BILLING_META_VIEWER);
  gint64 creator = meta_id (meta, GC_BILLING_META_CREATOR);

  return run (ev, NULL, error,
              "INSERT INTO billing_subscriptions"
              " (stripe_id, viewer, channel, creator, customer, created)"
              " VALUES (?1, nullif (?2, 0), ?3, nullif (?4, 0), ?5, ?6)"
              " ON CONFLICT (stripe_id) DO UPDATE SET"
              "  viewer = coalesce (viewer, excluded.viewer),"
              "  channel = coalesce (channel, excluded.channel),"
              "  creator = coalesce (creator, excluded.creator),"
              "  customer = coalesce (customer, excluded.customer),"
              "  created = max (created, excluded.created)",
              "tititi", sub_id, viewer, get_str (meta, GC_BILLING_META_CHANNEL),
              creator, customer, created);
}

static gboolean
on_subscription (Event *ev, GError **error)
{
  JsonObject *sub = ev->object;
  const gchar *id = get_str (sub, "id");
  const gchar *status = get_str (sub, "status");
  JsonArray *items = get_list_data (sub, "items");
  gint64 period_end = get_int_or (sub, "current_period_end", 0);
  gboolean canceled;

  if (id == NULL || status == NULL)
    return malformed (error, "subscription without id or status");
  /* Since 2025-03-31.basil the period lives on the items. */
  if (items != NULL && json_array_get_length (items) > 0)
    period_end =
        get_int_or (array_obj (items, 0), "current_period_end", period_end);
  canceled = strcmp (status, "canceled") == 0 ||
             strcmp (ev->type, "customer.subscription.deleted") == 0;
  if (!upsert_subscription (ev, id, get_ref (sub, "customer"),
                            get_obj (sub, "metadata"),
                            get_int_or (sub, "created", 0), error))
    return FALSE;
  if (!run (ev, NULL, error,
            "UPDATE billing_subscriptions SET"
            " current_period_end = max (current_period_end, ?2),"
            " paid_through = CASE WHEN ?3 THEN max (paid_through, ?2)"
            "   ELSE paid_through END,"
            " unpaid_period_end = CASE WHEN ?4 THEN max (unpaid_period_end, ?2)"
            "   ELSE unpaid_period_end END,"
            " canceled = max (canceled, ?5),"
            " ended_at = CASE WHEN ?5 THEN max (ended_at, ?6)"
            "   ELSE ended_at END"
            " WHERE stripe_id = ?1",
            "tiiiii", id, period_end,
            (gint64)(strcmp (status, "active") == 0 ||
                     strcmp (status, "trialing") == 0),
            (gint64)(strcmp (status, "unpaid") == 0), (gint64)canceled,
            get_int_or (sub, "ended_at",
                        get_int_or (sub, "canceled_at", ev->created))))
    return FALSE;
  /* Newest wins, by the event's time; on a tie "cancel" wins, so the order
   * of two events of the same second does not matter. */
  return run (ev, NULL, error,
              "UPDATE billing_subscriptions SET cancel_at_period_end = ?2,"
              " cancel_set_at = ?3 WHERE stripe_id = ?1 AND"
              " (cancel_set_at < ?3 OR"
              "  (cancel_set_at = ?3 AND cancel_at_period_end < ?2))",
              "tii", id, (gint64)get_bool (sub, "cancel_at_period_end"),
              ev->created);
}

static gboolean
on_invoice (Event *ev, GError **error)
{
  JsonObject *inv = ev->object;
  JsonObject *parent =
      get_obj (get_obj (inv, "parent"), "subscription_details");
  const gchar *id = get_str (inv, "id");
  const gchar *sub_id = get_ref (inv, "subscription");
  const gchar *currency = get_str (inv, "currency");
  JsonArray *lines = get_list_data (inv, "lines");
  gint64 period_end = get_int_or (inv, "period_end", 0);
  gboolean paid = strcmp (ev->type, "invoice.paid") == 0;

  if (sub_id == NULL)
    sub_id = get_ref (parent, "subscription");
  if (id == NULL || currency == NULL)
    return malformed (error, "invoice without id or currency");
  if (sub_id == NULL) {
    ev->ignored = TRUE; /* not a subscription's invoice */
    return TRUE;
  }
  /* What a paid invoice pays for is its lines' period (a renewal invoice's
   * own period_end is the start of the new period). */
  for (guint i = 0; lines != NULL && i < json_array_get_length (lines); i++) {
    JsonObject *period = get_obj (array_obj (lines, i), "period");

    period_end = MAX (period_end, get_int_or (period, "end", 0));
  }
  if (!upsert_subscription (ev, sub_id, get_ref (inv, "customer"),
                            get_obj (parent, "metadata"), 0, error))
    return FALSE;
  if (!run (ev, NULL, error,
            "INSERT INTO billing_invoices"
            " (id, subscription, period_end, amount, currency, paid, failed)"
            " VALUES (?1, ?2, ?3, ?4, upper (?5), ?6, ?7)"
            " ON CONFLICT (id) DO UPDATE SET paid = max (paid, excluded.paid),"
            " failed = max (failed, excluded.failed)",
            "ttiitii", id, sub_id, period_end,
            get_int_or (inv, "amount_due", 0), currency, (gint64)paid,
            (gint64)!paid))
    return FALSE;
  if (!paid)
    return TRUE;
  return run (ev, NULL, error,
              "UPDATE billing_subscriptions SET"
              " paid_through = max (paid_through, ?2) WHERE stripe_id = ?1",
              "ti", sub_id, period_end);
}

/* --- payments ------------------------------------------------------------------- */

/* A tip's row: a success is final and its event says what the tip was (a
 * failed attempt before it may have had another message); a "failed" only
 * fills an empty row. @newly: (out): this call made it succeed. */
static gboolean
upsert_tip (Event *ev, const gchar *pi_id, JsonObject *meta,
            const GcMoney *amount, const gchar *status, gboolean *newly,
            GError **error)
{
  gboolean succeeded = strcmp (status, "succeeded") == 0;

  *newly = FALSE;
  if (succeeded) {
    g_autoptr (sqlite3_stmt) stmt = NULL;

    if (sqlite3_prepare_v2 (ev->db,
                            "SELECT 1 FROM billing_tips WHERE id = ?1"
                            " AND status = 'succeeded'",
                            -1, &stmt, NULL) != SQLITE_OK)
      return fail_storage (ev, error);
    sqlite3_bind_text (stmt, 1, pi_id, -1, SQLITE_TRANSIENT);
    *newly = sqlite3_step (stmt) != SQLITE_ROW;
  }
  return run (ev, NULL, error,
              "INSERT INTO billing_tips (id, channel, viewer,"
              " viewer_name, amount, currency, message, status, occurred_at)"
              " VALUES (?1, ?2, nullif (?3, 0), ?4, ?5, ?6, ?7, ?8, ?9)"
              " ON CONFLICT (id) DO UPDATE SET channel = excluded.channel,"
              "  viewer = excluded.viewer, viewer_name = excluded.viewer_name,"
              "  amount = excluded.amount, currency = excluded.currency,"
              "  message = excluded.message, status = excluded.status,"
              "  occurred_at = excluded.occurred_at"
              " WHERE excluded.status = 'succeeded'",
              "ttitittti", pi_id, get_str (meta, GC_BILLING_META_CHANNEL),
              meta_id (meta, GC_BILLING_META_VIEWER),
              get_str (meta, GC_BILLING_META_VIEWER_NAME), amount->amount,
              amount->currency, get_str (meta, GC_BILLING_META_MESSAGE), status,
              ev->created);
}

static void
set_tip (Event *ev, const gchar *pi_id, JsonObject *meta, const GcMoney *amount)
{
  GcBillingTip *tip = g_new0 (GcBillingTip, 1);

  tip->id = g_strdup (pi_id);
  tip->channel = g_strdup (get_str (meta, GC_BILLING_META_CHANNEL));
  tip->viewer = meta_id (meta, GC_BILLING_META_VIEWER);
  tip->viewer_name = g_strdup (get_str (meta, GC_BILLING_META_VIEWER_NAME));
  tip->message = g_strdup (get_str (meta, GC_BILLING_META_MESSAGE));
  tip->amount = *amount;
  gc_billing_tip_free (ev->tip);
  ev->tip = tip;
}

/* The subscription paid by a payment intent that carries no metadata (an
 * invoice's): found through its customer. */
static gboolean
subscription_of_customer (Event *ev, const gchar *customer, gchar **sub_id,
                          gint64 *creator, gint64 *viewer, gchar **channel)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  if (customer == NULL ||
      sqlite3_prepare_v2 (ev->db,
                          "SELECT stripe_id, coalesce (creator, 0),"
                          " coalesce (viewer, 0), channel"
                          " FROM billing_subscriptions WHERE customer = ?1"
                          " ORDER BY creator IS NULL, created DESC, stripe_id"
                          " LIMIT 1",
                          -1, &stmt, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_text (stmt, 1, customer, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return FALSE;
  *sub_id = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
  *creator = sqlite3_column_int64 (stmt, 1);
  *viewer = sqlite3_column_int64 (stmt, 2);
  *channel = g_strdup ((const gchar *)sqlite3_column_text (stmt, 3));
  return TRUE;
}

static gboolean
on_payment_succeeded (Event *ev, GError **error)
{
  JsonObject *pi = ev->object;
  JsonObject *meta = get_obj (pi, "metadata");
  const gchar *pi_id = get_str (pi, "id");
  const gchar *charge = get_ref (pi, "latest_charge");
  const gchar *currency = get_str (pi, "currency");
  const gchar *destination =
      get_ref (get_obj (pi, "transfer_data"), "destination");
  const gchar *kind = get_str (meta, GC_BILLING_META_KIND);
  gint64 amount = get_int_or (pi, "amount_received", 0);
  gint64 creator = meta_id (meta, GC_BILLING_META_CREATOR);
  gint64 viewer = meta_id (meta, GC_BILLING_META_VIEWER);
  g_autofree gchar *channel =
      g_strdup (get_str (meta, GC_BILLING_META_CHANNEL));
  g_autofree gchar *object = NULL;
  GcMoney gross;

  if (pi_id == NULL || currency == NULL)
    return malformed (error, "payment intent without id or currency");
  if (kind == NULL && destination == NULL) {
    ev->ignored = TRUE; /* no creator is paid: not a Glasscast payment */
    return TRUE;
  }
  if (charge == NULL || amount <= 0)
    return malformed (error, "a succeeded payment intent without a charge");
  if (kind == NULL) {
    gint64 sub_creator = 0;

    if (!subscription_of_customer (ev, get_ref (pi, "customer"), &object,
                                   &sub_creator, &viewer, &channel))
      return retry (ev, error,
                    "payment %s: no subscription of its customer known yet",
                    pi_id);
    kind = "subscription";
    if (creator == 0)
      creator = sub_creator;
  } else if (strcmp (kind, "ppv") == 0) {
    object = g_strdup (get_str (meta, GC_BILLING_META_PPV_EVENT));
  } else if (strcmp (kind, "tip") == 0) {
    object = g_strdup (pi_id);
  }
  if (creator == 0)
    creator = gc_billing_state_creator_for_account (ev->state, destination);
  if (creator == 0)
    return retry (ev, error, "payment %s: its creator is not known yet", pi_id);
  if (!gc_money_init (&gross, amount, currency, error))
    return FALSE;
  if (!ledger_done (ev,
                    gc_ledger_charge (ev->ledger, charge, creator, &gross,
                                      ev->created, NULL, error),
                    error))
    return FALSE;
  if (!run (ev, NULL, error,
            "INSERT OR IGNORE INTO billing_payments (charge, payment_intent,"
            " kind, creator, viewer, channel, object, amount, currency,"
            " occurred_at) VALUES (?1, ?2, ?3, ?4, nullif (?5, 0), ?6, ?7,"
            " ?8, ?9, ?10)",
            "tttiittiti", charge, pi_id, kind, creator, viewer, channel, object,
            gross.amount, gross.currency, ev->created))
    return FALSE;
  if (strcmp (kind, "tip") == 0) {
    gboolean newly = FALSE;

    if (!upsert_tip (ev, pi_id, meta, &gross, "succeeded", &newly, error))
      return FALSE;
    if (newly && channel != NULL)
      set_tip (ev, pi_id, meta, &gross);
  } else if (strcmp (kind, "ppv") == 0) {
    gint64 ppv = meta_id (meta, GC_BILLING_META_PPV_EVENT);

    if (viewer > 0 && ppv > 0 &&
        !run (ev, NULL, error,
              "INSERT OR IGNORE INTO billing_entitlements"
              " (viewer, ppv_event, source) VALUES (?1, ?2, ?3)",
              "iit", viewer, ppv, pi_id))
      return FALSE;
  }
  return TRUE;
}

static gboolean
on_payment_failed (Event *ev, GError **error)
{
  JsonObject *meta = get_obj (ev->object, "metadata");
  const gchar *pi_id = get_str (ev->object, "id");
  const gchar *kind = get_str (meta, GC_BILLING_META_KIND);
  gboolean newly;
  GcMoney amount;

  if (pi_id == NULL)
    return malformed (error, "payment intent without id");
  if (kind == NULL || strcmp (kind, "tip") != 0) {
    ev->ignored = TRUE;
    return TRUE;
  }
  if (!gc_money_init (&amount, get_int_or (ev->object, "amount", 0),
                      or_str (get_str (ev->object, "currency"), ""), error))
    return FALSE;
  return upsert_tip (ev, pi_id, meta, &amount, "failed", &newly, error);
}

static gboolean
on_checkout_completed (Event *ev, GError **error)
{
  JsonObject *cs = ev->object;
  JsonObject *meta = get_obj (cs, "metadata");
  const gchar *mode = get_str (cs, "mode");
  const gchar *kind = get_str (meta, GC_BILLING_META_KIND);

  if (mode == NULL)
    return malformed (error, "checkout session without mode");
  if (strcmp (mode, "subscription") == 0 && get_ref (cs, "subscription")) {
    return upsert_subscription (ev, get_ref (cs, "subscription"),
                                get_ref (cs, "customer"), meta, 0, error);
  }
  if (strcmp (mode, "payment") == 0 && kind != NULL &&
      strcmp (kind, "ppv") == 0 &&
      g_strcmp0 (get_str (cs, "payment_status"), "paid") == 0) {
    gint64 viewer = meta_id (meta, GC_BILLING_META_VIEWER);
    gint64 ppv = meta_id (meta, GC_BILLING_META_PPV_EVENT);
    const gchar *pi_id = get_ref (cs, "payment_intent");

    if (viewer == 0 || ppv == 0 || pi_id == NULL)
      return malformed (error, "a PPV checkout without viewer, event or "
                               "payment intent");
    return run (ev, NULL, error,
                "INSERT OR IGNORE INTO billing_entitlements"
                " (viewer, ppv_event, source) VALUES (?1, ?2, ?3)",
                "iit", viewer, ppv, pi_id);
  }
  ev->ignored = TRUE;
  return TRUE;
}

/* --- refunds and disputes ---------------------------------------------------------- */

static gboolean
charge_is_ours (Event *ev, JsonObject *ch)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  if (get_str (get_obj (ch, "metadata"), GC_BILLING_META_KIND) != NULL ||
      get_obj (ch, "transfer_data") != NULL)
    return TRUE;
  if (sqlite3_prepare_v2 (ev->db,
                          "SELECT 1 FROM billing_payments WHERE charge = ?1",
                          -1, &stmt, NULL) != SQLITE_OK)
    return TRUE;
  sqlite3_bind_text (stmt, 1, get_str (ch, "id"), -1, SQLITE_TRANSIENT);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

/* One refund @re of @charge, once by its id, when it succeeded or is
 * pending (a failed or canceled one moves nothing). @currency: the charge's,
 * when the refund names none. */
static gboolean
apply_refund (Event *ev, const gchar *charge, JsonObject *re,
              const gchar *currency, GError **error)
{
  const gchar *re_id = get_str (re, "id");
  const gchar *status = get_str (re, "status");
  GcMoney amount;

  if (re_id == NULL)
    return malformed (error, "refund without id");
  if (g_strcmp0 (status, "succeeded") != 0 &&
      g_strcmp0 (status, "pending") != 0)
    return TRUE;
  if (!gc_money_init (&amount, get_int_or (re, "amount", 0),
                      or_str (get_str (re, "currency"), or_str (currency, "")),
                      error))
    return FALSE;
  return ledger_done (ev,
                      gc_ledger_refund (ev->ledger, re_id, charge, &amount,
                                        get_int_or (re, "created", ev->created),
                                        NULL, error),
                      error);
}

static gboolean
on_charge_refunded (Event *ev, GError **error)
{
  JsonObject *ch = ev->object;
  const gchar *charge = get_str (ch, "id");
  JsonArray *refunds = get_list_data (ch, "refunds");

  if (charge == NULL)
    return malformed (error, "charge without id");
  if (!charge_is_ours (ev, ch)) {
    ev->ignored = TRUE;
    return TRUE;
  }
  /* API versions since 2022-11-15 leave charge.refunds out of the event
   * (webhooks expand nothing): then refund.created / refund.updated carry
   * each refund, and this event has nothing more to say. */
  if (refunds == NULL)
    return TRUE;
  /* Older versions list every refund of the charge so far, each applied
   * once by its id: a later event lists the earlier refunds too, in any
   * order, and a refund.* event about one of them changes nothing more. */
  for (guint i = 0; i < json_array_get_length (refunds); i++) {
    if (!apply_refund (ev, charge, array_obj (refunds, i),
                       get_str (ch, "currency"), error))
      return FALSE;
  }
  return TRUE;
}

/* refund.created, refund.updated: one refund by its id; its charge not in
 * the ledger yet: retry (as for charge.refunded). */
static gboolean
on_refund (Event *ev, GError **error)
{
  JsonObject *re = ev->object;
  const gchar *charge = get_ref (re, "charge");

  if (get_str (re, "id") == NULL || charge == NULL)
    return malformed (error, "refund without id or charge");
  return apply_refund (ev, charge, re, NULL, error);
}

static gboolean
on_dispute (Event *ev, GError **error)
{
  JsonObject *du = ev->object;
  const gchar *id = get_str (du, "id");
  const gchar *charge = get_ref (du, "charge");
  const gchar *status = get_str (du, "status");
  GcMoney amount;

  if (id == NULL || charge == NULL || status == NULL)
    return malformed (error, "dispute without id, charge or status");
  if (!gc_money_init (&amount, get_int_or (du, "amount", 0),
                      or_str (get_str (du, "currency"), ""), error))
    return FALSE;
  /* A closing may arrive before the opening: it carries everything the
   * opening needs, so open first (once, by the dispute's id and time). */
  if (!ledger_done (ev,
                    gc_ledger_dispute_opened (
                        ev->ledger, id, charge, &amount,
                        get_int_or (du, "created", ev->created), NULL, error),
                    error))
    return FALSE;
  if (strcmp (ev->type, "charge.dispute.closed") != 0)
    return TRUE;
  if (strcmp (status, "won") == 0)
    return ledger_done (
        ev, gc_ledger_dispute_won (ev->ledger, id, ev->created, NULL, error),
        error);
  if (strcmp (status, "lost") == 0)
    return ledger_done (
        ev, gc_ledger_dispute_lost (ev->ledger, id, ev->created, NULL, error),
        error);
  return TRUE;
}

/* --- Connect ---------------------------------------------------------------------- */

static gboolean
on_account (Event *ev, GError **error)
{
  JsonObject *acct = ev->object;
  const gchar *id = get_str (acct, "id");
  JsonObject *req = get_obj (acct, "requirements");

  if (id == NULL || !g_str_has_prefix (id, "acct_"))
    return malformed (error, "account without an acct_ id");
  /* Newest wins by the event's time; on a tie the more enabled one, so the
   * order of two events of one second does not matter. */
  return run (ev, NULL, error,
              "INSERT OR IGNORE INTO billing_accounts (stripe_account)"
              " VALUES (?1)",
              "t", id) &&
         run (ev, NULL, error,
              "UPDATE billing_accounts SET creator = coalesce (creator,"
              " nullif (?2, 0)) WHERE stripe_account = ?1",
              "ti", id,
              meta_id (get_obj (acct, "metadata"), GC_BILLING_META_CREATOR)) &&
         run (ev, NULL, error,
              "UPDATE billing_accounts SET charges_enabled = ?2,"
              " payouts_enabled = ?3, details_submitted = ?4, details = ?5,"
              " updated = ?6 WHERE stripe_account = ?1 AND (?6 > updated OR"
              " (?6 = updated AND ?2 + ?3 + ?4 >= charges_enabled"
              "  + payouts_enabled + details_submitted))",
              "tiiiti", id, (gint64)get_bool (acct, "charges_enabled"),
              (gint64)get_bool (acct, "payouts_enabled"),
              (gint64)get_bool (acct, "details_submitted"),
              get_str (req, "disabled_reason"), ev->created);
}

static gint64
payout_rank (const gchar *status)
{
  if (strcmp (status, "in_transit") == 0)
    return 1;
  if (strcmp (status, "paid") == 0)
    return 2;
  if (strcmp (status, "failed") == 0 || strcmp (status, "canceled") == 0)
    return 3;
  return 0;
}

static gboolean
on_payout (Event *ev, GError **error)
{
  JsonObject *po = ev->object;
  const gchar *id = get_str (po, "id");
  const gchar *status = get_str (po, "status");
  const gchar *currency = get_str (po, "currency");
  const gchar *account =
      or_str (ev->account, get_ref (po, "destination_account"));
  gint64 creator = meta_id (get_obj (po, "metadata"), GC_BILLING_META_CREATOR);
  gint64 created = get_int_or (po, "created", ev->created);
  GcMoney amount;
  GcMoney fee;
  GcMoney debited;

  if (id == NULL || status == NULL || currency == NULL)
    return malformed (error, "payout without id, status or currency");
  if (account == NULL) {
    ev->ignored = TRUE; /* the platform's own payout */
    return TRUE;
  }
  if (creator == 0)
    creator = gc_billing_state_creator_for_account (ev->state, account);
  if (creator == 0)
    return retry (ev, error, "payout %s: no creator known for its account", id);
  if (!gc_money_init (&amount, get_int_or (po, "amount", 0), currency, error) ||
      !gc_money_init (&fee, 0, currency, error))
    return FALSE;
  /* Stripe's fee (instant payouts) came with the reply to our request;
   * payouts made elsewhere (Stripe's dashboard) count none. */
  {
    GcMoney recorded;
    gboolean known = FALSE;

    if (!gc_billing_state_get_payout_fee (ev->state, id, &recorded, &known,
                                          error))
      return FALSE;
    if (known && strcmp (recorded.currency, fee.currency) == 0)
      fee = recorded;
  }
  if (!run (ev, NULL, error,
            "INSERT INTO billing_payouts (id, creator, stripe_account, amount,"
            " currency, method, status, status_rank, failure_code, created,"
            " arrival_date, fee) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
            " ?10, ?11, ?12) ON CONFLICT (id) DO UPDATE SET"
            "  status = iif (excluded.status_rank > status_rank,"
            "    excluded.status, status),"
            "  status_rank = max (status_rank, excluded.status_rank),"
            "  failure_code = coalesce (failure_code, excluded.failure_code),"
            "  fee = max (fee, excluded.fee)",
            "tititttitiii", id, creator, account, amount.amount,
            amount.currency, or_str (get_str (po, "method"), "standard"),
            status, payout_rank (status), get_str (po, "failure_code"), created,
            get_int_or (po, "arrival_date", 0), fee.amount) ||
      !run (ev, NULL, error,
            "INSERT OR IGNORE INTO billing_payout_history (payout, status, at)"
            " VALUES (?1, ?2, ?3)",
            "tti", id, status, ev->created))
    return FALSE;
  /* The money leaves once, when Stripe says it was paid or failed (a failed
   * payout first left, then came back): the same journals whichever of the
   * two arrives first. */
  if (strcmp (status, "paid") != 0 && strcmp (status, "failed") != 0)
    return TRUE;
  /* Stripe takes an instant payout's fee from the balance beside the
   * amount: the creator's balance gives both, the fee to payout-fees. */
  if (!gc_money_add (&amount, &fee, &debited, error))
    return FALSE;
  if (!ledger_done (ev,
                    gc_ledger_payout (ev->ledger, id, creator, &debited, &fee,
                                      created, NULL, error),
                    error))
    return FALSE;
  if (strcmp (status, "failed") == 0) {
    /* A failed payout gives both back. */
    g_autofree gchar *reference = g_strdup_printf ("payout-failed:%s", id);
    g_autofree gchar *creator_account = gc_ledger_creator_account (creator);
    GcLedgerEntry entries[] = {
        {creator_account, debited.amount, amount.currency},
        {GC_LEDGER_ACCOUNT_PAYOUTS_SENT, -amount.amount, amount.currency},
        {GC_LEDGER_ACCOUNT_PAYOUT_FEES, -fee.amount, amount.currency},
    };

    return ledger_done (ev,
                        gc_ledger_adjust (ev->ledger, reference, entries,
                                          fee.amount > 0 ? 3 : 2, ev->created,
                                          NULL, error),
                        error);
  }
  return TRUE;
}

/* --- dispatch ----------------------------------------------------------------------- */

static const struct {
  const gchar *type;
  HandlerFunc func;
} handlers[] = {
    {"payment_intent.succeeded", on_payment_succeeded},
    {"payment_intent.payment_failed", on_payment_failed},
    {"checkout.session.completed", on_checkout_completed},
    {"invoice.paid", on_invoice},
    {"invoice.payment_failed", on_invoice},
    {"customer.subscription.created", on_subscription},
    {"customer.subscription.updated", on_subscription},
    {"customer.subscription.deleted", on_subscription},
    {"charge.refunded", on_charge_refunded},
    {"refund.created", on_refund},
    {"refund.updated", on_refund},
    {"charge.dispute.created", on_dispute},
    {"charge.dispute.closed", on_dispute},
    {"account.updated", on_account},
    {"payout.created", on_payout},
    {"payout.updated", on_payout},
    {"payout.paid", on_payout},
    {"payout.failed", on_payout},
    {"payout.canceled", on_payout},
};

GPtrArray *
gc_billing_unannounced_tips (GcBillingState *state, gint64 since,
                             GError **error)
{
  sqlite3 *db;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) out = NULL;
  int rc;

  g_return_val_if_fail (state != NULL, NULL);

  db = gc_ledger_get_db (gc_billing_state_get_ledger (state));
  if (sqlite3_prepare_v2 (
          db,
          "SELECT t.id, t.channel, coalesce (t.viewer, 0), t.viewer_name,"
          " t.message, t.amount, t.currency FROM billing_tips t"
          " LEFT JOIN billing_tip_announcements a ON a.tip = t.id"
          " WHERE t.status = 'succeeded' AND a.tip IS NULL"
          " AND t.occurred_at >= ?1 ORDER BY t.occurred_at, t.id",
          -1, &stmt, NULL) != SQLITE_OK) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "unannounced tips: %s", sqlite3_errmsg (db));
    return NULL;
  }
  sqlite3_bind_int64 (stmt, 1, since);
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)gc_billing_tip_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    GcBillingTip *tip = g_new0 (GcBillingTip, 1);
    const guchar *currency = sqlite3_column_text (stmt, 6);

    tip->id = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
    tip->channel = g_strdup ((const gchar *)sqlite3_column_text (stmt, 1));
    tip->viewer = sqlite3_column_int64 (stmt, 2);
    tip->viewer_name = g_strdup ((const gchar *)sqlite3_column_text (stmt, 3));
    tip->message = g_strdup ((const gchar *)sqlite3_column_text (stmt, 4));
    g_ptr_array_add (out, tip);
    if (!gc_money_init (&tip->amount, sqlite3_column_int64 (stmt, 5),
                        currency ? (const gchar *)currency : "", error))
      return NULL;
  }
  if (rc != SQLITE_DONE) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "unannounced tips: %s", sqlite3_errmsg (db));
    return NULL;
  }
  return g_steal_pointer (&out);
}

gboolean
gc_billing_mark_tip_announced (GcBillingState *state, const gchar *id,
                               gint64 when, GError **error)
{
  sqlite3 *db;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  db = gc_ledger_get_db (gc_billing_state_get_ledger (state));
  if (sqlite3_prepare_v2 (db,
                          "INSERT OR IGNORE INTO billing_tip_announcements"
                          " (tip, announced_at) VALUES (?1, ?2)",
                          -1, &stmt, NULL) != SQLITE_OK) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "tip announcement: %s", sqlite3_errmsg (db));
    return FALSE;
  }
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, when);
  if (sqlite3_step (stmt) != SQLITE_DONE) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "tip announcement: %s", sqlite3_errmsg (db));
    return FALSE;
  }
  return TRUE;
}

GcBillingEventOutcome
gc_billing_apply_event (GcBillingState *state, const gchar *json, gsize len,
                        gint64 now, GcBillingTip **tip, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  Event ev = {state};
  JsonNode *root;
  JsonObject *event;
  HandlerFunc func = NULL;
  gint changes = 0;

  g_return_val_if_fail (state != NULL && json != NULL, GC_BILLING_EVENT_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL,
                        GC_BILLING_EVENT_FAILED);

  if (!json_parser_load_from_data (parser, json, (gssize)len, NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root)) {
    malformed (error, "not a JSON object");
    return GC_BILLING_EVENT_FAILED;
  }
  event = json_node_get_object (root);
  ev.id = get_str (event, "id");
  ev.type = get_str (event, "type");
  ev.account = get_str (event, "account");
  ev.object = get_obj (get_obj (event, "data"), "object");
  if (ev.id == NULL || ev.type == NULL || ev.object == NULL ||
      !get_int (event, "created", &ev.created) ||
      strlen (ev.id) > GC_LEDGER_NAME_MAX) {
    malformed (error, "id, type, created or data.object missing");
    return GC_BILLING_EVENT_FAILED;
  }
  ev.ledger = gc_billing_state_get_ledger (state);
  ev.db = gc_ledger_get_db (ev.ledger);
  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++) {
    if (strcmp (handlers[i].type, ev.type) == 0)
      func = handlers[i].func;
  }

  if (!gc_ledger_begin (ev.ledger, error))
    return GC_BILLING_EVENT_FAILED;
  if (!run (&ev, &changes, error,
            "INSERT OR IGNORE INTO billing_events (id, type, created,"
            " processed_at) VALUES (?1, ?2, ?3, ?4)",
            "ttii", ev.id, ev.type, ev.created, now)) {
    gc_ledger_rollback (ev.ledger);
    return GC_BILLING_EVENT_FAILED;
  }
  if (changes == 0) {
    gc_ledger_rollback (ev.ledger);
    return GC_BILLING_EVENT_DUPLICATE;
  }
  if (func == NULL) {
    ev.ignored = TRUE;
  } else if (!func (&ev, error)) {
    gc_ledger_rollback (ev.ledger);
    gc_billing_tip_free (ev.tip);
    return ev.retry ? GC_BILLING_EVENT_RETRY : GC_BILLING_EVENT_FAILED;
  }
  if (!gc_ledger_commit (ev.ledger, error)) {
    gc_billing_tip_free (ev.tip);
    return GC_BILLING_EVENT_FAILED;
  }
  if (tip != NULL)
    *tip = ev.tip;
  else
    gc_billing_tip_free (ev.tip);
  return ev.ignored ? GC_BILLING_EVENT_IGNORED : GC_BILLING_EVENT_APPLIED;
}

/* billing-actions.c — viewers' and creators' billing actions: each request is checked on the main context, then
 * a worker thread writes its row (on the billing thread), calls Stripe with a key derived from the operation, replies. */

#include "billing-actions.h"

#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

#include "channel.h"
#include "http-util.h"

#define PREFIX "/api/v1/billing/"
#define BODY_MAX (16 * 1024)
#define MESSAGE_MAX 500 /* Stripe's metadata value limit */
#define WORKERS 4
#define OUTBOUND_RETRY_S 30
/* A PPV event is watchable from an hour before it starts to its end, or
 * for 12 hours when it has none. */
#define PPV_EARLY_S 3600
#define PPV_DEFAULT_LENGTH_S (12 * 3600)
/* What a channel's owner may ask a month, in minor units: from a dollar
 * (Stripe's smallest charge is half of one) to a thousand. */
#define CHANNEL_PRICE_MIN 100
#define CHANNEL_PRICE_MAX 100000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* The actions' own rows, beside the billing tables: a tip or payout is a
 * row before Stripe hears of it (its id is in the idempotency key), a
 * channel's monthly price is made once per amount (Stripe's prices are
 * immutable: a new amount is a new price, and subscriptions keep the one
 * they started with), and the amount its owner chose, if they did. */
static const gchar schema[] =
    "CREATE TABLE IF NOT EXISTS billing_actions ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  account INTEGER NOT NULL,"
    "  channel TEXT,"
    "  amount INTEGER,"
    "  currency TEXT,"
    "  status TEXT NOT NULL,"
    "  object TEXT,"
    "  created_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX IF NOT EXISTS billing_actions_by_account"
    "  ON billing_actions (kind, account, status);"
    "CREATE TABLE IF NOT EXISTS billing_prices ("
    "  channel TEXT NOT NULL,"
    "  tier TEXT NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  product TEXT NOT NULL,"
    "  price TEXT NOT NULL,"
    "  PRIMARY KEY (channel, tier, amount, currency)) STRICT;"
    "CREATE TABLE IF NOT EXISTS billing_channel_prices ("
    "  channel TEXT PRIMARY KEY,"
    "  amount INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  updated_by INTEGER NOT NULL) STRICT;";

typedef enum {
  ACTION_ONBOARD,
  ACTION_ONBOARD_STATUS,
  ACTION_SUBSCRIBE,
  ACTION_UNSUBSCRIBE,
  ACTION_TIP,
  ACTION_PPV,
  ACTION_PAYOUT,
  ACTION_OUTBOUND,
  ACTION_PRICE_GET, /* these two run on the billing thread only */
  ACTION_PRICE_SET,
} ActionKind;

struct _GcBillingActions {
  GMainContext *main_context;
  GcBillingHttp *http;    /* (unowned) owns us */
  GcStripeClient *client; /* (nullable) no key: actions answer 503 */
  GcAccountsApi *accounts_api;
  GcChannels *channels;
  GThreadPool *workers;
  sqlite3 *reader; /* (nullable) read-only, main context: the authorizer */
  guint32 platform_ppm;
  guint fee_bps; /* the same share for subscriptions, in basis points */
  gint64 subscription_price;
  gchar currency[4];
  gchar *country;
  guint outbound_source;
  gint outbound_running; /* atomic */
};

typedef struct {
  GcBillingActions *self;
  ActionKind kind;
  SoupServerMessage *msg; /* (nullable) */
  gint64 account;
  gchar *username;
  gchar *origin;
  gchar *channel;
  gint64 creator;
  gint64 ppv;
  GcMoney amount;
  gboolean amount_given;
  gchar *message;
  GcStripePayoutMethod method;
  /* set on the billing thread */
  gchar *stripe_account;
  gboolean charges_enabled;
  gboolean payouts_enabled;
  gchar *price;
  gboolean channel_price; /* a->amount is the channel's own price */
  gchar *title;
  gchar *subscription;
  gint64 row;
  GPtrArray *intents;
  /* the reply */
  guint status;
  gchar *response;
} Action;

static void
action_free (Action *a)
{
  g_clear_object (&a->msg);
  g_free (a->username);
  g_free (a->origin);
  g_free (a->channel);
  g_free (a->message);
  g_free (a->stripe_account);
  g_free (a->price);
  g_free (a->title);
  g_free (a->subscription);
  g_clear_pointer (&a->intents, g_ptr_array_unref);
  g_free (a->response);
  g_free (a);
}

/* --- replies --------------------------------------------------------------------- */

static void
set_error (Action *a, guint status, const gchar *code, const gchar *message)
{
  a->status = status;
  g_free (a->response);
  a->response = gc_http_json_error_body (code, message);
}

/* The one place a failed Stripe call or store becomes an HTTP status. */
static void
set_gerror (Action *a, const GError *error)
{
  if (error->domain == GC_STRIPE_ERROR) {
    const GcStripeErrorInfo *info = gc_stripe_error_get_info (error);

    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                      "billing action: Stripe refused: %s (request %s)",
                      error->message,
                      info && info->request_id ? info->request_id : "-");
    if (info != NULL && g_strcmp0 (info->code, "balance_insufficient") == 0)
      set_error (a, SOUP_STATUS_CONFLICT, "insufficient_funds", error->message);
    else
      set_error (a, SOUP_STATUS_BAD_GATEWAY, "stripe_error", error->message);
    return;
  }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                    "billing action: %s", error->message);
  if (g_error_matches (error, GC_BILLING_ERROR,
                       GC_BILLING_ERROR_INVALID_ARGUMENT))
    set_error (a, SOUP_STATUS_BAD_REQUEST, "bad_request", error->message);
  else if (g_error_matches (error, GC_BILLING_ERROR,
                            GC_BILLING_ERROR_INSUFFICIENT_FUNDS))
    set_error (a, SOUP_STATUS_CONFLICT, "insufficient_funds", error->message);
  else
    set_error (a, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               error->message);
}

static void
set_json (Action *a, guint status, JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  a->status = status;
  g_free (a->response);
  a->response = json_to_string (root, FALSE);
}

static void
reply_now (SoupServerMessage *msg, guint status, const gchar *code,
           const gchar *message)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  gc_http_set_json_error (msg, code, message);
}

static gboolean
action_done (gpointer data)
{
  Action *a = data;

  if (a->msg != NULL) {
    soup_server_message_set_status (a->msg, a->status, NULL);
    soup_message_headers_replace (
        soup_server_message_get_response_headers (a->msg), "Cache-Control",
        "no-store");
    if (a->response != NULL)
      soup_server_message_set_response (a->msg, "application/json",
                                        SOUP_MEMORY_COPY, a->response,
                                        strlen (a->response));
    soup_server_message_unpause (a->msg);
  }
  action_free (a);
  return G_SOURCE_REMOVE;
}

/* --- the billing thread's part ------------------------------------------------ */

static sqlite3 *
state_db (GcBillingState *state)
{
  return gc_ledger_get_db (gc_billing_state_get_ledger (state));
}

static sqlite3_stmt *
prepare (GcBillingState *state, const gchar *sql)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (state_db (state), sql, -1, &stmt, NULL) !=
      SQLITE_OK) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "billing actions: %s", sqlite3_errmsg (state_db (state)));
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

/* The creator's connected account; the most enabled one if several. */
static void
load_account (GcBillingState *state, Action *a)
{
  g_autoptr (sqlite3_stmt) stmt =
      prepare (state, "SELECT stripe_account, charges_enabled, payouts_enabled"
                      " FROM billing_accounts WHERE creator = ?1"
                      " ORDER BY charges_enabled + payouts_enabled DESC,"
                      " rowid LIMIT 1");

  g_clear_pointer (&a->stripe_account, g_free);
  if (stmt == NULL)
    return;
  sqlite3_bind_int64 (stmt, 1, a->creator);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    a->stripe_account = column_text (stmt, 0);
    a->charges_enabled = sqlite3_column_int64 (stmt, 1) != 0;
    a->payouts_enabled = sqlite3_column_int64 (stmt, 2) != 0;
  }
}

static gint64
insert_row (GcBillingState *state, Action *a, const gchar *kind)
{
  g_autoptr (sqlite3_stmt) stmt =
      prepare (state, "INSERT INTO billing_actions (kind, account, channel,"
                      " amount, currency, status, created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, 'requested', ?6)");

  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, a->account);
  sqlite3_bind_text (stmt, 3, a->channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, a->amount.amount);
  sqlite3_bind_text (stmt, 5, a->amount.currency, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, g_get_real_time () / G_USEC_PER_SEC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return 0;
  return sqlite3_last_insert_rowid (state_db (state));
}

static void
sync_link_account (GcBillingState *state, gpointer data)
{
  Action *a = data;
  g_autoptr (GError) error = NULL;

  if (!gc_billing_state_link_account (state, a->creator, a->stripe_account,
                                      &error))
    set_gerror (a, error);
}

static void
sync_load_account (GcBillingState *state, gpointer data)
{
  load_account (state, data);
}

/* The channel's own monthly price into a->amount (which holds the default
 * until then). Only one in the [billing] currency counts: a price set before
 * that currency changed waits to be set again. */
static void
load_channel_price (GcBillingState *state, Action *a)
{
  g_autoptr (sqlite3_stmt) stmt =
      prepare (state, "SELECT amount FROM billing_channel_prices"
                      " WHERE channel = ?1 AND currency = ?2");

  if (stmt == NULL)
    return;
  sqlite3_bind_text (stmt, 1, a->channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, a->amount.currency, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW) {
    a->amount.amount = sqlite3_column_int64 (stmt, 0);
    a->channel_price = TRUE;
  }
}

static gboolean
store_channel_price (GcBillingState *state, Action *a)
{
  g_autoptr (sqlite3_stmt) stmt = prepare (
      state, "INSERT INTO billing_channel_prices (channel, amount, currency,"
             " updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5)"
             " ON CONFLICT (channel) DO UPDATE SET amount = excluded.amount,"
             " currency = excluded.currency, updated_at = excluded.updated_at,"
             " updated_by = excluded.updated_by"
             " WHERE amount != excluded.amount"
             " OR currency != excluded.currency");

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, a->channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, a->amount.amount);
  sqlite3_bind_text (stmt, 3, a->amount.currency, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time () / G_USEC_PER_SEC);
  sqlite3_bind_int64 (stmt, 5, a->account);
  if (sqlite3_step (stmt) != SQLITE_DONE) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "billing actions: channel price: %s",
                      sqlite3_errmsg (state_db (state)));
    return FALSE;
  }
  return TRUE;
}

/* GET and PUT channels/<channel>/price, whole on the billing thread
 * (gc_billing_http_run_async): no Stripe call. The Stripe price of a new
 * amount is made by the first subscribe that needs it. */
static void
sync_channel_price (GcBillingState *state, gpointer data)
{
  Action *a = data;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *text = NULL;

  if (a->kind == ACTION_PRICE_SET) {
    if (!store_channel_price (state, a)) {
      set_error (a, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                 "the price could not be stored");
      return;
    }
    g_log_structured (
        G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", a->channel, "MESSAGE",
        "billing: %s's subscription is %" G_GINT64_FORMAT
        " %s a month (set by %" G_GINT64_FORMAT ")",
        a->channel, a->amount.amount, a->amount.currency, a->account);
    a->channel_price = TRUE;
  } else {
    load_channel_price (state, a);
  }
  text = gc_billing_format_decimal (a->amount.amount, a->amount.currency);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "channel");
  json_builder_add_string_value (b, a->channel);
  json_builder_set_member_name (b, "amount");
  json_builder_add_int_value (b, a->amount.amount);
  json_builder_set_member_name (b, "currency");
  json_builder_add_string_value (b, a->amount.currency);
  json_builder_set_member_name (b, "amount_text");
  json_builder_add_string_value (b, text);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, a->channel_price ? "channel" : "default");
  json_builder_end_object (b);
  set_json (a, SOUP_STATUS_OK, b);
}

static void
sync_prepare_subscribe (GcBillingState *state, gpointer data)
{
  Action *a = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;

  if (gc_billing_state_has_active_subscription (
          state, a->account, a->channel, g_get_real_time () / G_USEC_PER_SEC)) {
    set_error (a, SOUP_STATUS_CONFLICT, "already_subscribed",
               "already subscribed to this channel");
    return;
  }
  load_account (state, a);
  load_channel_price (state, a);
  stmt = prepare (state, "SELECT price FROM billing_prices WHERE channel = ?1"
                         " AND tier = 'default' AND amount = ?2"
                         " AND currency = ?3");
  if (stmt == NULL)
    return;
  sqlite3_bind_text (stmt, 1, a->channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, a->amount.amount);
  sqlite3_bind_text (stmt, 3, a->amount.currency, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    a->price = column_text (stmt, 0);
}

typedef struct {
  Action *a;
  const gchar *product;
} PriceRow;

static void
sync_store_price (GcBillingState *state, gpointer data)
{
  PriceRow *p = data;
  g_autoptr (sqlite3_stmt) stmt =
      prepare (state, "INSERT OR IGNORE INTO billing_prices (channel, tier,"
                      " amount, currency, product, price)"
                      " VALUES (?1, 'default', ?2, ?3, ?4, ?5)");

  if (stmt == NULL)
    return;
  sqlite3_bind_text (stmt, 1, p->a->channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, p->a->amount.amount);
  sqlite3_bind_text (stmt, 3, p->a->amount.currency, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, p->product, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, p->a->price, -1, SQLITE_TRANSIENT);
  sqlite3_step (stmt);
}

static void
sync_find_subscription (GcBillingState *state, gpointer data)
{
  Action *a = data;
  g_autoptr (GPtrArray) subs =
      gc_billing_state_list_subscriptions (state, a->account, NULL);

  for (guint i = 0; subs != NULL && i < subs->len; i++) {
    GcBillingSubscription *sub = subs->pdata[i];

    if (g_strcmp0 (sub->channel, a->channel) == 0 &&
        strcmp (sub->status, "canceled") != 0) {
      a->subscription = g_strdup (sub->stripe_id);
      return;
    }
  }
}

static void
sync_prepare_tip (GcBillingState *state, gpointer data)
{
  Action *a = data;

  load_account (state, a);
  if (a->stripe_account != NULL && a->charges_enabled)
    a->row = insert_row (state, a, "tip");
}

static void
sync_prepare_ppv (GcBillingState *state, gpointer data)
{
  Action *a = data;
  g_autoptr (GPtrArray) events = gc_billing_state_list_ppv (state, NULL, NULL);

  for (guint i = 0; events != NULL && i < events->len; i++) {
    GcBillingPpvEvent *ev = events->pdata[i];

    if (ev->id != a->ppv)
      continue;
    a->channel = g_strdup (ev->channel);
    a->creator = ev->creator;
    a->title = g_strdup (ev->title);
    a->amount = ev->price;
  }
  if (a->channel == NULL) {
    set_error (a, SOUP_STATUS_NOT_FOUND, "not_found", "no such PPV event");
    return;
  }
  if (gc_billing_state_has_entitlement (state, a->account, a->ppv)) {
    set_error (a, SOUP_STATUS_CONFLICT, "already_entitled",
               "already bought this event");
    return;
  }
  load_account (state, a);
}

/* What can be paid out now: the ledger balance less the payouts Stripe
 * has made but not settled (pending, in transit: the ledger moves when
 * they are paid) and those asked for whose payout.* events have not come
 * yet. */
static void
sync_prepare_payout (GcBillingState *state, gpointer data)
{
  Action *a = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *name = gc_ledger_creator_account (a->creator);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 balance = 0;
  gint64 held = 0;

  load_account (state, a);
  if (a->stripe_account == NULL || !a->payouts_enabled)
    return;
  if (!gc_ledger_balance (gc_billing_state_get_ledger (state), name,
                          a->amount.currency, &balance, &error)) {
    set_gerror (a, error);
    return;
  }
  stmt = prepare (state,
                  "SELECT coalesce (sum (amount), 0) FROM billing_payouts"
                  " WHERE creator = ?1 AND currency = ?2 AND status_rank < 2");
  if (stmt != NULL) {
    sqlite3_bind_int64 (stmt, 1, a->creator);
    sqlite3_bind_text (stmt, 2, a->amount.currency, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      held += sqlite3_column_int64 (stmt, 0);
  }
  g_clear_pointer (&stmt, sqlite3_finalize);
  stmt = prepare (state,
                  "SELECT coalesce (sum (amount), 0) FROM billing_actions a"
                  " WHERE kind = 'payout' AND account = ?1 AND currency = ?2"
                  " AND status IN ('requested', 'sent') AND NOT EXISTS"
                  " (SELECT 1 FROM billing_payouts p WHERE p.id = a.object)");
  if (stmt != NULL) {
    sqlite3_bind_int64 (stmt, 1, a->creator);
    sqlite3_bind_text (stmt, 2, a->amount.currency, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      held += sqlite3_column_int64 (stmt, 0);
  }
  balance -= held;
  if (!a->amount_given)
    a->amount.amount = balance;
  if (a->amount.amount <= 0 || a->amount.amount > balance) {
    g_autofree gchar *text =
        g_strdup_printf ("%" G_GINT64_FORMAT " %s available",
                         balance > 0 ? balance : 0, a->amount.currency);

    set_error (a, SOUP_STATUS_CONFLICT, "insufficient_funds", text);
    return;
  }
  a->row = insert_row (state, a, "payout");
}

typedef struct {
  gint64 row;
  const gchar *status;
  const gchar *object;
} RowUpdate;

static void
sync_update_row (GcBillingState *state, gpointer data)
{
  RowUpdate *u = data;
  g_autoptr (sqlite3_stmt) stmt =
      prepare (state, "UPDATE billing_actions SET status = ?2,"
                      " object = coalesce (?3, object) WHERE id = ?1");

  if (stmt == NULL)
    return;
  sqlite3_bind_int64 (stmt, 1, u->row);
  sqlite3_bind_text (stmt, 2, u->status, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, u->object, -1, SQLITE_TRANSIENT);
  sqlite3_step (stmt);
}

static void
update_row (Action *a, const gchar *status, const gchar *object)
{
  RowUpdate u = {a->row, status, object};

  gc_billing_http_run_sync (a->self->http, sync_update_row, &u);
}

static void
sync_list_outbound (GcBillingState *state, gpointer data)
{
  Action *a = data;

  a->intents = gc_billing_state_list_outbound (state, NULL);
}

static void
sync_outbound_done (GcBillingState *state, gpointer data)
{
  GcBillingOutbound *intent = data;
  g_autoptr (GError) error = NULL;

  if (!gc_billing_state_outbound_done (
          state, intent->id, g_get_real_time () / G_USEC_PER_SEC, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "billing outbound: %s", error->message);
}

/* --- the worker threads' part ----------------------------------------------------- */

static gchar *
id_text (gint64 id)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, id);
}

/* A short digest of what else makes a request differ (the origin its
 * URLs go back to, the price): the same operation asked from another
 * origin is another request, not a conflict. */
static gchar *
digest8 (const gchar *a, const gchar *b)
{
  g_autofree gchar *text = g_strconcat (a ? a : "", "\n", b ? b : "", NULL);
  g_autofree gchar *sum =
      g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);

  return g_strndup (sum, 8);
}

/* "20250131": checkout sessions live 24 hours, so one a day per
 * operation; a replay the same day gets the same session. */
static gchar *
today (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y%m%d");
}

static gchar *
back_url (Action *a, const gchar *outcome)
{
  g_autofree gchar *channel = g_uri_escape_string (a->channel, NULL, FALSE);

  return g_strdup_printf ("%s/watch/%s?checkout=%s", a->origin, channel,
                          outcome);
}

static void
reply_checkout (Action *a, const GcStripeCheckoutSession *cs)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "checkout_url");
  json_builder_add_string_value (b, cs->url);
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, cs->id);
  json_builder_end_object (b);
  set_json (a, SOUP_STATUS_CREATED, b);
}

static gboolean
creator_ready (Action *a)
{
  if (a->stripe_account != NULL && a->charges_enabled)
    return TRUE;
  set_error (a, SOUP_STATUS_CONFLICT, "creator_not_ready",
             "the creator cannot take payments yet");
  return FALSE;
}

static void
run_onboard (Action *a)
{
  GcBillingActions *self = a->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeAccountLink) link = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *key = NULL;
  g_autofree gchar *refresh = NULL;
  g_autofree gchar *done = NULL;

  gc_billing_http_run_sync (self->http, sync_load_account, a);
  if (a->stripe_account == NULL) {
    g_autofree gchar *creator = id_text (a->creator);
    g_autoptr (GcStripeAccount) acct = NULL;

    /* Once per creator, ever: a retry or a second click replays it. */
    key = g_strdup_printf ("onboard:%s", creator);
    acct = gc_stripe_client_create_express_account (
        self->client, key, NULL, self->country, creator, &error);
    if (acct == NULL) {
      set_gerror (a, error);
      return;
    }
    a->stripe_account = g_strdup (acct->id);
    gc_billing_http_run_sync (self->http, sync_link_account, a);
    if (a->response != NULL)
      return;
    g_clear_pointer (&key, g_free);
  }
  /* Links expire within minutes: a new one each minute at most. */
  key = g_strdup_printf ("onboard-link:%s:%" G_GINT64_FORMAT, a->stripe_account,
                         g_get_real_time () / G_USEC_PER_SEC / 60);
  refresh = g_strdup_printf ("%s/dashboard?onboarding=refresh", a->origin);
  done = g_strdup_printf ("%s/dashboard?onboarding=return", a->origin);
  link = gc_stripe_client_create_account_link (
      self->client, key, a->stripe_account, refresh, done, &error);
  if (link == NULL) {
    set_gerror (a, error);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "account");
  json_builder_add_string_value (b, a->stripe_account);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, link->url);
  json_builder_end_object (b);
  set_json (a, SOUP_STATUS_OK, b);
}

static void
run_onboard_status (Action *a)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  gc_billing_http_run_sync (a->self->http, sync_load_account, a);
  if (a->stripe_account == NULL) {
    set_error (a, SOUP_STATUS_NOT_FOUND, "not_found", "not onboarded yet");
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "account");
  json_builder_add_string_value (b, a->stripe_account);
  json_builder_set_member_name (b, "charges_enabled");
  json_builder_add_boolean_value (b, a->charges_enabled);
  json_builder_set_member_name (b, "payouts_enabled");
  json_builder_add_boolean_value (b, a->payouts_enabled);
  json_builder_end_object (b);
  set_json (a, SOUP_STATUS_OK, b);
}

static void
run_subscribe (Action *a)
{
  GcBillingActions *self = a->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeCheckoutSession) cs = NULL;
  g_autofree gchar *viewer = id_text (a->account);
  g_autofree gchar *creator = id_text (a->creator);
  g_autofree gchar *day = today ();
  g_autofree gchar *digest = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *success = back_url (a, "success");
  g_autofree gchar *cancel = back_url (a, "cancel");
  GcStripeSubscriptionCheckout req = {0};

  gc_billing_http_run_sync (self->http, sync_prepare_subscribe, a);
  if (a->response != NULL || !creator_ready (a))
    return;
  if (a->price == NULL) {
    g_autofree gchar *pkey = g_strdup_printf ("product:%s", a->channel);
    g_autofree gchar *name = g_strdup_printf ("%s subscription", a->channel);
    g_autofree gchar *prkey = NULL;
    g_autoptr (GcStripeProduct) product = gc_stripe_client_create_product (
        self->client, pkey, name, a->channel, &error);
    g_autoptr (GcStripePrice) price = NULL;
    PriceRow row = {a, NULL};

    if (product == NULL) {
      set_gerror (a, error);
      return;
    }
    prkey = g_strdup_printf ("price:%s:default:%" G_GINT64_FORMAT ":%s",
                             a->channel, a->amount.amount, a->amount.currency);
    price = gc_stripe_client_create_monthly_price (
        self->client, prkey, product->id, &a->amount, "default", &error);
    if (price == NULL) {
      set_gerror (a, error);
      return;
    }
    a->price = g_strdup (price->id);
    row.product = product->id;
    gc_billing_http_run_sync (self->http, sync_store_price, &row);
  }
  digest = digest8 (a->origin, a->price);
  key = g_strdup_printf ("sub:%s:%s:%s:%s", viewer, a->channel, day, digest);
  req.price = a->price;
  req.destination = a->stripe_account;
  req.application_fee_bps = self->fee_bps;
  req.success_url = success;
  req.cancel_url = cancel;
  req.client_reference_id = viewer;
  req.channel = a->channel;
  req.viewer = viewer;
  req.creator = creator;
  cs = gc_stripe_client_create_checkout_session_subscription (self->client, key,
                                                              &req, &error);
  if (cs == NULL) {
    set_gerror (a, error);
    return;
  }
  reply_checkout (a, cs);
}

static void
run_unsubscribe (Action *a)
{
  GcBillingActions *self = a->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeSubscription) sub = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *key = NULL;

  gc_billing_http_run_sync (self->http, sync_find_subscription, a);
  if (a->subscription == NULL) {
    set_error (a, SOUP_STATUS_NOT_FOUND, "not_found",
               "no subscription to this channel");
    return;
  }
  /* The same key as the ban hook's: one request, whoever asks first. */
  key = g_strdup_printf ("cancel:%s", a->subscription);
  sub = gc_stripe_client_cancel_subscription_at_period_end (
      self->client, key, a->subscription, &error);
  if (sub == NULL) {
    set_gerror (a, error);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "subscription");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, sub->id);
  json_builder_set_member_name (b, "channel");
  json_builder_add_string_value (b, a->channel);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, sub->status);
  json_builder_set_member_name (b, "current_period_end");
  json_builder_add_int_value (b, sub->current_period_end);
  json_builder_set_member_name (b, "cancel_at_period_end");
  json_builder_add_boolean_value (b, sub->cancel_at_period_end);
  json_builder_end_object (b);
  json_builder_end_object (b);
  set_json (a, SOUP_STATUS_OK, b);
}

static void
run_payment (Action *a, const gchar *kind, const gchar *key,
             const gchar *description)
{
  GcBillingActions *self = a->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeCheckoutSession) cs = NULL;
  g_autofree gchar *viewer = id_text (a->account);
  g_autofree gchar *creator = id_text (a->creator);
  g_autofree gchar *ppv = a->ppv > 0 ? id_text (a->ppv) : NULL;
  g_autofree gchar *success = back_url (a, "success");
  g_autofree gchar *cancel = back_url (a, "cancel");
  GcStripePayment req = {0};

  req.amount = a->amount;
  req.platform_ppm = self->platform_ppm;
  req.destination = a->stripe_account;
  req.kind = kind;
  req.channel = a->channel;
  req.viewer = viewer;
  req.creator = creator;
  req.viewer_name = a->username;
  req.message = a->message;
  req.ppv_event = ppv;
  req.description = description;
  req.success_url = success;
  req.cancel_url = cancel;
  req.client_reference_id = viewer;
  cs = gc_stripe_client_create_checkout_session_payment (self->client, key,
                                                         &req, &error);
  if (cs == NULL) {
    set_gerror (a, error);
    if (a->row > 0)
      update_row (a, "failed", NULL);
    return;
  }
  if (a->row > 0)
    update_row (a, "sent", cs->id);
  reply_checkout (a, cs);
}

static void
run_tip (Action *a)
{
  g_autofree gchar *key = NULL;
  g_autofree gchar *description = NULL;

  gc_billing_http_run_sync (a->self->http, sync_prepare_tip, a);
  if (!creator_ready (a))
    return;
  if (a->row <= 0) {
    set_error (a, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               "the tip could not be recorded");
    return;
  }
  key = g_strdup_printf ("tip:%" G_GINT64_FORMAT, a->row);
  description = g_strdup_printf ("Tip for %s", a->channel);
  run_payment (a, "tip", key, description);
}

static void
run_ppv (Action *a)
{
  g_autofree gchar *viewer = id_text (a->account);
  g_autofree gchar *day = today ();
  g_autofree gchar *digest = digest8 (a->origin, NULL);
  g_autofree gchar *key = NULL;

  gc_billing_http_run_sync (a->self->http, sync_prepare_ppv, a);
  if (a->response != NULL || !creator_ready (a))
    return;
  key = g_strdup_printf ("ppv:%s:%" G_GINT64_FORMAT ":%s:%s", viewer, a->ppv,
                         day, digest);
  run_payment (a, "ppv", key, a->title);
}

static const gchar *
method_name (GcStripePayoutMethod method)
{
  switch (method) {
    case GC_STRIPE_PAYOUT_STANDARD:
      return "standard";
    case GC_STRIPE_PAYOUT_INSTANT:
      return "instant";
    default:
      return "auto";
  }
}

typedef struct {
  const gchar *payout;
  gint64 fee;
  const gchar *currency;
} PayoutFee;

/* Before the payout's webhooks apply it to the ledger (they come when
 * Stripe settles it), so its journal carries the fee. */
static void
sync_record_payout_fee (GcBillingState *state, gpointer data)
{
  PayoutFee *pf = data;
  g_autoptr (GError) error = NULL;
  GcMoney fee;

  if (!gc_money_init (&fee, pf->fee, pf->currency, &error) ||
      !gc_billing_state_set_payout_fee (state, pf->payout, &fee, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_PAYOUT",
                      pf->payout, "MESSAGE", "cannot record a payout fee: %s",
                      error->message);
}

static void
run_payout (Action *a)
{
  GcBillingActions *self = a->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripePayout) po = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *key = NULL;
  g_autofree gchar *amount_text = NULL;
  g_autofree gchar *fee_text = NULL;

  gc_billing_http_run_sync (self->http, sync_prepare_payout, a);
  if (a->response != NULL)
    return;
  if (a->stripe_account == NULL || !a->payouts_enabled) {
    set_error (a, SOUP_STATUS_CONFLICT, "creator_not_ready",
               "payouts are not enabled for this account yet");
    return;
  }
  if (a->row <= 0) {
    set_error (a, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               "the payout could not be recorded");
    return;
  }
  key = g_strdup_printf ("payout:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                         a->creator, a->row);
  po = gc_stripe_client_create_payout (self->client, key, a->stripe_account,
                                       &a->amount, a->method, &error);
  if (po == NULL) {
    set_gerror (a, error);
    update_row (a, "failed", NULL);
    return;
  }
  update_row (a, "sent", po->id);
  if (po->fee_known) {
    PayoutFee pf = {po->id, po->fee, a->amount.currency};
    gc_billing_http_run_sync (self->http, sync_record_payout_fee, &pf);
  }
  amount_text =
      gc_billing_format_decimal (a->amount.amount, a->amount.currency);
  fee_text = gc_billing_format_decimal (po->fee_known ? po->fee : 0,
                                        a->amount.currency);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "payout");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, po->id);
  json_builder_set_member_name (b, "amount");
  json_builder_add_int_value (b, a->amount.amount);
  json_builder_set_member_name (b, "amount_text");
  json_builder_add_string_value (b, amount_text);
  json_builder_set_member_name (b, "fee");
  json_builder_add_int_value (b, po->fee_known ? po->fee : 0);
  json_builder_set_member_name (b, "fee_text");
  json_builder_add_string_value (b, fee_text);
  json_builder_set_member_name (b, "currency");
  json_builder_add_string_value (b, a->amount.currency);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, po->method ? po->method
                                               : method_name (a->method));
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, po->status);
  json_builder_set_member_name (b, "arrival_date");
  json_builder_add_int_value (b, po->arrival_date);
  json_builder_end_object (b);
  json_builder_end_object (b);
  set_json (a, SOUP_STATUS_ACCEPTED, b);
}

/* A failure leaves the intent for the next run (every OUTBOUND_RETRY_S). */
static void
run_outbound (Action *a)
{
  GcBillingActions *self = a->self;

  gc_billing_http_run_sync (self->http, sync_list_outbound, a);
  for (guint i = 0; a->intents != NULL && i < a->intents->len; i++) {
    GcBillingOutbound *intent = a->intents->pdata[i];
    g_autoptr (GError) error = NULL;
    g_autoptr (GcStripeSubscription) sub = NULL;
    g_autofree gchar *key = NULL;

    if (strcmp (intent->kind, "cancel_at_period_end") != 0)
      continue;
    key = g_strdup_printf ("cancel:%s", intent->object);
    sub = gc_stripe_client_cancel_subscription_at_period_end (
        self->client, key, intent->object, &error);
    if (sub == NULL) {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                        "billing outbound: cancel %s: %s (retried later)",
                        intent->object, error->message);
      continue;
    }
    gc_billing_http_run_sync (self->http, sync_outbound_done, intent);
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                      "billing outbound: %s ends with its period",
                      intent->object);
  }
  g_atomic_int_set (&self->outbound_running, 0);
}

static void
run_action (gpointer data, gpointer user_data)
{
  Action *a = data;

  switch (a->kind) {
    case ACTION_ONBOARD:
      run_onboard (a);
      break;
    case ACTION_ONBOARD_STATUS:
      run_onboard_status (a);
      break;
    case ACTION_SUBSCRIBE:
      run_subscribe (a);
      break;
    case ACTION_UNSUBSCRIBE:
      run_unsubscribe (a);
      break;
    case ACTION_TIP:
      run_tip (a);
      break;
    case ACTION_PPV:
      run_ppv (a);
      break;
    case ACTION_PAYOUT:
      run_payout (a);
      break;
    case ACTION_OUTBOUND:
      run_outbound (a);
      break;
    case ACTION_PRICE_GET:
    case ACTION_PRICE_SET:
      g_assert_not_reached ();
  }
  g_main_context_invoke (a->self->main_context, action_done, a);
}

/* --- requests (main context) --------------------------------------------------------- */

/* "http://<Host>" (https behind a proxy that says so): Checkout and the
 * onboarding link send the browser back to the site it came from. */
static gchar *
request_origin (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *host = soup_message_headers_get_one (h, "Host");
  const gchar *proto = soup_message_headers_get_one (h, "X-Forwarded-Proto");

  if (host == NULL || host[0] == '\0' || strpbrk (host, " /\\?#@\"<>") != NULL)
    host = "localhost";
  return g_strdup_printf (
      "%s://%s", g_strcmp0 (proto, "https") == 0 ? "https" : "http", host);
}

static JsonObject *
parse_body (SoupServerMessage *msg, JsonParser *parser, gboolean optional)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = NULL;
  JsonNode *root;

  if (body->length > BODY_MAX)
    return NULL;
  bytes = soup_message_body_flatten (body);
  if (optional && g_bytes_get_size (bytes) == 0)
    return json_object_new ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                   (gssize)g_bytes_get_size (bytes), NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* The owner of @channel as an accounts id; 0 with a reply sent. */
static gint64
channel_creator (GcBillingActions *self, SoupServerMessage *msg,
                 const gchar *channel)
{
  GcChannel *ch = NULL;
  const gchar *owner;
  gint64 id;

  if (channel != NULL && self->channels != NULL &&
      gc_config_channel_name_is_valid (channel))
    ch = gc_channels_lookup (self->channels, channel);
  if (ch == NULL) {
    reply_now (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no such channel");
    return 0;
  }
  owner = gc_channel_get_owner (ch);
  id = owner
           ? gc_accounts_find (
                 gc_accounts_api_get_accounts (self->accounts_api), owner, NULL)
           : 0;
  if (id <= 0)
    reply_now (msg, SOUP_STATUS_CONFLICT, "creator_not_ready",
               "the channel's creator cannot take payments yet");
  return id;
}

/* A PUT's {"amount": minor units, CHANNEL_PRICE_MIN to _MAX, "currency"}
 * into @price. Only the [billing] currency: payouts, the ledger's balance
 * and the creators' statements are in it, and a channel priced in another
 * would earn what the payout API cannot pay out. Replies 400 otherwise. */
static gboolean
parse_channel_price (GcBillingActions *self, SoupServerMessage *msg,
                     GcMoney *price)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonObject) body = parse_body (msg, parser, FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  JsonNode *amount;
  const gchar *currency;
  GcMoney m;

  if (body == NULL) {
    reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
               "a JSON object (at most 16 KiB)");
    return FALSE;
  }
  amount = json_object_get_member (body, "amount");
  currency = gc_http_json_string (body, "currency");
  if (amount == NULL || !JSON_NODE_HOLDS_VALUE (amount) ||
      json_node_get_value_type (amount) != G_TYPE_INT64 ||
      json_node_get_int (amount) < CHANNEL_PRICE_MIN ||
      json_node_get_int (amount) > CHANNEL_PRICE_MAX) {
    text = g_strdup_printf ("\"amount\": an integer of minor units from %d "
                            "to %d",
                            CHANNEL_PRICE_MIN, CHANNEL_PRICE_MAX);
    reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request", text);
    return FALSE;
  }
  if (currency == NULL ||
      !gc_money_init (&m, json_node_get_int (amount), currency, &error)) {
    reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
               error ? error->message : "\"currency\": an ISO 4217 code");
    return FALSE;
  }
  if (strcmp (m.currency, self->currency) != 0) {
    text = g_strdup_printf ("\"currency\": subscriptions are in %s",
                            self->currency);
    reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request", text);
    return FALSE;
  }
  *price = m;
  return TRUE;
}

/* channels/<channel>/price (@rest: after "channels/"): anyone reads it,
 * the channel's owner sets it. */
static gboolean
route_channel_price (GcBillingActions *self, SoupServerMessage *msg,
                     const gchar *rest, gint64 account, const gchar *username)
{
  const gchar *method = soup_server_message_get_method (msg);
  gboolean put = strcmp (method, "PUT") == 0;
  g_autofree gchar *escaped = NULL;
  g_autofree gchar *channel = NULL;
  GcMoney price;
  Action *a;

  if (!g_str_has_suffix (rest, "/price"))
    return FALSE;
  if (!put && strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Allow", "GET, PUT");
    reply_now (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
               "GET or PUT");
    return TRUE;
  }
  if (put && account <= 0) {
    reply_now (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", "sign in first");
    return TRUE;
  }
  escaped = g_strndup (rest, strlen (rest) - strlen ("/price"));
  channel = g_uri_unescape_string (escaped, NULL);
  if (channel == NULL || !gc_config_channel_name_is_valid (channel) ||
      self->channels == NULL ||
      gc_channels_lookup (self->channels, channel) == NULL) {
    reply_now (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no such channel");
    return TRUE;
  }
  if (put &&
      (self->accounts_api == NULL ||
       !gc_accounts_api_owns_channel (self->accounts_api, username, channel))) {
    reply_now (msg, SOUP_STATUS_FORBIDDEN, "forbidden",
               "only the channel's owner sets its price");
    return TRUE;
  }
  gc_money_init (&price, self->subscription_price, self->currency, NULL);
  if (put && !parse_channel_price (self, msg, &price))
    return TRUE;
  a = g_new0 (Action, 1);
  a->self = self;
  a->kind = put ? ACTION_PRICE_SET : ACTION_PRICE_GET;
  a->account = account;
  a->channel = g_steal_pointer (&channel);
  a->amount = price;
  a->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  /* Not a worker: they may all be waiting for Stripe. */
  gc_billing_http_run_async (self->http, sync_channel_price, action_done, a);
  return TRUE;
}

static void
start (GcBillingActions *self, Action *a, SoupServerMessage *msg)
{
  a->self = self;
  if (msg != NULL) {
    a->msg = g_object_ref (msg);
    a->origin = request_origin (msg);
    soup_server_message_pause (msg);
  }
  g_thread_pool_push (self->workers, a, NULL);
}

gboolean
gc_billing_actions_route (GcBillingActions *self, SoupServerMessage *msg,
                          const gchar *path, GHashTable *query, gint64 account,
                          const gchar *username)
{
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *rest;
  gboolean post = strcmp (method, "POST") == 0;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (JsonObject) body = NULL;
  g_autofree gchar *ppv_id = NULL;
  Action *a;
  ActionKind kind;

  if (self == NULL || !g_str_has_prefix (path, PREFIX))
    return FALSE;
  rest = path + strlen (PREFIX);
  if (g_str_has_prefix (rest, "channels/"))
    return route_channel_price (self, msg, rest + strlen ("channels/"), account,
                                username);
  if (strcmp (rest, "onboarding") == 0 && (post || strcmp (method, "GET") == 0))
    kind = post ? ACTION_ONBOARD : ACTION_ONBOARD_STATUS;
  else if (strcmp (rest, "subscriptions") == 0 && post)
    kind = ACTION_SUBSCRIBE;
  else if (g_str_has_prefix (rest, "subscriptions/") &&
           strcmp (method, "DELETE") == 0)
    kind = ACTION_UNSUBSCRIBE;
  else if (strcmp (rest, "tips") == 0 && post)
    kind = ACTION_TIP;
  else if (g_str_has_prefix (rest, "ppv/") &&
           g_str_has_suffix (rest, "/purchase") && post)
    kind = ACTION_PPV;
  else if (strcmp (rest, "payouts") == 0 && post)
    kind = ACTION_PAYOUT;
  else if (strcmp (rest, "onboarding") == 0 || strcmp (rest, "tips") == 0 ||
           g_str_has_prefix (rest, "ppv/")) {
    reply_now (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
               "see orchestrator/API.md, Billing");
    return TRUE;
  } else {
    return FALSE;
  }
  if (account <= 0) {
    reply_now (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", "sign in first");
    return TRUE;
  }
  if (self->client == NULL) {
    reply_now (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not_configured",
               "payments are not configured");
    return TRUE;
  }
  parser = json_parser_new ();
  if (post) {
    body = parse_body (msg, parser,
                       kind == ACTION_ONBOARD || kind == ACTION_PPV ||
                           kind == ACTION_PAYOUT);
    if (body == NULL) {
      reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
                 "a JSON object (at most 16 KiB)");
      return TRUE;
    }
  }
  a = g_new0 (Action, 1);
  a->kind = kind;
  a->account = account;
  a->username = g_strdup (username);
  a->creator = account;
  switch (kind) {
    case ACTION_SUBSCRIBE:
    case ACTION_TIP: {
      g_autoptr (GError) error = NULL;
      JsonNode *amount = json_object_get_member (body, "amount");
      const gchar *currency = gc_http_json_string (body, "currency");
      JsonNode *message = json_object_get_member (body, "message");

      a->channel = g_strdup (gc_http_json_string (body, "channel"));
      if (a->channel == NULL) {
        reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
                   "\"channel\" is required");
        goto refused;
      }
      if (kind == ACTION_SUBSCRIBE) {
        gc_money_init (&a->amount, self->subscription_price, self->currency,
                       NULL);
      } else if (amount == NULL || !JSON_NODE_HOLDS_VALUE (amount) ||
                 json_node_get_value_type (amount) != G_TYPE_INT64 ||
                 json_node_get_int (amount) <= 0 || currency == NULL ||
                 !gc_money_init (&a->amount, json_node_get_int (amount),
                                 currency, &error)) {
        reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
                   error ? error->message
                         : "\"amount\": a positive integer of minor units, "
                           "\"currency\": an ISO 4217 code");
        goto refused;
      } else if (message != NULL && !JSON_NODE_HOLDS_NULL (message)) {
        const gchar *text = gc_http_json_string (body, "message");

        if (text == NULL || g_utf8_strlen (text, -1) > MESSAGE_MAX ||
            !g_utf8_validate (text, -1, NULL)) {
          reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
                     "\"message\": text of at most 500 characters");
          goto refused;
        }
        a->message = g_strdup (text);
      }
      a->creator = channel_creator (self, msg, a->channel);
      if (a->creator <= 0)
        goto refused;
      break;
    }
    case ACTION_UNSUBSCRIBE:
      a->channel =
          g_uri_unescape_string (rest + strlen ("subscriptions/"), NULL);
      if (a->channel == NULL || !gc_config_channel_name_is_valid (a->channel)) {
        reply_now (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no such channel");
        goto refused;
      }
      break;
    case ACTION_PPV: {
      guint64 id = 0;

      ppv_id =
          g_strndup (rest + strlen ("ppv/"),
                     strlen (rest) - strlen ("ppv/") - strlen ("/purchase"));
      if (!g_ascii_string_to_unsigned (ppv_id, 10, 1, G_MAXINT64, &id, NULL)) {
        reply_now (msg, SOUP_STATUS_NOT_FOUND, "not_found",
                   "no such PPV event");
        goto refused;
      }
      a->ppv = (gint64)id;
      break;
    }
    case ACTION_PAYOUT: {
      JsonNode *amount = json_object_get_member (body, "amount");
      const gchar *m = json_object_has_member (body, "method")
                           ? gc_http_json_string (body, "method")
                           : "auto";

      if (g_strcmp0 (m, "auto") == 0)
        a->method = GC_STRIPE_PAYOUT_AUTO;
      else if (g_strcmp0 (m, "standard") == 0)
        a->method = GC_STRIPE_PAYOUT_STANDARD;
      else if (g_strcmp0 (m, "instant") == 0)
        a->method = GC_STRIPE_PAYOUT_INSTANT;
      else {
        reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
                   "\"method\": auto, standard or instant");
        goto refused;
      }
      gc_money_init (&a->amount, 0, self->currency, NULL);
      if (amount != NULL && !JSON_NODE_HOLDS_NULL (amount)) {
        if (!JSON_NODE_HOLDS_VALUE (amount) ||
            json_node_get_value_type (amount) != G_TYPE_INT64 ||
            json_node_get_int (amount) <= 0) {
          reply_now (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
                     "\"amount\": a positive integer of minor units");
          goto refused;
        }
        a->amount.amount = json_node_get_int (amount);
        a->amount_given = TRUE;
      }
      break;
    }
    default:
      break;
  }
  start (self, a, msg);
  return TRUE;

refused:
  action_free (a);
  return TRUE;
}

static gboolean
on_outbound_timer (gpointer data)
{
  gc_billing_actions_kick_outbound (data);
  return G_SOURCE_CONTINUE;
}

void
gc_billing_actions_kick_outbound (GcBillingActions *self)
{
  Action *a;

  if (self == NULL || self->client == NULL ||
      !g_atomic_int_compare_and_exchange (&self->outbound_running, 0, 1))
    return;
  a = g_new0 (Action, 1);
  a->kind = ACTION_OUTBOUND;
  start (self, a, NULL);
}

gboolean
gc_billing_actions_authorize (const gchar *channel, gint64 viewer,
                              gpointer user_data)
{
  GcBillingActions *self = user_data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (self == NULL || self->reader == NULL || channel == NULL || viewer <= 0)
    return FALSE;
  /* By the entitlements' primary key (viewer first): a few rows. */
  if (sqlite3_prepare_v2 (
          self->reader,
          "SELECT 1 FROM billing_entitlements e"
          " JOIN billing_ppv_events p ON p.id = e.ppv_event"
          " WHERE e.viewer = ?1 AND p.channel = ?2"
          " AND ?3 >= p.starts_at - ?4 AND ?3 < CASE WHEN p.ends_at > 0"
          "  THEN p.ends_at ELSE p.starts_at + ?5 END LIMIT 1",
          -1, &stmt, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, viewer);
  sqlite3_bind_text (stmt, 2, channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, now);
  sqlite3_bind_int64 (stmt, 4, PPV_EARLY_S);
  sqlite3_bind_int64 (stmt, 5, PPV_DEFAULT_LENGTH_S);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

/* --- setup ---------------------------------------------------------------------- */

static gchar *
read_api_key (const GcConfig *config, GError **error)
{
  g_autofree gchar *text = NULL;
  gchar *key;

  if (config->billing.stripe_secret_key_file == NULL)
    return NULL; /* the client reads $GLASSCAST_STRIPE_API_KEY */
  if (!g_file_get_contents (config->billing.stripe_secret_key_file, &text, NULL,
                            error)) {
    g_prefix_error (error, "[billing] stripe-secret-key-file: ");
    return NULL;
  }
  key = g_strdup (g_strstrip (text));
  memset (text, 0, strlen (text));
  return key;
}

GcBillingActions *
gc_billing_actions_new (const GcConfig *config, GcBillingHttp *http,
                        GcBillingState *state, GError **error)
{
  g_autoptr (GError) local = NULL;
  GcBillingActions *self;
  g_autofree gchar *key = NULL;
  g_autofree gchar *path = NULL;
  GcMoney price;
  GcStripeClientConfig cc;

  g_return_val_if_fail (config != NULL && http != NULL && state != NULL, NULL);

  if (!gc_money_init (&price, config->billing.subscription_price,
                      config->billing.currency, error)) {
    g_prefix_error (error, "[billing] currency: ");
    return NULL;
  }
  if (sqlite3_exec (state_db (state), schema, NULL, NULL, NULL) != SQLITE_OK) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "billing actions tables: %s",
                 sqlite3_errmsg (state_db (state)));
    return NULL;
  }
  self = g_new0 (GcBillingActions, 1);
  self->main_context = g_main_context_ref_thread_default ();
  self->http = http;
  self->subscription_price = price.amount;
  memcpy (self->currency, price.currency, sizeof self->currency);
  self->country = g_strdup (config->billing.country);
  self->platform_ppm = GC_SHARE_DEFAULT_PLATFORM_PPM;
  if (config->billing.platform_share != NULL)
    gc_share_parse_percent (config->billing.platform_share, &self->platform_ppm,
                            NULL);
  /* Stripe takes two decimals of a percent: ppm to basis points, half up. */
  self->fee_bps = (self->platform_ppm + 50) / 100;
  self->workers = g_thread_pool_new (run_action, NULL, WORKERS, FALSE, error);
  if (self->workers == NULL) {
    gc_billing_actions_free (self);
    return NULL;
  }
  path = config->billing.database
             ? g_strdup (config->billing.database)
             : g_build_filename (config->data_dir, "billing.db", NULL);
  if (sqlite3_open_v2 (path, &self->reader, SQLITE_OPEN_READONLY, NULL) !=
      SQLITE_OK) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "billing: no reader for playback: %s",
                      sqlite3_errmsg (self->reader));
    g_clear_pointer (&self->reader, sqlite3_close);
  } else {
    sqlite3_busy_timeout (self->reader, 50);
  }
  key = read_api_key (config, &local);
  if (local != NULL) {
    g_propagate_error (error, g_steal_pointer (&local));
    gc_billing_actions_free (self);
    return NULL;
  }
  gc_stripe_client_config_init (&cc);
  cc.base_url = config->billing.stripe_api_base;
  cc.api_key = key;
  cc.store_path = path;
  self->client = gc_stripe_client_new (&cc, &local);
  if (key != NULL)
    memset (key, 0, strlen (key));
  if (self->client == NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                      "billing: no Stripe client (%s): payments are off",
                      local->message);
  else
    self->outbound_source = g_timeout_add_seconds_full (
        G_PRIORITY_LOW, OUTBOUND_RETRY_S, on_outbound_timer, self, NULL);
  return self;
}

void
gc_billing_actions_set_lookup (GcBillingActions *self, GcAccountsApi *api,
                               GcChannels *channels)
{
  g_return_if_fail (self != NULL);
  if (api != NULL)
    g_set_object (&self->accounts_api, api);
  if (channels != NULL)
    g_set_object (&self->channels, channels);
}

void
gc_billing_actions_free (GcBillingActions *self)
{
  if (self == NULL)
    return;
  if (self->outbound_source != 0)
    g_source_remove (self->outbound_source);
  /* Finishes what was queued: each may wait for Stripe and for the
   * billing thread, which is still running. */
  if (self->workers != NULL)
    g_thread_pool_free (self->workers, FALSE, TRUE);
  g_clear_pointer (&self->client, gc_stripe_client_free);
  g_clear_pointer (&self->reader, sqlite3_close);
  g_clear_object (&self->accounts_api);
  g_clear_object (&self->channels);
  g_free (self->country);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_free (self);
}

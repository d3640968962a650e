/* state.h — billing state beside the ledger, in the same SQLite file: webhook events processed, connected accounts,
 * subscriptions, PPV events and entitlements, tips, payouts; the queries over them (access, statements, CSV). */

#pragma once

#include <glib.h>

#include "ledger.h"
#include "money.h"

G_BEGIN_DECLS

/* Days of access a past-due subscription keeps after its paid period. */
#define GC_BILLING_DEFAULT_GRACE_DAYS 3

/* Not thread-safe, like the ledger it wraps: glasscastd uses it from its one
 * billing thread. */
typedef struct _GcBillingState GcBillingState;

/* Creates the billing tables (CREATE TABLE IF NOT EXISTS) in @ledger's file.
 * @ledger: (transfer none): must outlive the state.
 * Returns: (transfer full) (nullable) */
GcBillingState *gc_billing_state_new (GcLedger *ledger, GError **error);
void gc_billing_state_free (GcBillingState *state);

/* Returns: (transfer none) */
GcLedger *gc_billing_state_get_ledger (GcBillingState *state);

void gc_billing_state_set_grace_days (GcBillingState *state, guint days);

/* Ties creator @creator (an accounts id) to Stripe connected account
 * @stripe_account ("acct_..."), as onboarding does; account.updated events
 * carrying metadata glasscast_creator do the same. */
gboolean gc_billing_state_link_account (GcBillingState *state, gint64 creator,
                                        const gchar *stripe_account,
                                        GError **error);

/* Returns: the creator tied to @stripe_account, 0 if none. */
gint64 gc_billing_state_creator_for_account (GcBillingState *state,
                                             const gchar *stripe_account);

/* --- access ----------------------------------------------------------- */

/* Whether @viewer may watch @channel's subscriber content at @now: a
 * subscription paid through a period ending after @now (canceled ones to
 * the earlier of that and when they ended), or past due and within the
 * grace days after it. */
gboolean gc_billing_state_has_active_subscription (GcBillingState *state,
                                                   gint64 viewer,
                                                   const gchar *channel,
                                                   gint64 now);

/* Whether @viewer bought PPV event @ppv_event. */
gboolean gc_billing_state_has_entitlement (GcBillingState *state, gint64 viewer,
                                           gint64 ppv_event);

/* --- subscriptions ------------------------------------------------------ */

typedef struct {
  gchar *stripe_id;
  gchar *channel; /* (nullable) until an event carried the metadata */
  gint64 viewer;
  gint64 creator;
  const gchar *status; /* active, past_due, unpaid, canceled, incomplete */
  gint64 current_period_end;
  gint64 paid_through;
  gint64 access_until; /* what has_active_subscription compares with */
  gboolean cancel_at_period_end;
} GcBillingSubscription;

void gc_billing_subscription_free (GcBillingSubscription *sub);

/* Returns: (transfer full) (element-type GcBillingSubscription): @viewer's
 * subscriptions (all of them when @viewer is 0), newest first. */
GPtrArray *gc_billing_state_list_subscriptions (GcBillingState *state,
                                                gint64 viewer, GError **error);

/* A banned viewer's renewals stop: every subscription of @viewer to
 * @channel that is not canceled gets cancel_at_period_end (access lasts to
 * the end of the paid period) and an outbound "cancel_at_period_end" intent
 * for the Stripe client (gc_billing_state_list_outbound()).
 * @n_changed: (out) (optional): how many subscriptions. */
gboolean gc_billing_state_on_ban (GcBillingState *state, gint64 viewer,
                                  const gchar *channel, gint64 now,
                                  guint *n_changed, GError **error);

typedef struct {
  gint64 id;
  gchar *kind;   /* "cancel_at_period_end" */
  gchar *object; /* the Stripe object: "sub_..." */
  gint64 created_at;
} GcBillingOutbound;

void gc_billing_outbound_free (GcBillingOutbound *intent);

/* Returns: (transfer full) (element-type GcBillingOutbound): the outbound
 * intents not done yet, oldest first. */
GPtrArray *gc_billing_state_list_outbound (GcBillingState *state,
                                           GError **error);
gboolean gc_billing_state_outbound_done (GcBillingState *state, gint64 id,
                                         gint64 now, GError **error);

/* --- pay-per-view ---------------------------------------------------------- */

typedef struct {
  gint64 id;
  gchar *channel;
  gint64 creator;
  gchar *title;
  gint64 starts_at;
  gint64 ends_at; /* 0: no end given (watchable to starts_at + 12 h) */
  GcMoney price;
} GcBillingPpvEvent;

void gc_billing_ppv_event_free (GcBillingPpvEvent *event);

/* A scheduled event of @channel by @creator at @price (> 0).
 * @id: (out) (optional) */
gboolean gc_billing_state_create_ppv (GcBillingState *state,
                                      const gchar *channel, gint64 creator,
                                      const gchar *title, gint64 starts_at,
                                      const GcMoney *price, gint64 *id,
                                      GError **error);

/* Records Stripe's fee of payout @payout_id (from the reply to its
 * creation; payout webhooks carry none). The first value stays. */
gboolean gc_billing_state_set_payout_fee (GcBillingState *state,
                                          const gchar *payout_id,
                                          const GcMoney *fee, GError **error);

/* The fee recorded for @payout_id; *@known FALSE when there is none. */
gboolean gc_billing_state_get_payout_fee (GcBillingState *state,
                                          const gchar *payout_id, GcMoney *fee,
                                          gboolean *known, GError **error);

/* Sets when event @id ends (0: not said); after its start.
 * INVALID_ARGUMENT for an unknown event or an end before the start. */
gboolean gc_billing_state_set_ppv_end (GcBillingState *state, gint64 id,
                                       gint64 ends_at, GError **error);

/* Returns: (transfer full) (element-type GcBillingPpvEvent): @channel's
 * events (every channel's when NULL) by start time. */
GPtrArray *gc_billing_state_list_ppv (GcBillingState *state,
                                      const gchar *channel, GError **error);

/* --- earnings ---------------------------------------------------------------- */

/* One ledger journal as a creator sees it. type: subscription, tip, ppv,
 * other (a charge), refund, dispute, payout. For earnings, gross = fee +
 * net; net is the change of the creator's balance, fee the platform's.
 * For a payout, net is what left the balance (negative), fee the payout fee
 * within it and gross = net. */
typedef struct {
  gint64 journal;
  gint64 occurred_at;
  gchar type[16];
  gchar reference[GC_LEDGER_NAME_MAX + 1];
  gchar currency[4];
  gint64 gross;
  gint64 fee;
  gint64 net;
} GcBillingStatementItem;

/* The items summed by (type, currency). */
typedef struct {
  gchar type[16];
  gchar currency[4];
  guint count;
  gint64 gross;
  gint64 fee;
  gint64 net;
} GcBillingStatementLine;

typedef struct {
  gint64 creator;
  gint64 from;   /* occurred_at >= from */
  gint64 to;     /* occurred_at < to */
  GArray *items; /* GcBillingStatementItem, by time */
  GArray *lines; /* GcBillingStatementLine, by type then currency */
} GcBillingStatement;

void gc_billing_statement_free (GcBillingStatement *statement);

/* @creator's journals that happened (at Stripe) in [@from, @to).
 * Returns: (transfer full) (nullable) */
GcBillingStatement *gc_billing_state_statement (GcBillingState *state,
                                                gint64 creator, gint64 from,
                                                gint64 to, GError **error);

/* @creator's journals recorded after their last payout journal (all of
 * them if never paid out): what the next payout will be made of.
 * Returns: (transfer full) (nullable) */
GcBillingStatement *
gc_billing_state_statement_since_payout (GcBillingState *state, gint64 creator,
                                         GError **error);

typedef struct {
  gchar *id;
  gchar *stripe_account;
  gint64 amount;
  gint64 fee;
  gchar currency[4];
  gchar *method;
  gchar *status;       /* pending, in_transit, paid, failed, canceled */
  gchar *failure_code; /* (nullable) */
  gint64 created;
  gint64 arrival_date;
  GPtrArray *history; /* (element-type utf8) "status@unix-seconds" */
} GcBillingPayout;

void gc_billing_payout_free (GcBillingPayout *payout);

/* Returns: (transfer full) (element-type GcBillingPayout): newest first. */
GPtrArray *gc_billing_state_list_payouts (GcBillingState *state, gint64 creator,
                                          GError **error);

/* --- text --------------------------------------------------------------------- */

/* Returns: (transfer full): @amount minor units of @currency as a decimal
 * with the currency's exponent: "12.34", "-0.05", "1500" (JPY), "1.234"
 * (KWD). Integers only. NULL for an unknown currency. */
gchar *gc_billing_format_decimal (gint64 amount, const gchar *currency);

/* Appends @field quoted as RFC 4180 wants (quotes when it holds a comma,
 * quote, CR or LF; quotes doubled). */
void gc_billing_csv_append_field (GString *out, const gchar *field);

/* Returns: (transfer full): the statement as CSV (CRLF line ends, a header
 * row, one row per item; amounts in minor units and as decimals). */
gchar *gc_billing_statement_to_csv (const GcBillingStatement *statement);

/* --- for tests and checks -------------------------------------------------------- */

/* Returns: the number of webhook events recorded as processed. */
gint64 gc_billing_state_count_events (GcBillingState *state);

/* Returns: (transfer full): every state row and every ledger balance in a
 * canonical text (no row ids, no local clocks), so two stores that saw the
 * same events in any order compare equal. */
gchar *gc_billing_state_dump (GcBillingState *state, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBillingState, gc_billing_state_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBillingStatement, gc_billing_statement_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBillingSubscription,
                               gc_billing_subscription_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBillingPayout, gc_billing_payout_free)

G_END_DECLS

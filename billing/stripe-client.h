/* stripe-client.h — Glasscast's Stripe Connect client (libcurl): creators' Express accounts, prices,
 * Checkout, tips, refunds and payouts, each POST idempotent by a key stored in SQLite before the call. */

#pragma once

#include <glib.h>

#include "billing-error.h"
#include "money.h"
#include "stripe-objects.h"

G_BEGIN_DECLS

/* Threads: every call is synchronous and may block for seconds (timeouts,
 * backoff sleeps). glasscastd calls them from a GTask worker thread
 * (g_task_run_in_thread) and never on its main loop. One GcStripeClient is
 * shared by all threads: each call uses its own CURL handle, and the
 * idempotency store's connection is guarded by the client's lock. */
typedef struct _GcStripeClient GcStripeClient;

/* The environment variable read when the config has no API key. */
#define GC_STRIPE_API_KEY_ENV "GLASSCAST_STRIPE_API_KEY"

/* Injected by tests: sleep (instead of g_usleep), wall clock in seconds
 * (for the store's timestamps), and the random source of the jitter. */
typedef void (*GcStripeSleepFunc) (gint64 microseconds, gpointer user_data);
typedef gint64 (*GcStripeClockFunc) (gpointer user_data);
typedef guint32 (*GcStripeRandomFunc) (gpointer user_data);

/* Retries of one call: on connection errors and timeouts, 429, 5xx and 409
 * (key in use), each with the same Idempotency-Key. */
typedef struct {
  guint max_attempts;        /* in all, the first included (>= 1) */
  gint64 base_delay_us;      /* the first retry's cap */
  gint64 max_delay_us;       /* no backoff cap above this */
  gint64 max_retry_after_us; /* a longer Retry-After is cut to this */
} GcStripeRetryPolicy;

typedef struct {
  const gchar *base_url; /* "https://api.stripe.com", or the fake's URL */
  /* Secret: NULL reads $GLASSCAST_STRIPE_API_KEY. Never logged, never in an
   * error message. */
  const gchar *api_key;
  const gchar *stripe_version; /* nullable: the account's default */
  /* The SQLite file holding the stripe_requests table (glasscastd: the
   * ledger's file). The client opens its own connection, so its writes never
   * land inside a transaction the main context has open on the ledger. */
  const gchar *store_path;
  guint connect_timeout_ms;
  guint timeout_ms; /* the whole request */
  GcStripeRetryPolicy retry;
  /* Stripe forgets keys after 24 hours: a request still pending after this
   * long is not retried blindly (INVALID_STATE). */
  gint64 key_lifetime_s;
  GcStripeSleepFunc sleep;   /* nullable */
  GcStripeClockFunc clock;   /* nullable */
  GcStripeRandomFunc random; /* nullable */
  gpointer test_data;
} GcStripeClientConfig;

/* Fills @config with the defaults: 5 attempts, backoff 0.5 s doubling to
 * 8 s with full jitter, Retry-After up to 60 s, connect timeout 10 s,
 * request timeout 80 s, key lifetime 23 h, real sleep/clock/random. */
void gc_stripe_client_config_init (GcStripeClientConfig *config);

/* Returns: (transfer full) (nullable): a client, or NULL with @error
 * (INVALID_ARGUMENT: no key or base URL; STORAGE: the store). */
GcStripeClient *gc_stripe_client_new (const GcStripeClientConfig *config,
                                      GError **error);
void gc_stripe_client_free (GcStripeClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeClient, gc_stripe_client_free)

/* -- building blocks (public for tests and callers' own requests) -------- */

/* The wait before retry number @retry (1 for the first retry): "full
 * jitter", @random / 2^32 of min(max_delay, base_delay x 2^(retry-1)). */
gint64 gc_stripe_retry_delay_us (const GcStripeRetryPolicy *policy, guint retry,
                                 guint32 random);

/* Basis points as Stripe's decimal percentage, with integers only:
 * 1500 -> "15", 1250 -> "12.5", 1234 -> "12.34", 5 -> "0.05".
 * Returns: (transfer full). @basis_points at most 10000. */
gchar *gc_stripe_format_fee_percent (guint basis_points);

/* A form body in Stripe's bracket syntax, parameters kept in order. */
typedef struct _GcStripeForm GcStripeForm;
GcStripeForm *gc_stripe_form_new (void);
void gc_stripe_form_free (GcStripeForm *form);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeForm, gc_stripe_form_free)
/* @key as sent ("metadata[channel]"); a NULL @value adds nothing. */
void gc_stripe_form_add (GcStripeForm *form, const gchar *key,
                         const gchar *value);
/* Nested: ("1", "line_items", "0", "quantity", NULL) adds
 * line_items[0][quantity]=1. */
void gc_stripe_form_add_path (GcStripeForm *form, const gchar *value,
                              const gchar *first, ...) G_GNUC_NULL_TERMINATED;
void gc_stripe_form_add_int (GcStripeForm *form, const gchar *key,
                             gint64 value);
/* A list of strings: key[]=a&key[]=b. */
void gc_stripe_form_add_list (GcStripeForm *form, const gchar *key,
                              const gchar *const *values);
/* Returns: (transfer full): application/x-www-form-urlencoded, every byte
 * but A-Z a-z 0-9 - . _ ~ percent-encoded (brackets too). */
gchar *gc_stripe_form_encode (const GcStripeForm *form);

/* -- operations -----------------------------------------------------------
 * Every POST takes @idempotency_key, derived by the caller from the business
 * operation ("tip:<tip row uuid>", "payout:<creator>:<period>"), at most 255
 * bytes. Before the first attempt the key is stored with a hash of the
 * request; a retry in this process or after a restart, with the same key,
 * sends the same key, so Stripe does the operation at most once; a key
 * whose answer is stored is answered from the store without calling
 * Stripe. The same key with other parameters is a bug: CONFLICT
 * (GC_BILLING_ERROR), nothing sent. Stripe's answers are GC_STRIPE_ERROR.
 * Amounts: GcMoney in minor units; currencies whose Stripe amounts differ
 * from ISO 4217 minor units (ISK, HUF, TWD, UGX) are refused for now. */

/* POST /v1/accounts: type=express, card_payments + transfers requested,
 * metadata[glasscast_creator]=@creator_ref. */
GcStripeAccount *gc_stripe_client_create_express_account (
    GcStripeClient *client, const gchar *idempotency_key, const gchar *email,
    const gchar *country, const gchar *creator_ref, GError **error);
/* GET /v1/accounts/{id}: charges/payouts enabled, capabilities, external
 * accounts (what account.updated changes). */
GcStripeAccount *gc_stripe_client_retrieve_account (GcStripeClient *client,
                                                    const gchar *account,
                                                    GError **error);
/* POST /v1/account_links, type=account_onboarding. */
GcStripeAccountLink *gc_stripe_client_create_account_link (
    GcStripeClient *client, const gchar *idempotency_key, const gchar *account,
    const gchar *refresh_url, const gchar *return_url, GError **error);

/* POST /v1/products: one per channel (metadata[channel]). */
GcStripeProduct *gc_stripe_client_create_product (GcStripeClient *client,
                                                  const gchar *idempotency_key,
                                                  const gchar *name,
                                                  const gchar *channel,
                                                  GError **error);
/* POST /v1/prices: @amount a month (recurring[interval]=month), for one tier
 * of the channel (metadata[tier], nickname). */
GcStripePrice *gc_stripe_client_create_monthly_price (
    GcStripeClient *client, const gchar *idempotency_key, const gchar *product,
    const GcMoney *amount, const gchar *tier, GError **error);

/* A viewer subscribing to a channel tier through Checkout. */
typedef struct {
  const gchar *price;        /* a monthly price_ */
  const gchar *destination;  /* the creator's acct_ */
  guint application_fee_bps; /* the platform's share: 1500 = 15% */
  const gchar *success_url;
  const gchar *cancel_url;          /* nullable */
  const gchar *client_reference_id; /* nullable */
  const gchar *customer_email;      /* nullable */
  const gchar *channel;             /* metadata, nullable */
  const gchar *viewer;              /* metadata, nullable */
  const gchar *creator;             /* metadata, nullable */
} GcStripeSubscriptionCheckout;

/* POST /v1/checkout/sessions, mode=subscription, with
 * subscription_data[application_fee_percent] and
 * subscription_data[transfer_data][destination]. */
GcStripeCheckoutSession *gc_stripe_client_create_checkout_session_subscription (
    GcStripeClient *client, const gchar *idempotency_key,
    const GcStripeSubscriptionCheckout *request, GError **error);

/* A one-time payment to a creator (tip, pay-per-view) as a destination
 * charge: the platform keeps gc_money_platform_fee(amount, platform_ppm) as
 * application_fee_amount, the rest is transferred to @destination. */
typedef struct {
  GcMoney amount;
  guint32 platform_ppm;
  const gchar *destination; /* acct_ */
  const gchar *kind;        /* metadata: "tip", "ppv" */
  const gchar *channel;     /* metadata, nullable */
  const gchar *viewer;      /* metadata, nullable */
  const gchar *creator;     /* metadata, nullable */
  const gchar *viewer_name; /* metadata (tips), nullable */
  const gchar *message;     /* metadata (tips, <= 500 chars), nullable */
  const gchar *ppv_event;   /* metadata (PPV: the event's id), nullable */
  const gchar *description; /* Checkout's line item name; nullable */
  /* Checkout only: */
  const gchar *success_url;
  const gchar *cancel_url;          /* nullable */
  const gchar *client_reference_id; /* nullable */
  const gchar *customer_email;      /* nullable */
  /* PaymentIntent only: confirm at once with this saved payment method
   * (no redirects); NULL leaves the intent for Stripe.js to confirm. */
  const gchar *payment_method;
} GcStripePayment;

/* POST /v1/checkout/sessions, mode=payment, one line item of @amount, with
 * payment_intent_data[application_fee_amount|transfer_data|metadata]. */
GcStripeCheckoutSession *gc_stripe_client_create_checkout_session_payment (
    GcStripeClient *client, const gchar *idempotency_key,
    const GcStripePayment *request, GError **error);
/* POST /v1/payment_intents with application_fee_amount,
 * transfer_data[destination] and metadata. A declined card is
 * GC_STRIPE_ERROR_CARD. */
GcStripePaymentIntent *gc_stripe_client_create_payment_intent (
    GcStripeClient *client, const gchar *idempotency_key,
    const GcStripePayment *request, GError **error);

GcStripeCheckoutSession *gc_stripe_client_retrieve_checkout_session (
    GcStripeClient *client, const gchar *session, GError **error);
GcStripePaymentIntent *gc_stripe_client_retrieve_payment_intent (
    GcStripeClient *client, const gchar *payment_intent, GError **error);
GcStripeSubscription *gc_stripe_client_retrieve_subscription (
    GcStripeClient *client, const gchar *subscription, GError **error);

/* POST /v1/subscriptions/{id} cancel_at_period_end=true: the viewer keeps
 * access until current_period_end, then Stripe ends it. */
GcStripeSubscription *gc_stripe_client_cancel_subscription_at_period_end (
    GcStripeClient *client, const gchar *idempotency_key,
    const gchar *subscription, GError **error);
/* DELETE /v1/subscriptions/{id}: ends it now. DELETE takes no key at
 * Stripe; a retry after a lost answer that finds it already canceled
 * returns the canceled subscription. */
GcStripeSubscription *gc_stripe_client_cancel_subscription_now (
    GcStripeClient *client, const gchar *subscription, GError **error);

/* POST /v1/refunds of @payment (pi_... or ch_...), reverse_transfer=true and
 * refund_application_fee=true, so the creator's transfer and the platform's
 * fee are taken back in proportion. @amount NULL: what is left of it.
 * @reason nullable (duplicate, fraudulent, requested_by_customer). */
GcStripeRefund *gc_stripe_client_create_refund (
    GcStripeClient *client, const gchar *idempotency_key, const gchar *payment,
    const GcMoney *amount, const gchar *reason, GError **error);

typedef enum {
  GC_STRIPE_PAYOUT_STANDARD,
  GC_STRIPE_PAYOUT_INSTANT,
  /* Instant when gc_stripe_choose_payout_method() says so, else standard;
   * a retry of a stored key keeps the method first chosen. */
  GC_STRIPE_PAYOUT_AUTO,
} GcStripePayoutMethod;

/* Instant when the account has an external account with "instant" in its
 * available_payout_methods and @amount is within the balance's
 * instant_available in that currency; standard otherwise. */
GcStripePayoutMethod
gc_stripe_choose_payout_method (const GcStripeAccount *account,
                                const GcStripeBalance *balance,
                                const GcMoney *amount);

/* POST /v1/payouts on connected account @account (Stripe-Account header),
 * with expand[]=balance_transaction so the payout's fee comes back in
 * GcStripePayout.fee for the ledger. */
GcStripePayout *gc_stripe_client_create_payout (
    GcStripeClient *client, const gchar *idempotency_key, const gchar *account,
    const GcMoney *amount, GcStripePayoutMethod method, GError **error);

/* GET /v1/balance, of @account (nullable: the platform's). */
GcStripeBalance *gc_stripe_client_retrieve_balance (GcStripeClient *client,
                                                    const gchar *account,
                                                    GError **error);

G_END_DECLS

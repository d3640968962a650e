/* stripe-objects.h — the Stripe objects the client uses, parsed from Stripe's JSON (json-glib), and
 * the GC_STRIPE_ERROR domain with Stripe's error details (type, code, param, request id) attached. */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "billing-error.h"

G_BEGIN_DECLS

/* What Stripe (or the way to it) answered. Local mistakes (bad arguments, the
 * idempotency store, a key reused with other parameters) are GC_BILLING_ERROR
 * codes instead. Messages never contain the API key. */
#define GC_STRIPE_ERROR (gc_stripe_error_quark ())
GQuark gc_stripe_error_quark (void);

typedef enum {
  /* No HTTP answer: refused, reset, dropped, timed out (after retries). */
  GC_STRIPE_ERROR_CONNECTION,
  GC_STRIPE_ERROR_RATE_LIMITED,    /* 429, still after the last retry */
  GC_STRIPE_ERROR_API,             /* 5xx or api_error, after retries */
  GC_STRIPE_ERROR_INVALID_REQUEST, /* 400/404 invalid_request_error */
  GC_STRIPE_ERROR_AUTHENTICATION,  /* 401: missing, wrong or live key */
  GC_STRIPE_ERROR_PERMISSION,      /* 403: e.g. account_invalid */
  GC_STRIPE_ERROR_CARD,            /* 402 card_error: a decline */
  /* idempotency_error: Stripe saw this key with other parameters, or 409
   * "in use" outlived the retries. */
  GC_STRIPE_ERROR_IDEMPOTENCY,
  /* A 2xx whose body is not the object expected (wrong JSON types...). */
  GC_STRIPE_ERROR_UNEXPECTED_RESPONSE,
} GcStripeErrorCode;

/* Attached to every GC_STRIPE_ERROR (an extended GError): what Stripe said.
 * Any field may be NULL / 0. */
typedef struct {
  guint http_status; /* 0: no HTTP answer */
  gchar *type;       /* "invalid_request_error", "card_error"... */
  gchar *code;       /* "parameter_missing", "card_declined"... */
  gchar *decline_code;
  gchar *param;      /* "line_items[0][quantity]" */
  gchar *message;    /* Stripe's text, with the API key masked if present */
  gchar *request_id; /* the Request-Id header: "req_..." */
} GcStripeErrorInfo;

/* Returns: (transfer none) (nullable): the details of a GC_STRIPE_ERROR. */
const GcStripeErrorInfo *gc_stripe_error_get_info (const GError *error);

/* The objects. Strings are owned (g_free'd by the _free functions), ids are
 * never NULL; nullable fields are NULL (strings) or -1 (integers) when
 * Stripe sent null. Currencies are as Stripe sends them (lower case). */

typedef struct {
  gchar *id; /* acct_... */
  gchar *email;
  gchar *country;
  gchar *default_currency;
  gboolean charges_enabled;
  gboolean payouts_enabled;
  gboolean details_submitted;
  gboolean transfers_active; /* capabilities.transfers == "active" */
  /* Some listed external account (bank account or debit card) has
   * "instant" among its available_payout_methods. */
  gboolean instant_payouts_supported;
  gchar *disabled_reason; /* requirements.disabled_reason */
} GcStripeAccount;

typedef struct {
  gchar *url; /* where the creator onboards; short-lived */
  gint64 created;
  gint64 expires_at;
} GcStripeAccountLink;

typedef struct {
  gchar *id; /* prod_... */
  gchar *name;
  gboolean active;
} GcStripeProduct;

typedef struct {
  gchar *id; /* price_... */
  gchar *product;
  gchar *currency;
  gint64 unit_amount;        /* -1: null (custom or tiered pricing) */
  gchar *recurring_interval; /* "month"; NULL for one-time prices */
  gint64 recurring_interval_count;
  gboolean active;
} GcStripePrice;

typedef struct {
  gchar *id; /* cs_... */
  gchar *url;
  gchar *mode;           /* payment, subscription */
  gchar *status;         /* open, complete, expired */
  gchar *payment_status; /* paid, unpaid, no_payment_required */
  gchar *payment_intent; /* payment mode, once created */
  gchar *subscription;   /* subscription mode, once paid */
  gchar *client_reference_id;
  gint64 amount_total; /* -1: null */
  gchar *currency;
  gint64 expires_at;
} GcStripeCheckoutSession;

typedef struct {
  gchar *id;     /* pi_... */
  gchar *status; /* requires_payment_method ... succeeded */
  gint64 amount;
  gchar *currency;
  gint64 application_fee_amount; /* -1: null */
  gchar *destination;            /* transfer_data.destination, or NULL */
  gchar *latest_charge;
  /* For the browser's Stripe.js only: never logged. */
  gchar *client_secret;
} GcStripePaymentIntent;

typedef struct {
  gchar *id;     /* sub_... */
  gchar *status; /* incomplete, active, past_due, canceled... */
  gchar *customer;
  gboolean cancel_at_period_end;
  /* Of the first item (API 2025-03-31 and later put periods on items);
   * the subscription's own field when an older API version sends it. */
  gint64 current_period_end;
  gint64 cancel_at; /* -1: null */
  gchar *price;     /* the first item's price id */
  gchar *destination;
} GcStripeSubscription;

typedef struct {
  gchar *id; /* re_... */
  gchar *status;
  gint64 amount;
  gchar *currency;
  gchar *charge;
  gchar *payment_intent;
  gchar *transfer_reversal; /* trr_..., with reverse_transfer */
} GcStripeRefund;

typedef struct {
  gchar *id; /* po_... */
  gchar *status;
  gchar *method; /* standard, instant */
  gint64 amount;
  gchar *currency;
  gchar *destination; /* ba_... or card_... */
  gint64 arrival_date;
  /* Stripe's fee on the payout, from its balance transaction when that was
   * expanded (the client asks for it); fee_known FALSE otherwise. */
  gint64 fee;
  gboolean fee_known;
} GcStripePayout;

typedef struct {
  gint64 amount;
  gchar currency[4]; /* lower case, as Stripe sends it */
} GcStripeAmount;

typedef struct {
  GArray *available;         /* of GcStripeAmount */
  GArray *pending;           /* of GcStripeAmount */
  GArray *instant_available; /* of GcStripeAmount; empty when absent */
} GcStripeBalance;

void gc_stripe_account_free (GcStripeAccount *account);
void gc_stripe_account_link_free (GcStripeAccountLink *link);
void gc_stripe_product_free (GcStripeProduct *product);
void gc_stripe_price_free (GcStripePrice *price);
void gc_stripe_checkout_session_free (GcStripeCheckoutSession *session);
void gc_stripe_payment_intent_free (GcStripePaymentIntent *intent);
void gc_stripe_subscription_free (GcStripeSubscription *subscription);
void gc_stripe_refund_free (GcStripeRefund *refund);
void gc_stripe_payout_free (GcStripePayout *payout);
void gc_stripe_balance_free (GcStripeBalance *balance);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeAccount, gc_stripe_account_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeAccountLink, gc_stripe_account_link_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeProduct, gc_stripe_product_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripePrice, gc_stripe_price_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeCheckoutSession,
                               gc_stripe_checkout_session_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripePaymentIntent,
                               gc_stripe_payment_intent_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeSubscription,
                               gc_stripe_subscription_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeRefund, gc_stripe_refund_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripePayout, gc_stripe_payout_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcStripeBalance, gc_stripe_balance_free)

/* Parsers: @json is one object as Stripe sends it. Extra fields are ignored;
 * a field used here with the wrong JSON type (a string amount, a number id)
 * or a wrong "object" is GC_STRIPE_ERROR_UNEXPECTED_RESPONSE. An expandable
 * field (transfer_data.destination...) may be an id or an object with one.
 * Returns: (transfer full) (nullable). */
GcStripeAccount *gc_stripe_account_parse (const gchar *json, GError **error);
GcStripeAccountLink *gc_stripe_account_link_parse (const gchar *json,
                                                   GError **error);
GcStripeProduct *gc_stripe_product_parse (const gchar *json, GError **error);
GcStripePrice *gc_stripe_price_parse (const gchar *json, GError **error);
GcStripeCheckoutSession *gc_stripe_checkout_session_parse (const gchar *json,
                                                           GError **error);
GcStripePaymentIntent *gc_stripe_payment_intent_parse (const gchar *json,
                                                       GError **error);
GcStripeSubscription *gc_stripe_subscription_parse (const gchar *json,
                                                    GError **error);
GcStripeRefund *gc_stripe_refund_parse (const gchar *json, GError **error);
GcStripePayout *gc_stripe_payout_parse (const gchar *json, GError **error);
GcStripeBalance *gc_stripe_balance_parse (const gchar *json, GError **error);

/* Turns a non-2xx answer into a GC_STRIPE_ERROR with its details: @body is
 * Stripe's {"error": {...}} (or anything: then only the status is known).
 * @secret, if given, is masked wherever it appears in Stripe's text. */
void gc_stripe_error_set_from_response (GError **error, guint http_status,
                                        const gchar *body,
                                        const gchar *request_id,
                                        const gchar *secret);

/* Sets a GC_STRIPE_ERROR with details (any may be NULL). */
void gc_stripe_error_set (GError **error, GcStripeErrorCode code,
                          guint http_status, const gchar *request_id,
                          const gchar *format, ...) G_GNUC_PRINTF (5, 6);

G_END_DECLS

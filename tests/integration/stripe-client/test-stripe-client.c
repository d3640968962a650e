/* test-stripe-client.c — the Stripe client (billing/stripe-client.c) against the fake Stripe (tests/fakes/fake_stripe.py):
 * every operation, then faults (commit-then-drop, 500s, 429, timeouts, a restart) with exactly one object each time. */

#include <string.h>

#include <curl/curl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "stripe-client.h"

#define API_KEY "sk_test_glasscast_integration_5f3a9c"
#define OTHER_KEY "sk_test_not_the_configured_one_77d1"
#define STRIPE_VERSION "2025-06-30.basil"

static gchar *fake_url;
static gchar *tmp_dir;

/* Every log line of the run, for the check that the key never shows. */
static GMutex log_lock;
static GString *log_text;

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n,
                gpointer user_data)
{
  g_mutex_lock (&log_lock);
  for (gsize i = 0; i < n; i++) {
    if (fields[i].length < 0)
      g_string_append_printf (log_text, "%s=%s ", fields[i].key,
                              (const gchar *)fields[i].value);
    else
      g_string_append_printf (log_text, "%s=%.*s ", fields[i].key,
                              (gint)fields[i].length,
                              (const gchar *)fields[i].value);
  }
  g_string_append_c (log_text, '\n');
  g_mutex_unlock (&log_lock);
  return g_log_writer_default (level, fields, n, user_data);
}

/* -- the fake's control API ------------------------------------------------ */

static size_t
collect (char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len (user_data, data, (gssize)(size * n));
  return size * n;
}

/* Returns: (transfer full): the JSON answer of the control endpoint. */
static JsonNode *
control (const gchar *method, const gchar *path, const gchar *json)
{
  CURL *curl = curl_easy_init ();
  g_autoptr (GString) body = g_string_new (NULL);
  g_autofree gchar *url = g_strconcat (fake_url, path, NULL);
  struct curl_slist *headers =
      curl_slist_append (NULL, "Content-Type: application/json");
  long status = 0;
  JsonNode *node;

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  if (json != NULL)
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, body);
  g_assert_cmpint (curl_easy_perform (curl), ==, CURLE_OK);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  if (status != 200)
    g_error ("fake %s %s: %ld %s", method, path, status, body->str);
  node = json_from_string (body->str, NULL);
  g_assert_nonnull (node);
  return node;
}

static void
control_ok (const gchar *method, const gchar *path, const gchar *json)
{
  g_autoptr (JsonNode) node = control (method, path, json);
}

static gint64
count_objects (const gchar *type)
{
  g_autofree gchar *path = g_strconcat ("/_fake/objects?type=", type, NULL);
  g_autoptr (JsonNode) node = control ("GET", path, NULL);

  return json_object_get_int_member (json_node_get_object (node), "count");
}

/* Returns: (transfer full): the fake's copy of object @id. */
static JsonObject *
fake_object (const gchar *id)
{
  g_autofree gchar *path = g_strconcat ("/_fake/objects/", id, NULL);
  g_autoptr (JsonNode) node = control ("GET", path, NULL);

  return json_object_ref (json_node_get_object (node));
}

/* API requests the fake saw with @key; @replayed counts the replays. */
static guint
requests_with_key (const gchar *key, guint *replayed)
{
  g_autoptr (JsonNode) node = control ("GET", "/_fake/requests", NULL);
  JsonArray *data =
      json_object_get_array_member (json_node_get_object (node), "data");
  guint n = 0;

  if (replayed)
    *replayed = 0;
  for (guint i = 0; i < json_array_get_length (data); i++) {
    JsonObject *r = json_array_get_object_element (data, i);
    JsonNode *k = json_object_get_member (r, "idempotency_key");

    if (k == NULL || JSON_NODE_HOLDS_NULL (k) ||
        g_strcmp0 (json_node_get_string (k), key) != 0)
      continue;
    n++;
    if (replayed && json_object_get_boolean_member (r, "replayed"))
      (*replayed)++;
  }
  return n;
}

static guint
all_requests (void)
{
  g_autoptr (JsonNode) node = control ("GET", "/_fake/requests", NULL);

  return json_array_get_length (
      json_object_get_array_member (json_node_get_object (node), "data"));
}

static void
add_fault (const gchar *json)
{
  control_ok ("POST", "/_fake/faults", json);
}

/* -- fixture: a fresh fake state, a fresh store, a recording sleep --------- */

typedef struct {
  gchar *store;
  GArray *sleeps; /* of gint64 µs, every wait the client asked for */
  gboolean real_sleep;
  GcStripeClient *client;
} Fixture;

static void
record_sleep (gint64 us, gpointer data)
{
  Fixture *f = data;

  g_array_append_val (f->sleeps, us);
  /* Waits are recorded, not served, unless a test needs real time. */
  g_usleep (f->real_sleep ? (gulong)us : (gulong)MIN (us, 5000));
}

static guint32
max_random (gpointer data)
{
  return G_MAXUINT32;
}

static GcStripeClient *
client_new (Fixture *f, const gchar *key, guint attempts, guint timeout_ms)
{
  GcStripeClientConfig config;
  g_autoptr (GError) error = NULL;
  GcStripeClient *c;

  gc_stripe_client_config_init (&config);
  config.base_url = fake_url;
  config.api_key = key;
  config.stripe_version = STRIPE_VERSION;
  config.store_path = f->store;
  config.retry.max_attempts = attempts;
  config.retry.base_delay_us = 100 * G_TIME_SPAN_MILLISECOND;
  config.retry.max_delay_us = 800 * G_TIME_SPAN_MILLISECOND;
  config.timeout_ms = timeout_ms;
  config.connect_timeout_ms = 2000;
  config.sleep = record_sleep;
  config.random = max_random;
  config.test_data = f;
  c = gc_stripe_client_new (&config, &error);
  g_assert_no_error (error);
  return c;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  static guint n;

  control_ok ("POST", "/_fake/reset", "{}");
  control_ok ("DELETE", "/_fake/faults", NULL);
  f->store = g_strdup_printf ("%s/store-%u.db", tmp_dir, ++n);
  f->sleeps = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->client = client_new (f, API_KEY, 5, 10000);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->client, gc_stripe_client_free);
  g_array_unref (f->sleeps);
  g_free (f->store);
}

static gchar *
unique_key (const gchar *what)
{
  g_autofree gchar *uuid = g_uuid_string_random ();

  return g_strconcat (what, ":", uuid, NULL);
}

/* A creator's Express account, onboarded (transfers active, payouts on). */
static gchar *
onboarded_account (GcStripeClient *c)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *key = unique_key ("account");
  g_autoptr (GcStripeAccount) a = NULL;
  g_autofree gchar *path = NULL;

  a = gc_stripe_client_create_express_account (c, key, "creator@example.com",
                                               "US", "42", &error);
  g_assert_no_error (error);
  path = g_strconcat ("/_fake/accounts/", a->id, NULL);
  control_ok ("POST", path, "{\"onboarded\": true}");
  return g_strdup (a->id);
}

static void
fund (const gchar *account, gint64 amount)
{
  g_autofree gchar *json =
      g_strdup_printf ("{\"account\": \"%s\", \"amount\": %" G_GINT64_FORMAT
                       ", \"currency\": \"usd\"}",
                       account, amount);

  control_ok ("POST", "/_fake/balance", json);
}

static GcMoney
usd (gint64 amount)
{
  GcMoney m;

  g_assert_true (gc_money_init (&m, amount, "USD", NULL));
  return m;
}

static GcStripePayment
tip (const gchar *destination, gint64 amount)
{
  GcStripePayment p = {
      .amount = usd (amount),
      .platform_ppm = GC_SHARE_DEFAULT_PLATFORM_PPM,
      .destination = destination,
      .kind = "tip",
      .channel = "7",
      .viewer = "1001",
      .payment_method = "pm_card_visa",
  };

  return p;
}

/* -- every operation -------------------------------------------------------- */

static void
test_onboarding (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *key = unique_key ("account");
  g_autofree gchar *link_key = NULL, *path = NULL;
  g_autoptr (GcStripeAccount) created = NULL, before = NULL, after = NULL;
  g_autoptr (GcStripeAccountLink) link = NULL;
  g_autoptr (JsonNode) events = NULL;
  JsonArray *list;
  gboolean updated = FALSE;

  created = gc_stripe_client_create_express_account (
      f->client, key, "creator+1@example.com", "US", "42", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (created->id, "acct_"));
  g_assert_cmpstr (created->email, ==, "creator+1@example.com");
  g_assert_false (created->charges_enabled);

  link_key = g_strconcat ("account_link:", created->id, ":1", NULL);
  link = gc_stripe_client_create_account_link (
      f->client, link_key, created->id, "https://glasscast.test/refresh",
      "https://glasscast.test/return", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (link->url, fake_url));
  g_assert_cmpint (link->expires_at, >, link->created);

  before = gc_stripe_client_retrieve_account (f->client, created->id, &error);
  g_assert_no_error (error);
  g_assert_false (before->payouts_enabled);
  g_assert_false (before->transfers_active);

  path = g_strconcat ("/_fake/accounts/", created->id, NULL);
  control_ok ("POST", path, "{\"onboarded\": true}");
  after = gc_stripe_client_retrieve_account (f->client, created->id, &error);
  g_assert_no_error (error);
  g_assert_true (after->charges_enabled);
  g_assert_true (after->payouts_enabled);
  g_assert_true (after->details_submitted);
  g_assert_true (after->transfers_active);
  g_assert_null (after->disabled_reason);

  /* Stripe announced the change as account.updated on that account. */
  events = control ("GET", "/_fake/events", NULL);
  list = json_object_get_array_member (json_node_get_object (events), "data");
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *e = json_array_get_object_element (list, i);

    if (g_strcmp0 (json_object_get_string_member (e, "type"),
                   "account.updated") == 0 &&
        g_strcmp0 (json_object_get_string_member (e, "account"), created->id) ==
            0)
      updated = TRUE;
  }
  g_assert_true (updated);
}

static void
test_subscription_checkout (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  g_autoptr (GcStripeProduct) product = NULL;
  g_autoptr (GcStripePrice) price = NULL;
  g_autoptr (GcStripeCheckoutSession) session = NULL, paid = NULL;
  g_autoptr (GcStripeSubscription) sub = NULL, ending = NULL, ended = NULL,
                                   again = NULL;
  g_autoptr (JsonObject) fake_sub = NULL;
  g_autofree gchar *path = NULL;
  GcMoney monthly = usd (499);
  GcStripeSubscriptionCheckout req = {
      .destination = acct,
      .application_fee_bps = 1234,
      .success_url = "https://glasscast.test/ok?s={CHECKOUT_SESSION_ID}",
      .cancel_url = "https://glasscast.test/cancel",
      .client_reference_id = "viewer-1001",
      .channel = "7",
      .viewer = "1001",
  };

  product = gc_stripe_client_create_product (f->client, "product:channel:7",
                                             "Channel 7", "7", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (product->name, ==, "Channel 7");
  price = gc_stripe_client_create_monthly_price (
      f->client, "price:channel:7:gold", product->id, &monthly, "gold", &error);
  g_assert_no_error (error);
  g_assert_cmpint (price->unit_amount, ==, 499);
  g_assert_cmpstr (price->recurring_interval, ==, "month");
  g_assert_cmpstr (price->currency, ==, "usd");

  req.price = price->id;
  session = gc_stripe_client_create_checkout_session_subscription (
      f->client, "checkout:sub:1", &req, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (session->mode, ==, "subscription");
  g_assert_cmpstr (session->status, ==, "open");
  g_assert_cmpstr (session->client_reference_id, ==, "viewer-1001");
  g_assert_nonnull (session->url);

  path =
      g_strconcat ("/_fake/checkout/sessions/", session->id, "/complete", NULL);
  control_ok ("POST", path, "{\"outcome\": \"paid\"}");
  paid = gc_stripe_client_retrieve_checkout_session (f->client, session->id,
                                                     &error);
  g_assert_no_error (error);
  g_assert_cmpstr (paid->payment_status, ==, "paid");
  g_assert_nonnull (paid->subscription);

  sub = gc_stripe_client_retrieve_subscription (f->client, paid->subscription,
                                                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sub->status, ==, "active");
  g_assert_cmpstr (sub->destination, ==, acct);
  g_assert_cmpstr (sub->price, ==, price->id);
  g_assert_cmpint (sub->current_period_end, >, g_get_real_time () / 1000000);
  g_assert_false (sub->cancel_at_period_end);
  /* 1234 bp went out as "12.34", without floating point on our side. */
  fake_sub = fake_object (sub->id);
  g_assert_cmpstr (json_node_get_string (json_object_get_member (
                       json_object_get_object_member (fake_sub, "metadata"),
                       "glasscast_viewer")),
                   ==, "1001");

  ending = gc_stripe_client_cancel_subscription_at_period_end (
      f->client, "cancel:sub:1", sub->id, &error);
  g_assert_no_error (error);
  g_assert_true (ending->cancel_at_period_end);
  g_assert_cmpint (ending->cancel_at, ==, sub->current_period_end);
  g_assert_cmpstr (ending->status, ==, "active");

  ended = gc_stripe_client_cancel_subscription_now (f->client, sub->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ended->status, ==, "canceled");
  /* Again (as after a lost answer): already canceled is the outcome. */
  again = gc_stripe_client_cancel_subscription_now (f->client, sub->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->status, ==, "canceled");
}

static void
test_subscription_fee_percent_sent (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  g_autoptr (GcStripeProduct) product = NULL;
  g_autoptr (GcStripePrice) price = NULL;
  g_autoptr (GcStripeCheckoutSession) session = NULL;
  g_autoptr (JsonNode) requests = NULL;
  JsonArray *list;
  GcMoney monthly = usd (500);
  GcStripeSubscriptionCheckout req = {
      .destination = acct,
      .application_fee_bps = 1234,
      .success_url = "https://glasscast.test/ok",
  };
  gboolean seen = FALSE;

  product = gc_stripe_client_create_product (f->client, "product:c8", "C8", "8",
                                             &error);
  g_assert_no_error (error);
  price = gc_stripe_client_create_monthly_price (
      f->client, "price:c8", product->id, &monthly, "basic", &error);
  g_assert_no_error (error);
  req.price = price->id;
  session = gc_stripe_client_create_checkout_session_subscription (
      f->client, "checkout:sub:fee", &req, &error);
  g_assert_no_error (error);

  requests = control ("GET", "/_fake/requests", NULL);
  list = json_object_get_array_member (json_node_get_object (requests), "data");
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *r = json_array_get_object_element (list, i);
    JsonObject *params, *sd;

    if (g_strcmp0 (json_object_get_string_member (r, "path"),
                   "/v1/checkout/sessions") != 0)
      continue;
    params = json_object_get_object_member (r, "params");
    sd = json_object_get_object_member (params, "subscription_data");
    g_assert_cmpstr (
        json_object_get_string_member (sd, "application_fee_percent"), ==,
        "12.34");
    g_assert_cmpstr (
        json_object_get_string_member (
            json_object_get_object_member (sd, "transfer_data"), "destination"),
        ==, acct);
    seen = TRUE;
  }
  g_assert_true (seen);
}

static void
test_tip_and_refund (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  GcStripePayment req = tip (acct, 1000);
  g_autoptr (GcStripePaymentIntent) pi = NULL;
  g_autoptr (GcStripeRefund) refund = NULL;
  g_autoptr (JsonObject) fake_pi = NULL;
  JsonObject *metadata;

  pi =
      gc_stripe_client_create_payment_intent (f->client, "tip:1", &req, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pi->status, ==, "succeeded");
  g_assert_cmpint (pi->amount, ==, 1000);
  /* gc_money_platform_fee (1000, 15%) */
  g_assert_cmpint (pi->application_fee_amount, ==, 150);
  g_assert_cmpstr (pi->destination, ==, acct);
  g_assert_nonnull (pi->latest_charge);
  fake_pi = fake_object (pi->id);
  metadata = json_object_get_object_member (fake_pi, "metadata");
  g_assert_cmpstr (json_object_get_string_member (metadata, "glasscast_kind"),
                   ==, "tip");
  g_assert_cmpstr (
      json_object_get_string_member (metadata, "glasscast_channel"), ==, "7");
  g_assert_cmpstr (json_object_get_string_member (metadata, "glasscast_viewer"),
                   ==, "1001");
  g_assert_cmpint (count_objects ("transfer"), ==, 1);
  g_assert_cmpint (count_objects ("application_fee"), ==, 1);

  refund = gc_stripe_client_create_refund (
      f->client, "refund:tip:1", pi->id, NULL, "requested_by_customer", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (refund->status, ==, "succeeded");
  g_assert_cmpint (refund->amount, ==, 1000);
  g_assert_cmpstr (refund->payment_intent, ==, pi->id);
  g_assert_nonnull (refund->transfer_reversal);
  /* The creator's transfer and the platform's fee both went back. */
  g_assert_cmpint (count_objects ("transfer_reversal"), ==, 1);
  g_assert_cmpint (count_objects ("fee_refund"), ==, 1);
}

static void
test_card_declined (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  GcStripePayment req = tip (acct, 700);
  g_autoptr (GcStripePaymentIntent) pi = NULL;
  const GcStripeErrorInfo *info;

  req.payment_method = "pm_card_chargeDeclined";
  pi = gc_stripe_client_create_payment_intent (f->client, "tip:declined", &req,
                                               &error);
  g_assert_null (pi);
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_CARD);
  info = gc_stripe_error_get_info (error);
  g_assert_cmpuint (info->http_status, ==, 402);
  g_assert_cmpstr (info->code, ==, "card_declined");
  g_assert_nonnull (info->request_id);
  g_assert_cmpuint (f->sleeps->len, ==, 0);
}

static void
test_ppv_checkout (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  GcStripePayment req = tip (acct, 1999);
  g_autoptr (GcStripeCheckoutSession) session = NULL, paid = NULL;
  g_autoptr (GcStripePaymentIntent) pi = NULL;
  g_autofree gchar *path = NULL;

  req.kind = "ppv";
  req.description = "Finale (pay-per-view)";
  req.payment_method = NULL;
  req.success_url = "https://glasscast.test/ppv/ok";
  req.client_reference_id = "ppv-55";
  session = gc_stripe_client_create_checkout_session_payment (
      f->client, "ppv:55", &req, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (session->mode, ==, "payment");
  g_assert_cmpint (session->amount_total, ==, 1999);
  g_assert_cmpstr (session->currency, ==, "usd");

  path =
      g_strconcat ("/_fake/checkout/sessions/", session->id, "/complete", NULL);
  control_ok ("POST", path, "{\"outcome\": \"paid\"}");
  paid = gc_stripe_client_retrieve_checkout_session (f->client, session->id,
                                                     &error);
  g_assert_no_error (error);
  g_assert_cmpstr (paid->status, ==, "complete");
  pi = gc_stripe_client_retrieve_payment_intent (f->client,
                                                 paid->payment_intent, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pi->status, ==, "succeeded");
  /* round half up of 1999 x 15% = 299.85 */
  g_assert_cmpint (pi->application_fee_amount, ==, 300);
  g_assert_cmpstr (pi->destination, ==, acct);
}

static void
test_payouts_and_balance (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  g_autoptr (GcStripeBalance) before = NULL, after = NULL, platform = NULL;
  g_autoptr (GcStripePayout) standard = NULL, instant = NULL;
  GcMoney amount = usd (2500);

  fund (acct, 10000);
  before = gc_stripe_client_retrieve_balance (f->client, acct, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (before->available->len, ==, 1);
  g_assert_cmpint (g_array_index (before->available, GcStripeAmount, 0).amount,
                   ==, 10000);

  /* The fake lists no external account that takes instant payouts. */
  standard =
      gc_stripe_client_create_payout (f->client, "payout:42:2025-01", acct,
                                      &amount, GC_STRIPE_PAYOUT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (standard->method, ==, "standard");
  g_assert_cmpint (standard->amount, ==, 2500);
  g_assert_true (standard->fee_known);
  g_assert_cmpint (standard->fee, ==, 0);

  instant = gc_stripe_client_create_payout (f->client, "payout:42:2025-02",
                                            acct, &amount,
                                            GC_STRIPE_PAYOUT_INSTANT, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (instant->method, ==, "instant");
  g_assert_cmpstr (instant->status, ==, "in_transit");
  /* The fake's instant fee: 1 % of 2500 is under its minimum of 50. */
  g_assert_true (instant->fee_known);
  g_assert_cmpint (instant->fee, ==, 50);

  after = gc_stripe_client_retrieve_balance (f->client, acct, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_array_index (after->available, GcStripeAmount, 0).amount,
                   ==, 10000 - 2500 - 2500 - 50);
  platform = gc_stripe_client_retrieve_balance (f->client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_objects ("payout"), ==, 2);
}

/* -- faults: exactly one object each time ---------------------------------- */

static void
test_drop_after_commit_payout (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  g_autoptr (GcStripePayout) payout = NULL;
  GcMoney amount = usd (3000);
  guint replayed;

  fund (acct, 5000);
  add_fault ("{\"kind\": \"drop_after_commit\", \"method\": \"POST\","
             " \"path\": \"/v1/payouts\", \"count\": 1}");
  payout = gc_stripe_client_create_payout (f->client, "payout:42:drop", acct,
                                           &amount, GC_STRIPE_PAYOUT_STANDARD,
                                           &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_objects ("payout"), ==, 1);
  g_assert_cmpuint (f->sleeps->len, ==, 1);
  g_assert_cmpuint (requests_with_key ("payout:42:drop", &replayed), ==, 2);
  g_assert_cmpuint (replayed, ==, 1);
}

static void
test_drop_after_commit_tip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  GcStripePayment req = tip (acct, 1000);
  g_autoptr (GcStripePaymentIntent) pi = NULL;

  add_fault ("{\"kind\": \"drop_after_commit\", \"method\": \"POST\","
             " \"path\": \"/v1/payment_intents\", \"count\": 1,"
             " \"reset\": true}");
  pi = gc_stripe_client_create_payment_intent (f->client, "tip:drop", &req,
                                               &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pi->status, ==, "succeeded");
  g_assert_cmpint (count_objects ("payment_intent"), ==, 1);
  g_assert_cmpint (count_objects ("charge"), ==, 1);
  g_assert_cmpint (count_objects ("transfer"), ==, 1);
  g_assert_cmpint (count_objects ("application_fee"), ==, 1);
}

static void
test_500_twice_then_success (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeProduct) product = NULL;

  add_fault ("{\"kind\": \"500\", \"method\": \"POST\","
             " \"path\": \"/v1/products\", \"count\": 2}");
  product = gc_stripe_client_create_product (f->client, "product:c500", "C500",
                                             "500", &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_objects ("product"), ==, 1);
  /* Two waits of full jitter (random at its maximum): just under 100, then
   * 200 ms. */
  g_assert_cmpuint (f->sleeps->len, ==, 2);
  g_assert_cmpint (g_array_index (f->sleeps, gint64, 0), ==, 99999);
  g_assert_cmpint (g_array_index (f->sleeps, gint64, 1), ==, 199999);
}

static void
test_429_honours_retry_after (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  g_autoptr (GcStripePayout) payout = NULL;
  GcMoney amount = usd (1200);

  fund (acct, 5000);
  add_fault ("{\"kind\": \"429\", \"retry_after\": 1, \"method\": \"POST\","
             " \"path\": \"/v1/payouts\", \"count\": 1}");
  payout =
      gc_stripe_client_create_payout (f->client, "payout:42:429", acct, &amount,
                                      GC_STRIPE_PAYOUT_STANDARD, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->sleeps->len, ==, 1);
  g_assert_cmpint (g_array_index (f->sleeps, gint64, 0), ==, G_USEC_PER_SEC);
  g_assert_cmpint (count_objects ("payout"), ==, 1);
}

static void
test_429_exhausted_is_rate_limited (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeProduct) product = NULL;

  add_fault ("{\"kind\": \"429\", \"method\": \"POST\","
             " \"path\": \"/v1/products\", \"count\": 10}");
  product = gc_stripe_client_create_product (f->client, "product:c429", "C429",
                                             "429", &error);
  g_assert_null (product);
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_RATE_LIMITED);
  g_assert_cmpuint (f->sleeps->len, ==, 4); /* 5 attempts */
  g_assert_cmpint (count_objects ("product"), ==, 0);
}

/* The first attempt times out while the fake still works on it; the retry
 * meets 409 (key in use) until the first finishes, then gets its replay. */
static void
test_timeout_then_key_in_use (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeProduct) product = NULL;

  g_clear_pointer (&f->client, gc_stripe_client_free);
  f->client = client_new (f, API_KEY, 8, 400);
  f->real_sleep = TRUE;
  add_fault ("{\"kind\": \"delay\", \"delay_ms\": 1500, \"method\": \"POST\","
             " \"path\": \"/v1/products\", \"count\": 1}");
  product = gc_stripe_client_create_product (f->client, "product:slow", "Slow",
                                             "9", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->sleeps->len, >=, 1);
  /* Let the delayed first attempt finish before counting. */
  g_usleep (1600 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (count_objects ("product"), ==, 1);
}

/* glasscastd dies with the answer lost; the new process retries the same
 * business operation from the same SQLite file. */
static void
test_restart_reuses_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  g_autoptr (GcStripePayout) lost = NULL, found = NULL, stored = NULL;
  g_autoptr (JsonNode) objects = NULL;
  JsonArray *list;
  GcMoney amount = usd (4000);
  guint before;

  fund (acct, 10000);
  g_clear_pointer (&f->client, gc_stripe_client_free);
  f->client = client_new (f, API_KEY, 3, 10000);
  add_fault ("{\"kind\": \"drop_after_commit\", \"method\": \"POST\","
             " \"path\": \"/v1/payouts\", \"count\": 100}");
  lost =
      gc_stripe_client_create_payout (f->client, "payout:42:restart", acct,
                                      &amount, GC_STRIPE_PAYOUT_AUTO, &error);
  g_assert_null (lost);
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_CONNECTION);
  g_clear_error (&error);
  g_assert_cmpint (count_objects ("payout"), ==, 1);

  /* "Restart": a new client on the same store, the faults gone. */
  g_clear_pointer (&f->client, gc_stripe_client_free);
  control_ok ("DELETE", "/_fake/faults", NULL);
  f->client = client_new (f, API_KEY, 3, 10000);
  found =
      gc_stripe_client_create_payout (f->client, "payout:42:restart", acct,
                                      &amount, GC_STRIPE_PAYOUT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_objects ("payout"), ==, 1);
  objects = control ("GET", "/_fake/objects?type=payout", NULL);
  list = json_object_get_array_member (json_node_get_object (objects), "data");
  g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (list, 0), "id"),
                   ==, found->id);

  /* Once answered, the store answers: Stripe is not asked again. */
  g_clear_pointer (&f->client, gc_stripe_client_free);
  f->client = client_new (f, API_KEY, 3, 10000);
  before = all_requests ();
  stored =
      gc_stripe_client_create_payout (f->client, "payout:42:restart", acct,
                                      &amount, GC_STRIPE_PAYOUT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored->id, ==, found->id);
  g_assert_cmpuint (all_requests (), ==, before);
  g_assert_cmpint (count_objects ("payout"), ==, 1);
}

static void
test_validation_error_is_final (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *acct = onboarded_account (f->client);
  GcStripePayment req = tip (acct, 10); /* below Stripe's 50 cents */
  g_autoptr (GcStripePaymentIntent) pi = NULL;
  const GcStripeErrorInfo *info;

  pi = gc_stripe_client_create_payment_intent (f->client, "tip:small", &req,
                                               &error);
  g_assert_null (pi);
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_INVALID_REQUEST);
  info = gc_stripe_error_get_info (error);
  g_assert_cmpuint (info->http_status, ==, 400);
  g_assert_cmpstr (info->code, ==, "amount_too_small");
  g_assert_cmpstr (info->param, ==, "amount");
  g_assert_cmpuint (f->sleeps->len, ==, 0);
  g_assert_cmpuint (requests_with_key ("tip:small", NULL), ==, 1);
  g_assert_cmpint (count_objects ("payment_intent"), ==, 0);
}

static void
test_same_key_other_params (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeProduct) first = NULL, second = NULL;
  guint before;

  first = gc_stripe_client_create_product (f->client, "product:c10", "C10",
                                           "10", &error);
  g_assert_no_error (error);
  before = all_requests ();
  second = gc_stripe_client_create_product (f->client, "product:c10", "Another",
                                            "10", &error);
  g_assert_null (second);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CONFLICT);
  g_assert_cmpuint (all_requests (), ==, before);
}

/* Last: everything logged during the run so far, plus a refused key. */
static void
test_logs_never_contain_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeClient) other = client_new (f, OTHER_KEY, 2, 10000);
  g_autoptr (GcStripeProduct) product = NULL;

  product = gc_stripe_client_create_product (other, "product:c11", "C11", "11",
                                             &error);
  g_assert_null (product);
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_AUTHENTICATION);
  g_assert_null (strstr (error->message, OTHER_KEY));

  g_mutex_lock (&log_lock);
  /* The capture works: the requests of the run are there... */
  g_assert_nonnull (strstr (log_text->str, "POST /v1/payouts"));
  g_assert_nonnull (strstr (log_text->str, "req_"));
  g_assert_nonnull (strstr (log_text->str, "attempt 2/5"));
  g_assert_nonnull (strstr (log_text->str, "-> 401"));
  /* ...and neither key, nor a creator's e-mail from a request body. */
  g_assert_null (strstr (log_text->str, API_KEY));
  g_assert_null (strstr (log_text->str, OTHER_KEY));
  g_assert_null (strstr (log_text->str, "example.com"));
  g_mutex_unlock (&log_lock);
}

/* -- the fake's process ------------------------------------------------------ */

static GSubprocess *
start_fake (const gchar *python, const gchar *script, const gchar *fixtures)
{
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree gchar *line = NULL;

  /* stdin stays a pipe: the fake exits when this process goes away. */
  /* Without Stripe's fixtures3.json the fake answers with its own minimal
   * objects: every flow and fault still runs. */
  if (fixtures != NULL)
    proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                 G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                             &error, python, script, "--port", "0", "--api-key",
                             API_KEY, "--fixtures", fixtures, NULL);
  else
    proc = g_subprocess_new (
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
        python, script, "--port", "0", "--api-key", API_KEY, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "listening on "))
    g_error ("the fake Stripe did not start: %s", line ? line : "(EOF)");
  fake_url = g_strdup (line + strlen ("listening on "));
  return proc;
}

int
main (int argc, char **argv)
{
  const gchar *fixtures = g_getenv ("STRIPE_FIXTURES");
  const gchar *script = FAKE_STRIPE_PY;
  g_autoptr (GSubprocess) fake = NULL;
  int status;

  /* meson passes tests/fakes' fake_stripe_py as the last argument. */
  if (argc > 1 && g_str_has_suffix (argv[argc - 1], ".py"))
    script = argv[--argc];

  if (fixtures == NULL)
    fixtures = STRIPE_FIXTURES_DEFAULT;
  if (!g_file_test (fixtures, G_FILE_TEST_IS_REGULAR)) {
    g_printerr ("# %s not found: the fake uses its own minimal objects\n",
                fixtures);
    fixtures = NULL;
  }
  g_test_init (&argc, &argv, NULL);
  log_text = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  tmp_dir = g_dir_make_tmp ("gc-stripe-client-XXXXXX", NULL);
  fake = start_fake (PYTHON3, script, fixtures);

#define ADD(path, fn)                                                          \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/stripe-client/onboarding", test_onboarding);
  ADD ("/stripe-client/subscription-checkout", test_subscription_checkout);
  ADD ("/stripe-client/subscription-fee-percent-sent",
       test_subscription_fee_percent_sent);
  ADD ("/stripe-client/tip-and-refund", test_tip_and_refund);
  ADD ("/stripe-client/card-declined", test_card_declined);
  ADD ("/stripe-client/ppv-checkout", test_ppv_checkout);
  ADD ("/stripe-client/payouts-and-balance", test_payouts_and_balance);
  ADD ("/stripe-client/fault/drop-after-commit-payout",
       test_drop_after_commit_payout);
  ADD ("/stripe-client/fault/drop-after-commit-tip",
       test_drop_after_commit_tip);
  ADD ("/stripe-client/fault/500-twice-then-success",
       test_500_twice_then_success);
  ADD ("/stripe-client/fault/429-honours-retry-after",
       test_429_honours_retry_after);
  ADD ("/stripe-client/fault/429-exhausted",
       test_429_exhausted_is_rate_limited);
  ADD ("/stripe-client/fault/timeout-then-key-in-use",
       test_timeout_then_key_in_use);
  ADD ("/stripe-client/fault/restart-reuses-key", test_restart_reuses_key);
  ADD ("/stripe-client/fault/validation-error-is-final",
       test_validation_error_is_final);
  ADD ("/stripe-client/idempotency/same-key-other-params",
       test_same_key_other_params);
  ADD ("/stripe-client/zz/logs-never-contain-key", test_logs_never_contain_key);
#undef ADD

  status = g_test_run ();

  g_subprocess_force_exit (fake);
  g_subprocess_wait (fake, NULL, NULL);
  {
    g_autoptr (GDir) d = g_dir_open (tmp_dir, 0, NULL);
    const gchar *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
      g_autofree gchar *p = g_build_filename (tmp_dir, name, NULL);

      g_unlink (p);
    }
    g_rmdir (tmp_dir);
  }
  g_free (tmp_dir);
  g_free (fake_url);
  g_string_free (log_text, TRUE);
  curl_global_cleanup ();
  return status;
}

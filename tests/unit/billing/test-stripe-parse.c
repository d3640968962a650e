/* test-stripe-parse.c — unit tests of the Stripe client's pure parts: parsing Stripe's own example objects
 * (fixtures3.json, read at test time), form encoding, fee percentages, and the retry schedule with a fake clock. */

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "stripe-client.h"

static JsonObject *resources; /* fixtures3.json's "resources", or NULL */

static gboolean
need_fixtures (void)
{
  if (resources == NULL) {
    g_test_skip ("fixtures3.json not found (set STRIPE_FIXTURES)");
    return FALSE;
  }
  return TRUE;
}

/* Returns: (transfer full): a deep copy of Stripe's example of @type
 * (json_node_copy() would share the object). */
static JsonObject *
fixture (const gchar *type)
{
  JsonNode *node = json_object_get_member (resources, type);
  g_autofree gchar *text = NULL;
  g_autoptr (JsonNode) copy = NULL;

  g_assert_nonnull (node);
  text = json_to_string (node, FALSE);
  copy = json_from_string (text, NULL);
  return json_object_ref (json_node_get_object (copy));
}

static gchar *
to_json (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return json_to_string (node, FALSE);
}

static gchar *
fixture_json (const gchar *type)
{
  g_autoptr (JsonObject) o = fixture (type);

  return to_json (o);
}

static void
assert_unexpected (GError *error, const gchar *field)
{
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_UNEXPECTED_RESPONSE);
  if (field != NULL)
    g_assert_nonnull (strstr (error->message, field));
}

/* -- Stripe's examples ---------------------------------------------------- */

static void
test_fixture_account (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripeAccount) a = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  json = fixture_json ("account");
  a = gc_stripe_account_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->id, ==, "acct_1PgafTB7WZ01zgkW");
  g_assert_cmpstr (a->email, ==, "site@stripe.com");
  g_assert_cmpstr (a->country, ==, "US");
  g_assert_cmpstr (a->default_currency, ==, "usd");
  g_assert_false (a->charges_enabled);
  g_assert_false (a->payouts_enabled);
  g_assert_false (a->details_submitted);
  g_assert_true (a->transfers_active);
  g_assert_cmpstr (a->disabled_reason, ==, "requirements.past_due");
  /* Its external_accounts list is empty. */
  g_assert_false (a->instant_payouts_supported);
}

/* The account's external accounts are bank_account/card objects; Stripe
 * says which can take an instant payout in available_payout_methods. */
static JsonObject *
account_with_bank (const gchar *const *methods)
{
  JsonObject *a = fixture ("account");
  JsonObject *bank = fixture ("external_account");
  JsonObject *list = json_object_get_object_member (a, "external_accounts");
  JsonArray *data = json_object_get_array_member (list, "data");
  JsonArray *m = json_array_new ();

  for (guint i = 0; methods[i] != NULL; i++)
    json_array_add_string_element (m, methods[i]);
  json_object_set_array_member (bank, "available_payout_methods", m);
  json_array_add_object_element (data, bank);
  return a;
}

static void
test_fixture_account_instant_payouts (void)
{
  const gchar *const both[] = {"standard", "instant", NULL};
  const gchar *const standard[] = {"standard", NULL};
  g_autoptr (JsonObject) with_instant = NULL, without = NULL;
  g_autofree gchar *json1 = NULL, *json2 = NULL;
  g_autoptr (GcStripeAccount) a1 = NULL, a2 = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  with_instant = account_with_bank (both);
  without = account_with_bank (standard);
  json1 = to_json (with_instant);
  json2 = to_json (without);
  a1 = gc_stripe_account_parse (json1, &error);
  g_assert_no_error (error);
  a2 = gc_stripe_account_parse (json2, &error);
  g_assert_no_error (error);
  g_assert_true (a1->instant_payouts_supported);
  g_assert_false (a2->instant_payouts_supported);
}

static void
test_fixture_account_link (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripeAccountLink) l = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  json = fixture_json ("account_link");
  l = gc_stripe_account_link_parse (json, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (l->url, "https://"));
  g_assert_cmpint (l->created, ==, 1234567890);
  g_assert_cmpint (l->expires_at, ==, 1234567890);
}

static void
test_fixture_product_and_price (void)
{
  g_autofree gchar *pj = NULL, *rj = NULL;
  g_autoptr (GcStripeProduct) product = NULL;
  g_autoptr (GcStripePrice) price = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  pj = fixture_json ("product");
  rj = fixture_json ("price");
  product = gc_stripe_product_parse (pj, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (product->id, ==, "prod_QXg1hqf4jFNsqG");
  g_assert_cmpstr (product->name, ==, "T-shirt");
  g_assert_true (product->active);
  price = gc_stripe_price_parse (rj, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (price->id, ==, "price_1PgafmB7WZ01zgkW6dKueIc5");
  g_assert_cmpstr (price->product, ==, "prod_QXg1hqf4jFNsqG");
  g_assert_cmpstr (price->currency, ==, "usd");
  g_assert_cmpint (price->unit_amount, ==, 2000);
  g_assert_cmpstr (price->recurring_interval, ==, "month");
  g_assert_cmpint (price->recurring_interval_count, ==, 1);
}

static void
test_fixture_checkout_session (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripeCheckoutSession) s = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  json = fixture_json ("checkout.session");
  s = gc_stripe_checkout_session_parse (json, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (s->id, "cs_test_"));
  g_assert_true (g_str_has_prefix (s->url, "https://checkout.stripe.com/"));
  g_assert_cmpstr (s->mode, ==, "payment");
  g_assert_cmpstr (s->status, ==, "open");
  g_assert_cmpstr (s->payment_status, ==, "unpaid");
  g_assert_cmpstr (s->payment_intent, ==, "pi_1PgafyB7WZ01zgkWSjxsAJo3");
  g_assert_null (s->subscription);
  g_assert_null (s->client_reference_id);
  g_assert_cmpint (s->amount_total, ==, -1);
  g_assert_null (s->currency);
  g_assert_cmpint (s->expires_at, ==, 1234567890);
}

static void
test_fixture_payment_intent (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripePaymentIntent) pi = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  json = fixture_json ("payment_intent");
  pi = gc_stripe_payment_intent_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pi->id, ==, "pi_1PgafyB7WZ01zgkWSjxsAJo3");
  g_assert_cmpstr (pi->status, ==, "requires_payment_method");
  g_assert_cmpint (pi->amount, ==, 1099);
  g_assert_cmpstr (pi->currency, ==, "usd");
  g_assert_cmpint (pi->application_fee_amount, ==, -1);
  g_assert_null (pi->latest_charge);
  /* The example expands transfer_data.destination into an object. */
  g_assert_cmpstr (pi->destination, ==, "obj_123");
  g_assert_true (g_str_has_prefix (pi->client_secret, pi->id));
}

static void
test_fixture_subscription (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripeSubscription) s = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  json = fixture_json ("subscription");
  s = gc_stripe_subscription_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->id, ==, "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw");
  g_assert_cmpstr (s->status, ==, "active");
  g_assert_cmpstr (s->customer, ==, "cus_QXg1o8vcGmoR32");
  g_assert_true (s->cancel_at_period_end);
  g_assert_cmpint (s->cancel_at, ==, 1234567890);
  /* The fixtures' API version keeps periods on the items. */
  g_assert_cmpint (s->current_period_end, ==, 976287773);
  g_assert_cmpstr (s->price, ==, "price_1PgafmB7WZ01zgkW6dKueIc5");
  g_assert_cmpstr (s->destination, ==, "obj_123");
}

static void
test_fixture_refund (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripeRefund) r = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  json = fixture_json ("refund");
  r = gc_stripe_refund_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->id, ==, "re_1Pgc72B7WZ01zgkWqPvrRrPE");
  g_assert_cmpstr (r->status, ==, "succeeded");
  g_assert_cmpint (r->amount, ==, 100);
  g_assert_cmpstr (r->currency, ==, "usd");
  g_assert_cmpstr (r->charge, ==, "ch_1PgafuB7WZ01zgkWXYmPNZs8");
  g_assert_null (r->payment_intent);
  g_assert_null (r->transfer_reversal);
}

static void
test_fixture_payout (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripePayout) p = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  json = fixture_json ("payout");
  p = gc_stripe_payout_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->id, ==, "po_1Pgc79B7WZ01zgkWu1KToYf4");
  g_assert_cmpstr (p->status, ==, "in_transit");
  g_assert_cmpstr (p->method, ==, "standard");
  g_assert_cmpint (p->amount, ==, 1100);
  g_assert_cmpstr (p->currency, ==, "usd");
  g_assert_cmpstr (p->destination, ==, "ba_1Pgc79B7WZ01zgkWoU5vBiXt");
  g_assert_cmpint (p->arrival_date, ==, 1234567890);
  /* balance_transaction is an id here: the fee is not known. */
  g_assert_false (p->fee_known);
}

static void
test_fixture_payout_expanded_fee (void)
{
  g_autoptr (JsonObject) po = NULL;
  JsonObject *txn;
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripePayout) p = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  po = fixture ("payout");
  txn = fixture ("balance_transaction");
  json_object_set_int_member (txn, "fee", 117);
  json_object_set_object_member (po, "balance_transaction", txn);
  json = to_json (po);
  p = gc_stripe_payout_parse (json, &error);
  g_assert_no_error (error);
  g_assert_true (p->fee_known);
  g_assert_cmpint (p->fee, ==, 117);
}

static void
test_fixture_balance (void)
{
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripeBalance) b = NULL;
  g_autoptr (GError) error = NULL;
  GcStripeAmount *a;

  if (!need_fixtures ())
    return;
  json = fixture_json ("balance");
  b = gc_stripe_balance_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (b->available->len, ==, 1);
  a = &g_array_index (b->available, GcStripeAmount, 0);
  g_assert_cmpint (a->amount, ==, 0);
  g_assert_cmpstr (a->currency, ==, "usd");
  g_assert_cmpuint (b->pending->len, ==, 1);
  g_assert_cmpuint (b->instant_available->len, ==, 0);
}

/* -- strict on the fields used, tolerant of the rest ------------------------ */

static void
test_parse_wrong_types_refused (void)
{
  struct {
    const gchar *type;
    const gchar *field;
    const gchar *value; /* JSON */
  } cases[] = {
      {"price", "unit_amount", "\"2000\""},
      {"price", "unit_amount", "20.5"},
      {"price", "unit_amount", "2e3"},
      {"payout", "amount", "true"},
      {"payout", "id", "42"},
      {"payment_intent", "status", "null"},
      {"account", "charges_enabled", "\"false\""},
      {"checkout.session", "expires_at", "\"soon\""},
      {"refund", "amount", "[]"},
      {"subscription", "cancel_at_period_end", "1"},
  };

  if (!need_fixtures ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonObject) o = fixture (cases[i].type);
    g_autoptr (JsonNode) value = json_from_string (cases[i].value, NULL);
    g_autofree gchar *json = NULL;
    g_autoptr (GError) error = NULL;
    gpointer parsed = NULL;

    json_object_set_member (o, cases[i].field, g_steal_pointer (&value));
    json = to_json (o);
    if (strcmp (cases[i].type, "price") == 0)
      parsed = gc_stripe_price_parse (json, &error);
    else if (strcmp (cases[i].type, "payout") == 0)
      parsed = gc_stripe_payout_parse (json, &error);
    else if (strcmp (cases[i].type, "payment_intent") == 0)
      parsed = gc_stripe_payment_intent_parse (json, &error);
    else if (strcmp (cases[i].type, "account") == 0)
      parsed = gc_stripe_account_parse (json, &error);
    else if (strcmp (cases[i].type, "checkout.session") == 0)
      parsed = gc_stripe_checkout_session_parse (json, &error);
    else if (strcmp (cases[i].type, "refund") == 0)
      parsed = gc_stripe_refund_parse (json, &error);
    else
      parsed = gc_stripe_subscription_parse (json, &error);
    g_assert_null (parsed);
    assert_unexpected (error, cases[i].field);
  }
}

static void
test_parse_missing_id_and_wrong_object (void)
{
  g_autoptr (JsonObject) no_id = NULL;
  g_autofree gchar *j1 = NULL, *j2 = NULL;
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
  g_autoptr (GcStripePayout) p1 = NULL, p2 = NULL, p3 = NULL;

  if (!need_fixtures ())
    return;
  no_id = fixture ("payout");
  json_object_remove_member (no_id, "id");
  j1 = to_json (no_id);
  p1 = gc_stripe_payout_parse (j1, &e1);
  g_assert_null (p1);
  assert_unexpected (e1, "id");
  j2 = fixture_json ("transfer");
  p2 = gc_stripe_payout_parse (j2, &e2);
  g_assert_null (p2);
  assert_unexpected (e2, "transfer");
  p3 = gc_stripe_payout_parse ("{\"id\": ", &e3);
  g_assert_null (p3);
  assert_unexpected (e3, NULL);
}

static void
test_parse_extra_fields_ignored (void)
{
  g_autoptr (JsonObject) o = NULL;
  g_autofree gchar *json = NULL;
  g_autoptr (GcStripeRefund) r = NULL;
  g_autoptr (GError) error = NULL;

  if (!need_fixtures ())
    return;
  o = fixture ("refund");
  json_object_set_string_member (o, "a_field_from_the_future", "x");
  json_object_set_object_member (o, "nested_new_thing", json_object_new ());
  json = to_json (o);
  r = gc_stripe_refund_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->id, ==, "re_1Pgc72B7WZ01zgkWqPvrRrPE");
}

static void
test_error_response_details (void)
{
  const gchar *body =
      "{\"error\": {\"type\": \"invalid_request_error\","
      " \"code\": \"parameter_missing\", \"param\": "
      "\"line_items[0][quantity]\","
      " \"message\": \"Missing required param: line_items[0][quantity].\"}}";
  const gchar *leaky = "{\"error\": {\"type\": \"invalid_request_error\","
                       " \"message\": \"Invalid API Key provided: "
                       "sk_test_secret123\"}}";
  g_autoptr (GError) error = NULL, copy = NULL, leak = NULL;
  const GcStripeErrorInfo *info;

  gc_stripe_error_set_from_response (&error, 400, body, "req_abc", NULL);
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_INVALID_REQUEST);
  copy = g_error_copy (error);
  info = gc_stripe_error_get_info (copy);
  g_assert_nonnull (info);
  g_assert_cmpuint (info->http_status, ==, 400);
  g_assert_cmpstr (info->type, ==, "invalid_request_error");
  g_assert_cmpstr (info->code, ==, "parameter_missing");
  g_assert_cmpstr (info->param, ==, "line_items[0][quantity]");
  g_assert_cmpstr (info->request_id, ==, "req_abc");
  g_assert_nonnull (strstr (error->message, "parameter_missing"));

  gc_stripe_error_set_from_response (&leak, 401, leaky, NULL,
                                     "sk_test_secret123");
  g_assert_error (leak, GC_STRIPE_ERROR, GC_STRIPE_ERROR_AUTHENTICATION);
  g_assert_null (strstr (leak->message, "sk_test_secret123"));
  g_assert_null (
      strstr (gc_stripe_error_get_info (leak)->message, "sk_test_secret123"));
}

/* -- form encoding ---------------------------------------------------------- */

static void
test_form_nested_and_arrays (void)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  const gchar *const expand[] = {"latest_charge", "customer", NULL};
  g_autofree gchar *body = NULL;

  gc_stripe_form_add (form, "mode", "subscription");
  gc_stripe_form_add_path (form, "price_1", "line_items", "0", "price", NULL);
  gc_stripe_form_add_path (form, "1", "line_items", "0", "quantity", NULL);
  gc_stripe_form_add_path (form, "acct_9", "subscription_data", "transfer_data",
                           "destination", NULL);
  gc_stripe_form_add_int (form, "amount", -5);
  gc_stripe_form_add (form, "skipped", NULL);
  gc_stripe_form_add_list (form, "expand", expand);
  body = gc_stripe_form_encode (form);
  g_assert_cmpstr (body, ==,
                   "mode=subscription"
                   "&line_items%5B0%5D%5Bprice%5D=price_1"
                   "&line_items%5B0%5D%5Bquantity%5D=1"
                   "&subscription_data%5Btransfer_data%5D%5Bdestination%5D="
                   "acct_9"
                   "&amount=-5"
                   "&expand%5B%5D=latest_charge&expand%5B%5D=customer");
}

static void
test_form_escaping (void)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;

  gc_stripe_form_add_path (form, "a b&c=d+e%f/g?h#i", "metadata", "x y", NULL);
  gc_stripe_form_add (form, "email", "zoë+tips@example.com");
  gc_stripe_form_add (form, "unreserved", "AZaz09-._~");
  gc_stripe_form_add (form, "empty", "");
  body = gc_stripe_form_encode (form);
  g_assert_cmpstr (body, ==,
                   "metadata%5Bx%20y%5D=a%20b%26c%3Dd%2Be%25f%2Fg%3Fh%23i"
                   "&email=zo%C3%AB%2Btips%40example.com"
                   "&unreserved=AZaz09-._~"
                   "&empty=");
}

/* The encoding round-trips through an independent decoder (GLib's URI
 * parameter parser), bytes and order intact. */
static void
test_form_round_trip (void)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;
  g_autoptr (GHashTable) params = NULL;
  const gchar *value = "\x01 ;,!*'()[]{}<>\"\\ \xe2\x82\xac end";

  gc_stripe_form_add_path (form, value, "metadata", "k[]", NULL);
  body = gc_stripe_form_encode (form);
  params = g_uri_parse_params (body, -1, "&", G_URI_PARAMS_NONE, NULL);
  g_assert_nonnull (params);
  g_assert_cmpstr (g_hash_table_lookup (params, "metadata[k[]]"), ==, value);
}

static void
test_fee_percent (void)
{
  struct {
    guint bps;
    const gchar *text;
  } cases[] = {
      {1500, "15"},    {1234, "12.34"}, {1250, "12.5"}, {5, "0.05"},
      {50, "0.5"},     {0, "0"},        {10000, "100"}, {1, "0.01"},
      {9999, "99.99"}, {1001, "10.01"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text = gc_stripe_format_fee_percent (cases[i].bps);

    g_assert_cmpstr (text, ==, cases[i].text);
  }
}

/* -- retries, with a fake clock --------------------------------------------- */

static void
test_backoff_schedule (void)
{
  GcStripeRetryPolicy policy = {
      .max_attempts = 8,
      .base_delay_us = 500000,
      .max_delay_us = 8000000,
      .max_retry_after_us = 60000000,
  };
  const gint64 caps[] = {500000,  1000000, 2000000, 4000000,
                         8000000, 8000000, 8000000};

  for (guint retry = 1; retry <= G_N_ELEMENTS (caps); retry++) {
    gint64 cap = caps[retry - 1];

    /* Full jitter: anywhere in [0, cap), proportional to the random. */
    g_assert_cmpint (gc_stripe_retry_delay_us (&policy, retry, 0), ==, 0);
    g_assert_cmpint (gc_stripe_retry_delay_us (&policy, retry, 1u << 31), ==,
                     cap / 2);
    g_assert_cmpint (gc_stripe_retry_delay_us (&policy, retry, 1u << 30), ==,
                     cap / 4);
    g_assert_cmpint (gc_stripe_retry_delay_us (&policy, retry, G_MAXUINT32), <,
                     cap);
    g_assert_cmpint (gc_stripe_retry_delay_us (&policy, retry, G_MAXUINT32), >=,
                     cap - 1);
  }
  /* Far past the cap, no overflow. */
  g_assert_cmpint (gc_stripe_retry_delay_us (&policy, 200, 1u << 31), ==,
                   4000000);
}

typedef struct {
  GArray *sleeps; /* of gint64 */
  guint32 random;
  gint64 now;
} FakeClock;

static void
fake_sleep (gint64 us, gpointer data)
{
  FakeClock *clock = data;

  g_array_append_val (clock->sleeps, us);
}

static guint32
fake_random (gpointer data)
{
  return ((FakeClock *)data)->random;
}

static gint64
fake_now (gpointer data)
{
  return ((FakeClock *)data)->now;
}

/* A loopback port nothing listens on: connections are refused at once. */
static guint16
closed_port (void)
{
  g_autoptr (GSocket) s = g_socket_new (
      G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (s, any, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

typedef struct {
  gchar *dir;
  gchar *store;
  gchar *url;
  FakeClock clock;
} RetryFixture;

static GcStripeClient *
refused_client (RetryFixture *f, guint attempts)
{
  GcStripeClientConfig config;
  g_autoptr (GError) error = NULL;
  GcStripeClient *c;

  gc_stripe_client_config_init (&config);
  config.base_url = f->url;
  config.api_key = "sk_test_unit";
  config.store_path = f->store;
  config.retry.max_attempts = attempts;
  config.connect_timeout_ms = 2000;
  config.timeout_ms = 2000;
  config.sleep = fake_sleep;
  config.random = fake_random;
  config.clock = fake_now;
  config.test_data = &f->clock;
  c = gc_stripe_client_new (&config, &error);
  g_assert_no_error (error);
  return c;
}

static void
retry_set_up (RetryFixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("gc-stripe-XXXXXX", NULL);
  f->store = g_build_filename (f->dir, "store.db", NULL);
  f->url = g_strdup_printf ("http://127.0.0.1:%u", closed_port ());
  f->clock.sleeps = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->clock.random = 1u << 31;
  f->clock.now = 1700000000;
}

static void
retry_tear_down (RetryFixture *f, gconstpointer data)
{
  const gchar *suffixes[] = {"", "-wal", "-shm"};

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++) {
    g_autofree gchar *p = g_strconcat (f->store, suffixes[i], NULL);

    g_unlink (p);
  }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->store);
  g_free (f->url);
  g_array_unref (f->clock.sleeps);
}

static void
test_retry_connection_refused_schedule (RetryFixture *f, gconstpointer data)
{
  g_autoptr (GcStripeClient) c = refused_client (f, 5);
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeProduct) p = NULL;
  const gint64 expected[] = {250000, 500000, 1000000, 2000000};

  p = gc_stripe_client_create_product (c, "product:unit:1", "Tier", "7",
                                       &error);
  g_assert_null (p);
  g_assert_error (error, GC_STRIPE_ERROR, GC_STRIPE_ERROR_CONNECTION);
  /* 5 attempts, so 4 waits: half of each cap (random = 2^31). */
  g_assert_cmpuint (f->clock.sleeps->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpint (g_array_index (f->clock.sleeps, gint64, i), ==,
                     expected[i]);
}

static void
test_retry_same_key_other_params_is_conflict (RetryFixture *f,
                                              gconstpointer data)
{
  g_autoptr (GcStripeClient) c = refused_client (f, 1);
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
  g_autoptr (GcStripeProduct) p1 = NULL, p2 = NULL, p3 = NULL;

  p1 = gc_stripe_client_create_product (c, "product:unit:2", "Gold", "7", &e1);
  g_assert_error (e1, GC_STRIPE_ERROR, GC_STRIPE_ERROR_CONNECTION);
  p2 =
      gc_stripe_client_create_product (c, "product:unit:2", "Silver", "7", &e2);
  g_assert_null (p2);
  g_assert_error (e2, GC_BILLING_ERROR, GC_BILLING_ERROR_CONFLICT);
  /* The same request again is a retry, not a conflict. */
  p3 = gc_stripe_client_create_product (c, "product:unit:2", "Gold", "7", &e3);
  g_assert_error (e3, GC_STRIPE_ERROR, GC_STRIPE_ERROR_CONNECTION);
}

static void
test_retry_pending_key_expires (RetryFixture *f, gconstpointer data)
{
  g_autoptr (GcStripeClient) c = refused_client (f, 1);
  g_autoptr (GError) e1 = NULL, e2 = NULL;
  g_autoptr (GcStripeProduct) p1 = NULL, p2 = NULL;

  p1 = gc_stripe_client_create_product (c, "product:unit:3", "Gold", "7", &e1);
  g_assert_error (e1, GC_STRIPE_ERROR, GC_STRIPE_ERROR_CONNECTION);
  /* A day later Stripe has forgotten the key: no blind resend. */
  f->clock.now += 24 * 3600;
  p2 = gc_stripe_client_create_product (c, "product:unit:3", "Gold", "7", &e2);
  g_assert_null (p2);
  g_assert_error (e2, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE);
}

static void
test_missing_key_refused (RetryFixture *f, gconstpointer data)
{
  g_autoptr (GcStripeClient) c = refused_client (f, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GcStripeProduct) p = NULL;

  p = gc_stripe_client_create_product (c, "", "Gold", "7", &error);
  g_assert_null (p);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (f->clock.sleeps->len, ==, 0);
}

static void
load_fixtures (void)
{
  const gchar *path = g_getenv ("STRIPE_FIXTURES");
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (path == NULL)
    path = STRIPE_FIXTURES_DEFAULT;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return;
  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  root = json_parser_get_root (parser);
  resources = json_object_ref (
      json_object_get_object_member (json_node_get_object (root), "resources"));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  load_fixtures ();

  g_test_add_func ("/billing/stripe/fixture/account", test_fixture_account);
  g_test_add_func ("/billing/stripe/fixture/account-instant-payouts",
                   test_fixture_account_instant_payouts);
  g_test_add_func ("/billing/stripe/fixture/account-link",
                   test_fixture_account_link);
  g_test_add_func ("/billing/stripe/fixture/product-and-price",
                   test_fixture_product_and_price);
  g_test_add_func ("/billing/stripe/fixture/checkout-session",
                   test_fixture_checkout_session);
  g_test_add_func ("/billing/stripe/fixture/payment-intent",
                   test_fixture_payment_intent);
  g_test_add_func ("/billing/stripe/fixture/subscription",
                   test_fixture_subscription);
  g_test_add_func ("/billing/stripe/fixture/refund", test_fixture_refund);
  g_test_add_func ("/billing/stripe/fixture/payout", test_fixture_payout);
  g_test_add_func ("/billing/stripe/fixture/payout-expanded-fee",
                   test_fixture_payout_expanded_fee);
  g_test_add_func ("/billing/stripe/fixture/balance", test_fixture_balance);
  g_test_add_func ("/billing/stripe/parse/wrong-types-refused",
                   test_parse_wrong_types_refused);
  g_test_add_func ("/billing/stripe/parse/missing-id-and-wrong-object",
                   test_parse_missing_id_and_wrong_object);
  g_test_add_func ("/billing/stripe/parse/extra-fields-ignored",
                   test_parse_extra_fields_ignored);
  g_test_add_func ("/billing/stripe/parse/error-details",
                   test_error_response_details);
  g_test_add_func ("/billing/stripe/form/nested-and-arrays",
                   test_form_nested_and_arrays);
  g_test_add_func ("/billing/stripe/form/escaping", test_form_escaping);
  g_test_add_func ("/billing/stripe/form/round-trip", test_form_round_trip);
  g_test_add_func ("/billing/stripe/fee-percent", test_fee_percent);
  g_test_add_func ("/billing/stripe/retry/backoff-schedule",
                   test_backoff_schedule);
  g_test_add ("/billing/stripe/retry/connection-refused-schedule", RetryFixture,
              NULL, retry_set_up, test_retry_connection_refused_schedule,
              retry_tear_down);
  g_test_add ("/billing/stripe/idempotency/same-key-other-params", RetryFixture,
              NULL, retry_set_up, test_retry_same_key_other_params_is_conflict,
              retry_tear_down);
  g_test_add ("/billing/stripe/idempotency/pending-key-expires", RetryFixture,
              NULL, retry_set_up, test_retry_pending_key_expires,
              retry_tear_down);
  g_test_add ("/billing/stripe/idempotency/key-required", RetryFixture, NULL,
              retry_set_up, test_missing_key_refused, retry_tear_down);

  status = g_test_run ();
  g_clear_pointer (&resources, json_object_unref);
  return status;
}

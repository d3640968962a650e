/* stripe-objects.c — parses the Stripe objects the client uses (tolerant of extra fields, strict on
 * the types of the fields it reads), and GC_STRIPE_ERROR with Stripe's error details attached. */

#include "stripe-objects.h"

#include <string.h>

/* GC_STRIPE_ERROR is an extended GError: GcStripeErrorInfo travels with
 * it through g_propagate_error() and g_error_copy(). */
typedef GcStripeErrorInfo GcStripeErrorPrivate;

static void
gc_stripe_error_private_init (GcStripeErrorPrivate *priv)
{
  memset (priv, 0, sizeof *priv);
}

static void
gc_stripe_error_private_copy (const GcStripeErrorPrivate *src,
                              GcStripeErrorPrivate *dest)
{
  dest->http_status = src->http_status;
  dest->type = g_strdup (src->type);
  dest->code = g_strdup (src->code);
  dest->decline_code = g_strdup (src->decline_code);
  dest->param = g_strdup (src->param);
  dest->message = g_strdup (src->message);
  dest->request_id = g_strdup (src->request_id);
}

static void
gc_stripe_error_private_clear (GcStripeErrorPrivate *priv)
{
  g_clear_pointer (&priv->type, g_free);
  g_clear_pointer (&priv->code, g_free);
  g_clear_pointer (&priv->decline_code, g_free);
  g_clear_pointer (&priv->param, g_free);
  g_clear_pointer (&priv->message, g_free);
  g_clear_pointer (&priv->request_id, g_free);
}

G_DEFINE_EXTENDED_ERROR (GcStripeError, gc_stripe_error)

const GcStripeErrorInfo *
gc_stripe_error_get_info (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != GC_STRIPE_ERROR)
    return NULL;
  return gc_stripe_error_get_private (error);
}

void
gc_stripe_error_set (GError **error, GcStripeErrorCode code, guint http_status,
                     const gchar *request_id, const gchar *format, ...)
{
  GError *e;
  GcStripeErrorInfo *info;
  va_list args;

  if (error == NULL)
    return;
  va_start (args, format);
  e = g_error_new_valist (GC_STRIPE_ERROR, code, format, args);
  va_end (args);
  info = gc_stripe_error_get_private (e);
  info->http_status = http_status;
  info->request_id = g_strdup (request_id);
  info->message = g_strdup (e->message);
  g_propagate_error (error, e);
}

/* Stripe masks keys in its own messages ("sk_test_****1234"); a proxy or a
 * fake might not. */
static gchar *
mask_secret (const gchar *text, const gchar *secret)
{
  g_auto (GStrv) parts = NULL;

  if (text == NULL)
    return NULL;
  if (secret == NULL || *secret == '\0' || strstr (text, secret) == NULL)
    return g_strdup (text);
  parts = g_strsplit (text, secret, -1);
  return g_strjoinv ("[redacted]", parts);
}

static const gchar *
object_string (JsonObject *object, const gchar *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

void
gc_stripe_error_set_from_response (GError **error, guint http_status,
                                   const gchar *body, const gchar *request_id,
                                   const gchar *secret)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *err = NULL;
  GcStripeErrorCode code;
  const gchar *type = NULL;
  g_autofree gchar *message = NULL;
  GError *e;
  GcStripeErrorInfo *info;

  if (error == NULL)
    return;
  if (body != NULL && json_parser_load_from_data (parser, body, -1, NULL)) {
    JsonNode *root = json_parser_get_root (parser);

    if (JSON_NODE_HOLDS_OBJECT (root)) {
      JsonNode *node =
          json_object_get_member (json_node_get_object (root), "error");

      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        err = json_node_get_object (node);
    }
  }
  type = object_string (err, "type");
  message = mask_secret (object_string (err, "message"), secret);

  if (g_strcmp0 (type, "idempotency_error") == 0 || http_status == 409)
    code = GC_STRIPE_ERROR_IDEMPOTENCY;
  else if (http_status == 429)
    code = GC_STRIPE_ERROR_RATE_LIMITED;
  else if (http_status == 401)
    code = GC_STRIPE_ERROR_AUTHENTICATION;
  else if (http_status == 403)
    code = GC_STRIPE_ERROR_PERMISSION;
  else if (g_strcmp0 (type, "card_error") == 0 || http_status == 402)
    code = GC_STRIPE_ERROR_CARD;
  else if (http_status >= 500 || g_strcmp0 (type, "api_error") == 0)
    code = GC_STRIPE_ERROR_API;
  else
    code = GC_STRIPE_ERROR_INVALID_REQUEST;

  e = g_error_new (
      GC_STRIPE_ERROR, code, "Stripe answered %u%s%s%s%s%s%s: %s", http_status,
      type ? " " : "", type ? type : "", object_string (err, "code") ? "/" : "",
      object_string (err, "code") ? object_string (err, "code") : "",
      object_string (err, "param") ? " param " : "",
      object_string (err, "param") ? object_string (err, "param") : "",
      message ? message : "(no error object)");
  info = gc_stripe_error_get_private (e);
  info->http_status = http_status;
  info->type = g_strdup (type);
  info->code = g_strdup (object_string (err, "code"));
  info->decline_code = g_strdup (object_string (err, "decline_code"));
  info->param = g_strdup (object_string (err, "param"));
  info->message = g_steal_pointer (&message);
  info->request_id = g_strdup (request_id);
  g_propagate_error (error, e);
}

/* -- strict field readers ------------------------------------------------ */

/* Every reader fails on a present field of the wrong type; "optional" means
 * the member may be absent, "nullable" that it may be JSON null. */
typedef enum {
  FIELD_REQUIRED = 0,
  FIELD_NULLABLE = 1 << 0,
  FIELD_OPTIONAL = 1 << 1,
} FieldFlags;

static gboolean
bad_field (const gchar *object, const gchar *name, const gchar *expected,
           GError **error)
{
  gc_stripe_error_set (error, GC_STRIPE_ERROR_UNEXPECTED_RESPONSE, 0, NULL,
                       "Stripe %s: field %s is not %s", object, name, expected);
  return FALSE;
}

/* Returns the member, NULL for absent/null when allowed (with TRUE). */
static gboolean
get_member (JsonObject *o, const gchar *object, const gchar *name,
            FieldFlags flags, JsonNode **out, GError **error)
{
  JsonNode *node = json_object_get_member (o, name);

  *out = NULL;
  if (node == NULL) {
    if (flags & FIELD_OPTIONAL)
      return TRUE;
    return bad_field (object, name, "present", error);
  }
  if (JSON_NODE_HOLDS_NULL (node)) {
    if (flags & (FIELD_NULLABLE | FIELD_OPTIONAL))
      return TRUE;
    return bad_field (object, name, "non-null", error);
  }
  *out = node;
  return TRUE;
}

static gboolean
get_string (JsonObject *o, const gchar *object, const gchar *name,
            FieldFlags flags, gchar **out, GError **error)
{
  JsonNode *node;

  if (!get_member (o, object, name, flags, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return bad_field (object, name, "a string", error);
  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* Integers only: json-glib keeps a number with a fraction or an exponent as
 * a non-integer value type, which is refused here. */
static gboolean
get_int (JsonObject *o, const gchar *object, const gchar *name,
         FieldFlags flags, gint64 *out, GError **error)
{
  JsonNode *node;

  if (!get_member (o, object, name, flags, &node, error))
    return FALSE;
  if (node == NULL) {
    *out = -1;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return bad_field (object, name, "an integer", error);
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const gchar *object, const gchar *name,
          FieldFlags flags, gboolean *out, GError **error)
{
  JsonNode *node;

  if (!get_member (o, object, name, flags, &node, error))
    return FALSE;
  if (node == NULL) {
    *out = FALSE;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return bad_field (object, name, "a boolean", error);
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_object (JsonObject *o, const gchar *object, const gchar *name,
            FieldFlags flags, JsonObject **out, GError **error)
{
  JsonNode *node;

  *out = NULL;
  if (!get_member (o, object, name, flags, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bad_field (object, name, "an object", error);
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
get_array (JsonObject *o, const gchar *object, const gchar *name,
           FieldFlags flags, JsonArray **out, GError **error)
{
  JsonNode *node;

  *out = NULL;
  if (!get_member (o, object, name, flags, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return bad_field (object, name, "an array", error);
  *out = json_node_get_array (node);
  return TRUE;
}

/* An expandable field: "acct_123", or the expanded object {"id": ...}. */
static gboolean
get_id (JsonObject *o, const gchar *object, const gchar *name, FieldFlags flags,
        gchar **out, GError **error)
{
  JsonNode *node;

  if (!get_member (o, object, name, flags, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return get_string (json_node_get_object (node), object, "id",
                       FIELD_REQUIRED, out, error);
  return get_string (o, object, name, flags, out, error);
}

/* Parses @json into its top-level object and checks its "object" field
 * (when the example or answer carries one). */
static JsonParser *
load_object (const gchar *json, const gchar *expected, JsonObject **out,
             GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  g_autofree gchar *kind = NULL;

  g_return_val_if_fail (json != NULL, NULL);

  if (!json_parser_load_from_data (parser, json, -1, &local)) {
    gc_stripe_error_set (error, GC_STRIPE_ERROR_UNEXPECTED_RESPONSE, 0, NULL,
                         "Stripe %s: not JSON: %s", expected, local->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    bad_field (expected, "(root)", "an object", error);
    return NULL;
  }
  *out = json_node_get_object (root);
  if (!get_string (*out, expected, "object", FIELD_OPTIONAL, &kind, error))
    return NULL;
  if (kind != NULL && strcmp (kind, expected) != 0) {
    gc_stripe_error_set (error, GC_STRIPE_ERROR_UNEXPECTED_RESPONSE, 0, NULL,
                         "Stripe: expected a %s, got a %s", expected, kind);
    return NULL;
  }
  return g_steal_pointer (&parser);
}

/* -- the objects ---------------------------------------------------------- */

void
gc_stripe_account_free (GcStripeAccount *a)
{
  if (a == NULL)
    return;
  g_free (a->id);
  g_free (a->email);
  g_free (a->country);
  g_free (a->default_currency);
  g_free (a->disabled_reason);
  g_free (a);
}

/* Stripe lists what each bank account or debit card can receive in
 * available_payout_methods (["standard", "instant"]). */
static gboolean
account_external_instant (JsonObject *o, gboolean *instant, GError **error)
{
  JsonObject *list;
  JsonArray *data;

  *instant = FALSE;
  if (!get_object (o, "account", "external_accounts", FIELD_OPTIONAL, &list,
                   error))
    return FALSE;
  if (list == NULL)
    return TRUE;
  if (!get_array (list, "account external_accounts", "data", FIELD_OPTIONAL,
                  &data, error))
    return FALSE;
  for (guint i = 0; data != NULL && i < json_array_get_length (data); i++) {
    JsonNode *item = json_array_get_element (data, i);
    JsonArray *methods;

    if (!JSON_NODE_HOLDS_OBJECT (item))
      return bad_field ("account", "external_accounts.data[]", "an object",
                        error);
    if (!get_array (json_node_get_object (item), "external account",
                    "available_payout_methods", FIELD_OPTIONAL, &methods,
                    error))
      return FALSE;
    for (guint j = 0; methods != NULL && j < json_array_get_length (methods);
         j++) {
      JsonNode *m = json_array_get_element (methods, j);

      if (!JSON_NODE_HOLDS_VALUE (m) ||
          json_node_get_value_type (m) != G_TYPE_STRING)
        return bad_field ("external account", "available_payout_methods[]",
                          "a string", error);
      if (g_strcmp0 (json_node_get_string (m), "instant") == 0)
        *instant = TRUE;
    }
  }
  return TRUE;
}

GcStripeAccount *
gc_stripe_account_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripeAccount) a = g_new0 (GcStripeAccount, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o, *caps, *req;
  g_autofree gchar *transfers = NULL;
  const gchar *k = "account";

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &a->id, error) ||
      !get_string (o, k, "email", FIELD_NULLABLE | FIELD_OPTIONAL, &a->email,
                   error) ||
      !get_string (o, k, "country", FIELD_NULLABLE | FIELD_OPTIONAL,
                   &a->country, error) ||
      !get_string (o, k, "default_currency", FIELD_NULLABLE | FIELD_OPTIONAL,
                   &a->default_currency, error) ||
      !get_bool (o, k, "charges_enabled", FIELD_OPTIONAL, &a->charges_enabled,
                 error) ||
      !get_bool (o, k, "payouts_enabled", FIELD_OPTIONAL, &a->payouts_enabled,
                 error) ||
      !get_bool (o, k, "details_submitted", FIELD_OPTIONAL,
                 &a->details_submitted, error) ||
      !get_object (o, k, "capabilities", FIELD_OPTIONAL, &caps, error) ||
      !get_object (o, k, "requirements", FIELD_OPTIONAL, &req, error) ||
      !account_external_instant (o, &a->instant_payouts_supported, error))
    return NULL;
  if (caps != NULL &&
      !get_string (caps, k, "transfers", FIELD_OPTIONAL, &transfers, error))
    return NULL;
  a->transfers_active = g_strcmp0 (transfers, "active") == 0;
  if (req != NULL &&
      !get_string (req, k, "disabled_reason", FIELD_NULLABLE | FIELD_OPTIONAL,
                   &a->disabled_reason, error))
    return NULL;
  return g_steal_pointer (&a);
}

void
gc_stripe_account_link_free (GcStripeAccountLink *link)
{
  if (link == NULL)
    return;
  g_free (link->url);
  g_free (link);
}

GcStripeAccountLink *
gc_stripe_account_link_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripeAccountLink) l = g_new0 (GcStripeAccountLink, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;
  const gchar *k = "account_link";

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "url", FIELD_REQUIRED, &l->url, error) ||
      !get_int (o, k, "created", FIELD_REQUIRED, &l->created, error) ||
      !get_int (o, k, "expires_at", FIELD_REQUIRED, &l->expires_at, error))
    return NULL;
  return g_steal_pointer (&l);
}

void
gc_stripe_product_free (GcStripeProduct *p)
{
  if (p == NULL)
    return;
  g_free (p->id);
  g_free (p->name);
  g_free (p);
}

GcStripeProduct *
gc_stripe_product_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripeProduct) p = g_new0 (GcStripeProduct, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;
  const gchar *k = "product";

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &p->id, error) ||
      !get_string (o, k, "name", FIELD_REQUIRED, &p->name, error) ||
      !get_bool (o, k, "active", FIELD_REQUIRED, &p->active, error))
    return NULL;
  return g_steal_pointer (&p);
}

void
gc_stripe_price_free (GcStripePrice *p)
{
  if (p == NULL)
    return;
  g_free (p->id);
  g_free (p->product);
  g_free (p->currency);
  g_free (p->recurring_interval);
  g_free (p);
}

GcStripePrice *
gc_stripe_price_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripePrice) p = g_new0 (GcStripePrice, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o, *recurring;
  const gchar *k = "price";

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  p->recurring_interval_count = -1;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &p->id, error) ||
      !get_id (o, k, "product", FIELD_REQUIRED, &p->product, error) ||
      !get_string (o, k, "currency", FIELD_REQUIRED, &p->currency, error) ||
      !get_int (o, k, "unit_amount", FIELD_NULLABLE, &p->unit_amount, error) ||
      !get_bool (o, k, "active", FIELD_REQUIRED, &p->active, error) ||
      !get_object (o, k, "recurring", FIELD_NULLABLE | FIELD_OPTIONAL,
                   &recurring, error))
    return NULL;
  if (recurring != NULL &&
      (!get_string (recurring, k, "interval", FIELD_REQUIRED,
                    &p->recurring_interval, error) ||
       !get_int (recurring, k, "interval_count", FIELD_REQUIRED,
                 &p->recurring_interval_count, error)))
    return NULL;
  return g_steal_pointer (&p);
}

void
gc_stripe_checkout_session_free (GcStripeCheckoutSession *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->url);
  g_free (s->mode);
  g_free (s->status);
  g_free (s->payment_status);
  g_free (s->payment_intent);
  g_free (s->subscription);
  g_free (s->client_reference_id);
  g_free (s->currency);
  g_free (s);
}

GcStripeCheckoutSession *
gc_stripe_checkout_session_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripeCheckoutSession) s = g_new0 (GcStripeCheckoutSession, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;
  const gchar *k = "checkout.session";
  const FieldFlags n = FIELD_NULLABLE;

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &s->id, error) ||
      !get_string (o, k, "url", n, &s->url, error) ||
      !get_string (o, k, "mode", FIELD_REQUIRED, &s->mode, error) ||
      !get_string (o, k, "status", n, &s->status, error) ||
      !get_string (o, k, "payment_status", FIELD_REQUIRED, &s->payment_status,
                   error) ||
      !get_id (o, k, "payment_intent", n | FIELD_OPTIONAL, &s->payment_intent,
               error) ||
      !get_id (o, k, "subscription", n | FIELD_OPTIONAL, &s->subscription,
               error) ||
      !get_string (o, k, "client_reference_id", n, &s->client_reference_id,
                   error) ||
      !get_int (o, k, "amount_total", n, &s->amount_total, error) ||
      !get_string (o, k, "currency", n, &s->currency, error) ||
      !get_int (o, k, "expires_at", FIELD_REQUIRED, &s->expires_at, error))
    return NULL;
  return g_steal_pointer (&s);
}

void
gc_stripe_payment_intent_free (GcStripePaymentIntent *pi)
{
  if (pi == NULL)
    return;
  g_free (pi->id);
  g_free (pi->status);
  g_free (pi->currency);
  g_free (pi->destination);
  g_free (pi->latest_charge);
  g_free (pi->client_secret);
  g_free (pi);
}

GcStripePaymentIntent *
gc_stripe_payment_intent_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripePaymentIntent) pi = g_new0 (GcStripePaymentIntent, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o, *transfer;
  const gchar *k = "payment_intent";
  const FieldFlags n = FIELD_NULLABLE;

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &pi->id, error) ||
      !get_string (o, k, "status", FIELD_REQUIRED, &pi->status, error) ||
      !get_int (o, k, "amount", FIELD_REQUIRED, &pi->amount, error) ||
      !get_string (o, k, "currency", FIELD_REQUIRED, &pi->currency, error) ||
      !get_int (o, k, "application_fee_amount", n | FIELD_OPTIONAL,
                &pi->application_fee_amount, error) ||
      !get_id (o, k, "latest_charge", n | FIELD_OPTIONAL, &pi->latest_charge,
               error) ||
      !get_string (o, k, "client_secret", n | FIELD_OPTIONAL,
                   &pi->client_secret, error) ||
      !get_object (o, k, "transfer_data", n | FIELD_OPTIONAL, &transfer, error))
    return NULL;
  if (transfer != NULL && !get_id (transfer, k, "destination", FIELD_REQUIRED,
                                   &pi->destination, error))
    return NULL;
  return g_steal_pointer (&pi);
}

void
gc_stripe_subscription_free (GcStripeSubscription *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->status);
  g_free (s->customer);
  g_free (s->price);
  g_free (s->destination);
  g_free (s);
}

GcStripeSubscription *
gc_stripe_subscription_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripeSubscription) s = g_new0 (GcStripeSubscription, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o, *items, *transfer;
  JsonArray *data = NULL;
  const gchar *k = "subscription";
  const FieldFlags n = FIELD_NULLABLE;

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &s->id, error) ||
      !get_string (o, k, "status", FIELD_REQUIRED, &s->status, error) ||
      !get_id (o, k, "customer", FIELD_REQUIRED, &s->customer, error) ||
      !get_bool (o, k, "cancel_at_period_end", FIELD_REQUIRED,
                 &s->cancel_at_period_end, error) ||
      !get_int (o, k, "cancel_at", n | FIELD_OPTIONAL, &s->cancel_at, error) ||
      !get_int (o, k, "current_period_end", n | FIELD_OPTIONAL,
                &s->current_period_end, error) ||
      !get_object (o, k, "items", FIELD_REQUIRED, &items, error) ||
      !get_array (items, k, "data", FIELD_REQUIRED, &data, error) ||
      !get_object (o, k, "transfer_data", n | FIELD_OPTIONAL, &transfer, error))
    return NULL;
  if (transfer != NULL && !get_id (transfer, k, "destination", FIELD_REQUIRED,
                                   &s->destination, error))
    return NULL;
  if (json_array_get_length (data) > 0) {
    JsonNode *first = json_array_get_element (data, 0);
    JsonObject *item;
    gint64 end = -1;

    if (!JSON_NODE_HOLDS_OBJECT (first)) {
      bad_field (k, "items.data[0]", "an object", error);
      return NULL;
    }
    item = json_node_get_object (first);
    if (!get_int (item, k, "current_period_end", FIELD_OPTIONAL, &end, error) ||
        !get_id (item, k, "price", FIELD_REQUIRED, &s->price, error))
      return NULL;
    if (end >= 0)
      s->current_period_end = end;
  }
  return g_steal_pointer (&s);
}

void
gc_stripe_refund_free (GcStripeRefund *r)
{
  if (r == NULL)
    return;
  g_free (r->id);
  g_free (r->status);
  g_free (r->currency);
  g_free (r->charge);
  g_free (r->payment_intent);
  g_free (r->transfer_reversal);
  g_free (r);
}

GcStripeRefund *
gc_stripe_refund_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripeRefund) r = g_new0 (GcStripeRefund, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;
  const gchar *k = "refund";
  const FieldFlags n = FIELD_NULLABLE;

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &r->id, error) ||
      !get_string (o, k, "status", n, &r->status, error) ||
      !get_int (o, k, "amount", FIELD_REQUIRED, &r->amount, error) ||
      !get_string (o, k, "currency", FIELD_REQUIRED, &r->currency, error) ||
      !get_id (o, k, "charge", n, &r->charge, error) ||
      !get_id (o, k, "payment_intent", n, &r->payment_intent, error) ||
      !get_id (o, k, "transfer_reversal", n | FIELD_OPTIONAL,
               &r->transfer_reversal, error))
    return NULL;
  return g_steal_pointer (&r);
}

void
gc_stripe_payout_free (GcStripePayout *p)
{
  if (p == NULL)
    return;
  g_free (p->id);
  g_free (p->status);
  g_free (p->method);
  g_free (p->currency);
  g_free (p->destination);
  g_free (p);
}

GcStripePayout *
gc_stripe_payout_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripePayout) p = g_new0 (GcStripePayout, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;
  JsonNode *txn;
  const gchar *k = "payout";

  parser = load_object (json, k, &o, error);
  if (parser == NULL)
    return NULL;
  if (!get_string (o, k, "id", FIELD_REQUIRED, &p->id, error) ||
      !get_string (o, k, "status", FIELD_REQUIRED, &p->status, error) ||
      !get_string (o, k, "method", FIELD_REQUIRED, &p->method, error) ||
      !get_int (o, k, "amount", FIELD_REQUIRED, &p->amount, error) ||
      !get_string (o, k, "currency", FIELD_REQUIRED, &p->currency, error) ||
      !get_id (o, k, "destination", FIELD_NULLABLE, &p->destination, error) ||
      !get_int (o, k, "arrival_date", FIELD_REQUIRED, &p->arrival_date,
                error) ||
      !get_member (o, k, "balance_transaction", FIELD_NULLABLE, &txn, error))
    return NULL;
  p->fee = 0;
  if (txn != NULL && JSON_NODE_HOLDS_OBJECT (txn)) {
    if (!get_int (json_node_get_object (txn), "payout balance_transaction",
                  "fee", FIELD_REQUIRED, &p->fee, error))
      return NULL;
    p->fee_known = TRUE;
  } else if (txn != NULL && (!JSON_NODE_HOLDS_VALUE (txn) ||
                             json_node_get_value_type (txn) != G_TYPE_STRING)) {
    bad_field (k, "balance_transaction", "an id or an object", error);
    return NULL;
  }
  return g_steal_pointer (&p);
}

void
gc_stripe_balance_free (GcStripeBalance *b)
{
  if (b == NULL)
    return;
  g_clear_pointer (&b->available, g_array_unref);
  g_clear_pointer (&b->pending, g_array_unref);
  g_clear_pointer (&b->instant_available, g_array_unref);
  g_free (b);
}

static gboolean
parse_amounts (JsonObject *o, const gchar *name, FieldFlags flags, GArray *out,
               GError **error)
{
  JsonArray *list;

  if (!get_array (o, "balance", name, flags, &list, error))
    return FALSE;
  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++) {
    JsonNode *node = json_array_get_element (list, i);
    GcStripeAmount amount = {0};
    g_autofree gchar *currency = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      return bad_field ("balance", name, "a list of objects", error);
    if (!get_int (json_node_get_object (node), "balance", "amount",
                  FIELD_REQUIRED, &amount.amount, error) ||
        !get_string (json_node_get_object (node), "balance", "currency",
                     FIELD_REQUIRED, &currency, error))
      return FALSE;
    if (strlen (currency) != 3)
      return bad_field ("balance", "currency", "a 3-letter code", error);
    memcpy (amount.currency, currency, 4);
    g_array_append_val (out, amount);
  }
  return TRUE;
}

GcStripeBalance *
gc_stripe_balance_parse (const gchar *json, GError **error)
{
  g_autoptr (GcStripeBalance) b = g_new0 (GcStripeBalance, 1);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;

  parser = load_object (json, "balance", &o, error);
  if (parser == NULL)
    return NULL;
  b->available = g_array_new (FALSE, TRUE, sizeof (GcStripeAmount));
  b->pending = g_array_new (FALSE, TRUE, sizeof (GcStripeAmount));
  b->instant_available = g_array_new (FALSE, TRUE, sizeof (GcStripeAmount));
  if (!parse_amounts (o, "available", FIELD_REQUIRED, b->available, error) ||
      !parse_amounts (o, "pending", FIELD_REQUIRED, b->pending, error) ||
      !parse_amounts (o, "instant_available", FIELD_OPTIONAL,
                      b->instant_available, error))
    return NULL;
  return g_steal_pointer (&b);
}

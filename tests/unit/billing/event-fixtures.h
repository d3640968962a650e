/* event-fixtures.h — Stripe webhook events for the billing unit tests, in the shapes fake_stripe.py sends
 * (fixtures3.json, API 2025-06-30.basil), cut down to the fields billing/events.c reads plus a few it must ignore. */

#pragma once

#include <glib.h>

#include "billing.h"

#define FX_CREATOR 7
#define FX_ACCT "acct_creator7"
#define FX_VIEWER 11
#define FX_CHANNEL "chan"
/* 2025-01-01T00:00:00Z: every event happens in January 2025. */
#define FX_T0 G_GINT64_CONSTANT (1735689600)
#define FX_MONTH (30 * 86400)

static inline gchar *
fx_event (const gchar *id, gint64 created, const gchar *type,
          const gchar *account, const gchar *object)
{
  g_autofree gchar *acct =
      account ? g_strdup_printf ("\"account\": \"%s\", ", account)
              : g_strdup ("");

  return g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"event\", \"api_version\": "
      "\"2025-06-30.basil\", \"created\": %" G_GINT64_FORMAT ", %s"
      "\"livemode\": false, \"pending_webhooks\": 1, \"request\": {\"id\": "
      "null, \"idempotency_key\": null}, \"type\": \"%s\", \"data\": "
      "{\"object\": %s}}",
      id, created, acct, type, object);
}

static inline gchar *
fx_account (const gchar *evt, gint64 created, gboolean enabled)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"account\", \"charges_enabled\": %s, "
      "\"payouts_enabled\": %s, \"details_submitted\": %s, \"metadata\": "
      "{\"glasscast_creator\": \"%d\"}, \"requirements\": "
      "{\"disabled_reason\": %s}}",
      FX_ACCT, enabled ? "true" : "false", enabled ? "true" : "false",
      enabled ? "true" : "false", FX_CREATOR,
      enabled ? "null" : "\"requirements.past_due\"");

  return fx_event (evt, created, "account.updated", FX_ACCT, obj);
}

/* A payment intent of @kind (NULL: an invoice's, without metadata). */
static inline gchar *
fx_payment (const gchar *evt, gint64 created, const gchar *type,
            const gchar *pi, const gchar *ch, gint64 amount, const gchar *kind,
            const gchar *customer, const gchar *extra_meta)
{
  g_autofree gchar *meta =
      kind ? g_strdup_printf ("{\"glasscast_kind\": \"%s\", "
                              "\"glasscast_creator\": \"%d\", "
                              "\"glasscast_viewer\": \"%d\", "
                              "\"glasscast_channel\": \"%s\"%s%s}",
                              kind, FX_CREATOR, FX_VIEWER, FX_CHANNEL,
                              extra_meta ? ", " : "",
                              extra_meta ? extra_meta : "")
           : g_strdup ("{}");
  gboolean ok = g_str_has_suffix (type, "succeeded");
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"payment_intent\", \"amount\": "
      "%" G_GINT64_FORMAT ", \"amount_received\": %" G_GINT64_FORMAT ", "
      "\"currency\": \"usd\", \"customer\": %s%s%s, \"latest_charge\": "
      "\"%s\", \"metadata\": %s, \"status\": \"%s\", \"transfer_data\": "
      "{\"destination\": \"%s\"}, \"created\": %" G_GINT64_FORMAT "}",
      pi, amount, ok ? amount : 0, customer ? "\"" : "",
      customer ? customer : "null", customer ? "\"" : "", ch, meta,
      ok ? "succeeded" : "requires_payment_method", FX_ACCT, created - 5);

  return fx_event (evt, created, type, NULL, obj);
}

/* charge.refunded listing @n refunds: ids re_<ch>_<i>, amounts @amounts. */
static inline gchar *
fx_refunded (const gchar *evt, gint64 created, const gchar *ch, gint64 amount,
             guint n, const gint64 *amounts)
{
  g_autoptr (GString) refunds = g_string_new (NULL);
  gint64 total = 0;
  g_autofree gchar *obj = NULL;

  for (guint i = 0; i < n; i++) {
    g_string_append_printf (
        refunds,
        "%s{\"id\": \"re_%s_%u\", \"object\": \"refund\", \"amount\": "
        "%" G_GINT64_FORMAT ", \"charge\": \"%s\", \"currency\": \"usd\", "
        "\"status\": \"succeeded\", \"created\": %" G_GINT64_FORMAT "}",
        i ? ", " : "", ch, i, amounts[i], ch, FX_T0 + 1000 + i);
    total += amounts[i];
  }
  obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"charge\", \"amount\": %" G_GINT64_FORMAT
      ", \"amount_refunded\": %" G_GINT64_FORMAT ", \"currency\": \"usd\", "
      "\"metadata\": {}, \"transfer_data\": {\"destination\": \"%s\"}, "
      "\"refunds\": {\"object\": \"list\", \"data\": [%s], \"has_more\": "
      "false}}",
      ch, amount, total, FX_ACCT, refunds->str);
  return fx_event (evt, created, "charge.refunded", NULL, obj);
}

/* charge.refunded as API versions since 2022-11-15 send it: no refunds
 * list (webhooks expand nothing), only the cumulative amount. */
static inline gchar *
fx_refunded_bare (const gchar *evt, gint64 created, const gchar *ch,
                  gint64 amount, gint64 refunded)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"charge\", \"amount\": %" G_GINT64_FORMAT
      ", \"amount_refunded\": %" G_GINT64_FORMAT ", \"currency\": \"usd\", "
      "\"metadata\": {}, \"transfer_data\": {\"destination\": \"%s\"}, "
      "\"refunded\": %s}",
      ch, amount, refunded, FX_ACCT, refunded >= amount ? "true" : "false");

  return fx_event (evt, created, "charge.refunded", NULL, obj);
}

/* refund.created / refund.updated for refund @re of charge @ch. */
static inline gchar *
fx_refund (const gchar *evt, gint64 created, const gchar *type, const gchar *re,
           const gchar *ch, gint64 amount, const gchar *status)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"refund\", \"amount\": %" G_GINT64_FORMAT
      ", \"charge\": \"%s\", \"currency\": \"usd\", \"status\": \"%s\", "
      "\"payment_intent\": \"pi_tip\", \"metadata\": {}, \"created\": "
      "%" G_GINT64_FORMAT "}",
      re, amount, ch, status, created);

  return fx_event (evt, created, type, NULL, obj);
}

static inline gchar *
fx_dispute (const gchar *evt, gint64 created, const gchar *type,
            const gchar *du, const gchar *ch, gint64 amount,
            const gchar *status)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"dispute\", \"amount\": %" G_GINT64_FORMAT
      ", \"charge\": \"%s\", \"currency\": \"usd\", \"status\": \"%s\", "
      "\"reason\": \"fraudulent\", \"created\": %" G_GINT64_FORMAT "}",
      du, amount, ch, status, FX_T0 + 2000);

  return fx_event (evt, created, type, NULL, obj);
}

static inline gchar *
fx_subscription (const gchar *evt, gint64 created, const gchar *type,
                 const gchar *sub, const gchar *cus, const gchar *status,
                 gint64 period_end, gboolean cancel_at_period_end)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"subscription\", \"customer\": \"%s\", "
      "\"status\": \"%s\", \"cancel_at_period_end\": %s, \"created\": "
      "%" G_GINT64_FORMAT ", \"ended_at\": %s, \"items\": {\"object\": "
      "\"list\", \"data\": [{\"id\": \"si_1\", \"current_period_start\": "
      "%" G_GINT64_FORMAT ", \"current_period_end\": %" G_GINT64_FORMAT "}]}, "
      "\"metadata\": {\"glasscast_kind\": \"subscription\", "
      "\"glasscast_creator\": \"%d\", \"glasscast_viewer\": \"%d\", "
      "\"glasscast_channel\": \"%s\"}}",
      sub, cus, status, cancel_at_period_end ? "true" : "false", FX_T0,
      g_str_equal (status, "canceled") ? "1738000000" : "null",
      period_end - FX_MONTH, period_end, FX_CREATOR, FX_VIEWER, FX_CHANNEL);

  return fx_event (evt, created, type, NULL, obj);
}

static inline gchar *
fx_invoice (const gchar *evt, gint64 created, const gchar *type,
            const gchar *in, const gchar *sub, const gchar *cus, gint64 amount,
            gint64 period_end)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"invoice\", \"amount_due\": "
      "%" G_GINT64_FORMAT ", \"currency\": \"usd\", \"customer\": \"%s\", "
      "\"period_end\": %" G_GINT64_FORMAT ", \"lines\": {\"object\": "
      "\"list\", \"data\": [{\"id\": \"il_1\", \"period\": {\"start\": "
      "%" G_GINT64_FORMAT ", \"end\": %" G_GINT64_FORMAT "}}]}, \"parent\": "
      "{\"type\": \"subscription_details\", \"subscription_details\": "
      "{\"subscription\": \"%s\", \"metadata\": {\"glasscast_kind\": "
      "\"subscription\", \"glasscast_creator\": \"%d\", \"glasscast_viewer\": "
      "\"%d\", \"glasscast_channel\": \"%s\"}}}}",
      in, amount, cus, period_end - FX_MONTH, period_end - FX_MONTH, period_end,
      sub, FX_CREATOR, FX_VIEWER, FX_CHANNEL);

  return fx_event (evt, created, type, NULL, obj);
}

static inline gchar *
fx_checkout_subscription (const gchar *evt, gint64 created, const gchar *sub,
                          const gchar *cus)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"cs_test_%s\", \"object\": \"checkout.session\", \"mode\": "
      "\"subscription\", \"payment_status\": \"paid\", \"status\": "
      "\"complete\", \"subscription\": \"%s\", \"customer\": \"%s\", "
      "\"payment_intent\": null, \"metadata\": {\"glasscast_kind\": "
      "\"subscription\", \"glasscast_creator\": \"%d\", \"glasscast_viewer\": "
      "\"%d\", \"glasscast_channel\": \"%s\"}}",
      sub, sub, cus, FX_CREATOR, FX_VIEWER, FX_CHANNEL);

  return fx_event (evt, created, "checkout.session.completed", NULL, obj);
}

static inline gchar *
fx_checkout_ppv (const gchar *evt, gint64 created, const gchar *pi, gint64 ppv)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"cs_test_%s\", \"object\": \"checkout.session\", \"mode\": "
      "\"payment\", \"payment_status\": \"paid\", \"status\": \"complete\", "
      "\"subscription\": null, \"customer\": null, \"payment_intent\": \"%s\", "
      "\"metadata\": {\"glasscast_kind\": \"ppv\", \"glasscast_creator\": "
      "\"%d\", \"glasscast_viewer\": \"%d\", \"glasscast_channel\": \"%s\", "
      "\"glasscast_ppv_event\": \"%" G_GINT64_FORMAT "\"}}",
      pi, pi, FX_CREATOR, FX_VIEWER, FX_CHANNEL, ppv);

  return fx_event (evt, created, "checkout.session.completed", NULL, obj);
}

static inline gchar *
fx_payout (const gchar *evt, gint64 created, const gchar *type, const gchar *po,
           gint64 amount, const gchar *status)
{
  g_autofree gchar *obj = g_strdup_printf (
      "{\"id\": \"%s\", \"object\": \"payout\", \"amount\": %" G_GINT64_FORMAT
      ", \"currency\": \"usd\", \"method\": \"standard\", \"status\": \"%s\", "
      "\"failure_code\": %s, \"created\": %" G_GINT64_FORMAT ", "
      "\"arrival_date\": %" G_GINT64_FORMAT ", \"metadata\": {}}",
      po, amount, status,
      g_str_equal (status, "failed") ? "\"account_closed\"" : "null",
      FX_T0 + 5000, FX_T0 + 90000);

  return fx_event (evt, created, type, FX_ACCT, obj);
}

/* Applies @json; fails the test on FAILED. */
static inline GcBillingEventOutcome
fx_apply (GcBillingState *state, const gchar *json)
{
  g_autoptr (GError) error = NULL;
  GcBillingEventOutcome outcome =
      gc_billing_apply_event (state, json, strlen (json), FX_T0, NULL, &error);

  if (outcome == GC_BILLING_EVENT_FAILED)
    g_error ("event failed: %s\n%s", error->message, json);
  return outcome;
}

/* billing-http.c — the Stripe webhook and the billing JSON API. Signatures are checked on the main context; every
 * SQLite read and write runs on one billing thread (a GThreadPool of one), the request paused until it is done. */

#include "billing-http.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "billing-actions.h"
#include "http-util.h"

/* On start, tips that succeeded this recently but were never announced in
 * chat (glasscastd stopped between the commit and the announcement) are
 * announced; older ones would only surprise. */
#define TIP_ANNOUNCE_LATE_S (10 * 60)

/* Stripe's events are a few KiB; anything near this is not one. */
#define WEBHOOK_BODY_MAX (1024 * 1024)
#define SECRETS_ENV "GLASSCAST_STRIPE_WEBHOOK_SECRETS"

struct _GcBillingHttp {
  GMainContext *main_context;
  /* Owned by the billing thread once created: only jobs touch them. */
  GcLedger *ledger;
  GcBillingState *state;
  GThreadPool *pool; /* one thread: jobs run one at a time, in order */
  GStrv secrets;     /* (nullable) never logged */
  GcAccountsApi *accounts_api; /* (nullable) main context */
  GcChatService *chat;         /* (nullable) (unowned) main context */
  GcBillingActions *actions;   /* Stripe calls on their own threads */
};

typedef struct _Job Job;
typedef void (*JobFunc) (Job *job);

/* One request's work: inputs set on the main context, outputs on the
 * billing thread, the reply sent back on the main context. */
struct _Job {
  GcBillingHttp *http;
  JobFunc func;
  SoupServerMessage *msg; /* (nullable) NULL: fire and forget */
  gint64 account;
  gchar *username;
  gchar *channel;
  GBytes *body;
  gint64 from;
  gint64 to;
  /* gc_billing_http_run_sync(): the waiter owns the job;
   * gc_billing_http_run_async() (async_done set): the billing thread does */
  GcBillingStateFunc sync_func;
  gpointer sync_data;
  GSourceFunc async_done;
  GMutex sync_lock;
  GCond sync_cond;
  gboolean sync_done; /* sync_lock */
  /* results */
  guint status;
  gchar *content_type;
  gchar *response;
  GcBillingTip *tip;
  GPtrArray *tips; /* (nullable) GcBillingTip: never announced, on start */
};

static void
job_free (Job *job)
{
  g_clear_object (&job->msg);
  g_free (job->username);
  g_free (job->channel);
  g_clear_pointer (&job->body, g_bytes_unref);
  g_free (job->content_type);
  g_free (job->response);
  gc_billing_tip_free (job->tip);
  g_clear_pointer (&job->tips, g_ptr_array_unref);
  g_free (job);
}

static void
reply_error (SoupServerMessage *msg, guint status, const gchar *code,
             const gchar *message)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  gc_http_set_json_error (msg, code, message);
}

static void
job_error (Job *job, guint status, const gchar *code, const gchar *message)
{
  job->status = status;
  job->content_type = g_strdup ("application/json");
  job->response = gc_http_json_error_body (code, message);
}

static void
job_json (Job *job, JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  job->status = SOUP_STATUS_OK;
  job->content_type = g_strdup ("application/json");
  job->response = json_to_string (root, FALSE);
}

static void queue (GcBillingHttp *http, Job *job, SoupServerMessage *msg);
static void do_mark_announced (Job *job);

/* On the main context: @t in its channel's chat (every viewer's alert and
 * chatstamp's emsg), then recorded as announced on the billing thread. */
static void
announce_tip (GcBillingHttp *http, GcBillingTip *t)
{
  GcChatTip tip = {0};
  g_autofree gchar *user = NULL;
  Job *mark;

  if (http->chat == NULL || t->channel == NULL)
    return;
  user = g_strdup_printf ("%" G_GINT64_FORMAT, t->viewer);
  tip.id = t->id;
  tip.room = t->channel;
  tip.user = user;
  tip.display_name = t->viewer_name ? t->viewer_name : user;
  tip.amount = t->amount.amount;
  tip.currency = t->amount.currency;
  tip.text = t->message;
  /* Accepted now: the player shows it when its playhead reaches this
   * wall-clock moment of the video. */
  tip.ts_ms = g_get_real_time () / 1000;
  gc_chat_service_publish_tip (http->chat, &tip);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", t->channel,
                    "GC_TIP", t->id, "MESSAGE", "tip announced in chat");
  mark = g_new0 (Job, 1);
  mark->func = do_mark_announced;
  mark->username = g_strdup (t->id);
  queue (http, mark, NULL);
}

/* Back on the main context: reply, and announce tips. */
static gboolean
job_done (gpointer data)
{
  Job *job = data;
  GcBillingHttp *http = job->http;

  if (job->tip != NULL)
    announce_tip (http, job->tip);
  for (guint i = 0; job->tips != NULL && i < job->tips->len; i++)
    announce_tip (http, g_ptr_array_index (job->tips, i));
  if (job->msg != NULL) {
    SoupMessageHeaders *h = soup_server_message_get_response_headers (job->msg);

    soup_server_message_set_status (job->msg, job->status, NULL);
    soup_message_headers_replace (h, "Cache-Control", "no-store");
    if (job->response != NULL)
      soup_server_message_set_response (job->msg, job->content_type,
                                        SOUP_MEMORY_COPY, job->response,
                                        strlen (job->response));
    soup_server_message_unpause (job->msg);
  }
  job_free (job);
  return G_SOURCE_REMOVE;
}

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;

  if (job->async_done != NULL) {
    job->sync_func (job->http->state, job->sync_data);
    g_main_context_invoke (job->http->main_context, job->async_done,
                           job->sync_data);
    job_free (job);
    return;
  }
  if (job->sync_func != NULL) {
    job->sync_func (job->http->state, job->sync_data);
    g_mutex_lock (&job->sync_lock);
    job->sync_done = TRUE;
    g_cond_signal (&job->sync_cond);
    g_mutex_unlock (&job->sync_lock);
    return;
  }
  job->func (job);
  g_main_context_invoke (job->http->main_context, job_done, job);
}

static void
queue (GcBillingHttp *http, Job *job, SoupServerMessage *msg)
{
  job->http = http;
  if (msg != NULL) {
    job->msg = g_object_ref (msg);
    soup_server_message_pause (msg);
  }
  g_thread_pool_push (http->pool, job, NULL);
}

/* --- jobs (billing thread) ------------------------------------------------------ */

/* job->username: the tip's id. */
static void
do_mark_announced (Job *job)
{
  g_autoptr (GError) error = NULL;

  if (!gc_billing_mark_tip_announced (job->http->state, job->username,
                                      g_get_real_time () / G_USEC_PER_SEC,
                                      &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "billing: %s", error->message);
}

static void
do_announce_pending (Job *job)
{
  g_autoptr (GError) error = NULL;

  job->tips = gc_billing_unannounced_tips (
      job->http->state,
      g_get_real_time () / G_USEC_PER_SEC - TIP_ANNOUNCE_LATE_S, &error);
  if (job->tips == NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "billing: %s", error->message);
  else if (job->tips->len > 0)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                      "billing: %u tip(s) not announced before the last stop",
                      job->tips->len);
}

static void
do_webhook (Job *job)
{
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const gchar *data = g_bytes_get_data (job->body, &len);
  GcBillingEventOutcome outcome = gc_billing_apply_event (
      job->http->state, data, len, g_get_real_time () / G_USEC_PER_SEC,
      &job->tip, &error);
  g_autoptr (JsonBuilder) b = NULL;

  switch (outcome) {
    case GC_BILLING_EVENT_RETRY:
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                        "webhook: later: %s", error->message);
      job_error (job, SOUP_STATUS_SERVICE_UNAVAILABLE, "retry_later",
                 error->message);
      return;
    case GC_BILLING_EVENT_FAILED:
      if (g_error_matches (error, GC_BILLING_ERROR,
                           GC_BILLING_ERROR_INVALID_ARGUMENT)) {
        job_error (job, SOUP_STATUS_BAD_REQUEST, "bad_event", error->message);
        return;
      }
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                        "webhook: %s", error->message);
      job_error (job, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                 error->message);
      return;
    default:
      break;
  }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "received");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "outcome");
  json_builder_add_string_value (b,
                                 gc_billing_event_outcome_to_string (outcome));
  json_builder_end_object (b);
  job_json (job, b);
}

static void
add_int (JsonBuilder *b, const gchar *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
add_str (JsonBuilder *b, const gchar *name, const gchar *v)
{
  json_builder_set_member_name (b, name);
  if (v != NULL)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

/* Minor units and the decimal text, never a JSON float. */
static void
add_money (JsonBuilder *b, const gchar *name, gint64 amount,
           const gchar *currency)
{
  g_autofree gchar *text_name = g_strconcat (name, "_text", NULL);
  g_autofree gchar *text = gc_billing_format_decimal (amount, currency);

  add_int (b, name, amount);
  add_str (b, text_name, text);
}

static void
add_lines (JsonBuilder *b, const gchar *name, const GcBillingStatement *st)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < st->lines->len; i++) {
    const GcBillingStatementLine *l =
        &g_array_index (st->lines, GcBillingStatementLine, i);

    json_builder_begin_object (b);
    add_str (b, "type", l->type);
    add_str (b, "currency", l->currency);
    add_int (b, "count", l->count);
    add_money (b, "gross", l->gross, l->currency);
    add_money (b, "fee", l->fee, l->currency);
    add_money (b, "net", l->net, l->currency);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

static void
do_earnings (Job *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcBillingStatement) st = gc_billing_state_statement (
      job->http->state, job->account, job->from, job->to, &error);
  g_autoptr (GcBillingStatement) since = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (st != NULL)
    since = gc_billing_state_statement_since_payout (job->http->state,
                                                     job->account, &error);
  if (since == NULL) {
    job_error (job, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               error->message);
    return;
  }
  json_builder_begin_object (b);
  add_int (b, "creator", job->account);
  add_int (b, "from", job->from);
  add_int (b, "to", job->to);
  add_lines (b, "lines", st);
  json_builder_set_member_name (b, "since_last_payout");
  json_builder_begin_object (b);
  add_lines (b, "lines", since);
  json_builder_end_object (b);
  json_builder_end_object (b);
  job_json (job, b);
}

static void
do_earnings_csv (Job *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcBillingStatement) st = gc_billing_state_statement (
      job->http->state, job->account, job->from, job->to, &error);

  if (st == NULL) {
    job_error (job, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               error->message);
    return;
  }
  job->status = SOUP_STATUS_OK;
  job->content_type = g_strdup ("text/csv; charset=utf-8; header=present");
  job->response = gc_billing_statement_to_csv (st);
}

static void
do_payouts (Job *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) payouts =
      gc_billing_state_list_payouts (job->http->state, job->account, &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (payouts == NULL) {
    job_error (job, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               error->message);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "payouts");
  json_builder_begin_array (b);
  for (guint i = 0; i < payouts->len; i++) {
    GcBillingPayout *po = payouts->pdata[i];

    json_builder_begin_object (b);
    add_str (b, "id", po->id);
    add_money (b, "amount", po->amount, po->currency);
    add_money (b, "fee", po->fee, po->currency);
    add_str (b, "currency", po->currency);
    add_str (b, "method", po->method);
    add_str (b, "status", po->status);
    add_str (b, "failure_code", po->failure_code);
    add_int (b, "created", po->created);
    add_int (b, "arrival_date", po->arrival_date);
    json_builder_set_member_name (b, "history");
    json_builder_begin_array (b);
    for (guint h = 0; h < po->history->len; h++)
      json_builder_add_string_value (b, po->history->pdata[h]);
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  job_json (job, b);
}

static void
do_subscriptions (Job *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) subs = gc_billing_state_list_subscriptions (
      job->http->state, job->account, &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (subs == NULL) {
    job_error (job, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               error->message);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "subscriptions");
  json_builder_begin_array (b);
  for (guint i = 0; i < subs->len; i++) {
    GcBillingSubscription *sub = subs->pdata[i];

    json_builder_begin_object (b);
    add_str (b, "id", sub->stripe_id);
    add_str (b, "channel", sub->channel);
    add_str (b, "status", sub->status);
    add_int (b, "current_period_end", sub->current_period_end);
    add_int (b, "paid_through", sub->paid_through);
    add_int (b, "access_until", sub->access_until);
    json_builder_set_member_name (b, "cancel_at_period_end");
    json_builder_add_boolean_value (b, sub->cancel_at_period_end);
    json_builder_set_member_name (b, "access");
    json_builder_add_boolean_value (b, now < sub->access_until);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  job_json (job, b);
}

static void
do_list_ppv (Job *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events =
      gc_billing_state_list_ppv (job->http->state, job->channel, &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (events == NULL) {
    job_error (job, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
               error->message);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "events");
  json_builder_begin_array (b);
  for (guint i = 0; i < events->len; i++) {
    GcBillingPpvEvent *ev = events->pdata[i];

    json_builder_begin_object (b);
    add_int (b, "id", ev->id);
    add_str (b, "channel", ev->channel);
    add_str (b, "title", ev->title);
    add_int (b, "starts_at", ev->starts_at);
    if (ev->ends_at > 0)
      add_int (b, "ends_at", ev->ends_at);
    add_money (b, "price", ev->price.amount, ev->price.currency);
    add_str (b, "currency", ev->price.currency);
    if (job->account > 0) {
      json_builder_set_member_name (b, "entitled");
      json_builder_add_boolean_value (
          b, gc_billing_state_has_entitlement (job->http->state, job->account,
                                               ev->id));
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  job_json (job, b);
}

static void
do_create_ppv (Job *job)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const gchar *data = g_bytes_get_data (job->body, &len);
  JsonObject *obj;
  const gchar *title, *currency;
  gint64 price = 0, starts_at = 0, ends_at = 0;
  gboolean has_end;
  GcMoney money;
  gint64 id = 0;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!json_parser_load_from_data (parser, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    job_error (job, SOUP_STATUS_BAD_REQUEST, "bad_request", "a JSON object");
    return;
  }
  obj = json_node_get_object (json_parser_get_root (parser));
  title = gc_http_json_string (obj, "title");
  currency = gc_http_json_string (obj, "currency");
  has_end = json_object_has_member (obj, "ends_at");
  if (!gc_http_json_int (obj, "price", &price) || title == NULL ||
      currency == NULL || !gc_http_json_int (obj, "starts_at", &starts_at) ||
      (has_end && !gc_http_json_int (obj, "ends_at", &ends_at)) ||
      !gc_money_init (&money, price, currency, &error) ||
      !gc_billing_state_create_ppv (job->http->state, job->channel,
                                    job->account, title, starts_at, &money, &id,
                                    &error) ||
      (has_end &&
       !gc_billing_state_set_ppv_end (job->http->state, id, ends_at, &error))) {
    job_error (job, SOUP_STATUS_BAD_REQUEST, "bad_request",
               error ? error->message
                     : "expected {\"title\", \"starts_at\", \"price\" "
                       "(minor units), \"currency\"}");
    return;
  }
  json_builder_begin_object (b);
  add_int (b, "id", id);
  add_str (b, "channel", job->channel);
  json_builder_end_object (b);
  job_json (job, b);
  job->status = SOUP_STATUS_CREATED;
}

static void
do_ban (Job *job)
{
  g_autoptr (GError) error = NULL;
  guint n = 0;

  if (!gc_billing_state_on_ban (job->http->state, job->account, job->channel,
                                g_get_real_time () / G_USEC_PER_SEC, &n,
                                &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "ban: renewals not cancelled: %s", error->message);
  else if (n > 0)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                      "ban: %u subscription(s) of %" G_GINT64_FORMAT
                      " to %s end with their period",
                      n, job->account, job->channel);
}

/* --- handlers (main context) ------------------------------------------------------ */

static void
on_webhook (GcBillingHttp *http, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = NULL;
  const gchar *header;
  Job *job;

  if (strcmp (soup_server_message_get_method (msg), "POST") != 0) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Allow", "POST");
    reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                 "POST a Stripe event");
    return;
  }
  if (http->secrets == NULL) {
    reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not_configured",
                 "billing not configured");
    return;
  }
  if (body->length > WEBHOOK_BODY_MAX) {
    reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
                 "event too large");
    return;
  }
  bytes = soup_message_body_flatten (body);
  header = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Stripe-Signature");
  if (header == NULL ||
      !gc_stripe_signature_verify (header, g_bytes_get_data (bytes, NULL),
                                   g_bytes_get_size (bytes),
                                   (const gchar *const *)http->secrets,
                                   g_get_real_time () / G_USEC_PER_SEC,
                                   GC_STRIPE_SIGNATURE_TOLERANCE, &error)) {
    gboolean stale = g_error_matches (error, GC_BILLING_ERROR,
                                      GC_BILLING_ERROR_SIGNATURE_STALE);

    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                 stale ? "stale_signature" : "bad_signature",
                 error ? error->message : "no Stripe-Signature header");
    return;
  }
  job = g_new0 (Job, 1);
  job->func = do_webhook;
  job->body = g_steal_pointer (&bytes);
  queue (http, job, msg);
}

/* "1735689600" or "2025-01-01" / "2025-01-01T00:00:00Z". */
static gboolean
parse_time (const gchar *text, gint64 *out)
{
  guint64 v;
  g_autoptr (GDateTime) dt = NULL;
  g_autofree gchar *full = NULL;

  if (text == NULL)
    return TRUE;
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &v, NULL)) {
    *out = (gint64)v;
    return TRUE;
  }
  full = strlen (text) == 10 ? g_strconcat (text, "T00:00:00Z", NULL)
                             : g_strdup (text);
  dt = g_date_time_new_from_iso8601 (full, NULL);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

static void
on_request (SoupServer *soup, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  GcBillingHttp *http = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  g_autofree gchar *username = NULL;
  gint64 account = 0;
  Job *job;

  if (strcmp (path, "/api/v1/billing/stripe/webhook") == 0) {
    on_webhook (http, msg);
    return;
  }
  if (http->accounts_api != NULL)
    account =
        gc_accounts_api_session (http->accounts_api, msg, &username, NULL);
  if (gc_billing_actions_route (http->actions, msg, path, query, account,
                                username))
    return;
  job = g_new0 (Job, 1);
  job->account = account;
  job->username = g_steal_pointer (&username);
  if (strcmp (path, "/api/v1/billing/ppv") == 0) {
    job->channel =
        g_strdup (query ? g_hash_table_lookup (query, "channel") : NULL);
    if (strcmp (method, "GET") == 0) {
      job->func = do_list_ppv;
      queue (http, job, msg);
      return;
    }
    if (strcmp (method, "POST") == 0) {
      if (account == 0) {
        reply_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                     "sign in first");
      } else if (job->channel == NULL ||
                 !gc_accounts_api_owns_channel (http->accounts_api,
                                                job->username, job->channel)) {
        reply_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden",
                     "only the channel's owner creates its PPV events");
      } else {
        SoupMessageBody *body = soup_server_message_get_request_body (msg);

        job->body = soup_message_body_flatten (body);
        job->func = do_create_ppv;
        queue (http, job, msg);
        return;
      }
      job_free (job);
      return;
    }
  }
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
    reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                 "GET only");
    job_free (job);
    return;
  }
  if (strcmp (path, "/api/v1/billing/earnings") == 0)
    job->func = do_earnings;
  else if (strcmp (path, "/api/v1/billing/earnings.csv") == 0)
    job->func = do_earnings_csv;
  else if (strcmp (path, "/api/v1/billing/payouts") == 0)
    job->func = do_payouts;
  else if (strcmp (path, "/api/v1/billing/subscriptions") == 0)
    job->func = do_subscriptions;
  if (job->func == NULL) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no such resource");
    job_free (job);
    return;
  }
  if (account == 0) {
    reply_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                 "sign in first");
    job_free (job);
    return;
  }
  job->from = 0;
  job->to = G_MAXINT64;
  if (!parse_time (query ? g_hash_table_lookup (query, "from") : NULL,
                   &job->from) ||
      !parse_time (query ? g_hash_table_lookup (query, "to") : NULL,
                   &job->to)) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
                 "from and to: unix seconds or ISO 8601 dates");
    job_free (job);
    return;
  }
  queue (http, job, msg);
}

/* --- setup ------------------------------------------------------------------------ */

static GStrv
read_secrets (const GcConfig *config, GError **error)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  const gchar *env = g_getenv (SECRETS_ENV);

  if (config->billing.webhook_secrets_file != NULL) {
    if (!g_file_get_contents (config->billing.webhook_secrets_file, &text, NULL,
                              error))
      return NULL;
    lines = g_strsplit_set (text, "\r\n", -1);
  } else if (env != NULL && env[0] != '\0') {
    lines = g_strsplit (env, ",", -1);
  } else {
    return NULL;
  }
  for (guint i = 0; lines[i] != NULL; i++) {
    gchar *s = g_strstrip (lines[i]);

    if (s[0] != '\0' && s[0] != '#')
      g_ptr_array_add (out, g_strdup (s));
  }
  if (text != NULL)
    memset (text, 0, strlen (text));
  if (out->len == 0)
    return NULL;
  g_ptr_array_add (out, NULL);
  return (GStrv)g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

GcBillingHttp *
gc_billing_http_new (const GcConfig *config, GError **error)
{
  g_autoptr (GcBillingHttp) http = g_new0 (GcBillingHttp, 1);
  g_autofree gchar *path =
      config->billing.database
          ? g_strdup (config->billing.database)
          : g_build_filename (config->data_dir, "billing.db", NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint32 want_ppm = GC_SHARE_DEFAULT_PLATFORM_PPM;
  guint32 ppm = 0;

  g_return_val_if_fail (config != NULL, NULL);

  if (config->billing.platform_share != NULL &&
      !gc_share_parse_percent (config->billing.platform_share, &want_ppm,
                               error)) {
    g_prefix_error (error, "[billing] platform-share: ");
    return NULL;
  }
  http->main_context = g_main_context_ref_thread_default ();
  http->ledger = gc_ledger_open (path, error);
  if (http->ledger == NULL)
    return NULL;
  http->state = gc_billing_state_new (http->ledger, error);
  if (http->state == NULL)
    return NULL;
  gc_billing_state_set_grace_days (http->state,
                                   config->billing.past_due_grace_days);
  /* A changed share applies from now on; history keeps its versions. */
  if (!gc_ledger_split_at (http->ledger, now, NULL, &ppm, error) ||
      (ppm != want_ppm &&
       !gc_ledger_add_split_version (http->ledger, want_ppm, now, NULL, error)))
    return NULL;
  http->secrets = read_secrets (config, error);
  if (error != NULL && *error != NULL) {
    g_prefix_error (error, "[billing] webhook-secrets-file: ");
    return NULL;
  }
  http->pool = g_thread_pool_new (run_job, NULL, 1, FALSE, error);
  if (http->pool == NULL)
    return NULL;
  http->actions = gc_billing_actions_new (config, http, http->state, error);
  if (http->actions == NULL)
    return NULL;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_BILLING_DB", path,
                    "MESSAGE", "billing: %s, %u webhook secret(s)", path,
                    http->secrets ? g_strv_length (http->secrets) : 0);
  return g_steal_pointer (&http);
}

void
gc_billing_http_set_accounts (GcBillingHttp *http, GcAccountsApi *api)
{
  g_return_if_fail (http != NULL);
  g_set_object (&http->accounts_api, api);
  gc_billing_actions_set_lookup (http->actions, api, NULL);
}

GcAccountsApi *
gc_billing_http_get_accounts (GcBillingHttp *http)
{
  g_return_val_if_fail (http != NULL, NULL);
  return http->accounts_api;
}

void
gc_billing_http_set_chat (GcBillingHttp *http, GcChatService *service)
{
  Job *job;

  g_return_if_fail (http != NULL);
  http->chat = service;
  if (service == NULL)
    return;
  /* What a crash kept from chat, first. */
  job = g_new0 (Job, 1);
  job->func = do_announce_pending;
  queue (http, job, NULL);
}

void
gc_billing_http_set_channels (GcBillingHttp *http, GcChannels *channels)
{
  g_return_if_fail (http != NULL);
  gc_billing_actions_set_lookup (http->actions, http->accounts_api, channels);
}

GcBillingActions *
gc_billing_http_get_actions (GcBillingHttp *http)
{
  g_return_val_if_fail (http != NULL, NULL);
  return http->actions;
}

void
gc_billing_http_run_sync (GcBillingHttp *http, GcBillingStateFunc func,
                          gpointer data)
{
  Job *job;

  g_return_if_fail (http != NULL && func != NULL);
  job = g_new0 (Job, 1);
  job->http = http;
  job->sync_func = func;
  job->sync_data = data;
  g_mutex_init (&job->sync_lock);
  g_cond_init (&job->sync_cond);
  g_thread_pool_push (http->pool, job, NULL);
  g_mutex_lock (&job->sync_lock);
  while (!job->sync_done)
    g_cond_wait (&job->sync_cond, &job->sync_lock);
  g_mutex_unlock (&job->sync_lock);
  g_mutex_clear (&job->sync_lock);
  g_cond_clear (&job->sync_cond);
  job_free (job);
}

void
gc_billing_http_run_async (GcBillingHttp *http, GcBillingStateFunc func,
                           GSourceFunc done, gpointer data)
{
  Job *job;

  g_return_if_fail (http != NULL && func != NULL && done != NULL);
  job = g_new0 (Job, 1);
  job->http = http;
  job->sync_func = func;
  job->sync_data = data;
  job->async_done = done;
  g_thread_pool_push (http->pool, job, NULL);
}

void
gc_billing_http_attach (GcBillingHttp *http, SoupServer *soup)
{
  g_return_if_fail (http != NULL && SOUP_IS_SERVER (soup));
  soup_server_add_handler (soup, "/api/v1/billing", on_request, http, NULL);
}

gboolean
gc_billing_http_is_enabled (GcBillingHttp *http)
{
  g_return_val_if_fail (http != NULL, FALSE);
  return http->secrets != NULL;
}

void
gc_billing_on_ban (GcBillingHttp *http, gint64 viewer, const gchar *channel)
{
  Job *job;

  g_return_if_fail (http != NULL && channel != NULL);
  job = g_new0 (Job, 1);
  job->func = do_ban;
  job->account = viewer;
  job->channel = g_strdup (channel);
  queue (http, job, NULL);
  /* Runs after the ban job: the pool is one thread, first in first out. */
  gc_billing_actions_kick_outbound (http->actions);
}

void
gc_billing_http_free (GcBillingHttp *http)
{
  if (http == NULL)
    return;
  /* Its workers may still wait for the billing thread: before the pool. */
  g_clear_pointer (&http->actions, gc_billing_actions_free);
  if (http->pool != NULL)
    g_thread_pool_free (http->pool, FALSE, TRUE);
  g_clear_pointer (&http->state, gc_billing_state_free);
  g_clear_pointer (&http->ledger, gc_ledger_free);
  if (http->secrets != NULL) {
    for (guint i = 0; http->secrets[i] != NULL; i++)
      memset (http->secrets[i], 0, strlen (http->secrets[i]));
    g_strfreev (http->secrets);
  }
  g_clear_object (&http->accounts_api);
  g_clear_pointer (&http->main_context, g_main_context_unref);
  g_free (http);
}

/* stripe-client.c — the Stripe Connect client: form encoding, libcurl requests with retries (backoff,
 * full jitter, Retry-After), the stripe_requests idempotency store, and the operations glasscastd uses. */

#include "stripe-client.h"

#include <stdarg.h>
#include <string.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "events.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define IDEMPOTENCY_KEY_MAX 255
#define RESPONSE_MAX (8 * 1024 * 1024)
#define USER_AGENT "glasscast-billing/1"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

struct _GcStripeClient {
  gchar *base_url;    /* without a trailing slash */
  gchar *auth_header; /* "Authorization: Bearer <key>": secret */
  gchar *api_key;     /* secret: only to mask it in Stripe's messages */
  gchar *stripe_version;
  guint connect_timeout_ms;
  guint timeout_ms;
  GcStripeRetryPolicy retry;
  gint64 key_lifetime_s;
  GcStripeSleepFunc sleep;
  GcStripeClockFunc clock;
  GcStripeRandomFunc random;
  gpointer test_data;
  /* store_lock guards db: calls come from several worker threads. */
  GMutex store_lock;
  sqlite3 *db;
};

/* Not STRICT-typed money: the store keeps requests, not amounts. Rows are
 * updated as a request progresses (pending -> succeeded/failed); the ledger
 * stays the record of money. */
static const gchar store_schema[] =
    "CREATE TABLE IF NOT EXISTS stripe_requests ("
    "  key TEXT PRIMARY KEY,"
    "  method TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  account TEXT,"
    "  params_sha256 TEXT NOT NULL,"
    "  status TEXT NOT NULL"
    "    CHECK (status IN ('pending', 'succeeded', 'failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  http_status INTEGER,"
    "  request_id TEXT,"
    "  object_id TEXT,"
    "  response TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) STRICT;";

/* -- defaults and injected functions ------------------------------------- */

void
gc_stripe_client_config_init (GcStripeClientConfig *config)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->connect_timeout_ms = 10000;
  config->timeout_ms = 80000;
  config->retry.max_attempts = 5;
  config->retry.base_delay_us = 500 * G_TIME_SPAN_MILLISECOND;
  config->retry.max_delay_us = 8 * G_TIME_SPAN_SECOND;
  config->retry.max_retry_after_us = 60 * G_TIME_SPAN_SECOND;
  config->key_lifetime_s = 23 * 3600;
}

static void
real_sleep (gint64 microseconds, gpointer user_data)
{
  if (microseconds > 0)
    g_usleep ((gulong)microseconds);
}

static gint64
real_clock (gpointer user_data)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static guint32
real_random (gpointer user_data)
{
  return g_random_int ();
}

gint64
gc_stripe_retry_delay_us (const GcStripeRetryPolicy *policy, guint retry,
                          guint32 random)
{
  guint64 cap;

  g_return_val_if_fail (policy != NULL, 0);
  g_return_val_if_fail (retry >= 1, 0);

  cap = (guint64)MAX (policy->base_delay_us, 0);
  for (guint i = 1; i < retry && cap < (guint64)policy->max_delay_us; i++)
    cap *= 2;
  cap = MIN (cap, (guint64)MAX (policy->max_delay_us, 0));
  /* cap < 2^63 and random < 2^32: split so the product cannot overflow. */
  return (gint64)((cap >> 32) * random +
                  (((cap & G_MAXUINT32) * (guint64)random) >> 32));
}

gchar *
gc_stripe_format_fee_percent (guint basis_points)
{
  guint whole = basis_points / 100, hundredths = basis_points % 100;

  g_return_val_if_fail (basis_points <= 10000, NULL);

  if (hundredths == 0)
    return g_strdup_printf ("%u", whole);
  if (hundredths % 10 == 0)
    return g_strdup_printf ("%u.%u", whole, hundredths / 10);
  return g_strdup_printf ("%u.%02u", whole, hundredths);
}

/* -- form encoding ---------------------------------------------------------- */

struct _GcStripeForm {
  GPtrArray *keys;   /* of gchar* */
  GPtrArray *values; /* of gchar* */
};

GcStripeForm *
gc_stripe_form_new (void)
{
  GcStripeForm *form = g_new0 (GcStripeForm, 1);

  form->keys = g_ptr_array_new_with_free_func (g_free);
  form->values = g_ptr_array_new_with_free_func (g_free);
  return form;
}

void
gc_stripe_form_free (GcStripeForm *form)
{
  if (form == NULL)
    return;
  g_ptr_array_unref (form->keys);
  g_ptr_array_unref (form->values);
  g_free (form);
}

void
gc_stripe_form_add (GcStripeForm *form, const gchar *key, const gchar *value)
{
  g_return_if_fail (form != NULL);
  g_return_if_fail (key != NULL && *key != '\0');

  if (value == NULL)
    return;
  g_ptr_array_add (form->keys, g_strdup (key));
  g_ptr_array_add (form->values, g_strdup (value));
}

void
gc_stripe_form_add_path (GcStripeForm *form, const gchar *value,
                         const gchar *first, ...)
{
  g_autoptr (GString) key = NULL;
  const gchar *part;
  va_list args;

  g_return_if_fail (form != NULL);
  g_return_if_fail (first != NULL);

  key = g_string_new (first);
  va_start (args, first);
  while ((part = va_arg (args, const gchar *)) != NULL)
    g_string_append_printf (key, "[%s]", part);
  va_end (args);
  gc_stripe_form_add (form, key->str, value);
}

void
gc_stripe_form_add_int (GcStripeForm *form, const gchar *key, gint64 value)
{
  g_autofree gchar *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  gc_stripe_form_add (form, key, text);
}

void
gc_stripe_form_add_list (GcStripeForm *form, const gchar *key,
                         const gchar *const *values)
{
  g_autofree gchar *list_key = g_strconcat (key, "[]", NULL);

  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    gc_stripe_form_add (form, list_key, values[i]);
}

static void
append_escaped (GString *out, const gchar *text)
{
  static const gchar hex[] = "0123456789ABCDEF";

  for (const guchar *p = (const guchar *)text; *p != '\0'; p++) {
    if (g_ascii_isalnum (*p) || *p == '-' || *p == '.' || *p == '_' ||
        *p == '~') {
      g_string_append_c (out, (gchar)*p);
    } else {
      g_string_append_c (out, '%');
      g_string_append_c (out, hex[*p >> 4]);
      g_string_append_c (out, hex[*p & 15]);
    }
  }
}

gchar *
gc_stripe_form_encode (const GcStripeForm *form)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (form != NULL, NULL);

  for (guint i = 0; i < form->keys->len; i++) {
    if (i > 0)
      g_string_append_c (out, '&');
    append_escaped (out, g_ptr_array_index (form->keys, i));
    g_string_append_c (out, '=');
    append_escaped (out, g_ptr_array_index (form->values, i));
  }
  return g_string_free (out, FALSE);
}

/* -- the client ----------------------------------------------------------- */

static gboolean
store_exec (sqlite3 *db, const gchar *sql, GError **error)
{
  gchar *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "Stripe request store: %s", message ? message : "?");
    sqlite3_free (message);
    return FALSE;
  }
  return TRUE;
}

static gpointer
curl_init_once (gpointer data)
{
  /* libcurl's global state: once per process, before any thread uses it. */
  return GINT_TO_POINTER (curl_global_init (CURL_GLOBAL_DEFAULT));
}

GcStripeClient *
gc_stripe_client_new (const GcStripeClientConfig *config, GError **error)
{
  static GOnce curl_once = G_ONCE_INIT;
  g_autoptr (GcStripeClient) c = NULL;
  const gchar *key;
  gint rc;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (GPOINTER_TO_INT (g_once (&curl_once, curl_init_once, NULL)) != CURLE_OK) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE,
                 "libcurl could not be initialised");
    return NULL;
  }
  key = config->api_key ? config->api_key : g_getenv (GC_STRIPE_API_KEY_ENV);
  if (key == NULL || *key == '\0' || strpbrk (key, "\r\n") != NULL) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "no Stripe API key (configuration or $%s)",
                 GC_STRIPE_API_KEY_ENV);
    return NULL;
  }
  if (config->base_url == NULL ||
      !(g_str_has_prefix (config->base_url, "https://") ||
        g_str_has_prefix (config->base_url, "http://"))) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "the Stripe base URL must be http(s)://...");
    return NULL;
  }
  if (config->store_path == NULL || config->retry.max_attempts < 1) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "the Stripe client needs a store path and at least one "
                 "attempt");
    return NULL;
  }
  if (config->stripe_version != NULL &&
      strpbrk (config->stripe_version, "\r\n") != NULL) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "bad Stripe-Version");
    return NULL;
  }

  c = g_new0 (GcStripeClient, 1);
  g_mutex_init (&c->store_lock);
  c->base_url = g_strdup (config->base_url);
  while (g_str_has_suffix (c->base_url, "/"))
    c->base_url[strlen (c->base_url) - 1] = '\0';
  c->api_key = g_strdup (key);
  c->auth_header = g_strconcat ("Authorization: Bearer ", key, NULL);
  c->stripe_version = g_strdup (config->stripe_version);
  c->connect_timeout_ms = config->connect_timeout_ms;
  c->timeout_ms = config->timeout_ms;
  c->retry = config->retry;
  c->key_lifetime_s = config->key_lifetime_s;
  c->sleep = config->sleep ? config->sleep : real_sleep;
  c->clock = config->clock ? config->clock : real_clock;
  c->random = config->random ? config->random : real_random;
  c->test_data = config->test_data;

  rc = sqlite3_open_v2 (
      config->store_path, &c->db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "Stripe request store %s: %s", config->store_path,
                 c->db ? sqlite3_errmsg (c->db) : sqlite3_errstr (rc));
    return NULL;
  }
  sqlite3_busy_timeout (c->db, STORE_BUSY_TIMEOUT_MS);
  if (!store_exec (c->db,
                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
                   error) ||
      !store_exec (c->db, store_schema, error))
    return NULL;
  return g_steal_pointer (&c);
}

void
gc_stripe_client_free (GcStripeClient *c)
{
  if (c == NULL)
    return;
  g_clear_pointer (&c->db, sqlite3_close);
  g_mutex_clear (&c->store_lock);
  g_free (c->base_url);
  if (c->auth_header != NULL)
    memset (c->auth_header, 0, strlen (c->auth_header));
  g_free (c->auth_header);
  if (c->api_key != NULL)
    memset (c->api_key, 0, strlen (c->api_key));
  g_free (c->api_key);
  g_free (c->stripe_version);
  g_free (c);
}

/* -- the idempotency store ------------------------------------------------ */

typedef enum {
  STORED_NONE,      /* a new key: a pending row was written */
  STORED_PENDING,   /* an earlier attempt's outcome is unknown: resend */
  STORED_FAILED,    /* Stripe refused it before: resend, Stripe decides */
  STORED_SUCCEEDED, /* answered from the store */
} StoredState;

static gchar *
request_hash (const gchar *method, const gchar *path, const gchar *account,
              const gchar *body)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *)method, -1);
  g_checksum_update (sum, (const guchar *)"\n", 1);
  g_checksum_update (sum, (const guchar *)path, -1);
  g_checksum_update (sum, (const guchar *)"\n", 1);
  g_checksum_update (sum, (const guchar *)(account ? account : ""), -1);
  g_checksum_update (sum, (const guchar *)"\n", 1);
  g_checksum_update (sum, (const guchar *)body, -1);
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
store_error (GcStripeClient *c, GError **error)
{
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
               "Stripe request store: %s", sqlite3_errmsg (c->db));
  return FALSE;
}

/* The stored hash of @key, or NULL. Under store_lock. */
static gboolean
store_lookup (GcStripeClient *c, const gchar *key, gchar **hash, gchar **status,
              gchar **response, gint64 *created_at, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint rc;

  *hash = *status = NULL;
  if (response)
    *response = NULL;
  if (sqlite3_prepare_v2 (c->db,
                          "SELECT params_sha256, status, response, created_at"
                          " FROM stripe_requests WHERE key = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return store_error (c, error);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return store_error (c, error);
  *hash = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
  *status = g_strdup ((const gchar *)sqlite3_column_text (stmt, 1));
  if (response)
    *response = g_strdup ((const gchar *)sqlite3_column_text (stmt, 2));
  if (created_at)
    *created_at = sqlite3_column_int64 (stmt, 3);
  return TRUE;
}

/* Before the first attempt: records @key with the request's hash (or finds
 * it). The row is committed before any byte goes to Stripe, so a crash
 * between the two leaves a key to retry with, never a call without one. */
static gboolean
store_begin (GcStripeClient *c, const gchar *key, const gchar *method,
             const gchar *path, const gchar *account, const gchar *hash,
             StoredState *state, gchar **stored_response, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->store_lock);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree gchar *old_hash = NULL, *status = NULL;
  gint64 created_at = 0, now = c->clock (c->test_data);

  *stored_response = NULL;
  if (!store_lookup (c, key, &old_hash, &status, stored_response, &created_at,
                     error))
    return FALSE;
  if (old_hash != NULL) {
    if (strcmp (old_hash, hash) != 0) {
      g_clear_pointer (stored_response, g_free);
      g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CONFLICT,
                   "idempotency key %s was first used for another request; "
                   "%s %s was not sent",
                   key, method, path);
      return FALSE;
    }
    if (strcmp (status, "succeeded") == 0) {
      *state = STORED_SUCCEEDED;
      return TRUE;
    }
    g_clear_pointer (stored_response, g_free);
    if (strcmp (status, "failed") == 0) {
      *state = STORED_FAILED;
      return TRUE;
    }
    if (c->key_lifetime_s > 0 && now - created_at > c->key_lifetime_s) {
      g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE,
                   "idempotency key %s has been pending since %" G_GINT64_FORMAT
                   ", longer than Stripe keeps keys: check at Stripe whether "
                   "%s %s happened before doing it again",
                   key, created_at, method, path);
      return FALSE;
    }
    *state = STORED_PENDING;
    return TRUE;
  }
  if (sqlite3_prepare_v2 (
          c->db,
          "INSERT INTO stripe_requests (key, method, path,"
          " account, params_sha256, status, created_at,"
          " updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
          -1, &stmt, NULL) != SQLITE_OK)
    return store_error (c, error);
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, method, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, path, -1, SQLITE_TRANSIENT);
  if (account != NULL)
    sqlite3_bind_text (stmt, 4, account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, now);
  sqlite3_bind_int64 (stmt, 7, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return store_error (c, error);
  *state = STORED_NONE;
  return TRUE;
}

static gchar *
response_object_id (const gchar *body)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root, *id;

  if (body == NULL || !json_parser_load_from_data (parser, body, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  id = json_object_get_member (json_node_get_object (root), "id");
  if (id == NULL || !JSON_NODE_HOLDS_VALUE (id) ||
      json_node_get_value_type (id) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (id));
}

/* After the attempts: succeeded (with the answer, replayed from then on),
 * failed (Stripe refused it), or still pending (outcome unknown). A failure
 * to write is logged, not returned: the next call with the key goes to
 * Stripe, which replays. */
static void
store_finish (GcStripeClient *c, const gchar *key, const gchar *status,
              guint attempts, guint http_status, const gchar *request_id,
              const gchar *response)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->store_lock);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree gchar *object_id = response_object_id (response);

  if (sqlite3_prepare_v2 (c->db,
                          "UPDATE stripe_requests SET status = ?,"
                          " attempts = attempts + ?, http_status = ?,"
                          " request_id = ?, object_id = ?, response = ?,"
                          " updated_at = ? WHERE key = ?",
                          -1, &stmt, NULL) != SQLITE_OK) {
    g_message ("stripe: could not record %s: %s", key, sqlite3_errmsg (c->db));
    return;
  }
  sqlite3_bind_text (stmt, 1, status, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, attempts);
  if (http_status != 0)
    sqlite3_bind_int64 (stmt, 3, http_status);
  if (request_id != NULL)
    sqlite3_bind_text (stmt, 4, request_id, -1, SQLITE_TRANSIENT);
  if (object_id != NULL)
    sqlite3_bind_text (stmt, 5, object_id, -1, SQLITE_TRANSIENT);
  if (response != NULL)
    sqlite3_bind_text (stmt, 6, response, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 7, c->clock (c->test_data));
  sqlite3_bind_text (stmt, 8, key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    g_message ("stripe: could not record %s: %s", key, sqlite3_errmsg (c->db));
}

/* -- one HTTP exchange ------------------------------------------------------ */

typedef struct {
  CURLcode curl_code; /* CURLE_OK: an HTTP answer came */
  gchar curl_message[CURL_ERROR_SIZE];
  guint status;
  GString *body;
  gboolean too_large;
  gchar *request_id;
  gint64 retry_after_s; /* -1: none */
  gint should_retry;    /* Stripe-Should-Retry: -1 absent, 0 false, 1 true */
  gboolean replayed;    /* Idempotent-Replayed: true */
} Response;

static void
response_clear (Response *r)
{
  if (r->body != NULL)
    g_string_free (r->body, TRUE);
  g_free (r->request_id);
  memset (r, 0, sizeof *r);
}

static size_t
on_body (char *data, size_t size, size_t n, void *user_data)
{
  Response *r = user_data;

  if (r->body->len + size * n > RESPONSE_MAX) {
    r->too_large = TRUE;
    return 0;
  }
  g_string_append_len (r->body, data, (gssize)(size * n));
  return size * n;
}

static size_t
on_header (char *data, size_t size, size_t n, void *user_data)
{
  Response *r = user_data;
  g_autofree gchar *line = g_strndup (data, size * n);
  gchar *colon, *value;

  g_strstrip (line);
  /* A new status line (after a 100 Continue): forget what came before. */
  if (g_str_has_prefix (line, "HTTP/")) {
    g_clear_pointer (&r->request_id, g_free);
    r->retry_after_s = -1;
    r->should_retry = -1;
    r->replayed = FALSE;
    return size * n;
  }
  colon = strchr (line, ':');
  if (colon == NULL)
    return size * n;
  *colon = '\0';
  value = g_strstrip (colon + 1);
  if (g_ascii_strcasecmp (line, "Request-Id") == 0) {
    g_free (r->request_id);
    r->request_id = g_strndup (value, 64);
  } else if (g_ascii_strcasecmp (line, "Retry-After") == 0) {
    guint64 seconds;

    /* Seconds only; an HTTP-date falls back to the backoff. */
    if (g_ascii_string_to_unsigned (value, 10, 0, 86400, &seconds, NULL))
      r->retry_after_s = (gint64)seconds;
  } else if (g_ascii_strcasecmp (line, "Stripe-Should-Retry") == 0) {
    r->should_retry = g_ascii_strcasecmp (value, "true") == 0    ? 1
                      : g_ascii_strcasecmp (value, "false") == 0 ? 0
                                                                 : -1;
  } else if (g_ascii_strcasecmp (line, "Idempotent-Replayed") == 0) {
    r->replayed = g_ascii_strcasecmp (value, "true") == 0;
  }
  return size * n;
}

static void
perform (GcStripeClient *c, const gchar *method, const gchar *url,
         const gchar *account, const gchar *body, const gchar *key, Response *r)
{
  CURL *curl = curl_easy_init ();
  struct curl_slist *headers = NULL;
  g_autofree gchar *key_header = NULL, *version_header = NULL,
                   *account_header = NULL;

  r->body = g_string_new (NULL);
  r->retry_after_s = -1;
  r->should_retry = -1;
  if (curl == NULL) {
    r->curl_code = CURLE_FAILED_INIT;
    g_strlcpy (r->curl_message, "curl_easy_init failed",
               sizeof r->curl_message);
    return;
  }
  headers = curl_slist_append (headers, c->auth_header);
  headers = curl_slist_append (headers, "Accept: application/json");
  /* No "Expect: 100-continue" round trip. */
  headers = curl_slist_append (headers, "Expect:");
  if (key != NULL) {
    key_header = g_strconcat ("Idempotency-Key: ", key, NULL);
    headers = curl_slist_append (headers, key_header);
  }
  if (c->stripe_version != NULL) {
    version_header = g_strconcat ("Stripe-Version: ", c->stripe_version, NULL);
    headers = curl_slist_append (headers, version_header);
  }
  if (account != NULL) {
    account_header = g_strconcat ("Stripe-Account: ", account, NULL);
    headers = curl_slist_append (headers, account_header);
  }

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, USER_AGENT);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS,
                    (long)c->connect_timeout_ms);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, r->curl_message);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, r);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, r);
  if (strcmp (method, "POST") == 0) {
    headers = curl_slist_append (
        headers, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
    curl_easy_setopt (curl, CURLOPT_COPYPOSTFIELDS, body);
  } else if (strcmp (method, "DELETE") == 0) {
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);

  r->curl_code = curl_easy_perform (curl);
  if (r->curl_code == CURLE_OK) {
    long status = 0;

    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    r->status = (guint)status;
  } else if (r->curl_message[0] == '\0') {
    g_strlcpy (r->curl_message, curl_easy_strerror (r->curl_code),
               sizeof r->curl_message);
  }
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
}

/* Transport failures worth another try: the request may or may not have
 * reached Stripe, and the key makes resending safe. Configuration mistakes
 * are final. */
static gboolean
transport_retryable (CURLcode code)
{
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_FAILED_INIT:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_WRITE_ERROR: /* our own size limit */
      return FALSE;
    default:
      return TRUE;
  }
}

/* Sends one request with retries. Returns the 2xx body, or NULL with a
 * GC_STRIPE_ERROR. @state says how the store should end up: "succeeded",
 * "failed" (Stripe's final refusal) or "pending" (outcome unknown). */
static gchar *
send_with_retries (GcStripeClient *c, const gchar *method, const gchar *path,
                   const gchar *query, const gchar *account, const gchar *body,
                   const gchar *key, const gchar **state, guint *attempts,
                   guint *http_status, gchar **request_id, GError **error)
{
  g_autofree gchar *url = g_strconcat (c->base_url, path, query ? "?" : "",
                                       query ? query : "", NULL);

  *state = "pending";
  *http_status = 0;
  *request_id = NULL;
  for (guint attempt = 1;; attempt++) {
    Response r = {0};
    gint64 started = g_get_monotonic_time (), ms, delay = 0;
    gboolean retry;
    const gchar *why;
    g_autofree gchar *next = NULL;

    perform (c, method, url, account, body, key, &r);
    ms = (g_get_monotonic_time () - started) / G_TIME_SPAN_MILLISECOND;
    *attempts = attempt;

    if (r.curl_code == CURLE_OK && r.status >= 200 && r.status < 300) {
      g_info ("stripe %s %s%s%s -> %u %s attempt %u/%u %" G_GINT64_FORMAT
              " ms%s",
              method, path, account ? " account " : "", account ? account : "",
              r.status, r.request_id ? r.request_id : "-", attempt,
              c->retry.max_attempts, ms, r.replayed ? " (replayed)" : "");
      *state = "succeeded";
      *http_status = r.status;
      *request_id = g_steal_pointer (&r.request_id);
      gchar *out = g_string_free (g_steal_pointer (&r.body), FALSE);
      response_clear (&r);
      return out;
    }

    if (r.curl_code != CURLE_OK) {
      retry = !r.too_large && transport_retryable (r.curl_code);
      why = "no answer";
    } else if (r.should_retry == 0) {
      retry = FALSE;
      why = "Stripe-Should-Retry: false";
    } else if (r.status == 429 || r.status == 409 || r.status >= 500 ||
               r.should_retry == 1) {
      retry = TRUE;
      why = r.status == 429 ? "rate limited" : "retryable status";
    } else {
      retry = FALSE;
      why = "final";
    }
    if (retry && attempt >= c->retry.max_attempts)
      retry = FALSE;
    if (retry) {
      if (r.curl_code == CURLE_OK && r.status == 429 && r.retry_after_s >= 0)
        delay =
            MIN (r.retry_after_s * G_USEC_PER_SEC, c->retry.max_retry_after_us);
      else
        delay = gc_stripe_retry_delay_us (&c->retry, attempt,
                                          c->random (c->test_data));
    }

    next = retry ? g_strdup_printf (", retrying in %" G_GINT64_FORMAT " ms",
                                    delay / G_TIME_SPAN_MILLISECOND)
                 : g_strdup ("");
    if (r.curl_code != CURLE_OK)
      g_message ("stripe %s %s%s%s -> %s (curl %d: %s) attempt %u/%u "
                 "%" G_GINT64_FORMAT " ms%s",
                 method, path, account ? " account " : "",
                 account ? account : "", why, (gint)r.curl_code, r.curl_message,
                 attempt, c->retry.max_attempts, ms, next);
    else
      g_message ("stripe %s %s%s%s -> %u %s (%s) attempt %u/%u "
                 "%" G_GINT64_FORMAT " ms%s",
                 method, path, account ? " account " : "",
                 account ? account : "", r.status,
                 r.request_id ? r.request_id : "-", why, attempt,
                 c->retry.max_attempts, ms, next);

    if (!retry) {
      if (r.curl_code != CURLE_OK) {
        gc_stripe_error_set (error, GC_STRIPE_ERROR_CONNECTION, 0, NULL,
                             "%s %s: no answer from Stripe after %u "
                             "attempt(s): %s",
                             method, path, attempt, r.curl_message);
      } else {
        gc_stripe_error_set_from_response (error, r.status, r.body->str,
                                           r.request_id, c->api_key);
        *http_status = r.status;
        *request_id = g_strdup (r.request_id);
        /* Stripe refused it for good: a 4xx other than 409/429. */
        if (r.status >= 400 && r.status < 500 && r.status != 409 &&
            r.status != 429)
          *state = "failed";
      }
      response_clear (&r);
      return NULL;
    }
    response_clear (&r);
    c->sleep (delay, c->test_data);
  }
}

static gboolean
check_key (const gchar *key, GError **error)
{
  if (key == NULL || *key == '\0' || strlen (key) > IDEMPOTENCY_KEY_MAX ||
      !g_utf8_validate (key, -1, NULL) || strpbrk (key, "\r\n") != NULL) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "an idempotency key of 1 to %d bytes is required",
                 IDEMPOTENCY_KEY_MAX);
    return FALSE;
  }
  return TRUE;
}

/* A POST with an idempotency key, through the store. */
static gchar *
post (GcStripeClient *c, const gchar *key, const gchar *path,
      const gchar *account, const GcStripeForm *form, GError **error)
{
  g_autofree gchar *body = gc_stripe_form_encode (form);
  g_autofree gchar *hash = request_hash ("POST", path, account, body);
  g_autofree gchar *stored = NULL, *request_id = NULL;
  StoredState stored_state;
  const gchar *state;
  guint attempts = 0, http_status = 0;
  gchar *answer;
  g_autoptr (GError) local = NULL;

  if (!check_key (key, error))
    return NULL;
  if (!store_begin (c, key, "POST", path, account, hash, &stored_state, &stored,
                    error))
    return NULL;
  if (stored_state == STORED_SUCCEEDED) {
    g_info ("stripe POST %s%s%s -> answered from the store (key %s)", path,
            account ? " account " : "", account ? account : "", key);
    return g_steal_pointer (&stored);
  }
  answer = send_with_retries (c, "POST", path, NULL, account, body, key, &state,
                              &attempts, &http_status, &request_id, &local);
  store_finish (c, key, state, attempts, http_status, request_id, answer);
  if (answer == NULL)
    g_propagate_error (error, g_steal_pointer (&local));
  return answer;
}

/* GET and DELETE: idempotent at Stripe without a key. */
static gchar *
call (GcStripeClient *c, const gchar *method, const gchar *path,
      const gchar *query, const gchar *account, GError **error)
{
  g_autofree gchar *request_id = NULL;
  const gchar *state;
  guint attempts = 0, http_status = 0;

  return send_with_retries (c, method, path, query, account, "", NULL, &state,
                            &attempts, &http_status, &request_id, error);
}

/* Stripe ids in paths: letters, digits and '_' only, so nothing can escape
 * the path. */
static gboolean
check_id (const gchar *id, const gchar *what, GError **error)
{
  if (id == NULL || *id == '\0' || strlen (id) > 255)
    goto bad;
  for (const gchar *p = id; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      goto bad;
  return TRUE;
bad:
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
               "%s is not a Stripe id", what);
  return FALSE;
}

/* GET @collection@id (an object by its id). Returns: (transfer full)
 * (nullable): the body. */
static gchar *
retrieve (GcStripeClient *c, const gchar *collection, const gchar *id,
          const gchar *what, GError **error)
{
  g_autofree gchar *path = NULL;

  if (!check_id (id, what, error))
    return NULL;
  path = g_strconcat (collection, id, NULL);
  return call (c, "GET", path, NULL, NULL, error);
}

static gboolean
check_text (const gchar *text, const gchar *what, GError **error)
{
  if (text == NULL || *text == '\0') {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "%s is required", what);
    return FALSE;
  }
  return TRUE;
}

/* Stripe's currency code for @money, lower case; refuses the currencies
 * whose Stripe amounts are not ISO 4217 minor units. */
static gboolean
stripe_currency (const GcMoney *money, gchar out[4], GError **error)
{
  static const gchar *const quirks[] = {"ISK", "HUF", "TWD", "UGX", NULL};
  gchar upper[4];

  if (money == NULL || money->amount <= 0 ||
      gc_currency_exponent (money->currency) < 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "a positive amount in a known currency is required");
    return FALSE;
  }
  for (guint i = 0; i < 4; i++)
    upper[i] = g_ascii_toupper (money->currency[i]);
  if (g_strv_contains (quirks, upper)) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY,
                 "%s amounts at Stripe are not ISO 4217 minor units; not "
                 "supported yet",
                 upper);
    return FALSE;
  }
  for (guint i = 0; i < 4; i++)
    out[i] = g_ascii_tolower (money->currency[i]);
  return TRUE;
}

/* -- operations --------------------------------------------------------- */

GcStripeAccount *
gc_stripe_client_create_express_account (GcStripeClient *c, const gchar *key,
                                         const gchar *email,
                                         const gchar *country,
                                         const gchar *creator_ref,
                                         GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_text (country, "country", error))
    return NULL;
  gc_stripe_form_add (form, "type", "express");
  gc_stripe_form_add (form, "country", country);
  gc_stripe_form_add (form, "email", email);
  gc_stripe_form_add_path (form, "true", "capabilities", "card_payments",
                           "requested", NULL);
  gc_stripe_form_add_path (form, "true", "capabilities", "transfers",
                           "requested", NULL);
  gc_stripe_form_add_path (form, creator_ref, "metadata",
                           GC_BILLING_META_CREATOR, NULL);
  body = post (c, key, "/v1/accounts", NULL, form, error);
  return body ? gc_stripe_account_parse (body, error) : NULL;
}

GcStripeAccount *
gc_stripe_client_retrieve_account (GcStripeClient *c, const gchar *account,
                                   GError **error)
{
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  body = retrieve (c, "/v1/accounts/", account, "account", error);
  return body ? gc_stripe_account_parse (body, error) : NULL;
}

GcStripeAccountLink *
gc_stripe_client_create_account_link (GcStripeClient *c, const gchar *key,
                                      const gchar *account,
                                      const gchar *refresh_url,
                                      const gchar *return_url, GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_id (account, "account", error) ||
      !check_text (refresh_url, "refresh_url", error) ||
      !check_text (return_url, "return_url", error))
    return NULL;
  gc_stripe_form_add (form, "account", account);
  gc_stripe_form_add (form, "type", "account_onboarding");
  gc_stripe_form_add (form, "refresh_url", refresh_url);
  gc_stripe_form_add (form, "return_url", return_url);
  body = post (c, key, "/v1/account_links", NULL, form, error);
  return body ? gc_stripe_account_link_parse (body, error) : NULL;
}

GcStripeProduct *
gc_stripe_client_create_product (GcStripeClient *c, const gchar *key,
                                 const gchar *name, const gchar *channel,
                                 GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_text (name, "name", error))
    return NULL;
  gc_stripe_form_add (form, "name", name);
  gc_stripe_form_add_path (form, channel, "metadata", "channel", NULL);
  body = post (c, key, "/v1/products", NULL, form, error);
  return body ? gc_stripe_product_parse (body, error) : NULL;
}

GcStripePrice *
gc_stripe_client_create_monthly_price (GcStripeClient *c, const gchar *key,
                                       const gchar *product,
                                       const GcMoney *amount, const gchar *tier,
                                       GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;
  gchar currency[4];

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_id (product, "product", error) ||
      !stripe_currency (amount, currency, error))
    return NULL;
  gc_stripe_form_add (form, "product", product);
  gc_stripe_form_add (form, "currency", currency);
  gc_stripe_form_add_int (form, "unit_amount", amount->amount);
  gc_stripe_form_add_path (form, "month", "recurring", "interval", NULL);
  gc_stripe_form_add (form, "nickname", tier);
  gc_stripe_form_add_path (form, tier, "metadata", "tier", NULL);
  body = post (c, key, "/v1/prices", NULL, form, error);
  return body ? gc_stripe_price_parse (body, error) : NULL;
}

GcStripeCheckoutSession *
gc_stripe_client_create_checkout_session_subscription (
    GcStripeClient *c, const gchar *key,
    const GcStripeSubscriptionCheckout *req, GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL, *percent = NULL;

  g_return_val_if_fail (c != NULL, NULL);
  g_return_val_if_fail (req != NULL, NULL);

  if (!check_id (req->price, "price", error) ||
      !check_id (req->destination, "destination", error) ||
      !check_text (req->success_url, "success_url", error))
    return NULL;
  if (req->application_fee_bps > 10000) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "application fee above 100%%");
    return NULL;
  }
  percent = gc_stripe_format_fee_percent (req->application_fee_bps);
  gc_stripe_form_add (form, "mode", "subscription");
  gc_stripe_form_add_path (form, req->price, "line_items", "0", "price", NULL);
  gc_stripe_form_add_path (form, "1", "line_items", "0", "quantity", NULL);
  gc_stripe_form_add (form, "success_url", req->success_url);
  gc_stripe_form_add (form, "cancel_url", req->cancel_url);
  gc_stripe_form_add (form, "client_reference_id", req->client_reference_id);
  gc_stripe_form_add (form, "customer_email", req->customer_email);
  gc_stripe_form_add_path (form, percent, "subscription_data",
                           "application_fee_percent", NULL);
  gc_stripe_form_add_path (form, req->destination, "subscription_data",
                           "transfer_data", "destination", NULL);
  /* The same metadata on the subscription and on the session. */
  for (guint i = 0; i < 2; i++) {
    const gchar *p = i == 0 ? "subscription_data" : NULL;
#define META(value, name)                                                      \
  (p ? gc_stripe_form_add_path (form, value, p, "metadata", name, NULL)        \
     : gc_stripe_form_add_path (form, value, "metadata", name, NULL))
    META (req->channel, GC_BILLING_META_CHANNEL);
    META (req->viewer, GC_BILLING_META_VIEWER);
    META (req->creator, GC_BILLING_META_CREATOR);
    META ("subscription", GC_BILLING_META_KIND);
#undef META
  }
  body = post (c, key, "/v1/checkout/sessions", NULL, form, error);
  return body ? gc_stripe_checkout_session_parse (body, error) : NULL;
}

/* billing/README.md "Metadata": what the webhooks need to know whose money
 * it is, under @prefix (payment_intent_data) or at the top level. */
static void
add_payment_metadata (GcStripeForm *form, const gchar *prefix,
                      const GcStripePayment *req)
{
  const struct {
    const gchar *name;
    const gchar *value;
  } meta[] = {
      {GC_BILLING_META_KIND, req->kind},
      {GC_BILLING_META_CHANNEL, req->channel},
      {GC_BILLING_META_VIEWER, req->viewer},
      {GC_BILLING_META_CREATOR, req->creator},
      {GC_BILLING_META_VIEWER_NAME, req->viewer_name},
      {GC_BILLING_META_MESSAGE, req->message},
      {GC_BILLING_META_PPV_EVENT, req->ppv_event},
  };

  for (guint i = 0; i < G_N_ELEMENTS (meta); i++) {
    if (prefix != NULL)
      gc_stripe_form_add_path (form, meta[i].value, prefix, "metadata",
                               meta[i].name, NULL);
    else
      gc_stripe_form_add_path (form, meta[i].value, "metadata", meta[i].name,
                               NULL);
  }
}

/* The destination-charge parameters shared by Checkout (under
 * payment_intent_data) and PaymentIntents (at the top level). */
static gboolean
add_destination_charge (GcStripeForm *form, const gchar *prefix,
                        const GcStripePayment *req, GError **error)
{
  gint64 fee;
  g_autofree gchar *fee_text = NULL;

  if (!check_id (req->destination, "destination", error) ||
      !check_text (req->kind, "kind", error))
    return FALSE;
  if (req->platform_ppm > GC_SHARE_PPM_ONE) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "platform share above 100%%");
    return FALSE;
  }
  fee = gc_money_platform_fee (req->amount.amount, req->platform_ppm);
  fee_text = g_strdup_printf ("%" G_GINT64_FORMAT, fee);
#define ADD(value, ...)                                                        \
  (prefix ? gc_stripe_form_add_path (form, value, prefix, __VA_ARGS__, NULL)   \
          : gc_stripe_form_add_path (form, value, __VA_ARGS__, NULL))
  ADD (fee_text, "application_fee_amount");
  ADD (req->destination, "transfer_data", "destination");
  add_payment_metadata (form, prefix, req);
#undef ADD
  return TRUE;
}

GcStripeCheckoutSession *
gc_stripe_client_create_checkout_session_payment (GcStripeClient *c,
                                                  const gchar *key,
                                                  const GcStripePayment *req,
                                                  GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;
  gchar currency[4];

  g_return_val_if_fail (c != NULL, NULL);
  g_return_val_if_fail (req != NULL, NULL);

  if (!stripe_currency (&req->amount, currency, error) ||
      !check_text (req->success_url, "success_url", error))
    return NULL;
  gc_stripe_form_add (form, "mode", "payment");
  gc_stripe_form_add_path (form, currency, "line_items", "0", "price_data",
                           "currency", NULL);
  {
    g_autofree gchar *amount =
        g_strdup_printf ("%" G_GINT64_FORMAT, req->amount.amount);

    gc_stripe_form_add_path (form, amount, "line_items", "0", "price_data",
                             "unit_amount", NULL);
  }
  gc_stripe_form_add_path (
      form, req->description ? req->description : req->kind, "line_items", "0",
      "price_data", "product_data", "name", NULL);
  gc_stripe_form_add_path (form, "1", "line_items", "0", "quantity", NULL);
  gc_stripe_form_add (form, "success_url", req->success_url);
  gc_stripe_form_add (form, "cancel_url", req->cancel_url);
  gc_stripe_form_add (form, "client_reference_id", req->client_reference_id);
  gc_stripe_form_add (form, "customer_email", req->customer_email);
  if (!add_destination_charge (form, "payment_intent_data", req, error))
    return NULL;
  add_payment_metadata (form, NULL, req);
  body = post (c, key, "/v1/checkout/sessions", NULL, form, error);
  return body ? gc_stripe_checkout_session_parse (body, error) : NULL;
}

GcStripePaymentIntent *
gc_stripe_client_create_payment_intent (GcStripeClient *c, const gchar *key,
                                        const GcStripePayment *req,
                                        GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;
  gchar currency[4];

  g_return_val_if_fail (c != NULL, NULL);
  g_return_val_if_fail (req != NULL, NULL);

  if (!stripe_currency (&req->amount, currency, error))
    return NULL;
  gc_stripe_form_add_int (form, "amount", req->amount.amount);
  gc_stripe_form_add (form, "currency", currency);
  if (!add_destination_charge (form, NULL, req, error))
    return NULL;
  gc_stripe_form_add_path (form, "true", "automatic_payment_methods", "enabled",
                           NULL);
  if (req->payment_method != NULL) {
    gc_stripe_form_add_path (form, "never", "automatic_payment_methods",
                             "allow_redirects", NULL);
    gc_stripe_form_add (form, "payment_method", req->payment_method);
    gc_stripe_form_add (form, "confirm", "true");
  }
  gc_stripe_form_add (form, "description", req->description);
  body = post (c, key, "/v1/payment_intents", NULL, form, error);
  return body ? gc_stripe_payment_intent_parse (body, error) : NULL;
}

GcStripeCheckoutSession *
gc_stripe_client_retrieve_checkout_session (GcStripeClient *c,
                                            const gchar *session,
                                            GError **error)
{
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  body = retrieve (c, "/v1/checkout/sessions/", session, "session", error);
  return body ? gc_stripe_checkout_session_parse (body, error) : NULL;
}

GcStripePaymentIntent *
gc_stripe_client_retrieve_payment_intent (GcStripeClient *c,
                                          const gchar *payment_intent,
                                          GError **error)
{
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  body = retrieve (c, "/v1/payment_intents/", payment_intent, "payment intent",
                   error);
  return body ? gc_stripe_payment_intent_parse (body, error) : NULL;
}

GcStripeSubscription *
gc_stripe_client_retrieve_subscription (GcStripeClient *c,
                                        const gchar *subscription,
                                        GError **error)
{
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  body =
      retrieve (c, "/v1/subscriptions/", subscription, "subscription", error);
  return body ? gc_stripe_subscription_parse (body, error) : NULL;
}

GcStripeSubscription *
gc_stripe_client_cancel_subscription_at_period_end (GcStripeClient *c,
                                                    const gchar *key,
                                                    const gchar *subscription,
                                                    GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *path = NULL, *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_id (subscription, "subscription", error))
    return NULL;
  path = g_strconcat ("/v1/subscriptions/", subscription, NULL);
  gc_stripe_form_add (form, "cancel_at_period_end", "true");
  body = post (c, key, path, NULL, form, error);
  return body ? gc_stripe_subscription_parse (body, error) : NULL;
}

GcStripeSubscription *
gc_stripe_client_cancel_subscription_now (GcStripeClient *c,
                                          const gchar *subscription,
                                          GError **error)
{
  g_autofree gchar *path = NULL, *body = NULL;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_id (subscription, "subscription", error))
    return NULL;
  path = g_strconcat ("/v1/subscriptions/", subscription, NULL);
  body = call (c, "DELETE", path, NULL, NULL, &local);
  if (body == NULL) {
    /* Refused: if an earlier, unanswered attempt canceled it, that is the
     * outcome asked for. */
    const GcStripeErrorInfo *info = gc_stripe_error_get_info (local);
    g_autoptr (GcStripeSubscription) now = NULL;

    if (info != NULL && info->http_status >= 400 && info->http_status < 500 &&
        (now = gc_stripe_client_retrieve_subscription (c, subscription,
                                                       NULL)) != NULL &&
        g_strcmp0 (now->status, "canceled") == 0)
      return g_steal_pointer (&now);
    g_propagate_error (error, g_steal_pointer (&local));
    return NULL;
  }
  return gc_stripe_subscription_parse (body, error);
}

GcStripeRefund *
gc_stripe_client_create_refund (GcStripeClient *c, const gchar *key,
                                const gchar *payment, const GcMoney *amount,
                                const gchar *reason, GError **error)
{
  g_autoptr (GcStripeForm) form = gc_stripe_form_new ();
  g_autofree gchar *body = NULL;
  gchar currency[4];

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_id (payment, "payment", error) ||
      (amount != NULL && !stripe_currency (amount, currency, error)))
    return NULL;
  gc_stripe_form_add (
      form, g_str_has_prefix (payment, "ch_") ? "charge" : "payment_intent",
      payment);
  if (amount != NULL)
    gc_stripe_form_add_int (form, "amount", amount->amount);
  gc_stripe_form_add (form, "reason", reason);
  gc_stripe_form_add (form, "reverse_transfer", "true");
  gc_stripe_form_add (form, "refund_application_fee", "true");
  body = post (c, key, "/v1/refunds", NULL, form, error);
  return body ? gc_stripe_refund_parse (body, error) : NULL;
}

GcStripePayoutMethod
gc_stripe_choose_payout_method (const GcStripeAccount *account,
                                const GcStripeBalance *balance,
                                const GcMoney *amount)
{
  g_return_val_if_fail (amount != NULL, GC_STRIPE_PAYOUT_STANDARD);

  if (account == NULL || balance == NULL ||
      !account->instant_payouts_supported || balance->instant_available == NULL)
    return GC_STRIPE_PAYOUT_STANDARD;
  for (guint i = 0; i < balance->instant_available->len; i++) {
    const GcStripeAmount *a =
        &g_array_index (balance->instant_available, GcStripeAmount, i);

    if (g_ascii_strcasecmp (a->currency, amount->currency) == 0 &&
        a->amount >= amount->amount)
      return GC_STRIPE_PAYOUT_INSTANT;
  }
  return GC_STRIPE_PAYOUT_STANDARD;
}

static GcStripeForm *
payout_form (const GcMoney *amount, const gchar *currency,
             GcStripePayoutMethod method)
{
  GcStripeForm *form = gc_stripe_form_new ();
  const gchar *const expand[] = {"balance_transaction", NULL};

  gc_stripe_form_add_int (form, "amount", amount->amount);
  gc_stripe_form_add (form, "currency", currency);
  gc_stripe_form_add (form, "method",
                      method == GC_STRIPE_PAYOUT_INSTANT ? "instant"
                                                         : "standard");
  gc_stripe_form_add_list (form, "expand", expand);
  return form;
}

/* AUTO: a key already stored keeps the method it was first sent with, so a
 * retry after a restart cannot turn into a different request. */
static gboolean
resolve_auto_method (GcStripeClient *c, const gchar *key, const gchar *account,
                     const GcMoney *amount, const gchar *currency,
                     GcStripePayoutMethod *method, GError **error)
{
  g_autofree gchar *hash = NULL, *status = NULL;
  g_autoptr (GcStripeAccount) acct = NULL;
  g_autoptr (GcStripeBalance) balance = NULL;

  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->store_lock);

    if (!store_lookup (c, key, &hash, &status, NULL, NULL, error))
      return FALSE;
  }
  if (hash != NULL) {
    for (GcStripePayoutMethod m = GC_STRIPE_PAYOUT_STANDARD;
         m <= GC_STRIPE_PAYOUT_INSTANT; m++) {
      g_autoptr (GcStripeForm) form = payout_form (amount, currency, m);
      g_autofree gchar *body = gc_stripe_form_encode (form);
      g_autofree gchar *h = request_hash ("POST", "/v1/payouts", account, body);

      if (strcmp (h, hash) == 0) {
        *method = m;
        return TRUE;
      }
    }
    *method = GC_STRIPE_PAYOUT_STANDARD; /* the store reports the conflict */
    return TRUE;
  }
  acct = gc_stripe_client_retrieve_account (c, account, error);
  if (acct == NULL)
    return FALSE;
  balance = gc_stripe_client_retrieve_balance (c, account, error);
  if (balance == NULL)
    return FALSE;
  *method = gc_stripe_choose_payout_method (acct, balance, amount);
  return TRUE;
}

GcStripePayout *
gc_stripe_client_create_payout (GcStripeClient *c, const gchar *key,
                                const gchar *account, const GcMoney *amount,
                                GcStripePayoutMethod method, GError **error)
{
  g_autoptr (GcStripeForm) form = NULL;
  g_autofree gchar *body = NULL;
  gchar currency[4];

  g_return_val_if_fail (c != NULL, NULL);

  if (!check_key (key, error) || !check_id (account, "account", error) ||
      !stripe_currency (amount, currency, error))
    return NULL;
  if (method == GC_STRIPE_PAYOUT_AUTO &&
      !resolve_auto_method (c, key, account, amount, currency, &method, error))
    return NULL;
  form = payout_form (amount, currency, method);
  body = post (c, key, "/v1/payouts", account, form, error);
  return body ? gc_stripe_payout_parse (body, error) : NULL;
}

GcStripeBalance *
gc_stripe_client_retrieve_balance (GcStripeClient *c, const gchar *account,
                                   GError **error)
{
  g_autofree gchar *body = NULL;

  g_return_val_if_fail (c != NULL, NULL);

  if (account != NULL && !check_id (account, "account", error))
    return NULL;
  body = call (c, "GET", "/v1/balance", NULL, account, error);
  return body ? gc_stripe_balance_parse (body, error) : NULL;
}

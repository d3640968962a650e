/* accounts-api.c — /api/v1/accounts, /sessions, /me and channel roles over libgcaccounts (accounts/).
 * Argon2id runs on a pool of two threads while the request is paused; passwords and tokens are never logged. */

#include "accounts-api.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "channel-error.h"
#include "http-util.h"
#include "secret.h"

#define MOUNT "/api/v1"
#define ACCOUNTS MOUNT "/accounts"
#define SESSIONS MOUNT "/sessions"
#define CURRENT SESSIONS "/current"
#define ME MOUNT "/me"

/* Credentials or a role list: a few hundred bytes. */
#define MAX_BODY 4096
/* Each hash takes ~50 ms and 64 MiB: two at a time keep one core and
 * 128 MiB for the rest of glasscastd. */
#define HASH_THREADS 2
/* Beyond this many sign-ups and sign-ins waiting for a thread, answer 503
 * instead of queueing without bound. */
#define MAX_JOBS 32
/* Failed sign-ins one address may make per window before 429. Attempts
 * still under way count too, so a burst can't outrun the counter. */
#define SIGN_IN_FAILURES 10
#define SIGN_IN_WINDOW_US (60 * G_USEC_PER_SEC)
/* Above this many addresses, forget those whose window has passed. */
#define ATTEMPTS_PRUNE_AT 1024

/* RFC 6585; libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

typedef struct {
  gint64 window_start; /* g_get_monotonic_time() of the first failure */
  guint failures;
  guint in_flight;
} Attempts;

struct _GcAccountsApi {
  GObject parent_instance;

  GcAccounts *accounts; /* thread-safe (its own mutex) */
  GcChannels *channels;
  const GcConfig *config;
  GThreadPool *pool;    /* runs the Argon2id jobs: sign-up and sign-in */
  guint n_jobs;         /* queued or running; main context only */
  GHashTable *attempts; /* remote address -> Attempts; main context only */
};

G_DEFINE_FINAL_TYPE (GcAccountsApi, gc_accounts_api, G_TYPE_OBJECT)

static void run_job (gpointer data, gpointer user_data);

static void
gc_accounts_api_finalize (GObject *object)
{
  GcAccountsApi *api = GC_ACCOUNTS_API (object);

  /* Every queued job holds a reference: the pool is idle by now. */
  if (api->pool != NULL)
    g_thread_pool_free (api->pool, FALSE, TRUE);
  g_clear_pointer (&api->attempts, g_hash_table_unref);
  g_clear_pointer (&api->accounts, gc_accounts_free);
  g_clear_object (&api->channels);
  G_OBJECT_CLASS (gc_accounts_api_parent_class)->finalize (object);
}

static void
gc_accounts_api_class_init (GcAccountsApiClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_accounts_api_finalize;
}

static void
gc_accounts_api_init (GcAccountsApi *api)
{
  api->attempts =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

GcAccountsApi *
gc_accounts_api_new (GcAccounts *accounts, GcChannels *channels,
                     const GcConfig *config)
{
  GcAccountsApi *api;

  g_return_val_if_fail (accounts != NULL, NULL);
  g_return_val_if_fail (GC_IS_CHANNELS (channels), NULL);
  g_return_val_if_fail (config != NULL, NULL);

  api = g_object_new (GC_TYPE_ACCOUNTS_API, NULL);
  api->accounts = accounts;
  api->channels = g_object_ref (channels);
  api->config = config;
  /* Not exclusive: threads are made on demand and shared with GLib's
   * other pools, at most HASH_THREADS of them at work here. */
  api->pool = g_thread_pool_new (run_job, api, HASH_THREADS, FALSE, NULL);
  return api;
}

GcAccounts *
gc_accounts_api_get_accounts (GcAccountsApi *api)
{
  g_return_val_if_fail (GC_IS_ACCOUNTS_API (api), NULL);
  return api->accounts;
}

gboolean
gc_accounts_api_owns_channel (GcAccountsApi *api, const gchar *username,
                              const gchar *channel)
{
  GcChannel *c;
  const gchar *owner;

  g_return_val_if_fail (GC_IS_ACCOUNTS_API (api), FALSE);

  if (username == NULL || channel == NULL)
    return FALSE;
  c = gc_channels_lookup (api->channels, channel);
  owner = c != NULL ? gc_channel_get_owner (c) : NULL;
  return owner != NULL && g_ascii_strcasecmp (owner, username) == 0;
}

/* ------------------------------------------------------------ parsers */

gchar *
gc_accounts_api_request_token (const gchar *authorization, const gchar *cookie)
{
  if (authorization != NULL &&
      g_ascii_strncasecmp (authorization, "Bearer", 6) == 0 &&
      (authorization[6] == ' ' || authorization[6] == '\t')) {
    gchar *token = g_strstrip (g_strdup (authorization + 7));

    if (token[0] != '\0')
      return token;
    gc_secret_free (token);
    return NULL;
  }
  /* RFC 6265 5.4: "name=value" pairs separated by "; ". */
  for (const gchar *p = cookie; p != NULL && *p != '\0';) {
    const gchar *end = strchr (p, ';');
    gsize len;

    while (*p == ' ' || *p == '\t')
      p++;
    len = end != NULL ? (gsize)(end - p) : strlen (p);
    if (len > strlen (GC_ACCOUNTS_API_COOKIE "=") &&
        strncmp (p, GC_ACCOUNTS_API_COOKIE "=",
                 strlen (GC_ACCOUNTS_API_COOKIE "=")) == 0) {
      gsize skip = strlen (GC_ACCOUNTS_API_COOKIE "=");
      gchar *token = g_strstrip (g_strndup (p + skip, len - skip));

      if (token[0] != '\0')
        return token;
      gc_secret_free (token);
    }
    p = end != NULL ? end + 1 : NULL;
  }
  return NULL;
}

/* Returns: (transfer none) (nullable): the root object of @data. */
static JsonObject *
parse_object (JsonParser *parser, const gchar *data, gsize len)
{
  JsonNode *root;

  if (len == 0 || len > MAX_BODY ||
      !json_parser_load_from_data (parser, data, (gssize)len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_node_get_object (root);
}

gboolean
gc_accounts_api_parse_credentials (const gchar *data, gsize len,
                                   gchar **username, gchar **password,
                                   GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  const gchar *user;
  const gchar *pass;

  g_return_val_if_fail (username != NULL && password != NULL, FALSE);

  *username = NULL;
  *password = NULL;
  object = parse_object (parser, data, len);
  user = object != NULL ? gc_http_json_string (object, "username") : NULL;
  pass = object != NULL ? gc_http_json_string (object, "password") : NULL;
  if (user == NULL || pass == NULL) {
    g_set_error_literal (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                         "expected a JSON object {\"username\": \"...\", "
                         "\"password\": \"...\"}");
    return FALSE;
  }
  *username = g_strdup (user);
  *password = g_strdup (pass);
  return TRUE;
}

static const struct {
  const gchar *name;
  GcAccountsRoles role;
} role_names[] = {
    {"broadcaster", GC_ACCOUNTS_ROLE_BROADCASTER},
    {"moderator", GC_ACCOUNTS_ROLE_MODERATOR},
    {"vip", GC_ACCOUNTS_ROLE_VIP},
    {"subscriber", GC_ACCOUNTS_ROLE_SUBSCRIBER},
};

gboolean
gc_accounts_api_parse_roles (const gchar *data, gsize len,
                             GcAccountsRoles *roles, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  JsonNode *list;
  JsonArray *array;
  guint out = GC_ACCOUNTS_ROLE_NONE;

  g_return_val_if_fail (roles != NULL, FALSE);

  object = parse_object (parser, data, len);
  list = object != NULL ? json_object_get_member (object, "roles") : NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list)) {
    g_set_error_literal (
        error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
        "expected a JSON object {\"roles\": [\"moderator\", \"vip\", "
        "\"subscriber\"]}");
    return FALSE;
  }
  array = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *item = json_array_get_element (array, i);
    const gchar *name = NULL;
    guint role = GC_ACCOUNTS_ROLE_NONE;

    if (JSON_NODE_HOLDS_VALUE (item) &&
        json_node_get_value_type (item) == G_TYPE_STRING)
      name = json_node_get_string (item);
    for (guint r = 0; name != NULL && r < G_N_ELEMENTS (role_names); r++) {
      if (strcmp (name, role_names[r].name) == 0)
        role = role_names[r].role;
    }
    if (role == GC_ACCOUNTS_ROLE_BROADCASTER) {
      g_set_error_literal (error, GC_CHANNEL_ERROR,
                           GC_CHANNEL_ERROR_BAD_REQUEST,
                           "\"broadcaster\" is not granted: it is the "
                           "channel's owner");
      return FALSE;
    }
    if (role == GC_ACCOUNTS_ROLE_NONE) {
      g_set_error_literal (error, GC_CHANNEL_ERROR,
                           GC_CHANNEL_ERROR_BAD_REQUEST,
                           "roles are \"moderator\", \"vip\" and "
                           "\"subscriber\"");
      return FALSE;
    }
    out |= role;
  }
  *roles = (GcAccountsRoles)out;
  return TRUE;
}

/* ------------------------------------------------------------ replies */

/* Accounts errors as the channel domain's, which http-util.c maps to
 * statuses. Storage failures are logged and answered without detail. */
static void
reply_error (SoupServerMessage *msg, const GError *error)
{
  g_autoptr (GError) mapped = NULL;
  GcChannelErrorCode code;

  if (error->domain != GC_ACCOUNTS_ERROR) {
    gc_http_reply_error (msg, error);
    return;
  }
  switch ((GcAccountsErrorCode)error->code) {
    case GC_ACCOUNTS_ERROR_INVALID_USERNAME:
    case GC_ACCOUNTS_ERROR_WEAK_PASSWORD:
    case GC_ACCOUNTS_ERROR_INVALID_ARGUMENT:
      code = GC_CHANNEL_ERROR_BAD_REQUEST;
      break;
    case GC_ACCOUNTS_ERROR_USERNAME_TAKEN:
      code = GC_CHANNEL_ERROR_CONFLICT;
      break;
    case GC_ACCOUNTS_ERROR_BAD_CREDENTIALS:
    case GC_ACCOUNTS_ERROR_TOKEN_MALFORMED:
    case GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE:
    case GC_ACCOUNTS_ERROR_TOKEN_EXPIRED:
    case GC_ACCOUNTS_ERROR_TOKEN_REVOKED:
      code = GC_CHANNEL_ERROR_UNAUTHORIZED;
      break;
    case GC_ACCOUNTS_ERROR_NOT_FOUND:
      code = GC_CHANNEL_ERROR_NOT_FOUND;
      break;
    case GC_ACCOUNTS_ERROR_STORAGE:
    default:
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                        "accounts: %s", error->message);
      mapped = g_error_new_literal (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_INTERNAL,
                                    "the accounts store failed");
      gc_http_reply_error (msg, mapped);
      return;
  }
  mapped = g_error_new_literal (GC_CHANNEL_ERROR, code, error->message);
  gc_http_reply_error (msg, mapped);
}

static void
reply_new_error (SoupServerMessage *msg, GcChannelErrorCode code,
                 const gchar *message)
{
  g_autoptr (GError) error =
      g_error_new_literal (GC_CHANNEL_ERROR, code, message);

  gc_http_reply_error (msg, error);
}

static void
reply_too_many (SoupServerMessage *msg, gint64 retry_after_s)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autofree gchar *retry =
      g_strdup_printf ("%" G_GINT64_FORMAT, MAX (retry_after_s, (gint64)1));

  soup_server_message_set_status (msg, STATUS_TOO_MANY_REQUESTS,
                                  "Too Many Requests");
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_message_headers_replace (h, "Retry-After", retry);
  gc_http_set_cors (msg);
  gc_http_set_json_error (msg, "too_many_attempts",
                          "too many failed sign-ins from this address: "
                          "wait and try again");
}

static void
set_cookie (SoupServerMessage *msg, const gchar *token, guint max_age)
{
  g_autofree gchar *value = g_strdup_printf (
      GC_ACCOUNTS_API_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%u",
      token != NULL ? token : "", max_age);

  soup_message_headers_append (soup_server_message_get_response_headers (msg),
                               "Set-Cookie", value);
  /* The header held the token: wipe our copy. */
  memset (value, 0, strlen (value));
}

static void
add_account (JsonBuilder *b, gint64 id, const gchar *username,
             gint64 created_ms)
{
  json_builder_set_member_name (b, "account");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, id);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, username);
  json_builder_set_member_name (b, "created_ms");
  json_builder_add_int_value (b, created_ms);
  json_builder_end_object (b);
}

/* Checks the Content-Type and size of a JSON request; replies on failure.
 * Returns: (transfer full) (nullable): the body. */
static GBytes *
json_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *type = soup_message_headers_get_content_type (h, NULL);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (type == NULL || g_ascii_strcasecmp (type, "application/json") != 0) {
    reply_new_error (msg, GC_CHANNEL_ERROR_MEDIA_TYPE,
                     "expected Content-Type: application/json");
    return NULL;
  }
  if (soup_message_headers_get_content_length (h) > MAX_BODY ||
      body->length > MAX_BODY) {
    reply_new_error (msg, GC_CHANNEL_ERROR_TOO_LARGE,
                     "request bodies here are at most 4096 bytes");
    return NULL;
  }
  return soup_message_body_flatten (body);
}

static void
method_not_allowed (SoupServerMessage *msg, const gchar *methods)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Allow", methods);
  reply_new_error (msg, GC_CHANNEL_ERROR_METHOD, "method not allowed here");
}

/* ------------------------------------------------------------ sessions */

gint64
gc_accounts_api_session (GcAccountsApi *api, SoupServerMessage *msg,
                         gchar **username, gint64 *created_ms)
{
  SoupMessageHeaders *h;
  g_autoptr (GError) error = NULL;
  gchar *token;
  gint64 id;

  g_return_val_if_fail (GC_IS_ACCOUNTS_API (api), 0);
  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), 0);

  h = soup_server_message_get_request_headers (msg);
  token = gc_accounts_api_request_token (
      soup_message_headers_get_one (h, "Authorization"),
      soup_message_headers_get_one (h, "Cookie"));
  if (token == NULL)
    return 0;
  id = gc_accounts_check_token (api->accounts, token, &error);
  gc_secret_free (token);
  if (id != 0 &&
      !gc_accounts_lookup (api->accounts, id, username, created_ms, &error))
    id = 0;
  /* The library's messages never quote the token. */
  if (id == 0)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MESSAGE",
                      "anonymous request: %s", error->message);
  return id;
}

/* A signed-in account, as the Argon2id jobs hand it back. */
typedef struct {
  gint64 id;
  gchar *username;
  gint64 created_ms;
  gchar *token;
} Session;

static void
session_free (Session *s)
{
  g_free (s->username);
  gc_secret_free (s->token);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_free)

typedef enum {
  JOB_SIGN_UP,
  JOB_SIGN_IN,
} JobKind;

/* What a pool thread needs: copies, never the message. */
typedef struct {
  JobKind kind;
  gchar *username;
  gchar *password;
  gint64 ttl_s;
} Job;

static void
job_free (Job *job)
{
  g_free (job->username);
  gc_secret_free (job->password);
  g_free (job);
}

/* The request waiting (paused) for its job. */
typedef struct {
  GcAccountsApi *api;
  SoupServerMessage *msg;
  JobKind kind;
  gchar *address; /* (nullable) the client's, for the sign-in limiter */
} Pending;

static void
pending_free (Pending *p)
{
  g_object_unref (p->api);
  g_object_unref (p->msg);
  g_free (p->address);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

/* On a pool thread: the slow part, then the token. */
static void
run_job (gpointer data, gpointer user_data)
{
  GTask *task = data;
  GcAccountsApi *api = g_task_get_source_object (task);
  Job *job = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (Session) s = g_new0 (Session, 1);

  if (job->kind == JOB_SIGN_UP)
    s->id = gc_accounts_sign_up (api->accounts, job->username, job->password,
                                 &error);
  else
    s->id = gc_accounts_verify (api->accounts, job->username, job->password,
                                &error);
  if (s->id != 0 && gc_accounts_lookup (api->accounts, s->id, &s->username,
                                        &s->created_ms, &error))
    s->token =
        gc_accounts_issue_token (api->accounts, s->id, job->ttl_s, &error);
  if (s->token == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&s),
                           (GDestroyNotify)session_free);
  g_object_unref (task);
}

/* The sign-in limiter; main context only. */
static Attempts *
attempts_for (GcAccountsApi *api, const gchar *address, gboolean create)
{
  Attempts *a = g_hash_table_lookup (api->attempts, address);
  gint64 now = g_get_monotonic_time ();

  if (a == NULL && create) {
    if (g_hash_table_size (api->attempts) >= ATTEMPTS_PRUNE_AT) {
      GHashTableIter it;
      gpointer value;

      g_hash_table_iter_init (&it, api->attempts);
      while (g_hash_table_iter_next (&it, NULL, &value)) {
        Attempts *old = value;

        if (old->in_flight == 0 && now - old->window_start >= SIGN_IN_WINDOW_US)
          g_hash_table_iter_remove (&it);
      }
    }
    a = g_new0 (Attempts, 1);
    a->window_start = now;
    g_hash_table_insert (api->attempts, g_strdup (address), a);
  }
  if (a != NULL && now - a->window_start >= SIGN_IN_WINDOW_US) {
    a->window_start = now;
    a->failures = 0;
  }
  return a;
}

static void
on_job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Pending) p = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Session) s = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  GcAccountsApi *api = p->api;

  api->n_jobs--;
  s = g_task_propagate_pointer (G_TASK (result), &error);
  if (p->kind == JOB_SIGN_IN && p->address != NULL) {
    Attempts *a = attempts_for (api, p->address, TRUE);

    a->in_flight--;
    if (g_error_matches (error, GC_ACCOUNTS_ERROR,
                         GC_ACCOUNTS_ERROR_BAD_CREDENTIALS)) {
      if (a->failures == 0)
        a->window_start = g_get_monotonic_time ();
      a->failures++;
    }
  }
  if (s == NULL) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_ADDRESS",
                      p->address ? p->address : "", "MESSAGE", "%s refused: %s",
                      p->kind == JOB_SIGN_UP ? "sign-up" : "sign-in",
                      error->message);
    reply_error (p->msg, error);
    soup_server_message_unpause (p->msg);
    return;
  }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_ACCOUNT", s->username,
                    "MESSAGE", "%s: %s",
                    p->kind == JOB_SIGN_UP ? "account created" : "signed in",
                    s->username);
  b = json_builder_new ();
  json_builder_begin_object (b);
  add_account (b, s->id, s->username, s->created_ms);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, s->token);
  json_builder_end_object (b);
  set_cookie (p->msg, s->token, api->config->accounts.session_ttl_s);
  gc_http_reply_json (
      p->msg, p->kind == JOB_SIGN_UP ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, b);
  soup_server_message_unpause (p->msg);
}

/* POST /accounts and POST /sessions: checks the request on the main
 * context, then hands the hash to the pool with the message paused. */
static void
start_job (GcAccountsApi *api, SoupServerMessage *msg, JobKind kind)
{
  g_autoptr (GBytes) body = json_body (msg);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *username = NULL;
  gchar *password = NULL;
  const gchar *address = soup_server_message_get_remote_host (msg);
  const gchar *data;
  gsize len;
  Pending *p;
  Job *job;
  GTask *task;

  if (body == NULL)
    return;
  data = g_bytes_get_data (body, &len);
  if (!gc_accounts_api_parse_credentials (data, len, &username, &password,
                                          &error)) {
    gc_http_reply_error (msg, error);
    return;
  }
  if (kind == JOB_SIGN_UP && !gc_accounts_username_is_valid (username)) {
    gc_secret_free (password);
    reply_new_error (msg, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "usernames are 3 to 25 of a-z, 0-9 and _");
    return;
  }
  if (kind == JOB_SIGN_IN && address != NULL) {
    Attempts *a = attempts_for (api, address, FALSE);

    if (a != NULL && a->failures + a->in_flight >= SIGN_IN_FAILURES) {
      gc_secret_free (password);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_ADDRESS", address,
                        "MESSAGE", "sign-in refused: too many failures");
      reply_too_many (
          msg, (a->window_start + SIGN_IN_WINDOW_US - g_get_monotonic_time ()) /
                       G_USEC_PER_SEC +
                   1);
      return;
    }
  }
  if (api->n_jobs >= MAX_JOBS) {
    gc_secret_free (password);
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Retry-After", "1");
    reply_new_error (msg, GC_CHANNEL_ERROR_UNAVAILABLE,
                     "too many sign-ins under way: try again");
    return;
  }

  job = g_new0 (Job, 1);
  job->kind = kind;
  job->username = g_steal_pointer (&username);
  job->password = password;
  job->ttl_s = api->config->accounts.session_ttl_s;
  p = g_new0 (Pending, 1);
  p->api = g_object_ref (api);
  p->msg = g_object_ref (msg);
  p->kind = kind;
  p->address = g_strdup (address);
  if (kind == JOB_SIGN_IN && address != NULL)
    attempts_for (api, address, TRUE)->in_flight++;
  api->n_jobs++;

  task = g_task_new (api, NULL, on_job_done, p);
  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, (GDestroyNotify)job_free);
  soup_server_message_pause (msg);
  g_thread_pool_push (api->pool, task, NULL);
}

static void
get_me (GcAccountsApi *api, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) b = NULL;
  g_autofree gchar *username = NULL;
  gint64 created_ms = 0;
  gint64 id = gc_accounts_api_session (api, msg, &username, &created_ms);

  if (id == 0) {
    reply_new_error (msg, GC_CHANNEL_ERROR_UNAUTHORIZED, "not signed in");
    return;
  }
  b = json_builder_new ();
  json_builder_begin_object (b);
  add_account (b, id, username, created_ms);
  json_builder_end_object (b);
  gc_http_reply_json (msg, SOUP_STATUS_OK, b);
}

/* DELETE /sessions/current: revokes the token the request came with and
 * clears the cookie whatever happens. */
static void
delete_current (GcAccountsApi *api, SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  g_autoptr (GError) error = NULL;
  gchar *token;
  gint64 id;

  set_cookie (msg, NULL, 0);
  id = gc_accounts_api_session (api, msg, NULL, NULL);
  if (id == 0) {
    reply_new_error (msg, GC_CHANNEL_ERROR_UNAUTHORIZED, "not signed in");
    return;
  }
  token = gc_accounts_api_request_token (
      soup_message_headers_get_one (h, "Authorization"),
      soup_message_headers_get_one (h, "Cookie"));
  if (!gc_accounts_revoke_token (api->accounts, token, &error)) {
    gc_secret_free (token);
    reply_error (msg, error);
    return;
  }
  gc_secret_free (token);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE",
                    "signed out: account %" G_GINT64_FORMAT, id);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  gc_http_set_cors (msg);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  GcAccountsApi *api = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *raw = g_uri_get_path (soup_server_message_get_uri (msg));
  gboolean read = method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD;
  const gchar *allow = NULL;

  if (strcmp (raw, ACCOUNTS) == 0 || strcmp (raw, SESSIONS) == 0) {
    allow = "POST, OPTIONS";
    if (method == SOUP_METHOD_POST) {
      start_job (api, msg,
                 strcmp (raw, ACCOUNTS) == 0 ? JOB_SIGN_UP : JOB_SIGN_IN);
      return;
    }
  } else if (strcmp (raw, CURRENT) == 0) {
    allow = "DELETE, OPTIONS";
    if (method == SOUP_METHOD_DELETE) {
      delete_current (api, msg);
      return;
    }
  } else if (strcmp (raw, ME) == 0) {
    allow = "GET, HEAD, OPTIONS";
    if (read) {
      get_me (api, msg);
      return;
    }
  } else {
    reply_new_error (msg, GC_CHANNEL_ERROR_NOT_FOUND, "no such API resource");
    return;
  }
  if (method == SOUP_METHOD_OPTIONS)
    gc_http_reply_preflight_for (msg, allow, "Authorization, Content-Type");
  else
    method_not_allowed (msg, allow);
}

void
gc_accounts_api_attach (GcAccountsApi *api, SoupServer *soup)
{
  g_return_if_fail (GC_IS_ACCOUNTS_API (api));
  g_return_if_fail (SOUP_IS_SERVER (soup));

  soup_server_add_handler (soup, ACCOUNTS, on_request, g_object_ref (api),
                           g_object_unref);
  soup_server_add_handler (soup, SESSIONS, on_request, g_object_ref (api),
                           g_object_unref);
  soup_server_add_handler (soup, ME, on_request, g_object_ref (api),
                           g_object_unref);
}

/* ------------------------------------------------------------ roles */

typedef struct {
  GcAccountsApi *api;
  SoupServerMessage *msg;
  gchar *channel;
  gchar *username; /* (nullable) NULL: the whole list */
  gboolean put;
  GcAccountsRoles roles; /* for put */
} RolesRequest;

static void
roles_request_free (RolesRequest *r)
{
  g_object_unref (r->api);
  g_object_unref (r->msg);
  g_free (r->channel);
  g_free (r->username);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RolesRequest, roles_request_free)

static void
add_roles (JsonBuilder *b, GcAccountsRoles roles)
{
  json_builder_set_member_name (b, "roles");
  json_builder_begin_array (b);
  for (guint r = 0; r < G_N_ELEMENTS (role_names); r++) {
    if (roles & role_names[r].role)
      json_builder_add_string_value (b, role_names[r].name);
  }
  json_builder_end_array (b);
}

static void
add_grant (GcAccountsApi *api, JsonBuilder *b, const gchar *username,
           GcAccountsRoles roles, gint64 granted_by, gint64 granted_ms)
{
  g_autofree gchar *granter = NULL;

  if (granted_by > 0)
    gc_accounts_lookup (api->accounts, granted_by, &granter, NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, username);
  add_roles (b, roles);
  /* null: the admin token or glasscastd itself. */
  json_builder_set_member_name (b, "granted_by");
  if (granter != NULL)
    json_builder_add_string_value (b, granter);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "granted_ms");
  if (granted_ms > 0)
    json_builder_add_int_value (b, granted_ms);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

/* Does what @r asks, authorised as @granted_by (0: the admin token). */
static void
roles_run (RolesRequest *r, gint64 granted_by)
{
  GcAccountsApi *api = r->api;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GcAccountsRoles roles = GC_ACCOUNTS_ROLE_NONE;
  gint64 by = 0, when = 0;
  gint64 account;

  if (r->username == NULL) {
    g_autoptr (GPtrArray) grants =
        gc_accounts_list_roles (api->accounts, r->channel, &error);
    const gchar *owner;

    if (grants == NULL) {
      reply_error (r->msg, error);
      return;
    }
    owner =
        gc_channel_get_owner (gc_channels_lookup (api->channels, r->channel));
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "channel");
    json_builder_add_string_value (b, r->channel);
    json_builder_set_member_name (b, "owner");
    if (owner != NULL)
      json_builder_add_string_value (b, owner);
    else
      json_builder_add_null_value (b);
    json_builder_set_member_name (b, "grants");
    json_builder_begin_array (b);
    for (guint i = 0; i < grants->len; i++) {
      GcAccountsGrant *g = grants->pdata[i];

      add_grant (api, b, g->username, g->roles, g->granted_by, g->granted_ms);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
    gc_http_reply_json (r->msg, SOUP_STATUS_OK, b);
    return;
  }

  account = gc_accounts_find (api->accounts, r->username, &error);
  if (account == 0) {
    reply_error (r->msg, error);
    return;
  }
  if (r->put) {
    if (!gc_accounts_set_roles (api->accounts, r->channel, account, r->roles,
                                granted_by, &error)) {
      reply_error (r->msg, error);
      return;
    }
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", r->channel,
                      "GC_ACCOUNT", r->username, "MESSAGE",
                      "roles of %s in %s set to 0x%x", r->username, r->channel,
                      (guint)r->roles);
  }
  if (!gc_accounts_get_roles (api->accounts, r->channel, account, &roles, &by,
                              &when, &error)) {
    reply_error (r->msg, error);
    return;
  }
  {
    g_autofree gchar *name = g_ascii_strdown (r->username, -1);

    add_grant (api, b, name, roles, by, when);
  }
  gc_http_reply_json (r->msg, SOUP_STATUS_OK, b);
}

static void
on_admin_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RolesRequest) r = user_data;

  if (!gc_secret_verify_finish (result))
    reply_new_error (r->msg, GC_CHANNEL_ERROR_UNAUTHORIZED,
                     "wrong admin token or session");
  else
    roles_run (r, 0);
  soup_server_message_unpause (r->msg);
}

void
gc_accounts_api_handle_roles (GcAccountsApi *api, SoupServerMessage *msg,
                              const gchar *channel, const gchar *username)
{
  const gchar *method;
  const gchar *allow;
  const gchar *auth;
  g_autoptr (RolesRequest) r = NULL;
  g_autofree gchar *who = NULL;
  gint64 id;

  g_return_if_fail (GC_IS_ACCOUNTS_API (api));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));
  g_return_if_fail (channel != NULL);

  method = soup_server_message_get_method (msg);
  allow = username != NULL ? "GET, HEAD, PUT, OPTIONS" : "GET, HEAD, OPTIONS";
  if (method == SOUP_METHOD_OPTIONS) {
    gc_http_reply_preflight_for (msg, allow, "Authorization, Content-Type");
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD &&
      (username == NULL || method != SOUP_METHOD_PUT)) {
    method_not_allowed (msg, allow);
    return;
  }
  if (!gc_config_channel_name_is_valid (channel) ||
      gc_channels_lookup (api->channels, channel) == NULL) {
    reply_new_error (msg, GC_CHANNEL_ERROR_NOT_FOUND, "no such channel");
    return;
  }
  if (username != NULL && !gc_accounts_username_is_valid (username)) {
    reply_new_error (msg, GC_CHANNEL_ERROR_NOT_FOUND, "no such account");
    return;
  }

  r = g_new0 (RolesRequest, 1);
  r->api = g_object_ref (api);
  r->msg = g_object_ref (msg);
  r->channel = g_strdup (channel);
  r->username = g_strdup (username);
  r->put = method == SOUP_METHOD_PUT;
  if (r->put) {
    g_autoptr (GBytes) body = json_body (msg);
    g_autoptr (GError) error = NULL;
    const gchar *data;
    gsize len;

    if (body == NULL)
      return;
    data = g_bytes_get_data (body, &len);
    if (!gc_accounts_api_parse_roles (data, len, &r->roles, &error)) {
      gc_http_reply_error (msg, error);
      return;
    }
  }

  id = gc_accounts_api_session (api, msg, &who, NULL);
  if (id != 0 && gc_accounts_api_owns_channel (api, who, channel)) {
    roles_run (r, id);
    return;
  }
  auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  if (id == 0 && api->config->admin_token_hash != NULL && auth != NULL) {
    gchar *token = gc_accounts_api_request_token (auth, NULL);

    if (token != NULL) {
      soup_server_message_pause (msg);
      gc_secret_verify_async (token, api->config->admin_token_hash, NULL,
                              on_admin_checked, g_steal_pointer (&r));
      gc_secret_free (token);
      return;
    }
  }
  if (id != 0)
    reply_new_error (msg, GC_CHANNEL_ERROR_FORBIDDEN,
                     "only the channel's owner or the admin token manages "
                     "its roles");
  else
    reply_new_error (msg, GC_CHANNEL_ERROR_UNAUTHORIZED,
                     "sign in as the channel's owner, or send the admin "
                     "token");
}

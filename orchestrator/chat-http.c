/* chat-http.c — glasscastd's side of the chat: who a WebSocket or API caller is (session, channel owner,
 * granted roles), the upgrade handed to the hub's epoll threads, moderation and archive reads over JSON. */

#include "chat-http.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "channel.h"
#include "chat-error.h"
#include "http-util.h"
#include "protocol.h"

#define API_PREFIX "/api/v1/chat/"
#define MAX_ACTION_BODY (16 * 1024)
#define DEFAULT_READ_LIMIT 1000
#define MAX_READ_LIMIT 5000

struct _GcChatHttp {
  const GcConfig *config;
  GcChannels *channels;
  GcAccountsApi *accounts_api;
  GcChatService *service;
  GcChatBanFunc on_ban; /* (nullable) */
  gpointer on_ban_data;
};

/* ------------------------------------------------------------ identity */

/* A page of another site may open our WebSocket (the browser sends our
 * cookie along): such a socket reads as anonymous. */
static gboolean
is_cross_origin (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *origin = soup_message_headers_get_one (h, "Origin");
  const gchar *host = soup_message_headers_get_one (h, "Host");
  g_autoptr (GUri) uri = NULL;
  g_autofree gchar *authority = NULL;

  if (origin == NULL)
    return FALSE; /* not a browser */
  uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || host == NULL || g_uri_get_host (uri) == NULL)
    return TRUE;
  if (g_uri_get_port (uri) > 0)
    authority =
        g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  else
    authority = g_strdup (g_uri_get_host (uri));
  return g_ascii_strcasecmp (authority, host) != 0;
}

/* The caller of @msg in @room: anonymous without a valid session. */
static GcChatIdentity *
identity_for (GcChatHttp *self, SoupServerMessage *msg, const gchar *room,
              gboolean check_origin)
{
  const gchar *address = soup_server_message_get_remote_host (msg);
  g_autofree gchar *username = NULL;
  g_autoptr (GError) error = NULL;
  GcAccountsRoles granted = GC_ACCOUNTS_ROLE_NONE;
  GcChatRoles roles;
  gint64 created_ms = 0;
  gint64 id;

  if (check_origin && is_cross_origin (msg))
    return gc_chat_identity_new_anonymous (address);
  id =
      gc_accounts_api_session (self->accounts_api, msg, &username, &created_ms);
  if (id <= 0 || username == NULL)
    return gc_chat_identity_new_anonymous (address);
  if (!gc_accounts_get_roles (gc_accounts_api_get_accounts (self->accounts_api),
                              room, id, &granted, NULL, NULL, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_CHANNEL", room,
                      "MESSAGE", "cannot read roles: %s", error->message);
  /* GcAccountsRoles carries GcChatRoles' values (accounts.h). */
  roles = (GcChatRoles)granted;
  if (gc_accounts_api_owns_channel (self->accounts_api, username, room))
    roles |= GC_CHAT_ROLE_BROADCASTER;
  /* No follows yet: the account's age stands for it, so a followers-only
   * gate still keeps brand-new accounts out. */
  return gc_chat_identity_new (username, NULL, roles, created_ms, created_ms,
                               address);
}

/* ------------------------------------------------------------ WebSocket */

typedef struct {
  GcChatHttp *self;
  gchar *room;
  GcChatIdentity *identity;
  GSocket *socket;
} Upgrade;

static void
upgrade_free (gpointer data, GClosure *closure)
{
  Upgrade *u = data;

  g_free (u->room);
  gc_chat_identity_unref (u->identity);
  g_clear_object (&u->socket);
  g_free (u);
}

/* The 101 is on the wire: the socket leaves libsoup for the hub. libsoup's
 * stream is closed; the hub owns our duplicate of the descriptor. */
static void
on_wrote_informational (SoupServerMessage *msg, gpointer user_data)
{
  Upgrade *u = user_data;
  g_autoptr (GIOStream) stream = NULL;
  int fd;

  if (soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;
  fd = dup (g_socket_get_fd (u->socket));
  stream = soup_server_message_steal_connection (msg);
  g_io_stream_close (stream, NULL, NULL);
  if (fd < 0) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "chat: cannot keep an upgraded socket: %s",
                      g_strerror (errno));
    return;
  }
  gc_chat_service_adopt_connection (u->self->service, fd, u->room, u->identity,
                                    NULL);
}

static gboolean
check_room (GcChatHttp *self, SoupServerMessage *msg, const gchar *room)
{
  g_autoptr (GError) error = NULL;

  if (gc_chat_room_name_is_valid (room) &&
      gc_channels_lookup (self->channels, room) != NULL)
    return TRUE;
  error =
      g_error_new (GC_CHAT_ERROR, GC_CHAT_ERROR_NOT_FOUND, "no such channel");
  gc_http_reply_error (msg, error);
  return FALSE;
}

static void
on_chat (SoupServer *soup, SoupServerMessage *msg, const char *path,
         GHashTable *query, gpointer user_data)
{
  GcChatHttp *self = user_data;
  const gchar *room = path + strlen ("/chat/");
  g_autoptr (GError) error = NULL;
  Upgrade *u;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    error = g_error_new (GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                         "the chat is a WebSocket: GET with Upgrade");
    gc_http_reply_error (msg, error);
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Allow", "GET");
    return;
  }
  if (!check_room (self, msg, room))
    return;
  /* No extensions accepted: permessage-deflate stays off (every frame is
   * encoded once and shared by all its receivers). */
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL)) {
    if (soup_server_message_get_status (msg) < 400)
      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
    gc_http_set_json_error (msg, "bad_request",
                            "expected a WebSocket upgrade (RFC 6455)");
    return;
  }
  u = g_new0 (Upgrade, 1);
  u->self = self;
  u->room = g_strdup (room);
  u->identity = identity_for (self, msg, room, TRUE);
  u->socket = g_object_ref (soup_server_message_get_socket (msg));
  g_signal_connect_data (msg, "wrote-informational",
                         G_CALLBACK (on_wrote_informational), u, upgrade_free,
                         0);
}

/* ------------------------------------------------------------ JSON API */

static void
reply_json (SoupServerMessage *msg, guint status, GString *body)
{
  gsize len = body->len;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_string_free (body, FALSE), len);
}

static void
reply_chat_error (SoupServerMessage *msg, GcChatErrorCode code,
                  const gchar *message)
{
  g_autoptr (GError) error = g_error_new_literal (GC_CHAT_ERROR, code, message);

  gc_http_reply_error (msg, error);
}

static void
post_action (GcChatHttp *self, SoupServerMessage *msg, const gchar *room)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *type = soup_message_headers_get_content_type (h, NULL);
  g_autoptr (GcChatIdentity) actor = NULL;
  g_autoptr (GcChatAction) action = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  const gchar *data;

  /* JSON only: a form post from another site cannot reach here without a
   * CORS preflight, which we never grant (cookies are a credential). */
  if (g_strcmp0 (type, "application/json") != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                                    NULL);
    gc_http_set_json_error (msg, "unsupported_media_type",
                            "send Content-Type: application/json");
    return;
  }
  if (body->length > MAX_ACTION_BODY) {
    soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                                    NULL);
    gc_http_set_json_error (msg, "too_large", "an action is at most 16 KiB");
    return;
  }
  actor = identity_for (self, msg, room, FALSE);
  if (gc_chat_identity_get_login (actor) == NULL) {
    reply_chat_error (msg, GC_CHAT_ERROR_LOGIN_REQUIRED,
                      "sign in (Authorization: Bearer, or the session cookie)");
    return;
  }
  bytes = soup_message_body_flatten (body);
  data = g_bytes_get_data (bytes, &len);
  action = gc_chat_protocol_parse_request (data ? data : "", len, &error);
  if (action == NULL) {
    gc_http_reply_error (msg, error);
    return;
  }
  if (action->type == GC_CHAT_ACTION_JOIN) {
    reply_chat_error (msg, GC_CHAT_ERROR_BAD_REQUEST,
                      "join is for the WebSocket at /chat/<channel>");
    return;
  }
  if (!gc_chat_service_perform (self->service, room, actor, action, &error)) {
    gc_http_reply_error (msg, error);
    return;
  }
  {
    GString *out = g_string_new ("{\"ok\":true,\"type\":");
    gc_chat_json_append_string (out,
                                gc_chat_action_type_to_string (action->type));
    g_string_append (out, "}\n");
    reply_json (msg, SOUP_STATUS_OK, out);
  }
}

/* A query integer: absent -> @def; malformed -> FALSE. */
static gboolean
query_int (GHashTable *query, const gchar *name, gint64 min, gint64 max,
           gint64 def, gint64 *out)
{
  const gchar *v = query ? g_hash_table_lookup (query, name) : NULL;

  *out = def;
  if (v == NULL)
    return TRUE;
  return g_ascii_string_to_signed (v, 10, min, max, out, NULL);
}

typedef struct {
  GcChatArchive *archive;
  gchar *room;
  gboolean audit;
  GcChatArchiveClock clock;
  gint64 from_ms;
  gint64 to_ms;
  gint64 limit;
  gboolean include_deleted;
} ReadJob;

static void
read_job_free (gpointer data)
{
  ReadJob *job = data;

  g_free (job->room);
  g_free (job);
}

static void
append_nullable (GString *out, const gchar *key, const gchar *value)
{
  g_string_append_printf (out, ",\"%s\":", key);
  if (value != NULL)
    gc_chat_json_append_string (out, value);
  else
    g_string_append (out, "null");
}

static void
string_free (gpointer s)
{
  g_string_free (s, TRUE);
}

static void
read_in_thread (GTask *task, gpointer source, gpointer data,
                GCancellable *cancellable)
{
  ReadJob *job = data;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GError) error = NULL;
  GString *out;
  guint n;

  if (job->audit)
    rows = gc_chat_archive_read_audit (job->archive, job->room, job->from_ms,
                                       job->to_ms, &error);
  else
    rows = gc_chat_archive_read_range (job->archive, job->room, job->clock,
                                       job->from_ms, job->to_ms,
                                       job->include_deleted, &error);
  if (rows == NULL && error != NULL) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  n = rows ? MIN (rows->len, (guint)job->limit) : 0;
  out = g_string_new (job->audit ? "{\"audit\":[" : "{\"messages\":[");
  for (guint i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c (out, ',');
    if (job->audit) {
      GcChatArchivedAudit *a = rows->pdata[i];
      g_string_append (out, "{\"actor\":");
      gc_chat_json_append_string (out, a->actor);
      g_string_append (out, ",\"action\":");
      gc_chat_json_append_string (out, a->action);
      append_nullable (out, "target", a->target);
      append_nullable (out, "reason", a->reason);
      /* detail is the action's own JSON object. */
      g_string_append_printf (out,
                              ",\"detail\":%s,\"ts\":%" G_GINT64_FORMAT "}",
                              a->detail ? a->detail : "null", a->ts_ms);
    } else {
      GcChatArchivedMessage *m = rows->pdata[i];
      g_string_append (out, "{\"id\":");
      gc_chat_json_append_string (out, m->id);
      g_string_append (out, ",\"user\":");
      gc_chat_json_append_string (out, m->user);
      append_nullable (out, "display_name", m->display_name);
      g_string_append (out, ",\"text\":");
      gc_chat_json_append_string (out, m->text);
      append_nullable (out, "reply_to", m->reply_to);
      if (m->kind == GC_CHAT_MESSAGE_TIP) {
        g_string_append_printf (
            out, ",\"kind\":\"tip\",\"amount\":%" G_GINT64_FORMAT, m->amount);
        append_nullable (out, "currency", m->currency);
      }
      g_string_append_printf (out, ",\"ts\":%" G_GINT64_FORMAT, m->ts_ms);
      if (m->stream_offset_ms >= 0)
        g_string_append_printf (out, ",\"offset_ms\":%" G_GINT64_FORMAT,
                                m->stream_offset_ms);
      else
        g_string_append (out, ",\"offset_ms\":null");
      if (m->deleted) {
        g_string_append_printf (
            out, ",\"deleted\":true,\"deleted_ts\":%" G_GINT64_FORMAT,
            m->deleted_ts_ms);
        append_nullable (out, "deleted_by", m->deleted_by);
      }
      g_string_append_c (out, '}');
    }
  }
  g_string_append_printf (out, "],\"truncated\":%s}\n",
                          rows && rows->len > n ? "true" : "false");
  g_task_return_pointer (task, out, string_free);
}

static void
on_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  g_autoptr (GError) error = NULL;
  GString *out = g_task_propagate_pointer (G_TASK (result), &error);

  if (out != NULL)
    reply_json (msg, SOUP_STATUS_OK, out);
  else
    gc_http_reply_error (msg, error);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
get_archive (GcChatHttp *self, SoupServerMessage *msg, const gchar *room,
             GHashTable *query, gboolean audit)
{
  GcChatArchive *archive = gc_chat_service_get_archive (self->service);
  const gchar *clock = query ? g_hash_table_lookup (query, "clock") : NULL;
  gint64 now = g_get_real_time () / 1000;
  g_autoptr (GTask) task = NULL;
  gboolean privileged = FALSE;
  gint64 deleted = 0;
  ReadJob *job;

  if (archive == NULL) {
    reply_chat_error (msg, GC_CHAT_ERROR_NOT_FOUND, "no chat archive");
    return;
  }
  job = g_new0 (ReadJob, 1);
  job->archive = archive;
  job->room = g_strdup (room);
  job->audit = audit;
  job->clock = g_strcmp0 (clock, "stream") == 0 ? GC_CHAT_ARCHIVE_BY_STREAM
                                                : GC_CHAT_ARCHIVE_BY_WALL_CLOCK;
  if ((clock != NULL && !g_str_equal (clock, "stream") &&
       !g_str_equal (clock, "wall")) ||
      !query_int (query, "from_ms", 0, G_MAXINT64,
                  job->clock == GC_CHAT_ARCHIVE_BY_STREAM ? 0
                                                          : now - 3600 * 1000,
                  &job->from_ms) ||
      !query_int (query, "to_ms", 0, G_MAXINT64, G_MAXINT64, &job->to_ms) ||
      !query_int (query, "limit", 1, MAX_READ_LIMIT, DEFAULT_READ_LIMIT,
                  &job->limit) ||
      !query_int (query, "include_deleted", 0, 1, 0, &deleted) ||
      job->to_ms < job->from_ms) {
    read_job_free (job);
    reply_chat_error (msg, GC_CHAT_ERROR_BAD_REQUEST,
                      "query: from_ms, to_ms (ms, from <= to), limit (1-5000), "
                      "clock (wall or stream), include_deleted (0 or 1)");
    return;
  }
  if (audit || deleted) {
    g_autoptr (GcChatIdentity) who = identity_for (self, msg, room, FALSE);
    privileged =
        (gc_chat_identity_get_roles (who) & GC_CHAT_ROLES_PRIVILEGED) != 0;
    if (!privileged) {
      read_job_free (job);
      reply_chat_error (msg,
                        gc_chat_identity_get_login (who)
                            ? GC_CHAT_ERROR_FORBIDDEN
                            : GC_CHAT_ERROR_LOGIN_REQUIRED,
                        "the audit log and deleted messages are for the "
                        "channel's moderators");
      return;
    }
  }
  job->include_deleted = deleted != 0;
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, on_read_done, g_object_ref (msg));
  g_task_set_task_data (task, job, read_job_free);
  g_task_run_in_thread (task, read_in_thread);
}

static void
on_api (SoupServer *soup, SoupServerMessage *msg, const char *path,
        GHashTable *query, gpointer user_data)
{
  GcChatHttp *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path + strlen (API_PREFIX), "/", -1);
  const gchar *allow;

  if (g_strv_length (parts) != 2 || !check_room (self, msg, parts[0]))
    goto not_found;
  if (g_str_equal (parts[1], "actions")) {
    allow = "POST";
    if (method == SOUP_METHOD_POST) {
      post_action (self, msg, parts[0]);
      return;
    }
  } else if (g_str_equal (parts[1], "messages") ||
             g_str_equal (parts[1], "audit")) {
    allow = "GET";
    if (method == SOUP_METHOD_GET) {
      get_archive (self, msg, parts[0], query, g_str_equal (parts[1], "audit"));
      return;
    }
  } else {
    goto not_found;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Allow", allow);
  gc_http_set_json_error (msg, "method_not_allowed", "method not allowed");
  return;

not_found:
  if (soup_server_message_get_status (msg) == 0 ||
      soup_server_message_get_status (msg) == SOUP_STATUS_OK)
    reply_chat_error (msg, GC_CHAT_ERROR_NOT_FOUND, "no such resource");
}

/* ------------------------------------------------------------ service */

static void
on_audit (const GcChatAuditRecord *r, gpointer user_data)
{
  GcChatHttp *self = user_data;

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "GC_CHANNEL", r->room,
                    "GC_ACTOR", r->actor, "GC_ACTION", r->action, "GC_TARGET",
                    r->target ? r->target : "", "MESSAGE", "chat moderation");
  if (self->on_ban != NULL && r->target != NULL &&
      g_strcmp0 (r->action, "ban") == 0)
    self->on_ban (r->room, r->target, self->on_ban_data);
}

/* A message's place in the recording: ms since the channel went live. */
static gint64
media_offset (const gchar *room, gint64 ts_ms, gpointer user_data)
{
  GcChatHttp *self = user_data;
  GcChannel *channel = gc_channels_lookup (self->channels, room);
  gint64 since;

  if (channel == NULL ||
      gc_channel_get_state (channel) != GC_CHANNEL_STATE_LIVE)
    return -1;
  since = gc_channel_get_since (channel) / 1000;
  return since > 0 && ts_ms >= since ? ts_ms - since : -1;
}

GcChatHttp *
gc_chat_http_new (const GcConfig *config, GcChannels *channels,
                  GcAccountsApi *accounts_api, GError **error)
{
  g_autoptr (GcChatHttp) self = g_new0 (GcChatHttp, 1);
  g_autofree gchar *archive = NULL;
  GcChatConfig cc;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (GC_IS_CHANNELS (channels), NULL);
  g_return_val_if_fail (GC_IS_ACCOUNTS_API (accounts_api), NULL);

  self->config = config;
  self->channels = g_object_ref (channels);
  self->accounts_api = g_object_ref (accounts_api);
  archive = config->chat.archive
                ? g_strdup (config->chat.archive)
                : g_build_filename (config->data_dir, "chat.db", NULL);
  gc_chat_config_init (&cc);
  cc.redis_address = config->chat.redis;
  cc.node_id = config->chat.node_id;
  cc.archive_path = archive;
  cc.presence_interval_ms = config->chat.presence_interval_ms;
  cc.hub.threads = config->chat.hub_threads;
  cc.hub.send_queue_bytes = config->chat.send_queue_bytes;
  self->service = gc_chat_service_new (&cc, NULL, error);
  if (self->service == NULL) {
    g_prefix_error (error, "chat: ");
    return NULL;
  }
  gc_chat_service_set_audit_func (self->service, on_audit, self, NULL);
  gc_chat_service_set_offset_func (self->service, media_offset, self, NULL);
  return g_steal_pointer (&self);
}

void
gc_chat_http_attach (GcChatHttp *self, SoupServer *soup)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (SOUP_IS_SERVER (soup));

  soup_server_add_handler (soup, "/chat/", on_chat, self, NULL);
  soup_server_add_handler (soup, API_PREFIX, on_api, self, NULL);
}

void
gc_chat_http_set_ban_func (GcChatHttp *self, GcChatBanFunc func,
                           gpointer user_data)
{
  g_return_if_fail (self != NULL);
  self->on_ban = func;
  self->on_ban_data = user_data;
}

GcChatService *
gc_chat_http_get_service (GcChatHttp *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->service;
}

void
gc_chat_http_append_metrics (GcChatHttp *self, GString *out)
{
  GcChatServiceStats s;

  g_return_if_fail (self != NULL);

  gc_chat_service_get_stats (self->service, &s);
  g_string_append_printf (
      out,
      "# HELP glasscast_chat_connections Chat WebSockets open now.\n"
      "# TYPE glasscast_chat_connections gauge\n"
      "glasscast_chat_connections %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_chat_rooms Chat rooms with state on this node.\n"
      "# TYPE glasscast_chat_rooms gauge\n"
      "glasscast_chat_rooms %u\n"
      "# HELP glasscast_chat_deliveries_total Frames delivered (one frame to "
      "one connection).\n"
      "# TYPE glasscast_chat_deliveries_total counter\n"
      "glasscast_chat_deliveries_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_chat_slow_dropped_total Connections closed for a "
      "full send queue.\n"
      "# TYPE glasscast_chat_slow_dropped_total counter\n"
      "glasscast_chat_slow_dropped_total %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_chat_messages_total Messages posted on this node, by "
      "outcome.\n"
      "# TYPE glasscast_chat_messages_total counter\n"
      "glasscast_chat_messages_total{outcome=\"accepted\"} %" G_GUINT64_FORMAT
      "\n"
      "glasscast_chat_messages_total{outcome=\"refused\"} %" G_GUINT64_FORMAT
      "\n"
      "glasscast_chat_messages_total{outcome=\"held\"} %" G_GUINT64_FORMAT "\n"
      "# HELP glasscast_chat_redis_up Whether the chat's Redis link is up.\n"
      "# TYPE glasscast_chat_redis_up gauge\n"
      "glasscast_chat_redis_up %d\n"
      "# HELP glasscast_chat_redis_backlog Writes waiting for Redis.\n"
      "# TYPE glasscast_chat_redis_backlog gauge\n"
      "glasscast_chat_redis_backlog %u\n",
      s.hub.connections, s.rooms, s.hub.frames_sent, s.hub.slow_dropped,
      s.messages_accepted, s.messages_refused, s.messages_held,
      s.redis_up ? 1 : 0, s.redis_backlog);
}

void
gc_chat_http_free (GcChatHttp *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->service, gc_chat_service_free);
  g_clear_object (&self->channels);
  g_clear_object (&self->accounts_api);
  g_free (self);
}

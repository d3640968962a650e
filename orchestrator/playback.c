/* playback.c — playback tokens on the origin: the check on /live/ requests of playback=token channels,
 * the token endpoint for signed-in viewers, and the playlist rewrite that makes query tokens follow every URI. */

#include "playback.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "billing.h"
#include "channel-error.h"
#include "http-util.h"
#include "origin-error.h"

/* What gc_playback_check_request() leaves on the message. */
#define QUERY_TOKEN_KEY "gc-playback-query-token"
#define MAX_COOKIES 4

struct _GcPlayback {
  GObject parent_instance;

  const GcConfig *config;
  GBytes *secrets[3];         /* current, then the old one; NULL-terminated */
  GHashTable *token_channels; /* name -> name: playback=token */
  guint ttl_s;
  GcAccountsApi *accounts_api; /* (nullable) */
  GcPlaybackAuthorizeFunc authorize;
  gpointer authorize_data;
  GDestroyNotify authorize_destroy;
};

G_DEFINE_FINAL_TYPE (GcPlayback, gc_playback, G_TYPE_OBJECT)

static void
gc_playback_finalize (GObject *object)
{
  GcPlayback *playback = GC_PLAYBACK (object);

  for (guint i = 0; i < G_N_ELEMENTS (playback->secrets); i++)
    g_clear_pointer (&playback->secrets[i], g_bytes_unref);
  g_clear_pointer (&playback->token_channels, g_hash_table_unref);
  g_clear_object (&playback->accounts_api);
  if (playback->authorize_destroy != NULL)
    playback->authorize_destroy (playback->authorize_data);
  G_OBJECT_CLASS (gc_playback_parent_class)->finalize (object);
}

static void
gc_playback_class_init (GcPlaybackClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_playback_finalize;
}

static void
gc_playback_init (GcPlayback *playback)
{
  playback->token_channels =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

typedef struct {
  gchar *data;
  gsize len;
} SecretBuffer;

/* Wipes a secret before freeing it: it should not linger in the heap. */
static void
secret_buffer_free (gpointer user_data)
{
  SecretBuffer *buffer = user_data;

  memset (buffer->data, 0, buffer->len);
  g_free (buffer->data);
  g_free (buffer);
}

static GBytes *
secret_bytes_take (gchar *data, gsize len)
{
  SecretBuffer *buffer = g_new (SecretBuffer, 1);

  buffer->data = data;
  buffer->len = len;
  return g_bytes_new_with_free_func (data, len, secret_buffer_free, buffer);
}

static GBytes *
read_secret (const gchar *path, const gchar *key, GError **error)
{
  g_autofree gchar *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, error)) {
    g_prefix_error (error, "[server] %s: ", key);
    return NULL;
  }
  if (len < GC_PLAYBACK_TOKEN_SECRET_MIN) {
    memset (contents, 0, len);
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                 "[server] %s %s: needs at least %d bytes", key, path,
                 GC_PLAYBACK_TOKEN_SECRET_MIN);
    return NULL;
  }
  return secret_bytes_take (g_steal_pointer (&contents), len);
}

/* data-dir/playback-token-secret: made once (O_EXCL, so two starts cannot
 * both write it), then read like a configured one. */
static GBytes *
default_secret (const gchar *data_dir, GError **error)
{
  g_autofree gchar *path =
      g_build_filename (data_dir, GC_PLAYBACK_SECRET_FILE, NULL);
  guint8 secret[GC_PLAYBACK_TOKEN_SECRET_MIN];
  gsize done = 0;
  int fd;

  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                 "creating %s: %s", path, g_strerror (errno));
    return NULL;
  }
  if (fd >= 0) {
    while (done < sizeof secret) {
      ssize_t n = getrandom (secret + done, sizeof secret - done, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        g_error ("getrandom: %s", g_strerror (errno));
      done += (gsize)n;
    }
    done = 0;
    while (done < sizeof secret) {
      ssize_t n = write (fd, secret + done, sizeof secret - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        int errsv = errno;

        close (fd);
        g_unlink (path);
        memset (secret, 0, sizeof secret);
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                     "writing %s: %s", path, g_strerror (errsv));
        return NULL;
      }
      done += (gsize)n;
    }
    memset (secret, 0, sizeof secret);
    if (fsync (fd) != 0 || close (fd) != 0) {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "writing %s: %s", path, g_strerror (errno));
      return NULL;
    }
  }
  return read_secret (path, "playback-token-secret-file", error);
}

GcPlayback *
gc_playback_new (const GcConfig *config, GError **error)
{
  g_autoptr (GcPlayback) playback = NULL;
  guint n = 0;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  playback = g_object_new (GC_TYPE_PLAYBACK, NULL);
  playback->config = config;
  playback->ttl_s = config->playback_token_ttl_s > 0
                        ? config->playback_token_ttl_s
                        : GC_PLAYBACK_TOKEN_DEFAULT_LIFETIME;
  playback->secrets[n] = config->playback_secret_file != NULL
                             ? read_secret (config->playback_secret_file,
                                            "playback-token-secret-file", error)
                             : default_secret (config->data_dir, error);
  if (playback->secrets[n++] == NULL)
    return NULL;
  if (config->playback_old_secret_file != NULL) {
    playback->secrets[n] =
        read_secret (config->playback_old_secret_file,
                     "playback-token-old-secret-file", error);
    if (playback->secrets[n++] == NULL)
      return NULL;
  }
  for (guint i = 0; config->channels != NULL && i < config->channels->len;
       i++) {
    const GcChannelConfig *channel = config->channels->pdata[i];

    if (channel->playback_token)
      g_hash_table_add (playback->token_channels, g_strdup (channel->name));
  }
  return g_steal_pointer (&playback);
}

void
gc_playback_set_accounts (GcPlayback *playback, GcAccountsApi *api)
{
  g_return_if_fail (GC_IS_PLAYBACK (playback));
  g_return_if_fail (api == NULL || GC_IS_ACCOUNTS_API (api));

  g_set_object (&playback->accounts_api, api);
}

void
gc_playback_set_authorizer (GcPlayback *playback, GcPlaybackAuthorizeFunc func,
                            gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (GC_IS_PLAYBACK (playback));

  if (playback->authorize_destroy != NULL)
    playback->authorize_destroy (playback->authorize_data);
  playback->authorize = func;
  playback->authorize_data = user_data;
  playback->authorize_destroy = destroy;
}

gboolean
gc_playback_channel_needs_token (GcPlayback *playback, const gchar *channel)
{
  g_return_val_if_fail (GC_IS_PLAYBACK (playback), TRUE);

  return channel != NULL &&
         g_hash_table_contains (playback->token_channels, channel);
}

gchar **
gc_playback_cookie_tokens (const gchar *cookie_header)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  g_auto (GStrv) pairs = NULL;

  if (cookie_header != NULL) {
    pairs = g_strsplit (cookie_header, ";", -1);
    for (guint i = 0; pairs[i] != NULL && out->len < MAX_COOKIES; i++) {
      const gchar *pair = pairs[i];
      gsize name_len = strlen (GC_PLAYBACK_COOKIE);

      while (*pair == ' ' || *pair == '\t')
        pair++;
      if (strncmp (pair, GC_PLAYBACK_COOKIE, name_len) == 0 &&
          pair[name_len] == '=')
        g_ptr_array_add (out, g_strstrip (g_strdup (pair + name_len + 1)));
    }
  }
  g_ptr_array_add (out, NULL);
  return (gchar **)g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static gchar *
query_token (SoupServerMessage *msg, gboolean *present)
{
  const gchar *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr (GHashTable) params = NULL;
  const gchar *value;

  *present = FALSE;
  if (query == NULL || strstr (query, GC_PLAYBACK_QUERY "=") == NULL)
    return NULL;
  /* Undecodable: treated as a bad token, never as none. */
  *present = TRUE;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (params == NULL)
    return NULL;
  value = g_hash_table_lookup (params, GC_PLAYBACK_QUERY);
  if (value == NULL)
    *present = FALSE;
  return g_strdup (value);
}

static gboolean
forbidden (const GError *why, GError **error)
{
  /* The reason, never the token. */
  g_set_error (error, GC_ORIGIN_ERROR, GC_ORIGIN_ERROR_FORBIDDEN, "%s",
               why != NULL ? why->message
                           : "this channel needs a playback "
                             "token (query \"token\" or "
                             "cookie " GC_PLAYBACK_COOKIE ")");
  return FALSE;
}

gboolean
gc_playback_check_request (GcPlayback *playback, SoupServerMessage *msg,
                           const gchar *channel, GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GError) local = NULL;
  g_autofree gchar *token = NULL;
  g_auto (GStrv) cookies = NULL;
  gboolean in_query = FALSE;

  g_return_val_if_fail (GC_IS_PLAYBACK (playback), FALSE);
  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);

  if (!gc_playback_channel_needs_token (playback, channel))
    return TRUE;
  token = query_token (msg, &in_query);
  if (in_query) {
    if (gc_playback_token_verify (playback->secrets, token, channel, now, NULL,
                                  &local) <= 0)
      return forbidden (local, error);
    g_object_set_data_full (G_OBJECT (msg), QUERY_TOKEN_KEY,
                            g_steal_pointer (&token), g_free);
    return TRUE;
  }
  cookies = gc_playback_cookie_tokens (soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "Cookie"));
  for (guint i = 0; cookies[i] != NULL; i++) {
    g_clear_error (&local);
    if (gc_playback_token_verify (playback->secrets, cookies[i], channel, now,
                                  NULL, &local) > 0)
      return TRUE;
  }
  return forbidden (local, error);
}

const gchar *
gc_playback_request_query_token (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), QUERY_TOKEN_KEY);
}

static void
append_token (GString *out, const gchar *uri, gsize len, const gchar *token)
{
  g_string_append_len (out, uri, (gssize)len);
  g_string_append_c (out, memchr (uri, '?', len) != NULL ? '&' : '?');
  g_string_append (out, GC_PLAYBACK_QUERY "=");
  g_string_append (out, token);
}

/* A tag line: every URI="..." gets the token inside its quotes. */
static void
rewrite_tag (GString *out, const gchar *line, gsize len, const gchar *token)
{
  const gchar *end = line + len;
  const gchar *p = line;

  while (p < end) {
    const gchar *attr = g_strstr_len (p, end - p, "URI=\"");
    const gchar *value;
    const gchar *close;

    /* "URI=" must start an attribute, not end a longer name. */
    while (attr != NULL && attr > line && attr[-1] != ':' && attr[-1] != ',')
      attr = g_strstr_len (attr + 1, end - attr - 1, "URI=\"");
    if (attr == NULL)
      break;
    value = attr + strlen ("URI=\"");
    close = memchr (value, '"', end - value);
    if (close == NULL)
      break;
    g_string_append_len (out, p, value - p);
    append_token (out, value, close - value, token);
    p = close;
  }
  g_string_append_len (out, p, end - p);
}

GBytes *
gc_playback_rewrite_playlist (GBytes *playlist, const gchar *token)
{
  gsize size = 0;
  const gchar *data = g_bytes_get_data (playlist, &size);
  const gchar *end = data + size;
  const gchar *p = data;
  GString *out = g_string_sized_new (size + 256);

  g_return_val_if_fail (playlist != NULL && token != NULL, NULL);

  while (p < end) {
    const gchar *nl = memchr (p, '\n', end - p);
    const gchar *line_end = nl != NULL ? nl : end;
    gsize len = line_end - p;

    if (len > 0 && p[len - 1] == '\r')
      len--;
    if (len == 0)
      g_string_append_len (out, p, 0);
    else if (p[0] == '#')
      rewrite_tag (out, p, len, token);
    else
      append_token (out, p, len, token);
    g_string_append_len (out, p + len, line_end - (p + len));
    if (nl == NULL)
      break;
    g_string_append_c (out, '\n');
    p = nl + 1;
  }
  return g_string_free_to_bytes (out);
}

static void
reply_token (GcPlayback *playback, SoupServerMessage *msg, const gchar *channel,
             gint64 viewer)
{
  gint64 expires = g_get_real_time () / G_USEC_PER_SEC + playback->ttl_s;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = gc_playback_token_mint (
      playback->secrets[0], channel, viewer, expires, &error);
  g_autofree gchar *body = NULL;
  g_autofree gchar *cookie = NULL;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  if (token == NULL) {
    g_autoptr (GError) internal = g_error_new (
        GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_INTERNAL, "%s", error->message);

    gc_http_reply_error (msg, internal);
    return;
  }
  /* The channel name is [A-Za-z0-9_-] and the token URL-safe: nothing to
   * escape in JSON or the cookie. */
  body = g_strdup_printf ("{\"token\":\"%s\",\"expires\":%" G_GINT64_FORMAT
                          ",\"channel\":\"%s\"}",
                          token, expires, channel);
  cookie = g_strdup_printf (GC_PLAYBACK_COOKIE "=%s; Path=/live/%s/; "
                                               "Max-Age=%u; HttpOnly; "
                                               "SameSite=Lax",
                            token, channel, playback->ttl_s);
  soup_message_headers_append (h, "Set-Cookie", cookie);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    body, strlen (body));
  memset (body, 0, strlen (body));
}

static void
on_token_request (SoupServer *server, SoupServerMessage *msg, const char *path,
                  GHashTable *query, gpointer user_data)
{
  GcPlayback *playback = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *channel =
      query != NULL ? g_hash_table_lookup (query, "channel") : NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *username = NULL;
  gint64 viewer = 0;
  gboolean allowed;

  if (g_strcmp0 (path, "/api/v1/playback-token") != 0) {
    error = g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_FOUND,
                         "no such resource");
  } else if (method != SOUP_METHOD_GET) {
    error = g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_METHOD, "use GET");
  } else if (!gc_config_channel_name_is_valid (channel)) {
    error = g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                         "?channel= must name a channel");
  } else {
    if (playback->accounts_api != NULL)
      viewer = gc_accounts_api_session (playback->accounts_api, msg, &username,
                                        NULL);
    if (viewer <= 0) {
      error = g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_UNAUTHORIZED,
                           "sign in to get a playback token");
    } else {
      /* The owner always watches their channel, anyone signed in a public
       * one; others as the authorizer (entitlements) says. */
      allowed = gc_accounts_api_owns_channel (playback->accounts_api, username,
                                              channel) ||
                !gc_playback_channel_needs_token (playback, channel);
      if (!allowed && playback->authorize != NULL)
        allowed =
            playback->authorize (channel, viewer, playback->authorize_data);
      if (!allowed)
        error = g_error_new (GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_FORBIDDEN,
                             "not entitled to watch %s", channel);
    }
  }
  if (error != NULL) {
    gc_http_reply_error (msg, error);
    return;
  }
  reply_token (playback, msg, channel, viewer);
}

void
gc_playback_attach (GcPlayback *playback, SoupServer *soup)
{
  g_return_if_fail (GC_IS_PLAYBACK (playback));
  g_return_if_fail (SOUP_IS_SERVER (soup));

  soup_server_add_handler (soup, "/api/v1/playback-token", on_token_request,
                           g_object_ref (playback), g_object_unref);
}

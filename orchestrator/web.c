/* web.c — GcWeb: serves the creator's ingest page and dashboard, the viewer's watch page and their static files.
 * One flat folder per source (web-dir, hls.js dist): a file name is one path segment, never a path. */

#include "web.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "config.h"
#include "http-util.h"
#include "origin-error.h"

/* Pages, scripts and stylesheets are a few tens of KiB; hls.js is ~1.7 MB
 * unminified. Anything bigger is not ours. */
#define MAX_WEB_FILE_BYTES (8 * 1024 * 1024)

struct _GcWeb {
  GObject parent_instance;

  gchar *web_dir;
  gchar *hlsjs_dir;
};

G_DEFINE_FINAL_TYPE (GcWeb, gc_web, G_TYPE_OBJECT)

/* What we serve, by file extension. Our own files are revalidated on every
 * load (an upgrade of glasscastd is seen at once; the ETag makes it a 304);
 * hls.js changes only with package-lock.json, so browsers keep it for an
 * hour. */
typedef struct {
  const gchar *extension;
  const gchar *content_type;
} WebType;

static const WebType web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

#define PAGE_CACHE_CONTROL "no-cache"
#define HLSJS_CACHE_CONTROL "public, max-age=3600"

/* Pages load scripts only from here; media, playlists and WHIP may live on
 * another host (an edge, a CDN), and hls.js runs its demuxer in a blob:
 * worker. */
#define PAGE_CSP                                                               \
  "default-src 'self'; script-src 'self'; style-src 'self'; "                  \
  "img-src 'self' data: blob:; media-src * blob:; connect-src *; "             \
  "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "              \
  "frame-ancestors 'none'"

static void
gc_web_finalize (GObject *object)
{
  GcWeb *web = GC_WEB (object);

  g_free (web->web_dir);
  g_free (web->hlsjs_dir);
  G_OBJECT_CLASS (gc_web_parent_class)->finalize (object);
}

static void
gc_web_class_init (GcWebClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gc_web_finalize;
}

static void
gc_web_init (GcWeb *web)
{
}

GcWeb *
gc_web_new (const gchar *web_dir, const gchar *hlsjs_dir)
{
  GcWeb *web;

  g_return_val_if_fail (web_dir != NULL, NULL);
  g_return_val_if_fail (hlsjs_dir != NULL, NULL);

  web = g_object_new (GC_TYPE_WEB, NULL);
  web->web_dir = g_strdup (web_dir);
  web->hlsjs_dir = g_strdup (hlsjs_dir);
  return web;
}

static void
reply_error (SoupServerMessage *msg, GcOriginErrorCode code,
             const gchar *message)
{
  g_autoptr (GError) error =
      g_error_new_literal (GC_ORIGIN_ERROR, code, message);

  gc_http_reply_error (msg, error);
}

static gboolean
allow_get (SoupServerMessage *msg)
{
  const gchar *method = soup_server_message_get_method (msg);

  if (method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD)
    return TRUE;
  reply_error (msg, GC_ORIGIN_ERROR_METHOD, "method not allowed");
  return FALSE;
}

/* A file name we serve: one segment of [A-Za-z0-9._-], not starting with a
 * dot, so no "..", no hidden files and no sub-folders, whatever the
 * folder's symlinks are. */
static gboolean
is_safe_name (const gchar *name)
{
  gsize n = 0;

  if (name == NULL || name[0] == '\0' || name[0] == '.')
    return FALSE;
  for (; name[n] != '\0'; n++) {
    if (!g_ascii_isalnum (name[n]) && name[n] != '.' && name[n] != '_' &&
        name[n] != '-')
      return FALSE;
  }
  return n <= 128;
}

static const gchar *
content_type_for (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (web_types); i++) {
    if (g_str_has_suffix (name, web_types[i].extension))
      return web_types[i].content_type;
  }
  return NULL;
}

static gboolean
etag_matches (const gchar *if_none_match, const gchar *etag)
{
  g_auto (GStrv) tags = NULL;

  if (if_none_match == NULL)
    return FALSE;
  tags = g_strsplit (if_none_match, ",", -1);
  for (guint i = 0; tags[i] != NULL; i++) {
    const gchar *tag = g_strstrip (tags[i]);

    if (g_str_has_prefix (tag, "W/"))
      tag += 2;
    if (strcmp (tag, "*") == 0 || strcmp (tag, etag) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Serves @name from @dir: 404 for anything that is not a regular file of a
 * known type, 304 when the browser's copy is current. */
static void
serve_file (SoupServerMessage *msg, const gchar *dir, const gchar *name,
            const gchar *cache_control, gboolean is_page)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const gchar *content_type = content_type_for (name);
  g_autofree gchar *path = NULL;
  g_autofree gchar *etag = NULL;
  g_autofree gchar *contents = NULL;
  g_autoptr (GError) error = NULL;
  GStatBuf st;
  gsize len;

  if (!is_safe_name (name) || content_type == NULL) {
    reply_error (msg, GC_ORIGIN_ERROR_NOT_FOUND, "no such file");
    return;
  }
  path = g_build_filename (dir, name, NULL);
  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode)) {
    reply_error (msg, GC_ORIGIN_ERROR_NOT_FOUND, "no such file");
    return;
  }
  if (st.st_size > MAX_WEB_FILE_BYTES) {
    reply_error (msg, GC_ORIGIN_ERROR_INTERNAL, "file too large");
    return;
  }

  etag = g_strdup_printf ("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x\"",
                          (gint64)st.st_mtime, (gint64)st.st_size);
  soup_message_headers_replace (h, "ETag", etag);
  soup_message_headers_replace (h, "Cache-Control", cache_control);
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  if (is_page) {
    soup_message_headers_replace (h, "Content-Security-Policy", PAGE_CSP);
    soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
  }
  if (etag_matches (soup_message_headers_get_one (req, "If-None-Match"),
                    etag)) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
    return;
  }
  /* Small local files: reading them on the main loop costs less than a
   * thread hop would. */
  if (!g_file_get_contents (path, &contents, &len, &error)) {
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "GC_PATH", path,
                      "MESSAGE", "cannot read web file: %s", error->message);
    reply_error (msg, GC_ORIGIN_ERROR_INTERNAL, "cannot read file");
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&contents), len);
}

/* /ingest/<channel> and /watch/<channel>: one page each; the page reads
 * the channel from its own URL. Unknown channels still get the page, which
 * says so after asking /api/v1/channels/<name>. */
static void
on_page (SoupServer *soup, SoupServerMessage *msg, const char *path,
         GHashTable *query, gpointer user_data)
{
  GcWeb *web = user_data;
  const gchar *page =
      g_str_has_prefix (path, "/ingest/") ? "ingest.html" : "watch.html";
  const gchar *channel = strchr (path + 1, '/') + 1;

  if (!allow_get (msg))
    return;
  if (!gc_config_channel_name_is_valid (channel)) {
    reply_error (msg, GC_ORIGIN_ERROR_NOT_FOUND, "no such page");
    return;
  }
  serve_file (msg, web->web_dir, page, PAGE_CACHE_CONTROL, TRUE);
}

/* /dashboard: the creator's page; it learns who they are from the session. */
static void
on_dashboard (SoupServer *soup, SoupServerMessage *msg, const char *path,
              GHashTable *query, gpointer user_data)
{
  GcWeb *web = user_data;

  if (!allow_get (msg))
    return;
  if (strcmp (path, "/dashboard") != 0) {
    reply_error (msg, GC_ORIGIN_ERROR_NOT_FOUND, "no such page");
    return;
  }
  serve_file (msg, web->web_dir, "dashboard.html", PAGE_CACHE_CONTROL, TRUE);
}

/* /web/<file> from web-dir, /web/hls/<file> from hls.js's dist folder. */
static void
on_static (SoupServer *soup, SoupServerMessage *msg, const char *path,
           GHashTable *query, gpointer user_data)
{
  GcWeb *web = user_data;

  if (!allow_get (msg))
    return;
  if (g_str_has_prefix (path, "/web/hls/")) {
    serve_file (msg, web->hlsjs_dir, path + strlen ("/web/hls/"),
                HLSJS_CACHE_CONTROL, FALSE);
    return;
  }
  if (g_str_has_prefix (path, "/web/")) {
    const gchar *name = path + strlen ("/web/");

    serve_file (msg, web->web_dir, name, PAGE_CACHE_CONTROL,
                g_str_has_suffix (name, ".html"));
    return;
  }
  reply_error (msg, GC_ORIGIN_ERROR_NOT_FOUND, "no such file");
}

void
gc_web_attach (GcWeb *web, SoupServer *soup)
{
  g_return_if_fail (GC_IS_WEB (web));
  g_return_if_fail (SOUP_IS_SERVER (soup));

  soup_server_add_handler (soup, "/ingest/", on_page, web, NULL);
  soup_server_add_handler (soup, "/watch/", on_page, web, NULL);
  soup_server_add_handler (soup, "/web", on_static, web, NULL);
  soup_server_add_handler (soup, "/dashboard", on_dashboard, web, NULL);
}

/* web.h — GcWeb: the browser pages (/ingest/<channel>, /watch/<channel>) and their static files
 * (/web/..., hls.js at /web/hls/...), read from [server] web-dir and hlsjs-path. */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define GC_TYPE_WEB (gc_web_get_type ())
G_DECLARE_FINAL_TYPE (GcWeb, gc_web, GC, WEB, GObject)

/* Returns: (transfer full): serves the pages of @web_dir and the hls.js
 * builds of @hlsjs_dir (node_modules/hls.js/dist). Both folders are read on
 * every request, so an operator can update them without a restart. */
GcWeb *gc_web_new (const gchar *web_dir, const gchar *hlsjs_dir);

/* Mounts /ingest, /watch and /web on @soup. */
void gc_web_attach (GcWeb *web, SoupServer *soup);

G_END_DECLS

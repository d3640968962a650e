/* whiphttp.h — whipserversrc's own small WHIP HTTP endpoint (RFC 9725):
 * POST offer, DELETE session, OPTIONS/CORS, bearer-token check. */

#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _WhipHttp WhipHttp;

/**
 * WhipHttpCallbacks:
 * @offer: a publisher POSTed @sdp; reply on @promise with a
 *   GST_WHIP_SERVER_SRC_ANSWER structure, from any thread.
 * @end: a publisher DELETEd session @session_id; return FALSE when that is
 *   not the current session (the reply is then 404).
 *
 * Called in the main context the endpoint was created in.
 */
typedef struct {
  void (*offer) (gpointer user_data, const guint8 *sdp, gsize size,
                 GstPromise *promise);
  gboolean (*end) (gpointer user_data, const gchar *session_id);
} WhipHttpCallbacks;

WhipHttp *whip_http_new (GMainContext *context, const gchar *address,
                         guint port, const gchar *bearer_token,
                         const gchar *const *links,
                         const WhipHttpCallbacks *callbacks, gpointer user_data,
                         GError **error);
guint whip_http_get_port (WhipHttp *http);
void whip_http_free (WhipHttp *http);

gboolean whip_http_token_equal (const gchar *expected, const gchar *given);

G_END_DECLS

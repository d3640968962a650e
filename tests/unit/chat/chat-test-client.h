/* chat-test-client.h — a blocking WebSocket client for chat tests: masked text frames out, server frames in.
 * While it waits it keeps a GMainContext turning, so a service on the same thread makes progress. */

#pragma once

#include <json-glib/json-glib.h>

typedef struct _TestWs TestWs;

/* Takes @fd (a connected socket past the HTTP upgrade, or a socketpair end).
 * @context: (nullable): iterated while waiting; NULL: none. */
TestWs *test_ws_new (int fd, GMainContext *context);
void test_ws_free (TestWs *ws);
int test_ws_fd (TestWs *ws);

/* Connects to 127.0.0.1:@port, upgrades GET @path, returns the client or
 * NULL. */
TestWs *test_ws_connect (guint16 port, const gchar *path,
                         GMainContext *context);

/* The same, adding @headers ("Name: value\r\n" lines, nullable) to the
 * upgrade request. */
TestWs *test_ws_connect_with_headers (guint16 port, const gchar *path,
                                      const gchar *headers,
                                      GMainContext *context);

void test_ws_send_text (TestWs *ws, const gchar *text);
/* Sends raw bytes (for malformed-frame tests). */
void test_ws_send_raw (TestWs *ws, const void *data, gsize len);

/* Returns: (transfer full) (nullable): the next text message, NULL after
 * @timeout_ms or when the connection closed. */
gchar *test_ws_recv (TestWs *ws, gint timeout_ms);

/* Skips messages until one whose "type" is @type.
 * Returns: (transfer full) (nullable): its parsed object. */
JsonObject *test_ws_expect (TestWs *ws, const gchar *type, gint timeout_ms);

/* TRUE once a close frame or EOF was seen; *@code: the close code (0 if
 * none). */
gboolean test_ws_closed (TestWs *ws, guint16 *code);

/* Waits up to @timeout_ms for close/EOF. */
gboolean test_ws_wait_closed (TestWs *ws, gint timeout_ms);

/* Pings seen so far (answered automatically). */
guint test_ws_pings (TestWs *ws);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestWs, test_ws_free)

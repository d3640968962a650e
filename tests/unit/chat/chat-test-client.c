/* chat-test-client.c — the blocking WebSocket test client (see chat-test-client.h).
 * Uses the library's own frame reader in client mode; frames it sends are masked as RFC 6455 requires. */

#include "chat-test-client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsframe.h"

struct _TestWs {
  int fd;
  GMainContext *context;
  GcWsReader reader;
  GQueue texts; /* gchar* */
  gboolean closed;
  guint16 close_code;
  guint pings;
};

static void
write_all (int fd, const guint8 *p, gsize n)
{
  while (n > 0) {
    ssize_t w = send (fd, p, n, MSG_NOSIGNAL);

    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      struct pollfd pfd = {fd, POLLOUT, 0};

      if (errno != EAGAIN)
        return;
      poll (&pfd, 1, 100);
      continue;
    }
    p += w;
    n -= (gsize)w;
  }
}

TestWs *
test_ws_new (int fd, GMainContext *context)
{
  TestWs *ws = g_new0 (TestWs, 1);

  ws->fd = fd;
  ws->context = context;
  gc_ws_reader_init (&ws->reader, 16 * 1024 * 1024, FALSE);
  g_queue_init (&ws->texts);
  return ws;
}

void
test_ws_free (TestWs *ws)
{
  if (ws == NULL)
    return;
  if (ws->fd >= 0)
    close (ws->fd);
  gc_ws_reader_clear (&ws->reader);
  g_queue_clear_full (&ws->texts, g_free);
  g_free (ws);
}

int
test_ws_fd (TestWs *ws)
{
  return ws->fd;
}

static gboolean
on_frame (GcWsOpcode op, guint8 *payload, gsize len, gpointer user_data)
{
  TestWs *ws = user_data;

  switch (op) {
    case GC_WS_OP_TEXT:
      g_queue_push_tail (&ws->texts, g_strndup ((const gchar *)payload, len));
      break;
    case GC_WS_OP_PING: {
      guint8 mask[4] = {1, 2, 3, 4};
      g_autoptr (GBytes) pong =
          gc_ws_frame_encode_masked (GC_WS_OP_PONG, TRUE, payload, len, mask);

      ws->pings++;
      write_all (ws->fd, g_bytes_get_data (pong, NULL),
                 g_bytes_get_size (pong));
      break;
    }
    case GC_WS_OP_CLOSE:
      ws->closed = TRUE;
      ws->close_code = len >= 2 ? (guint16)((payload[0] << 8) | payload[1]) : 0;
      return FALSE;
    default:
      break;
  }
  return TRUE;
}

/* Reads what is there, waiting at most @wait_ms. */
static void
pump (TestWs *ws, gint wait_ms)
{
  struct pollfd pfd = {ws->fd, POLLIN, 0};
  guint8 buf[65536];
  ssize_t n;
  guint16 code;

  if (ws->context != NULL)
    while (g_main_context_iteration (ws->context, FALSE))
      ;
  if (ws->closed || poll (&pfd, 1, wait_ms) <= 0)
    return;
  n = recv (ws->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    ws->closed = TRUE;
    return;
  }
  if (n > 0)
    gc_ws_reader_feed (&ws->reader, buf, (gsize)n, on_frame, ws, &code);
}

void
test_ws_send_raw (TestWs *ws, const void *data, gsize len)
{
  write_all (ws->fd, data, len);
}

void
test_ws_send_text (TestWs *ws, const gchar *text)
{
  guint8 mask[4];
  guint32 r = g_random_int ();
  g_autoptr (GBytes) frame = NULL;

  memcpy (mask, &r, 4);
  frame = gc_ws_frame_encode_masked (GC_WS_OP_TEXT, TRUE, text, strlen (text),
                                     mask);
  write_all (ws->fd, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

gchar *
test_ws_recv (TestWs *ws, gint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (ws->texts.length == 0 && !ws->closed &&
         g_get_monotonic_time () < deadline)
    pump (ws, ws->context ? 5 : 50);
  return g_queue_pop_head (&ws->texts);
}

JsonObject *
test_ws_expect (TestWs *ws, const gchar *type, gint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  for (;;) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    g_autofree gchar *text = NULL;
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonNode *root;

    if (left <= 0)
      return NULL;
    text = test_ws_recv (ws, (gint)left);
    if (text == NULL)
      return NULL;
    if (!json_parser_load_from_data (parser, text, -1, NULL))
      continue;
    root = json_parser_get_root (parser);
    if (root != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
        g_strcmp0 (json_object_get_string_member_with_default (
                       json_node_get_object (root), "type", ""),
                   type) == 0)
      return json_object_ref (json_node_get_object (root));
  }
}

gboolean
test_ws_closed (TestWs *ws, guint16 *code)
{
  if (code != NULL)
    *code = ws->close_code;
  return ws->closed;
}

gboolean
test_ws_wait_closed (TestWs *ws, gint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (!ws->closed && g_get_monotonic_time () < deadline) {
    pump (ws, ws->context ? 5 : 50);
    g_queue_clear_full (&ws->texts, g_free);
  }
  return ws->closed;
}

guint
test_ws_pings (TestWs *ws)
{
  return ws->pings;
}

TestWs *
test_ws_connect (guint16 port, const gchar *path, GMainContext *context)
{
  return test_ws_connect_with_headers (port, path, NULL, context);
}

TestWs *
test_ws_connect_with_headers (guint16 port, const gchar *path,
                              const gchar *headers, GMainContext *context)
{
  struct sockaddr_in sa = {0};
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_autofree gchar *req = NULL;
  GString *resp = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  TestWs *ws;

  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close (fd);
    g_string_free (resp, TRUE);
    return NULL;
  }
  req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                         "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n%s\r\n",
                         path, port, headers ? headers : "");
  write_all (fd, (const guint8 *)req, strlen (req));
  /* Read the response byte by byte: nothing past the headers may be lost. */
  while (!g_str_has_suffix (resp->str, "\r\n\r\n") &&
         g_get_monotonic_time () < deadline) {
    struct pollfd pfd = {fd, POLLIN, 0};
    gchar c;

    if (context != NULL)
      while (g_main_context_iteration (context, FALSE))
        ;
    if (poll (&pfd, 1, 10) <= 0)
      continue;
    if (recv (fd, &c, 1, 0) != 1)
      break;
    g_string_append_c (resp, c);
  }
  if (!g_str_has_prefix (resp->str, "HTTP/1.1 101") ||
      strstr (resp->str, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == NULL) {
    close (fd);
    g_string_free (resp, TRUE);
    return NULL;
  }
  g_string_free (resp, TRUE);
  ws = test_ws_new (fd, context);
  return ws;
}

/* fuzz-chat-wsframe.c — libFuzzer target for the hub's WebSocket frame reader (chat/wsframe.c).
 * Input: a byte stream from a client; the first byte picks the read size, as a socket would split it. */

#include <string.h>

#include "wsframe.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static gboolean
on_message (GcWsOpcode op, guint8 *payload, gsize len, gpointer user_data)
{
  gsize *total = user_data;

  g_assert (op == GC_WS_OP_TEXT || op == GC_WS_OP_BINARY ||
            op == GC_WS_OP_CLOSE || op == GC_WS_OP_PING || op == GC_WS_OP_PONG);
  g_assert (len <= 4096);
  if (op == GC_WS_OP_TEXT)
    g_assert (g_utf8_validate ((const gchar *)payload, (gssize)len, NULL));
  if (op & 0x8)
    g_assert (len <= 125);
  *total += len;
  return op != GC_WS_OP_CLOSE;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  for (guint mode = 0; mode < 2 && size > 0; mode++) {
    g_autofree guint8 *copy = g_memdup2 (data + 1, size - 1);
    gsize chunk = data[0] ? data[0] : size;
    gsize total = 0;
    GcWsReader reader;

    gc_ws_reader_init (&reader, 4096, mode == 0);
    for (gsize off = 0; off < size - 1; off += chunk) {
      guint16 code = 0;

      if (!gc_ws_reader_feed (&reader, copy + off, MIN (chunk, size - 1 - off),
                              on_message, &total, &code)) {
        g_assert (code == 0 || code == 1002 || code == 1007 || code == 1009);
        break;
      }
    }
    g_assert (total <= size);
    gc_ws_reader_clear (&reader);
  }
  return 0;
}

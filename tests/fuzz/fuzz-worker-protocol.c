/* fuzz-worker-protocol.c — libFuzzer target for the glasscastd <-> glasscast-worker JSON-lines protocol.
 * Input: a byte stream split into lines as either side reads it; every parsed message must re-serialize and re-parse. */

#include <string.h>

#include "worker-protocol.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
roundtrip (GcWorkerMsg *msg)
{
  g_autofree gchar *line = gc_worker_msg_to_line (msg);
  gsize len = strlen (line);
  g_autoptr (GcWorkerMsg) again = NULL;

  g_assert (len > 0 && line[len - 1] == '\n');
  g_assert (memchr (line, '\n', len - 1) == NULL);
  again = gc_worker_msg_parse (line, len - 1, NULL);
  g_assert (again != NULL);
  g_assert (gc_worker_msg_get_msg_type (again) ==
            gc_worker_msg_get_msg_type (msg));
  (void)gc_worker_msg_get_string (again, "sdp");
  (void)gc_worker_msg_get_int (again, "id", -1);
  (void)gc_worker_msg_get_double (again, "bitrate", -1);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GcLineBuffer) buf = gc_line_buffer_new ();
  gsize chunk = size > 0 ? (data[0] % 64) + 1 : 1;

  /* Pipes deliver arbitrary chunks: feed the stream in pieces. */
  for (gsize off = 0; off < size; off += chunk) {
    gchar *line;
    gsize len;

    if (!gc_line_buffer_push (buf, data + off, MIN (chunk, size - off)))
      return 0;
    while ((line = gc_line_buffer_pop (buf, &len)) != NULL) {
      g_autoptr (GcWorkerMsg) msg = gc_worker_msg_parse (line, len, NULL);

      if (msg != NULL)
        roundtrip (msg);
      g_free (line);
    }
  }
  return 0;
}

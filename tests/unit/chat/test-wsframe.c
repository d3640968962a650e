/* test-wsframe.c — unit tests of the WebSocket frame codec (chat/wsframe.c), RFC 6455 cases:
 * masking, lengths, fragmentation, control frames between fragments, limits, protocol errors, split reads. */

#include <string.h>

#include "wsframe.h"

typedef struct {
  GPtrArray *messages; /* GBytes: opcode byte + payload */
  gboolean stop_after_first;
} Collected;

static gboolean
collect (GcWsOpcode op, guint8 *payload, gsize len, gpointer user_data)
{
  Collected *c = user_data;
  guint8 *buf = g_malloc (len + 1);

  buf[0] = (guint8)op;
  memcpy (buf + 1, payload, len);
  g_ptr_array_add (c->messages, g_bytes_new_take (buf, len + 1));
  return !c->stop_after_first;
}

static const guint8 mask[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Feeds @data in pieces of @chunk bytes (0: all at once). Returns the close
 * code (0: fine). */
static guint16
feed (GcWsReader *r, const guint8 *data, gsize len, gsize chunk, Collected *c)
{
  g_autofree guint8 *copy = g_memdup2 (data, len);
  gsize step = chunk ? chunk : len;

  for (gsize off = 0; off < len; off += step) {
    guint16 code = 0;

    if (!gc_ws_reader_feed (r, copy + off, MIN (step, len - off), collect, c,
                            &code))
      return code ? code : 0xffff;
  }
  return 0;
}

static GBytes *
masked (GcWsOpcode op, gboolean fin, const gchar *text, gsize len)
{
  return gc_ws_frame_encode_masked (op, fin, text, len, mask);
}

static void
assert_message (Collected *c, guint i, GcWsOpcode op, const gchar *text,
                gsize len)
{
  GBytes *b = g_ptr_array_index (c->messages, i);
  const guint8 *p = g_bytes_get_data (b, NULL);

  g_assert_cmpuint (p[0], ==, op);
  g_assert_cmpuint (g_bytes_get_size (b) - 1, ==, len);
  g_assert_cmpmem (p + 1, len, text, len);
}

static void
test_rfc_masked_hello (void)
{
  /* RFC 6455 section 5.7: a single-frame masked text message "Hello". */
  const guint8 frame[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                          0x7f, 0x9f, 0x4d, 0x51, 0x58};
  Collected c = {
      g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref)};
  GcWsReader r;

  gc_ws_reader_init (&r, 1024, TRUE);
  g_assert_cmpuint (feed (&r, frame, sizeof frame, 0, &c), ==, 0);
  g_assert_cmpuint (c.messages->len, ==, 1);
  assert_message (&c, 0, GC_WS_OP_TEXT, "Hello", 5);
  gc_ws_reader_clear (&r);
  g_ptr_array_unref (c.messages);
}

static void
test_server_frame_encoding (void)
{
  g_autoptr (GBytes) small = gc_ws_frame_encode (GC_WS_OP_TEXT, "Hello", 5);
  g_autofree gchar *mid = g_malloc0 (300);
  g_autofree gchar *big = g_malloc0 (70000);
  g_autoptr (GBytes) b126 = gc_ws_frame_encode (GC_WS_OP_TEXT, mid, 300);
  g_autoptr (GBytes) b127 = gc_ws_frame_encode (GC_WS_OP_BINARY, big, 70000);
  const guint8 *p = g_bytes_get_data (small, NULL);
  const guint8 hello[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};

  g_assert_cmpmem (p, g_bytes_get_size (small), hello, sizeof hello);
  p = g_bytes_get_data (b126, NULL);
  g_assert_cmpuint (g_bytes_get_size (b126), ==, 4 + 300);
  g_assert_cmpuint (p[1], ==, 126);
  g_assert_cmpuint ((p[2] << 8) | p[3], ==, 300);
  p = g_bytes_get_data (b127, NULL);
  g_assert_cmpuint (g_bytes_get_size (b127), ==, 10 + 70000);
  g_assert_cmpuint (p[0], ==, 0x82);
  g_assert_cmpuint (p[1], ==, 127);
  g_assert_cmpuint ((p[7] << 16) | (p[8] << 8) | p[9], ==, 70000);
}

static void
test_round_trip_all_lengths (void)
{
  const gsize lengths[] = {0, 1, 125, 126, 127, 65535, 65536, 100000};

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++) {
    gsize n = lengths[i];
    g_autofree gchar *text = g_malloc (n + 1);
    Collected c = {
        g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref)};
    g_autoptr (GBytes) f = NULL;
    GcWsReader r;

    memset (text, 'x', n);
    f = masked (GC_WS_OP_TEXT, TRUE, text, n);
    gc_ws_reader_init (&r, 200000, TRUE);
    /* Whole, and one byte at a time. */
    g_assert_cmpuint (
        feed (&r, g_bytes_get_data (f, NULL), g_bytes_get_size (f), 0, &c), ==,
        0);
    g_assert_cmpuint (feed (&r, g_bytes_get_data (f, NULL),
                            g_bytes_get_size (f), n > 1000 ? 997 : 1, &c),
                      ==, 0);
    g_assert_cmpuint (c.messages->len, ==, 2);
    assert_message (&c, 0, GC_WS_OP_TEXT, text, n);
    assert_message (&c, 1, GC_WS_OP_TEXT, text, n);
    gc_ws_reader_clear (&r);
    g_ptr_array_unref (c.messages);
  }
}

static void
test_fragmented_with_ping_between (void)
{
  g_autoptr (GBytes) a = masked (GC_WS_OP_TEXT, FALSE, "Hel", 3);
  g_autoptr (GBytes) ping = masked (GC_WS_OP_PING, TRUE, "p", 1);
  g_autoptr (GBytes) b = masked (GC_WS_OP_CONTINUATION, FALSE, "", 0);
  g_autoptr (GBytes) d = masked (GC_WS_OP_CONTINUATION, TRUE, "lo", 2);
  g_autoptr (GByteArray) all = g_byte_array_new ();
  Collected c = {
      g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref)};
  GcWsReader r;

  g_byte_array_append (all, g_bytes_get_data (a, NULL), g_bytes_get_size (a));
  g_byte_array_append (all, g_bytes_get_data (ping, NULL),
                       g_bytes_get_size (ping));
  g_byte_array_append (all, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  g_byte_array_append (all, g_bytes_get_data (d, NULL), g_bytes_get_size (d));
  gc_ws_reader_init (&r, 1024, TRUE);
  for (gsize chunk = 0; chunk <= 3; chunk++)
    g_assert_cmpuint (feed (&r, all->data, all->len, chunk, &c), ==, 0);
  g_assert_cmpuint (c.messages->len, ==, 8);
  assert_message (&c, 0, GC_WS_OP_PING, "p", 1);
  assert_message (&c, 1, GC_WS_OP_TEXT, "Hello", 5);
  gc_ws_reader_clear (&r);
  g_ptr_array_unref (c.messages);
}

static guint16
close_code_for (const guint8 *frame, gsize len, gsize max, gboolean server)
{
  Collected c = {
      g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref)};
  GcWsReader r;
  guint16 code;

  gc_ws_reader_init (&r, max, server);
  code = feed (&r, frame, len, 0, &c);
  gc_ws_reader_clear (&r);
  g_ptr_array_unref (c.messages);
  return code;
}

static void
test_protocol_errors (void)
{
  const guint8 unmasked[] = {0x81, 0x01, 'a'};
  const guint8 rsv[] = {0xc1, 0x80, 0, 0, 0, 0};
  const guint8 opcode3[] = {0x83, 0x80, 0, 0, 0, 0};
  const guint8 lone_cont[] = {0x80, 0x80, 0, 0, 0, 0};
  const guint8 frag_ping[] = {0x09, 0x80, 0, 0, 0, 0};
  const guint8 long_ping[] = {0x89, 0xfe, 0x00, 0x7e, 0, 0, 0, 0};
  const guint8 nonminimal[] = {0x81, 0xfe, 0x00, 0x05, 0, 0, 0, 0};
  const guint8 huge[] = {0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const guint8 bad_utf8[] = {0x81, 0x81, 0, 0, 0, 0, 0xff};
  const guint8 close1[] = {0x88, 0x81, 0, 0, 0, 0, 0x03};
  const guint8 close_bad_code[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xec};
  const guint8 text_in_text[] = {0x01, 0x81, 0, 0, 0, 0, 'a',
                                 0x81, 0x81, 0, 0, 0, 0, 'b'};

  g_assert_cmpuint (close_code_for (unmasked, sizeof unmasked, 100, TRUE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (rsv, sizeof rsv, 100, TRUE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (opcode3, sizeof opcode3, 100, TRUE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (lone_cont, sizeof lone_cont, 100, TRUE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (frag_ping, sizeof frag_ping, 100, TRUE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (long_ping, sizeof long_ping, 1000, TRUE),
                    ==, GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (nonminimal, sizeof nonminimal, 100, TRUE),
                    ==, GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (huge, sizeof huge, 100, TRUE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (close_code_for (bad_utf8, sizeof bad_utf8, 100, TRUE), ==,
                    GC_WS_CLOSE_INVALID_DATA);
  g_assert_cmpuint (close_code_for (close1, sizeof close1, 100, TRUE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (
      close_code_for (close_bad_code, sizeof close_bad_code, 100, TRUE), ==,
      GC_WS_CLOSE_PROTOCOL_ERROR);
  g_assert_cmpuint (
      close_code_for (text_in_text, sizeof text_in_text, 100, TRUE), ==,
      GC_WS_CLOSE_PROTOCOL_ERROR);
  /* A client refuses masked frames, a server unmasked ones. */
  g_assert_cmpuint (close_code_for (bad_utf8, sizeof bad_utf8, 100, FALSE), ==,
                    GC_WS_CLOSE_PROTOCOL_ERROR);
}

static void
test_size_limit (void)
{
  g_autofree gchar *text = g_malloc0 (101);
  g_autoptr (GBytes) one = masked (GC_WS_OP_TEXT, TRUE, text, 101);
  g_autoptr (GBytes) part1 = masked (GC_WS_OP_TEXT, FALSE, text, 60);
  g_autoptr (GBytes) part2 = masked (GC_WS_OP_CONTINUATION, TRUE, text, 60);
  g_autoptr (GByteArray) frags = g_byte_array_new ();

  g_assert_cmpuint (close_code_for (g_bytes_get_data (one, NULL),
                                    g_bytes_get_size (one), 100, TRUE),
                    ==, GC_WS_CLOSE_TOO_BIG);
  /* The limit is on the whole message, not on each fragment. */
  g_byte_array_append (frags, g_bytes_get_data (part1, NULL),
                       g_bytes_get_size (part1));
  g_byte_array_append (frags, g_bytes_get_data (part2, NULL),
                       g_bytes_get_size (part2));
  g_assert_cmpuint (close_code_for (frags->data, frags->len, 100, TRUE), ==,
                    GC_WS_CLOSE_TOO_BIG);
}

static void
test_close_frame_delivered (void)
{
  g_autoptr (GBytes) close = NULL;
  guint8 body[2] = {0x03, 0xe8}; /* 1000 */
  Collected c = {g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref),
                 TRUE};
  GcWsReader r;

  close = gc_ws_frame_encode_masked (GC_WS_OP_CLOSE, TRUE, body, 2, mask);
  gc_ws_reader_init (&r, 100, TRUE);
  /* The callback stops the reader: FALSE with code 0xffff from feed(). */
  g_assert_cmpuint (feed (&r, g_bytes_get_data (close, NULL),
                          g_bytes_get_size (close), 0, &c),
                    ==, 0xffff);
  g_assert_cmpuint (c.messages->len, ==, 1);
  assert_message (&c, 0, GC_WS_OP_CLOSE, (const gchar *)body, 2);
  gc_ws_reader_clear (&r);
  g_ptr_array_unref (c.messages);
}

static void
test_close_encoding (void)
{
  g_autoptr (GBytes) f = gc_ws_frame_encode_close (1008, "too slow");
  const guint8 *p = g_bytes_get_data (f, NULL);

  g_assert_cmpuint (p[0], ==, 0x88);
  g_assert_cmpuint (p[1], ==, 10);
  g_assert_cmpuint ((p[2] << 8) | p[3], ==, 1008);
  g_assert_cmpmem (p + 4, 8, "too slow", 8);
}

static void
test_mask_any_offset (void)
{
  guint8 data[37], check[37];

  for (guint i = 0; i < sizeof data; i++)
    data[i] = check[i] = (guint8)i;
  for (guint off = 0; off < 8; off++) {
    gc_ws_mask (data, sizeof data, mask, off);
    for (guint i = 0; i < sizeof data; i++)
      g_assert_cmpuint (data[i], ==, check[i] ^ mask[(off + i) & 3]);
    gc_ws_mask (data, sizeof data, mask, off);
    g_assert_cmpmem (data, sizeof data, check, sizeof check);
  }
}

static void
test_accept_key (void)
{
  g_autofree gchar *k = gc_ws_accept_key ("dGhlIHNhbXBsZSBub25jZQ==");

  g_assert_cmpstr (k, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/wsframe/rfc-masked-hello", test_rfc_masked_hello);
  g_test_add_func ("/chat/wsframe/server-encoding", test_server_frame_encoding);
  g_test_add_func ("/chat/wsframe/round-trip-lengths",
                   test_round_trip_all_lengths);
  g_test_add_func ("/chat/wsframe/fragments-and-ping",
                   test_fragmented_with_ping_between);
  g_test_add_func ("/chat/wsframe/protocol-errors", test_protocol_errors);
  g_test_add_func ("/chat/wsframe/size-limit", test_size_limit);
  g_test_add_func ("/chat/wsframe/close-delivered", test_close_frame_delivered);
  g_test_add_func ("/chat/wsframe/close-encoding", test_close_encoding);
  g_test_add_func ("/chat/wsframe/mask-offsets", test_mask_any_offset);
  g_test_add_func ("/chat/wsframe/accept-key", test_accept_key);
  return g_test_run ();
}

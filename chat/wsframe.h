/* wsframe.h — a minimal RFC 6455 frame codec: an incremental reader (masking, fragmentation, control frames,
 * size limit, close codes) and encoders for unmasked server frames and masked client frames. No extensions. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  GC_WS_OP_CONTINUATION = 0x0,
  GC_WS_OP_TEXT = 0x1,
  GC_WS_OP_BINARY = 0x2,
  GC_WS_OP_CLOSE = 0x8,
  GC_WS_OP_PING = 0x9,
  GC_WS_OP_PONG = 0xA,
} GcWsOpcode;

typedef enum {
  GC_WS_CLOSE_NORMAL = 1000,
  GC_WS_CLOSE_GOING_AWAY = 1001,
  GC_WS_CLOSE_PROTOCOL_ERROR = 1002,
  GC_WS_CLOSE_UNSUPPORTED = 1003,
  GC_WS_CLOSE_NO_STATUS = 1005, /* never on the wire */
  GC_WS_CLOSE_INVALID_DATA = 1007,
  GC_WS_CLOSE_POLICY = 1008,
  GC_WS_CLOSE_TOO_BIG = 1009,
  GC_WS_CLOSE_INTERNAL = 1011,
} GcWsCloseCode;

/* A whole message (data frames reassembled) or a control frame. @payload is
 * unmasked and writable, valid only during the call. For CLOSE, @payload is
 * the raw body (code + reason). Return FALSE to stop feeding. */
typedef gboolean (*GcWsMessageFunc) (GcWsOpcode opcode, guint8 *payload,
                                     gsize len, gpointer user_data);

/* Kept small because the hub holds one per connection: buffers are only
 * allocated while a frame is split across reads. */
typedef struct {
  guint8 header[14];
  guint8 header_len;
  guint8 opcode;     /* of the current frame */
  guint8 msg_opcode; /* TEXT/BINARY while a fragmented message is open */
  guint8 mask[4];
  guint8 in_payload : 1;
  guint8 fin : 1;
  guint8 masked : 1;
  guint8 expect_masked : 1;
  guint8 failed : 1;
  guint32 max_message;
  guint64 remaining; /* payload bytes of the current frame still to come */
  guint64 pos;       /* payload bytes of the current frame seen */
  GByteArray *msg;   /* (nullable) message being reassembled */
  GByteArray *ctrl;  /* (nullable) control frame split across reads */
} GcWsReader;

/* @expect_masked: TRUE on a server (client frames must be masked), FALSE
 * on a client. @max_message: largest message (all fragments) accepted. */
void gc_ws_reader_init (GcWsReader *reader, gsize max_message,
                        gboolean expect_masked);
void gc_ws_reader_clear (GcWsReader *reader);

/* Consumes @len bytes of @data (unmasked in place). Calls @func for every
 * complete message and control frame, in order.
 * Returns: FALSE when parsing stopped: *@close_code is then the code to
 * close with on a protocol violation, or 0 when @func asked to stop. */
gboolean gc_ws_reader_feed (GcWsReader *reader, guint8 *data, gsize len,
                            GcWsMessageFunc func, gpointer user_data,
                            guint16 *close_code);

/* Writes a frame header. @mask: (nullable): client frames pass 4 bytes.
 * Returns: its length (2 to 14 bytes). */
gsize gc_ws_frame_header (guint8 out[14], GcWsOpcode opcode, gboolean fin,
                          guint64 payload_len, const guint8 *mask);

/* Returns: (transfer full): one final unmasked (server) frame, header and
 * payload in one buffer, ready to be shared by every connection. */
GBytes *gc_ws_frame_encode (GcWsOpcode opcode, const void *payload, gsize len);

/* Returns: (transfer full): a close frame; @reason: (nullable). */
GBytes *gc_ws_frame_encode_close (guint16 code, const gchar *reason);

/* Returns: (transfer full): one masked (client) frame. */
GBytes *gc_ws_frame_encode_masked (GcWsOpcode opcode, gboolean fin,
                                   const void *payload, gsize len,
                                   const guint8 mask[4]);

/* XORs @data with @mask, @offset bytes into the payload. */
void gc_ws_mask (guint8 *data, gsize len, const guint8 mask[4], guint64 offset);

/* Returns: (transfer full): Sec-WebSocket-Accept for @client_key. */
gchar *gc_ws_accept_key (const gchar *client_key);

G_END_DECLS

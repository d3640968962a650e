/* wsframe.c — RFC 6455 framing for the hub: incremental parsing with in-place unmasking, and frame encoders.
 * Zero-copy when a whole frame arrives in one read, which is nearly always true for chat-sized messages. */

#include "wsframe.h"

#include <string.h>

void
gc_ws_reader_init (GcWsReader *reader, gsize max_message,
                   gboolean expect_masked)
{
  memset (reader, 0, sizeof *reader);
  reader->max_message = (guint32)MIN (max_message, G_MAXUINT32);
  reader->expect_masked = expect_masked;
}

void
gc_ws_reader_clear (GcWsReader *reader)
{
  g_clear_pointer (&reader->msg, g_byte_array_unref);
  g_clear_pointer (&reader->ctrl, g_byte_array_unref);
}

void
gc_ws_mask (guint8 *data, gsize len, const guint8 mask[4], guint64 offset)
{
  gsize i = 0;

  /* Byte-wise until the mask lines up, then 8 bytes at a time. */
  for (; i < len && ((offset + i) & 3) != 0; i++)
    data[i] ^= mask[(offset + i) & 3];
  if (len - i >= 8) {
    guint64 m8;
    guint8 m[8] = {mask[0], mask[1], mask[2], mask[3],
                   mask[0], mask[1], mask[2], mask[3]};

    memcpy (&m8, m, 8);
    for (; len - i >= 8; i += 8) {
      guint64 v;

      memcpy (&v, data + i, 8);
      v ^= m8;
      memcpy (data + i, &v, 8);
    }
  }
  for (; i < len; i++)
    data[i] ^= mask[(offset + i) & 3];
}

static gboolean
close_code_is_valid (guint code)
{
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

static gsize
header_needed (const GcWsReader *r)
{
  gsize need = 2;
  guint len7;

  if (r->header_len < 2)
    return need;
  len7 = r->header[1] & 0x7f;
  if (len7 == 126)
    need += 2;
  else if (len7 == 127)
    need += 8;
  if (r->header[1] & 0x80)
    need += 4;
  return need;
}

/* Validates a complete header and prepares for its payload. Returns a close
 * code, or 0. */
static guint16
parse_header (GcWsReader *r)
{
  const guint8 *h = r->header;
  guint len7 = h[1] & 0x7f;
  guint64 len;
  gsize at = 2;
  gboolean control;

  if (h[0] & 0x70)
    return GC_WS_CLOSE_PROTOCOL_ERROR; /* no extension was negotiated */
  r->fin = (h[0] & 0x80) != 0;
  r->opcode = h[0] & 0x0f;
  r->masked = (h[1] & 0x80) != 0;
  control = (r->opcode & 0x8) != 0;

  switch (r->opcode) {
    case GC_WS_OP_CONTINUATION:
    case GC_WS_OP_TEXT:
    case GC_WS_OP_BINARY:
    case GC_WS_OP_CLOSE:
    case GC_WS_OP_PING:
    case GC_WS_OP_PONG:
      break;
    default:
      return GC_WS_CLOSE_PROTOCOL_ERROR;
  }
  if (r->masked != r->expect_masked)
    return GC_WS_CLOSE_PROTOCOL_ERROR;

  if (len7 == 126) {
    len = ((guint64)h[2] << 8) | h[3];
    if (len < 126)
      return GC_WS_CLOSE_PROTOCOL_ERROR; /* not the minimal encoding */
    at = 4;
  } else if (len7 == 127) {
    len = 0;
    for (guint i = 0; i < 8; i++)
      len = (len << 8) | h[2 + i];
    if (len >> 63 || len < 65536)
      return GC_WS_CLOSE_PROTOCOL_ERROR;
    at = 10;
  } else {
    len = len7;
  }
  if (r->masked)
    memcpy (r->mask, h + at, 4);

  if (control) {
    if (!r->fin || len > 125)
      return GC_WS_CLOSE_PROTOCOL_ERROR;
  } else {
    gsize have = r->msg ? r->msg->len : 0;

    if (r->opcode == GC_WS_OP_CONTINUATION && r->msg_opcode == 0)
      return GC_WS_CLOSE_PROTOCOL_ERROR; /* nothing to continue */
    if (r->opcode != GC_WS_OP_CONTINUATION && r->msg_opcode != 0)
      return GC_WS_CLOSE_PROTOCOL_ERROR; /* previous message unfinished */
    if (len > r->max_message || have + len > r->max_message)
      return GC_WS_CLOSE_TOO_BIG;
    if (r->opcode != GC_WS_OP_CONTINUATION && !r->fin)
      r->msg_opcode = r->opcode;
  }
  r->remaining = len;
  r->pos = 0;
  return 0;
}

/* Checks what RFC 6455 requires of a payload before handing it over. */
static guint16
check_payload (GcWsOpcode op, const guint8 *p, gsize len)
{
  if (op == GC_WS_OP_TEXT && !g_utf8_validate_len ((const gchar *)p, len, NULL))
    return GC_WS_CLOSE_INVALID_DATA;
  if (op == GC_WS_OP_CLOSE) {
    if (len == 1)
      return GC_WS_CLOSE_PROTOCOL_ERROR;
    if (len >= 2) {
      guint code = ((guint)p[0] << 8) | p[1];

      if (!close_code_is_valid (code))
        return GC_WS_CLOSE_PROTOCOL_ERROR;
      if (!g_utf8_validate_len ((const gchar *)p + 2, len - 2, NULL))
        return GC_WS_CLOSE_INVALID_DATA;
    }
  }
  return 0;
}

static gboolean
fail (GcWsReader *r, guint16 code, guint16 *close_code)
{
  r->failed = TRUE;
  *close_code = code;
  return FALSE;
}

gboolean
gc_ws_reader_feed (GcWsReader *r, guint8 *data, gsize len, GcWsMessageFunc func,
                   gpointer user_data, guint16 *close_code)
{
  *close_code = 0;
  if (r->failed)
    return fail (r, GC_WS_CLOSE_PROTOCOL_ERROR, close_code);

  while (len > 0) {
    gboolean control;
    gsize take;
    guint8 *payload;
    gsize payload_len;
    GcWsOpcode deliver_op;
    guint16 code;

    if (!r->in_payload) {
      gsize need = header_needed (r);

      while (len > 0 && r->header_len < need) {
        r->header[r->header_len++] = *data++;
        len--;
        need = header_needed (r);
      }
      if (r->header_len < need)
        return TRUE; /* wait for more */
      if ((code = parse_header (r)) != 0)
        return fail (r, code, close_code);
      r->in_payload = TRUE;
      r->header_len = 0;
    }

    control = (r->opcode & 0x8) != 0;
    take = (gsize)MIN ((guint64)len, r->remaining);
    if (r->masked)
      gc_ws_mask (data, take, r->mask, r->pos);

    if (take == r->remaining && r->pos == 0 &&
        (control || (r->fin && r->opcode != GC_WS_OP_CONTINUATION))) {
      /* The whole frame is here and is a whole message: no copy. */
      payload = data;
      payload_len = take;
    } else {
      GByteArray **buf = control ? &r->ctrl : &r->msg;

      if (*buf == NULL)
        *buf = g_byte_array_sized_new ((guint)MIN (r->remaining, 4096));
      g_byte_array_append (*buf, data, (guint)take);
      payload = NULL;
      payload_len = 0;
    }
    data += take;
    len -= take;
    r->remaining -= take;
    r->pos += take;
    if (r->remaining > 0)
      return TRUE;

    /* Frame complete. */
    r->in_payload = FALSE;
    if (control) {
      deliver_op = r->opcode;
      if (payload == NULL) {
        payload = r->ctrl->data;
        payload_len = r->ctrl->len;
      }
    } else {
      if (!r->fin)
        continue;
      deliver_op =
          r->opcode == GC_WS_OP_CONTINUATION ? r->msg_opcode : r->opcode;
      if (payload == NULL) {
        payload = r->msg->data;
        payload_len = r->msg->len;
      }
      r->msg_opcode = 0;
    }
    if ((code = check_payload (deliver_op, payload, payload_len)) != 0)
      return fail (r, code, close_code);
    {
      gboolean go_on = func (deliver_op, payload, payload_len, user_data);

      /* The buffers are reset after the call: @payload may point into
       * them. */
      if (control)
        g_clear_pointer (&r->ctrl, g_byte_array_unref);
      else
        g_clear_pointer (&r->msg, g_byte_array_unref);
      if (!go_on)
        return FALSE;
    }
  }
  return TRUE;
}

gsize
gc_ws_frame_header (guint8 out[14], GcWsOpcode opcode, gboolean fin,
                    guint64 payload_len, const guint8 *mask)
{
  gsize n = 2;

  out[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
  if (payload_len < 126) {
    out[1] = (guint8)payload_len;
  } else if (payload_len <= 0xffff) {
    out[1] = 126;
    out[2] = (guint8)(payload_len >> 8);
    out[3] = (guint8)payload_len;
    n = 4;
  } else {
    out[1] = 127;
    for (guint i = 0; i < 8; i++)
      out[2 + i] = (guint8)(payload_len >> (56 - 8 * i));
    n = 10;
  }
  if (mask != NULL) {
    out[1] |= 0x80;
    memcpy (out + n, mask, 4);
    n += 4;
  }
  return n;
}

GBytes *
gc_ws_frame_encode (GcWsOpcode opcode, const void *payload, gsize len)
{
  guint8 header[14];
  gsize n = gc_ws_frame_header (header, opcode, TRUE, len, NULL);
  guint8 *buf = g_malloc (n + len);

  memcpy (buf, header, n);
  if (len > 0)
    memcpy (buf + n, payload, len);
  return g_bytes_new_take (buf, n + len);
}

GBytes *
gc_ws_frame_encode_close (guint16 code, const gchar *reason)
{
  guint8 body[125];
  gsize rlen = reason ? MIN (strlen (reason), sizeof body - 2) : 0;

  body[0] = (guint8)(code >> 8);
  body[1] = (guint8)code;
  if (rlen > 0)
    memcpy (body + 2, reason, rlen);
  return gc_ws_frame_encode (GC_WS_OP_CLOSE, body, 2 + rlen);
}

GBytes *
gc_ws_frame_encode_masked (GcWsOpcode opcode, gboolean fin, const void *payload,
                           gsize len, const guint8 mask[4])
{
  guint8 header[14];
  gsize n = gc_ws_frame_header (header, opcode, fin, len, mask);
  guint8 *buf = g_malloc (n + len);

  memcpy (buf, header, n);
  if (len > 0) {
    memcpy (buf + n, payload, len);
    gc_ws_mask (buf + n, len, mask, 0);
  }
  return g_bytes_new_take (buf, n + len);
}

gchar *
gc_ws_accept_key (const gchar *client_key)
{
  g_autoptr (GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_checksum_update (sha1, (const guchar *)client_key, -1);
  g_checksum_update (
      sha1, (const guchar *)"258EAFA5-E914-47DA-95CA-C5AB0DC85B11", -1);
  g_checksum_get_digest (sha1, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}

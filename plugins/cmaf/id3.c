/* id3.c — builds the ID3v2.4 tags carried as timed metadata in ID3 emsg
 * boxes: one tag holding one TXXX (user-defined text) frame. */

#include "cmaf.h"

#include <string.h>

#define GC_ID3_HEADER_SIZE 10
#define GC_ID3_MAX_SYNCHSAFE 0x0fffffff

/* ID3v2.4 sizes are 28-bit "synchsafe" integers: 7 bits per byte, so the
 * tag never contains a false MPEG sync pattern. */
static void
gc_id3_put_synchsafe (guint8 *p, guint32 v)
{
  p[0] = (v >> 21) & 0x7f;
  p[1] = (v >> 14) & 0x7f;
  p[2] = (v >> 7) & 0x7f;
  p[3] = v & 0x7f;
}

GBytes *
gc_id3_tag_new_txxx (const gchar *description, const gchar *value)
{
  gsize desc_len, value_len, frame_payload;
  guint8 header[GC_ID3_HEADER_SIZE] = {'I', 'D', '3', 4, 0, 0};
  guint8 frame_header[GC_ID3_HEADER_SIZE] = {'T', 'X', 'X', 'X'};
  const guint8 encoding_utf8 = 0x03;
  const guint8 nul = 0;
  GByteArray *tag;

  g_return_val_if_fail (description != NULL, NULL);
  g_return_val_if_fail (value != NULL, NULL);

  desc_len = strlen (description);
  value_len = strlen (value);
  g_return_val_if_fail (desc_len < GC_ID3_MAX_SYNCHSAFE &&
                            value_len < GC_ID3_MAX_SYNCHSAFE,
                        NULL);
  frame_payload = 1 + desc_len + 1 + value_len;
  g_return_val_if_fail (
      frame_payload + GC_ID3_HEADER_SIZE <= GC_ID3_MAX_SYNCHSAFE, NULL);

  /* Header: "ID3", version 4.0, flags 0, size of everything after it. */
  gc_id3_put_synchsafe (header + 6,
                        (guint32)(GC_ID3_HEADER_SIZE + frame_payload));
  /* Frame header: id, size of the payload, flags 0. */
  gc_id3_put_synchsafe (frame_header + 4, (guint32)frame_payload);

  tag =
      g_byte_array_sized_new ((guint)(2 * GC_ID3_HEADER_SIZE + frame_payload));
  g_byte_array_append (tag, header, sizeof header);
  g_byte_array_append (tag, frame_header, sizeof frame_header);
  g_byte_array_append (tag, &encoding_utf8, 1);
  g_byte_array_append (tag, (const guint8 *)description, (guint)desc_len);
  g_byte_array_append (tag, &nul, 1);
  g_byte_array_append (tag, (const guint8 *)value, (guint)value_len);
  return g_byte_array_free_to_bytes (tag);
}

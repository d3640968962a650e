/* cmaf-fixtures.h — what the libgccmaf unit tests share: big-endian byte
 * macros, a small valid avcC, and a buffer that failing writers must not touch. */

#pragma once

#include <glib.h>

#define U32(v)                                                                 \
  (guint8) ((v) >> 24), (guint8)((v) >> 16), (guint8)((v) >> 8), (guint8)(v)

/* Baseline 3.1, constraint_set0/1: one 4-byte SPS, one 2-byte PPS. */
static const guint8 test_avcc[] = {0x01, 0x42, 0xc0, 0x1f, 0xff, 0xe1,
                                   0x00, 0x04, 0x67, 0x42, 0xc0, 0x1f,
                                   0x01, 0x00, 0x02, 0x68, 0xce};

/* A buffer with content that failing writers must leave alone. */
static inline GByteArray *
prefilled (void)
{
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *)"keep", 4);
  return out;
}

static inline void
assert_untouched (const GByteArray *out)
{
  g_assert_cmpmem (out->data, out->len, "keep", 4);
}

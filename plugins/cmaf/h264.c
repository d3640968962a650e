/* h264.c — the H.264 bitstream helpers of the CMAF writer: Annex B to
 * length-prefixed NAL units, avcC building and validation, IDR detection. */

#include "cmaf.h"

#include <string.h>

#define GC_H264_NAL_IDR 5
#define GC_H264_NAL_SPS 7
#define GC_H264_NAL_PPS 8

/* Walks the NAL units of an Annex B byte stream. A start code is 00 00 01;
 * the extra zero of a four-byte start code and any trailing_zero_8bits are
 * stripped from the end of the NAL unit before it, and empty NAL units are
 * skipped. Bytes before the first start code are not a NAL unit. */
typedef struct {
  const guint8 *data;
  gsize size;
  gsize pos; /* where the search for the next start code begins */
} GcAnnexBReader;

/* Returns the offset of the first byte after the next start code at or
 * after @from, or @size when there is none. */
static gsize
gc_annexb_find_start (const guint8 *data, gsize size, gsize from,
                      gsize *code_at)
{
  gsize i = from;

  while (size >= 3 && i <= size - 3) {
    if (data[i + 2] > 1) {
      i += 3;
    } else if (data[i + 2] == 1 && data[i + 1] == 0 && data[i] == 0) {
      *code_at = i;
      return i + 3;
    } else {
      i++;
    }
  }
  *code_at = size;
  return size;
}

static gboolean
gc_annexb_next (GcAnnexBReader *r, const guint8 **nal, gsize *nal_size)
{
  while (r->pos < r->size) {
    gsize code_at, start, end;

    start = gc_annexb_find_start (r->data, r->size, r->pos, &code_at);
    if (start >= r->size) {
      r->pos = r->size;
      return FALSE;
    }
    gc_annexb_find_start (r->data, r->size, start, &end);
    r->pos = end;
    while (end > start && r->data[end - 1] == 0)
      end--;
    if (end > start) {
      *nal = r->data + start;
      *nal_size = end - start;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
gc_h264_annexb_to_avc (const guint8 *data, gsize size, GByteArray *out,
                       GError **error)
{
  GcAnnexBReader r = {data, size, 0};
  const guint8 *nal;
  gsize nal_size;
  guint start_len;
  guint n = 0;

  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  start_len = out->len;
  while (gc_annexb_next (&r, &nal, &nal_size)) {
    guint8 len[4];

    if (nal_size > G_MAXUINT32) {
      g_byte_array_set_size (out, start_len);
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_BITSTREAM,
                   "NAL unit of %" G_GSIZE_FORMAT " bytes is too large",
                   nal_size);
      return FALSE;
    }
    len[0] = nal_size >> 24;
    len[1] = nal_size >> 16;
    len[2] = nal_size >> 8;
    len[3] = nal_size;
    g_byte_array_append (out, len, 4);
    g_byte_array_append (out, nal, (guint)nal_size);
    n++;
  }

  if (n == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_BITSTREAM,
                 "no NAL unit found in the Annex B access unit");
    return FALSE;
  }
  return TRUE;
}

GBytes *
gc_h264_avcc_from_annexb (const guint8 *data, gsize size, GError **error)
{
  GcAnnexBReader r = {data, size, 0};
  g_autoptr (GByteArray) pps = g_byte_array_new ();
  g_autoptr (GByteArray) record = NULL;
  const guint8 *sps = NULL;
  gsize sps_size = 0;
  const guint8 *nal;
  gsize nal_size;
  guint n_pps = 0;
  guint n_nals = 0;

  g_return_val_if_fail (data != NULL || size == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  while (gc_annexb_next (&r, &nal, &nal_size)) {
    guint type = nal[0] & 0x1f;

    n_nals++;
    if (type != GC_H264_NAL_SPS && type != GC_H264_NAL_PPS)
      continue;
    if (nal_size > G_MAXUINT16) {
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                   "parameter set of %" G_GSIZE_FORMAT " bytes is too large",
                   nal_size);
      return NULL;
    }
    if (type == GC_H264_NAL_SPS) {
      if (sps == NULL) {
        sps = nal;
        sps_size = nal_size;
      }
    } else {
      guint8 len[2] = {(guint8)(nal_size >> 8), (guint8)nal_size};

      if (n_pps == 255) {
        g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                     "more than 255 PPS in one access unit");
        return NULL;
      }
      g_byte_array_append (pps, len, 2);
      g_byte_array_append (pps, nal, (guint)nal_size);
      n_pps++;
    }
  }

  if (n_nals == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_BITSTREAM,
                 "no NAL unit found in the Annex B access unit");
    return NULL;
  }
  if (sps == NULL) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "the access unit carries no SPS");
    return NULL;
  }
  if (sps_size < 4) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "SPS of %" G_GSIZE_FORMAT " bytes is too short", sps_size);
    return NULL;
  }
  if (n_pps == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "the access unit carries no PPS");
    return NULL;
  }

  {
    guint8 header[8] = {
        1,      /* configurationVersion */
        sps[1], /* AVCProfileIndication */
        sps[2], /* profile_compatibility */
        sps[3], /* AVCLevelIndication */
        0xff,   /* reserved bits, lengthSizeMinusOne = 3 */
        0xe1,   /* reserved bits, numOfSequenceParameterSets = 1 */
        (guint8)(sps_size >> 8),
        (guint8)sps_size,
    };
    guint8 n = n_pps;

    record = g_byte_array_sized_new (sizeof header + sps_size + 1 + pps->len);
    g_byte_array_append (record, header, sizeof header);
    g_byte_array_append (record, sps, (guint)sps_size);
    g_byte_array_append (record, &n, 1);
    g_byte_array_append (record, pps->data, pps->len);
  }
  return g_byte_array_free_to_bytes (g_steal_pointer (&record));
}

/* Checks @count parameter sets of NAL type @type at @*pos, each preceded by a
 * 16-bit length, and advances @*pos past them. */
static gboolean
gc_h264_avcc_check_sets (const guint8 *avcc, gsize size, gsize *pos,
                         guint count, guint type, GError **error)
{
  for (guint i = 0; i < count; i++) {
    gsize len;

    if (size - *pos < 2) {
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                   "avcC is truncated before a parameter set length");
      return FALSE;
    }
    len = (avcc[*pos] << 8) | avcc[*pos + 1];
    *pos += 2;
    if (len > size - *pos) {
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                   "avcC parameter set of %" G_GSIZE_FORMAT
                   " bytes overruns the record",
                   len);
      return FALSE;
    }
    if (len == 0 || (avcc[*pos] & 0x1f) != type ||
        (type == GC_H264_NAL_SPS && len < 4)) {
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                   "avcC holds a malformed %s",
                   type == GC_H264_NAL_SPS ? "SPS" : "PPS");
      return FALSE;
    }
    *pos += len;
  }
  return TRUE;
}

gboolean
gc_h264_avcc_parse (const guint8 *avcc, gsize size, guint8 *profile_idc,
                    guint8 *constraint_flags, guint8 *level_idc,
                    guint *nal_length_size, GError **error)
{
  gsize pos;
  guint n_sps, n_pps, length_size;

  g_return_val_if_fail (avcc != NULL || size == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (size < 7) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "avcC of %" G_GSIZE_FORMAT " bytes is too short", size);
    return FALSE;
  }
  if (avcc[0] != 1) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "unsupported avcC configurationVersion %u", avcc[0]);
    return FALSE;
  }
  length_size = (avcc[4] & 0x03) + 1;
  if (length_size == 3) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "avcC NAL length size 3 is not allowed");
    return FALSE;
  }

  /* avc1 requires the parameter sets in the sample entry. */
  n_sps = avcc[5] & 0x1f;
  if (n_sps == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "avcC carries no SPS");
    return FALSE;
  }
  pos = 6;
  if (!gc_h264_avcc_check_sets (avcc, size, &pos, n_sps, GC_H264_NAL_SPS,
                                error))
    return FALSE;
  if (pos >= size) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "avcC is truncated before the PPS count");
    return FALSE;
  }
  n_pps = avcc[pos++];
  if (n_pps == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "avcC carries no PPS");
    return FALSE;
  }
  if (!gc_h264_avcc_check_sets (avcc, size, &pos, n_pps, GC_H264_NAL_PPS,
                                error))
    return FALSE;
  /* Anything after the PPS list is the High-profile extension (chroma
   * format, bit depths, SPS extensions) that we pass through unread. */

  if (profile_idc != NULL)
    *profile_idc = avcc[1];
  if (constraint_flags != NULL)
    *constraint_flags = avcc[2];
  if (level_idc != NULL)
    *level_idc = avcc[3];
  if (nal_length_size != NULL)
    *nal_length_size = length_size;
  return TRUE;
}

gboolean
gc_h264_avc_is_keyframe (const guint8 *data, gsize size, guint nal_length_size)
{
  gboolean idr = FALSE;
  gsize pos = 0;

  if (data == NULL ||
      (nal_length_size != 1 && nal_length_size != 2 && nal_length_size != 4))
    return FALSE;

  /* Every length is checked before it is used, and an access unit whose
   * lengths do not add up is malformed even if an IDR came first. */
  while (pos < size) {
    gsize len = 0;

    if (size - pos < nal_length_size)
      return FALSE;
    for (guint i = 0; i < nal_length_size; i++)
      len = (len << 8) | data[pos + i];
    pos += nal_length_size;
    if (len > size - pos)
      return FALSE;
    if (len > 0 && (data[pos] & 0x1f) == GC_H264_NAL_IDR)
      idr = TRUE;
    pos += len;
  }
  return idr;
}

/* cmaf.c — writes the CMAF boxes: the init segment (ftyp + moov), styp,
 * moof + mdat fragments, emsg events, RFC 6381 codec strings, the error quark. */

#include "cmaf.h"

#include <string.h>

GQuark
gc_cmaf_error_quark (void)
{
  return g_quark_from_static_string ("gc-cmaf-error-quark");
}

/* Real decoder configurations are a few dozen bytes. Capping them keeps every
 * box we write far below the 32-bit size limit without further checks. */
#define GC_CMAF_MAX_CODEC_DATA (1024 * 1024)

/* moov/trak/mdia/minf/stbl/stsd/mp4a/esds is the deepest nesting we write. */
#define GC_BOX_MAX_DEPTH 10

/* Appends big-endian fields to a GByteArray and remembers where each open box
 * starts, so its size can be patched in when it is closed. Callers validate
 * everything first: once writing starts it cannot fail. */
typedef struct {
  GByteArray *out;
  guint open[GC_BOX_MAX_DEPTH];
  guint depth;
} GcBoxWriter;

static void
gc_bw_init (GcBoxWriter *w, GByteArray *out)
{
  w->out = out;
  w->depth = 0;
}

static void
gc_bw_bytes (GcBoxWriter *w, const guint8 *data, gsize size)
{
  if (size > 0)
    g_byte_array_append (w->out, data, (guint)size);
}

static void
gc_bw_u8 (GcBoxWriter *w, guint8 v)
{
  gc_bw_bytes (w, &v, 1);
}

static void
gc_bw_u16 (GcBoxWriter *w, guint16 v)
{
  guint8 b[2] = {(guint8)(v >> 8), (guint8)v};

  gc_bw_bytes (w, b, sizeof b);
}

static void
gc_bw_u24 (GcBoxWriter *w, guint32 v)
{
  guint8 b[3] = {(guint8)(v >> 16), (guint8)(v >> 8), (guint8)v};

  gc_bw_bytes (w, b, sizeof b);
}

static void
gc_bw_u32 (GcBoxWriter *w, guint32 v)
{
  guint8 b[4] = {(guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8),
                 (guint8)v};

  gc_bw_bytes (w, b, sizeof b);
}

static void
gc_bw_u64 (GcBoxWriter *w, guint64 v)
{
  gc_bw_u32 (w, (guint32)(v >> 32));
  gc_bw_u32 (w, (guint32)v);
}

static void
gc_bw_zeros (GcBoxWriter *w, guint n)
{
  static const guint8 zeros[32] = {0};

  while (n > 0) {
    guint chunk = MIN (n, sizeof zeros);

    gc_bw_bytes (w, zeros, chunk);
    n -= chunk;
  }
}

static void
gc_bw_fourcc (GcBoxWriter *w, const gchar *fourcc)
{
  gc_bw_bytes (w, (const guint8 *)fourcc, 4);
}

/* Writes @s with its terminating NUL. */
static void
gc_bw_cstring (GcBoxWriter *w, const gchar *s)
{
  gc_bw_bytes (w, (const guint8 *)s, strlen (s) + 1);
}

static void
gc_bw_open (GcBoxWriter *w, const gchar *fourcc)
{
  g_assert (w->depth < GC_BOX_MAX_DEPTH);
  w->open[w->depth++] = w->out->len;
  gc_bw_u32 (w, 0);
  gc_bw_fourcc (w, fourcc);
}

static void
gc_bw_open_full (GcBoxWriter *w, const gchar *fourcc, guint8 version,
                 guint32 flags)
{
  gc_bw_open (w, fourcc);
  gc_bw_u8 (w, version);
  gc_bw_u24 (w, flags);
}

static void
gc_bw_close (GcBoxWriter *w)
{
  guint start;
  guint32 size;
  guint8 *p;

  g_assert (w->depth > 0);
  start = w->open[--w->depth];
  size = w->out->len - start;
  p = w->out->data + start;
  p[0] = size >> 24;
  p[1] = size >> 16;
  p[2] = size >> 8;
  p[3] = size;
}

static void
gc_bw_unity_matrix (GcBoxWriter *w)
{
  gc_bw_u32 (w, 0x00010000);
  gc_bw_u32 (w, 0);
  gc_bw_u32 (w, 0);
  gc_bw_u32 (w, 0);
  gc_bw_u32 (w, 0x00010000);
  gc_bw_u32 (w, 0);
  gc_bw_u32 (w, 0);
  gc_bw_u32 (w, 0);
  gc_bw_u32 (w, 0x40000000);
}

/* MPEG-4 Systems descriptors (ISO/IEC 14496-1 8.3.3): a length below 128
 * takes one byte; anything longer uses the four-byte form with continuation
 * bits, which is what most muxers write and every parser accepts. */
static guint
gc_descr_header_size (guint32 len)
{
  return 1 + (len < 128 ? 1 : 4);
}

static void
gc_bw_descr (GcBoxWriter *w, guint8 tag, guint32 len)
{
  gc_bw_u8 (w, tag);
  if (gc_descr_header_size (len) == 2) {
    gc_bw_u8 (w, len);
  } else {
    gc_bw_u8 (w, 0x80 | ((len >> 21) & 0x7f));
    gc_bw_u8 (w, 0x80 | ((len >> 14) & 0x7f));
    gc_bw_u8 (w, 0x80 | ((len >> 7) & 0x7f));
    gc_bw_u8 (w, len & 0x7f);
  }
}

/* ------------------------------------------------------------------------ */
/* Validation of a track: everything the writer needs, checked up front.    */

typedef struct {
  guint16 language; /* packed ISO-639-2/T */

  /* Opus: the fields of dOps. */
  guint8 opus_channels;
  guint16 opus_pre_skip;
  guint32 opus_input_rate;
  gint16 opus_gain;
  guint8 opus_family;
  guint8 opus_streams;
  guint8 opus_coupled;
  guint8 opus_mapping[255];
} GcTrackInfo;

static gboolean
gc_cmaf_pack_language (const gchar *language, guint16 *packed, GError **error)
{
  guint16 v = 0;

  if (language == NULL)
    language = "und";

  if (strlen (language) != 3) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "language must be a three-letter ISO-639-2/T code");
    return FALSE;
  }
  for (guint i = 0; i < 3; i++) {
    gchar c = language[i];

    if (c < 'a' || c > 'z') {
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                   "language must be three lower-case letters a-z");
      return FALSE;
    }
    v = (v << 5) | (guint16)(c - 0x60);
  }
  *packed = v;
  return TRUE;
}

/* The audioObjectType at the start of an AudioSpecificConfig
 * (ISO/IEC 14496-3 1.6.2.1), including the escape value 31. */
static gboolean
gc_cmaf_aac_object_type (const guint8 *asc, gsize size, guint *aot,
                         GError **error)
{
  guint v;

  if (asc == NULL || size < 2) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "AAC needs an AudioSpecificConfig of at least 2 bytes");
    return FALSE;
  }
  v = asc[0] >> 3;
  if (v == 31)
    v = 32 + (((asc[0] & 0x07) << 3) | (asc[1] >> 5));
  if (v == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "AudioSpecificConfig has audio object type 0");
    return FALSE;
  }
  *aot = v;
  return TRUE;
}

/* The OpusHead identification header (RFC 7845 5.1): little-endian. */
static gboolean
gc_cmaf_parse_opus_head (const guint8 *d, gsize size, GcTrackInfo *info,
                         GError **error)
{
  guint needed;

  if (size < 19 || memcmp (d, "OpusHead", 8) != 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "Opus codec data is not an OpusHead header");
    return FALSE;
  }
  /* The upper nibble is the major version; only 0 is defined. */
  if ((d[8] & 0xf0) != 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "unsupported OpusHead version %u", d[8]);
    return FALSE;
  }
  info->opus_channels = d[9];
  info->opus_pre_skip = d[10] | (d[11] << 8);
  info->opus_input_rate =
      d[12] | (d[13] << 8) | (d[14] << 16) | ((guint32)d[15] << 24);
  info->opus_gain = (gint16)(guint16)(d[16] | (d[17] << 8));
  info->opus_family = d[18];

  if (info->opus_channels == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "OpusHead has zero channels");
    return FALSE;
  }
  if (info->opus_family == 0) {
    if (info->opus_channels > 2) {
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                   "Opus mapping family 0 allows at most 2 channels, not %u",
                   info->opus_channels);
      return FALSE;
    }
    return TRUE;
  }

  needed = 21 + info->opus_channels;
  if (size < needed) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "OpusHead channel mapping table is truncated");
    return FALSE;
  }
  info->opus_streams = d[19];
  info->opus_coupled = d[20];
  if (info->opus_streams == 0 || info->opus_coupled > info->opus_streams ||
      info->opus_streams + info->opus_coupled > 255) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "OpusHead stream counts are inconsistent");
    return FALSE;
  }
  for (guint i = 0; i < info->opus_channels; i++) {
    guint8 m = d[21 + i];

    if (m != 255 && m >= info->opus_streams + info->opus_coupled) {
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                   "OpusHead channel mapping refers to a missing stream");
      return FALSE;
    }
    info->opus_mapping[i] = m;
  }
  return TRUE;
}

static gboolean
gc_cmaf_check_track (const GcCmafTrack *track, GcTrackInfo *info,
                     GError **error)
{
  memset (info, 0, sizeof *info);

  if (track->track_id == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "track_id must be at least 1");
    return FALSE;
  }
  if (track->timescale == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "timescale must not be 0");
    return FALSE;
  }
  if (track->codec_data == NULL && track->codec_data_size != 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "codec_data_size is set but codec_data is NULL");
    return FALSE;
  }
  if (track->codec_data_size > GC_CMAF_MAX_CODEC_DATA) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                 "codec data of %" G_GSIZE_FORMAT " bytes is too large",
                 track->codec_data_size);
    return FALSE;
  }
  if (!gc_cmaf_pack_language (track->language, &info->language, error))
    return FALSE;

  switch (track->codec) {
    case GC_CMAF_CODEC_H264:
      if (track->width == 0 || track->width > G_MAXUINT16 ||
          track->height == 0 || track->height > G_MAXUINT16) {
        g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                     "video size %ux%u is out of range 1..65535", track->width,
                     track->height);
        return FALSE;
      }
      if (track->codec_data == NULL) {
        g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                     "H.264 needs an AVCDecoderConfigurationRecord");
        return FALSE;
      }
      return gc_h264_avcc_parse (track->codec_data, track->codec_data_size,
                                 NULL, NULL, NULL, NULL, error);

    case GC_CMAF_CODEC_AAC: {
      guint aot;

      /* AudioSampleEntry v0 has a 16.16 samplerate and a 16-bit count. */
      if (track->sample_rate == 0 || track->sample_rate > G_MAXUINT16 ||
          track->channels == 0 || track->channels > G_MAXUINT16) {
        g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                     "AAC sample rate %u or channel count %u out of range",
                     track->sample_rate, track->channels);
        return FALSE;
      }
      return gc_cmaf_aac_object_type (track->codec_data, track->codec_data_size,
                                      &aot, error);
    }

    case GC_CMAF_CODEC_OPUS:
      if (track->channels == 0 || track->channels > 255) {
        g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                     "Opus channel count %u out of range 1..255",
                     track->channels);
        return FALSE;
      }
      if (track->codec_data != NULL) {
        if (!gc_cmaf_parse_opus_head (track->codec_data, track->codec_data_size,
                                      info, error))
          return FALSE;
        if (info->opus_channels != track->channels) {
          g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                       "track has %u channels but OpusHead has %u",
                       track->channels, info->opus_channels);
          return FALSE;
        }
        return TRUE;
      }
      if (track->channels > 2) {
        g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                     "%u Opus channels need an OpusHead with a channel "
                     "mapping; family 0 allows at most 2",
                     track->channels);
        return FALSE;
      }
      info->opus_channels = track->channels;
      info->opus_pre_skip = 312;
      info->opus_input_rate = track->sample_rate;
      info->opus_gain = 0;
      info->opus_family = 0;
      return TRUE;

    default:
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                   "unknown codec %d", (int)track->codec);
      return FALSE;
  }
}

/* ------------------------------------------------------------------------ */
/* Init segment                                                             */

static void
gc_cmaf_write_ftyp (GcBoxWriter *w)
{
  gc_bw_open (w, "ftyp");
  gc_bw_fourcc (w, "iso6");
  gc_bw_u32 (w, 0);
  gc_bw_fourcc (w, "iso6");
  gc_bw_fourcc (w, "cmfc");
  gc_bw_fourcc (w, "mp41");
  gc_bw_close (w);
}

static void
gc_cmaf_write_mvhd (GcBoxWriter *w, const GcCmafTrack *track)
{
  /* A track_ID of 0xFFFFFFFF leaves no larger free ID; all ones says so. */
  guint32 next_track_id =
      track->track_id == G_MAXUINT32 ? G_MAXUINT32 : track->track_id + 1;

  gc_bw_open_full (w, "mvhd", 0, 0);
  gc_bw_u32 (w, 0);    /* creation_time */
  gc_bw_u32 (w, 0);    /* modification_time */
  gc_bw_u32 (w, 1000); /* timescale */
  gc_bw_u32 (w, 0);    /* duration: fragmented, unknown */
  gc_bw_u32 (w, 0x00010000);
  gc_bw_u16 (w, 0x0100);
  gc_bw_zeros (w, 2 + 8);
  gc_bw_unity_matrix (w);
  gc_bw_zeros (w, 6 * 4); /* pre_defined */
  gc_bw_u32 (w, next_track_id);
  gc_bw_close (w);
}

static void
gc_cmaf_write_tkhd (GcBoxWriter *w, const GcCmafTrack *track)
{
  gboolean video = track->codec == GC_CMAF_CODEC_H264;

  /* flags: track_enabled | track_in_movie */
  gc_bw_open_full (w, "tkhd", 0, 0x000003);
  gc_bw_u32 (w, 0); /* creation_time */
  gc_bw_u32 (w, 0); /* modification_time */
  gc_bw_u32 (w, track->track_id);
  gc_bw_u32 (w, 0); /* reserved */
  gc_bw_u32 (w, 0); /* duration */
  gc_bw_zeros (w, 8);
  gc_bw_u16 (w, 0); /* layer */
  gc_bw_u16 (w, 0); /* alternate_group */
  gc_bw_u16 (w, video ? 0 : 0x0100);
  gc_bw_u16 (w, 0);
  gc_bw_unity_matrix (w);
  gc_bw_u32 (w, video ? track->width << 16 : 0);
  gc_bw_u32 (w, video ? track->height << 16 : 0);
  gc_bw_close (w);
}

static void
gc_cmaf_write_mdhd (GcBoxWriter *w, const GcCmafTrack *track,
                    const GcTrackInfo *info)
{
  gc_bw_open_full (w, "mdhd", 0, 0);
  gc_bw_u32 (w, 0); /* creation_time */
  gc_bw_u32 (w, 0); /* modification_time */
  gc_bw_u32 (w, track->timescale);
  gc_bw_u32 (w, 0); /* duration */
  gc_bw_u16 (w, info->language);
  gc_bw_u16 (w, 0); /* pre_defined */
  gc_bw_close (w);
}

static void
gc_cmaf_write_hdlr (GcBoxWriter *w, gboolean video)
{
  gc_bw_open_full (w, "hdlr", 0, 0);
  gc_bw_u32 (w, 0); /* pre_defined */
  gc_bw_fourcc (w, video ? "vide" : "soun");
  gc_bw_zeros (w, 12);
  gc_bw_cstring (w, video ? "VideoHandler" : "SoundHandler");
  gc_bw_close (w);
}

static void
gc_cmaf_write_avc1 (GcBoxWriter *w, const GcCmafTrack *track)
{
  gc_bw_open (w, "avc1");
  gc_bw_zeros (w, 6);
  gc_bw_u16 (w, 1);       /* data_reference_index */
  gc_bw_zeros (w, 2 + 2); /* pre_defined, reserved */
  gc_bw_zeros (w, 12);    /* pre_defined */
  gc_bw_u16 (w, track->width);
  gc_bw_u16 (w, track->height);
  gc_bw_u32 (w, 0x00480000); /* 72 dpi */
  gc_bw_u32 (w, 0x00480000);
  gc_bw_u32 (w, 0);
  gc_bw_u16 (w, 1);    /* frame_count */
  gc_bw_zeros (w, 32); /* compressorname */
  gc_bw_u16 (w, 0x0018);
  gc_bw_u16 (w, 0xffff); /* pre_defined = -1 */

  gc_bw_open (w, "avcC");
  gc_bw_bytes (w, track->codec_data, track->codec_data_size);
  gc_bw_close (w);

  if (track->avg_bitrate != 0 || track->max_bitrate != 0) {
    gc_bw_open (w, "btrt");
    gc_bw_u32 (w, 0); /* bufferSizeDB */
    gc_bw_u32 (w, track->max_bitrate);
    gc_bw_u32 (w, track->avg_bitrate);
    gc_bw_close (w);
  }
  gc_bw_close (w);
}

static void
gc_cmaf_write_audio_entry_fields (GcBoxWriter *w, guint channels,
                                  guint32 sample_rate)
{
  gc_bw_zeros (w, 6);
  gc_bw_u16 (w, 1); /* data_reference_index */
  gc_bw_zeros (w, 8);
  gc_bw_u16 (w, channels);
  gc_bw_u16 (w, 16); /* samplesize */
  gc_bw_u16 (w, 0);  /* pre_defined */
  gc_bw_u16 (w, 0);
  gc_bw_u32 (w, sample_rate << 16);
}

static void
gc_cmaf_write_mp4a (GcBoxWriter *w, const GcCmafTrack *track)
{
  guint32 asc_len = (guint32)track->codec_data_size;
  guint32 dcd_len = 13 + gc_descr_header_size (asc_len) + asc_len;
  guint32 sl_len = 1;
  guint32 es_len = 3 + gc_descr_header_size (dcd_len) + dcd_len +
                   gc_descr_header_size (sl_len) + sl_len;

  gc_bw_open (w, "mp4a");
  gc_cmaf_write_audio_entry_fields (w, track->channels, track->sample_rate);

  gc_bw_open_full (w, "esds", 0, 0);
  gc_bw_descr (w, 0x03, es_len); /* ES_Descriptor */
  gc_bw_u16 (w, 0);              /* ES_ID */
  gc_bw_u8 (w, 0);               /* no dependency, URL or OCR stream */

  gc_bw_descr (w, 0x04, dcd_len); /* DecoderConfigDescriptor */
  gc_bw_u8 (w, 0x40);             /* objectTypeIndication: MPEG-4 audio */
  gc_bw_u8 (w, (0x05 << 2) | 1);  /* streamType audio, reserved bit */
  gc_bw_u24 (w, 0);               /* bufferSizeDB */
  gc_bw_u32 (w, track->max_bitrate);
  gc_bw_u32 (w, track->avg_bitrate);

  gc_bw_descr (w, 0x05, asc_len); /* DecoderSpecificInfo */
  gc_bw_bytes (w, track->codec_data, asc_len);

  gc_bw_descr (w, 0x06, sl_len); /* SLConfigDescriptor */
  gc_bw_u8 (w, 0x02);            /* predefined: reserved for MP4 files */
  gc_bw_close (w);

  gc_bw_close (w);
}

static void
gc_cmaf_write_opus (GcBoxWriter *w, const GcCmafTrack *track,
                    const GcTrackInfo *info)
{
  gc_bw_open (w, "Opus");
  /* Opus always decodes at 48 kHz; the input rate lives in dOps. */
  gc_cmaf_write_audio_entry_fields (w, track->channels, 48000);

  gc_bw_open (w, "dOps");
  gc_bw_u8 (w, 0); /* Version */
  gc_bw_u8 (w, info->opus_channels);
  gc_bw_u16 (w, info->opus_pre_skip);
  gc_bw_u32 (w, info->opus_input_rate);
  gc_bw_u16 (w, (guint16)info->opus_gain);
  gc_bw_u8 (w, info->opus_family);
  if (info->opus_family != 0) {
    gc_bw_u8 (w, info->opus_streams);
    gc_bw_u8 (w, info->opus_coupled);
    gc_bw_bytes (w, info->opus_mapping, info->opus_channels);
  }
  gc_bw_close (w);

  gc_bw_close (w);
}

static void
gc_cmaf_write_stbl (GcBoxWriter *w, const GcCmafTrack *track,
                    const GcTrackInfo *info)
{
  gc_bw_open (w, "stbl");

  gc_bw_open_full (w, "stsd", 0, 0);
  gc_bw_u32 (w, 1); /* entry_count */
  switch (track->codec) {
    case GC_CMAF_CODEC_H264:
      gc_cmaf_write_avc1 (w, track);
      break;
    case GC_CMAF_CODEC_AAC:
      gc_cmaf_write_mp4a (w, track);
      break;
    case GC_CMAF_CODEC_OPUS:
      gc_cmaf_write_opus (w, track, info);
      break;
    default:
      g_assert_not_reached ();
  }
  gc_bw_close (w);

  /* Samples live in the fragments: every table here is empty. */
  gc_bw_open_full (w, "stts", 0, 0);
  gc_bw_u32 (w, 0);
  gc_bw_close (w);
  gc_bw_open_full (w, "stsc", 0, 0);
  gc_bw_u32 (w, 0);
  gc_bw_close (w);
  gc_bw_open_full (w, "stsz", 0, 0);
  gc_bw_u32 (w, 0); /* sample_size */
  gc_bw_u32 (w, 0); /* sample_count */
  gc_bw_close (w);
  gc_bw_open_full (w, "stco", 0, 0);
  gc_bw_u32 (w, 0);
  gc_bw_close (w);

  gc_bw_close (w);
}

static void
gc_cmaf_write_minf (GcBoxWriter *w, const GcCmafTrack *track,
                    const GcTrackInfo *info)
{
  gc_bw_open (w, "minf");
  if (track->codec == GC_CMAF_CODEC_H264) {
    gc_bw_open_full (w, "vmhd", 0, 1);
    gc_bw_u16 (w, 0);   /* graphicsmode: copy */
    gc_bw_zeros (w, 6); /* opcolor */
    gc_bw_close (w);
  } else {
    gc_bw_open_full (w, "smhd", 0, 0);
    gc_bw_u16 (w, 0); /* balance */
    gc_bw_u16 (w, 0);
    gc_bw_close (w);
  }

  gc_bw_open (w, "dinf");
  gc_bw_open_full (w, "dref", 0, 0);
  gc_bw_u32 (w, 1);
  /* flags 1: the media data is in this file. */
  gc_bw_open_full (w, "url ", 0, 1);
  gc_bw_close (w);
  gc_bw_close (w);
  gc_bw_close (w);

  gc_cmaf_write_stbl (w, track, info);
  gc_bw_close (w);
}

gboolean
gc_cmaf_write_init (GByteArray *out, const GcCmafTrack *track, GError **error)
{
  GcBoxWriter w;
  GcTrackInfo info;
  gboolean video;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (track != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gc_cmaf_check_track (track, &info, error))
    return FALSE;

  video = track->codec == GC_CMAF_CODEC_H264;
  gc_bw_init (&w, out);
  gc_cmaf_write_ftyp (&w);

  gc_bw_open (&w, "moov");
  gc_cmaf_write_mvhd (&w, track);

  gc_bw_open (&w, "trak");
  gc_cmaf_write_tkhd (&w, track);
  gc_bw_open (&w, "mdia");
  gc_cmaf_write_mdhd (&w, track, &info);
  gc_cmaf_write_hdlr (&w, video);
  gc_cmaf_write_minf (&w, track, &info);
  gc_bw_close (&w); /* mdia */
  gc_bw_close (&w); /* trak */

  gc_bw_open (&w, "mvex");
  gc_bw_open_full (&w, "trex", 0, 0);
  gc_bw_u32 (&w, track->track_id);
  gc_bw_u32 (&w, 1); /* default_sample_description_index */
  gc_bw_u32 (&w, 0); /* default_sample_duration */
  gc_bw_u32 (&w, 0); /* default_sample_size */
  gc_bw_u32 (&w, 0); /* default_sample_flags */
  gc_bw_close (&w);
  gc_bw_close (&w); /* mvex */

  gc_bw_close (&w); /* moov */
  g_assert (w.depth == 0);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Segments and fragments                                                   */

void
gc_cmaf_write_styp (GByteArray *out)
{
  GcBoxWriter w;

  g_return_if_fail (out != NULL);

  gc_bw_init (&w, out);
  gc_bw_open (&w, "styp");
  gc_bw_fourcc (&w, "msdh");
  gc_bw_u32 (&w, 0);
  gc_bw_fourcc (&w, "msdh");
  gc_bw_fourcc (&w, "msix");
  gc_bw_fourcc (&w, "cmfs");
  gc_bw_close (&w);
}

#define GC_TRUN_DATA_OFFSET 0x000001
#define GC_TRUN_DURATION 0x000100
#define GC_TRUN_SIZE 0x000200
#define GC_TRUN_FLAGS 0x000400
#define GC_TRUN_CTS_OFFSET 0x000800

#define GC_TFHD_DEFAULT_BASE_IS_MOOF 0x020000

/* sample_depends_on = 2: an I-frame that depends on no other sample. */
#define GC_SAMPLE_FLAGS_SYNC 0x02000000
/* sample_depends_on = 1 and sample_is_non_sync_sample. */
#define GC_SAMPLE_FLAGS_NON_SYNC 0x01010000

gboolean
gc_cmaf_write_fragment (GByteArray *out, guint32 track_id,
                        const GcCmafFragment *fragment, const guint8 *mdat_data,
                        GError **error)
{
  GcBoxWriter w;
  guint64 payload = 0;
  guint64 moof_size;
  gboolean cts = FALSE;
  guint32 trun_flags;
  guint i;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (fragment != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (track_id == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "track_id must be at least 1");
    return FALSE;
  }
  if (fragment->sequence_number == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "sequence_number must be at least 1");
    return FALSE;
  }
  if (fragment->n_samples == 0 || fragment->samples == NULL) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "a fragment needs at least one sample");
    return FALSE;
  }

  for (i = 0; i < fragment->n_samples; i++) {
    payload += fragment->samples[i].size;
    if (fragment->samples[i].cts_offset != 0)
      cts = TRUE;
  }
  if (payload > G_MAXUINT32 - 8) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "%" G_GUINT64_FORMAT " sample bytes do not fit in one mdat",
                 payload);
    return FALSE;
  }

  /* moof(8) mfhd(16) traf(8) tfhd(16) tfdt(20) trun(20 + 16 per sample) */
  moof_size = 8 + 16 + 8 + 16 + 20 + 20 +
              (guint64)fragment->n_samples * (cts ? 16 : 12);
  /* data_offset is a signed 32-bit field. */
  if (moof_size + 8 > G_MAXINT32) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "%u samples are too many for one trun", fragment->n_samples);
    return FALSE;
  }

  trun_flags =
      GC_TRUN_DATA_OFFSET | GC_TRUN_DURATION | GC_TRUN_SIZE | GC_TRUN_FLAGS;
  if (cts)
    trun_flags |= GC_TRUN_CTS_OFFSET;

  gc_bw_init (&w, out);
  gc_bw_open (&w, "moof");

  gc_bw_open_full (&w, "mfhd", 0, 0);
  gc_bw_u32 (&w, fragment->sequence_number);
  gc_bw_close (&w);

  gc_bw_open (&w, "traf");
  gc_bw_open_full (&w, "tfhd", 0, GC_TFHD_DEFAULT_BASE_IS_MOOF);
  gc_bw_u32 (&w, track_id);
  gc_bw_close (&w);

  gc_bw_open_full (&w, "tfdt", 1, 0);
  gc_bw_u64 (&w, fragment->decode_time);
  gc_bw_close (&w);

  /* Version 1 makes the composition offsets signed, which B-frames with a
   * zero-based decode timeline need. */
  gc_bw_open_full (&w, "trun", cts ? 1 : 0, trun_flags);
  gc_bw_u32 (&w, fragment->n_samples);
  gc_bw_u32 (&w, (guint32)moof_size + 8);
  for (i = 0; i < fragment->n_samples; i++) {
    const GcCmafSample *s = &fragment->samples[i];

    gc_bw_u32 (&w, s->duration);
    gc_bw_u32 (&w, s->size);
    gc_bw_u32 (&w, s->sync ? GC_SAMPLE_FLAGS_SYNC : GC_SAMPLE_FLAGS_NON_SYNC);
    if (cts)
      gc_bw_u32 (&w, (guint32)s->cts_offset);
  }
  gc_bw_close (&w); /* trun */
  gc_bw_close (&w); /* traf */
  gc_bw_close (&w); /* moof */
  g_assert (w.depth == 0);

  /* The mdat header is written by hand: its payload may be left to the
   * caller, so it cannot be closed like the other boxes. */
  gc_bw_u32 (&w, (guint32)(payload + 8));
  gc_bw_fourcc (&w, "mdat");
  if (mdat_data != NULL)
    gc_bw_bytes (&w, mdat_data, (gsize)payload);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Event messages                                                           */

gboolean
gc_cmaf_write_emsg (GByteArray *out, const GcCmafEmsg *emsg, GError **error)
{
  GcBoxWriter w;
  const gchar *value;
  guint64 size;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (emsg != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (emsg->timescale == 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "emsg timescale must not be 0");
    return FALSE;
  }
  if (emsg->scheme_id_uri == NULL) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "emsg needs a scheme_id_uri");
    return FALSE;
  }
  if (emsg->message_data == NULL && emsg->message_data_size != 0) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "message_data_size is set but message_data is NULL");
    return FALSE;
  }
  value = emsg->value != NULL ? emsg->value : "";

  size = 12 + 4 + 8 + 4 + 4;
  size += (guint64)strlen (emsg->scheme_id_uri) + 1;
  size += (guint64)strlen (value) + 1;
  size += emsg->message_data_size;
  if (size > G_MAXUINT32) {
    g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                 "emsg of %" G_GUINT64_FORMAT " bytes is too large", size);
    return FALSE;
  }

  gc_bw_init (&w, out);
  gc_bw_open_full (&w, "emsg", 1, 0);
  gc_bw_u32 (&w, emsg->timescale);
  gc_bw_u64 (&w, emsg->presentation_time);
  gc_bw_u32 (&w, emsg->event_duration);
  gc_bw_u32 (&w, emsg->id);
  gc_bw_cstring (&w, emsg->scheme_id_uri);
  gc_bw_cstring (&w, value);
  gc_bw_bytes (&w, emsg->message_data, emsg->message_data_size);
  gc_bw_close (&w);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* RFC 6381 codec strings                                                   */

gchar *
gc_cmaf_codec_string (const GcCmafTrack *track, GError **error)
{
  g_return_val_if_fail (track != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  switch (track->codec) {
    case GC_CMAF_CODEC_H264: {
      guint8 profile, constraints, level;

      if (track->codec_data == NULL) {
        g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_CODEC_DATA,
                     "H.264 needs an AVCDecoderConfigurationRecord");
        return NULL;
      }
      if (!gc_h264_avcc_parse (track->codec_data, track->codec_data_size,
                               &profile, &constraints, &level, NULL, error))
        return NULL;
      return g_strdup_printf ("avc1.%02X%02X%02X", profile, constraints, level);
    }

    case GC_CMAF_CODEC_AAC: {
      guint aot;

      if (!gc_cmaf_aac_object_type (track->codec_data, track->codec_data_size,
                                    &aot, error))
        return NULL;
      return g_strdup_printf ("mp4a.40.%u", aot);
    }

    case GC_CMAF_CODEC_OPUS:
      return g_strdup ("opus");

    default:
      g_set_error (error, GC_CMAF_ERROR, GC_CMAF_ERROR_INVALID_ARGUMENT,
                   "unknown codec %d", (int)track->codec);
      return NULL;
  }
}

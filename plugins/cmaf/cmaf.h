/* cmaf.h — public API of the CMAF (ISO BMFF fragmented MP4) writer.
 * Plain C on GLib: no GStreamer types, so it can be unit-tested byte for byte and fuzzed. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_CMAF_ERROR (gc_cmaf_error_quark ())
GQuark gc_cmaf_error_quark (void);

typedef enum {
  GC_CMAF_ERROR_INVALID_ARGUMENT, /* a field is out of range or inconsistent */
  GC_CMAF_ERROR_CODEC_DATA,       /* codec configuration missing or malformed */
  GC_CMAF_ERROR_BITSTREAM,        /* media data could not be parsed */
} GcCmafErrorCode;

typedef enum {
  GC_CMAF_CODEC_H264 = 1,
  GC_CMAF_CODEC_AAC,
  GC_CMAF_CODEC_OPUS,
} GcCmafCodec;

/* One CMAF track: a CMAF track file carries exactly one track, so an init
 * segment describes one of these. */
typedef struct {
  GcCmafCodec codec;
  guint32 track_id;  /* >= 1 */
  guint32 timescale; /* ticks per second of every time in this track */

  /* Video (H.264): display size in pixels. */
  guint32 width;
  guint32 height;

  /* Audio: sampling rate in Hz and channel count. */
  guint32 sample_rate;
  guint32 channels;

  /* Codec configuration:
   *  H.264: the AVCDecoderConfigurationRecord (the avcC payload);
   *  AAC:   the AudioSpecificConfig (the esds DecoderSpecificInfo);
   *  Opus:  the OpusHead identification header (RFC 7845 section 5.1), or
   *         NULL for a plain mapping-family-0 stream described by the
   *         fields above (pre-skip 312, gain 0). */
  const guint8 *codec_data;
  gsize codec_data_size;

  /* Bit rates in bit/s for esds and btrt; 0 when unknown. */
  guint32 avg_bitrate;
  guint32 max_bitrate;

  /* ISO-639-2/T language code for mdhd; NULL means "und". */
  const gchar *language;
} GcCmafTrack;

/* One media sample (an access unit / audio frame) of a fragment. */
typedef struct {
  guint32 duration;  /* in the track's timescale */
  guint32 size;      /* bytes in mdat */
  gint32 cts_offset; /* presentation minus decode time, in the timescale */
  gboolean sync;     /* a sync sample (IDR for H.264; every audio frame) */
} GcCmafSample;

/* One movie fragment: moof (mfhd, traf(tfhd, tfdt, trun)) then mdat. */
typedef struct {
  guint32 sequence_number; /* mfhd, >= 1, increasing within a track */
  guint64 decode_time;     /* tfdt baseMediaDecodeTime, in the timescale */
  const GcCmafSample *samples;
  guint n_samples; /* >= 1 */
} GcCmafFragment;

/* An 'emsg' version 1 box (ISO/IEC 23009-1 5.10.3.3). */
typedef struct {
  guint32 timescale;
  guint64 presentation_time; /* absolute, in the timescale */
  guint32 event_duration;    /* 0xFFFFFFFF: unknown */
  guint32 id;
  const gchar *scheme_id_uri; /* e.g. GC_CMAF_EMSG_SCHEME_ID3 */
  const gchar *value;         /* NULL is written as "" */
  const guint8 *message_data;
  gsize message_data_size;
} GcCmafEmsg;

#define GC_CMAF_EMSG_SCHEME_ID3 "https://aomedia.org/emsg/ID3"

/**
 * gc_cmaf_write_init:
 * @out: buffer the init segment is appended to
 * @track: the track to describe
 *
 * Appends a CMAF header: `ftyp` then `moov` (mvhd, trak with tkhd/mdia/
 * minf/stbl and an empty sample table, mvex/trex).
 *
 * Returns: %TRUE, or %FALSE with @error set and @out unchanged.
 */
gboolean gc_cmaf_write_init (GByteArray *out, const GcCmafTrack *track,
                             GError **error);

/**
 * gc_cmaf_write_styp:
 * @out: buffer the box is appended to
 *
 * Appends the `styp` box that opens a CMAF segment (brands msdh, msix, cmfs).
 */
void gc_cmaf_write_styp (GByteArray *out);

/**
 * gc_cmaf_write_fragment:
 * @out: buffer the fragment is appended to
 * @track_id: the track the fragment belongs to
 * @fragment: timing and sample table
 * @mdat_data: (nullable): the samples' bytes, concatenated, exactly the sum
 *   of the sample sizes long; %NULL to append only the header
 *   (moof plus the 8-byte mdat box header) so the caller can write the
 *   payload itself without a copy
 *
 * Appends `moof` + `mdat`. trun carries per-sample duration, size, flags and
 * (version 1, signed) composition offsets; data_offset points into mdat.
 *
 * Returns: %TRUE, or %FALSE with @error set and @out unchanged.
 */
gboolean gc_cmaf_write_fragment (GByteArray *out, guint32 track_id,
                                 const GcCmafFragment *fragment,
                                 const guint8 *mdat_data, GError **error);

/**
 * gc_cmaf_write_emsg:
 * @out: buffer the box is appended to
 * @emsg: the event message
 *
 * Appends an `emsg` version 1 box. Returns: %TRUE, or %FALSE with @error set
 * and @out unchanged.
 */
gboolean gc_cmaf_write_emsg (GByteArray *out, const GcCmafEmsg *emsg,
                             GError **error);

/**
 * gc_cmaf_codec_string:
 * @track: a track
 *
 * Returns: (transfer full): the RFC 6381 CODECS value, e.g. "avc1.42C01F"
 * (from the avcC's profile, constraint flags and level), "mp4a.40.2" (from
 * the AudioSpecificConfig's object type) or "opus".
 */
gchar *gc_cmaf_codec_string (const GcCmafTrack *track, GError **error);

/* --- H.264 bitstream helpers (h264.c) --- */

/**
 * gc_h264_annexb_to_avc:
 * @data: an access unit in Annex B byte-stream form (start codes)
 * @size: its size
 * @out: receives the access unit with 4-byte big-endian NAL lengths
 *
 * Returns: %TRUE, or %FALSE with @error set when no NAL unit was found.
 */
gboolean gc_h264_annexb_to_avc (const guint8 *data, gsize size, GByteArray *out,
                                GError **error);

/**
 * gc_h264_avcc_from_annexb:
 * @data: an access unit in Annex B form that carries SPS and PPS NAL units
 * @size: its size
 *
 * Builds an AVCDecoderConfigurationRecord (lengthSizeMinusOne = 3) from the
 * first SPS and every PPS in the access unit.
 *
 * Returns: (transfer full) (nullable): the record, or %NULL with @error set.
 */
GBytes *gc_h264_avcc_from_annexb (const guint8 *data, gsize size,
                                  GError **error);

/**
 * gc_h264_avcc_parse:
 * @avcc: an AVCDecoderConfigurationRecord
 * @size: its size
 * @profile_idc: (out) (optional)
 * @constraint_flags: (out) (optional)
 * @level_idc: (out) (optional)
 * @nal_length_size: (out) (optional): 1, 2 or 4
 *
 * Validates the record's structure (version, lengths of every SPS/PPS).
 *
 * Returns: %TRUE, or %FALSE with @error set.
 */
gboolean gc_h264_avcc_parse (const guint8 *avcc, gsize size,
                             guint8 *profile_idc, guint8 *constraint_flags,
                             guint8 *level_idc, guint *nal_length_size,
                             GError **error);

/**
 * gc_h264_avc_is_keyframe:
 * @data: an access unit with NAL length prefixes of @nal_length_size bytes
 *
 * Returns: %TRUE when the access unit holds an IDR slice (NAL type 5).
 * Malformed input returns %FALSE.
 */
gboolean gc_h264_avc_is_keyframe (const guint8 *data, gsize size,
                                  guint nal_length_size);

/* --- ID3v2.4 tags for timed metadata (id3.c) --- */

/**
 * gc_id3_tag_new_txxx:
 * @description: the TXXX frame's description (UTF-8)
 * @value: the TXXX frame's value (UTF-8)
 *
 * Returns: (transfer full): a complete ID3v2.4 tag with one TXXX frame,
 * sizes in synchsafe integers, suitable as an ID3 emsg's message_data.
 */
GBytes *gc_id3_tag_new_txxx (const gchar *description, const gchar *value);

G_END_DECLS

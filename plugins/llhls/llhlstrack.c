/* llhlstrack.c — one rendition of llhlssink: cuts samples into parts and segments
 * and writes their CMAF files (llhlsplaylist.c renders the media playlist).
 *
 * Everything here runs on the streaming thread of the track's sink pad,
 * except the few "info" getters the element calls to build the multivariant
 * playlist, which read fields guarded by info_lock.
 *
 * Timeline. Times are running times in ns. Segment boundaries follow a grid
 * anchored at the first sample: segment n ends at anchor + (n + 1) x target.
 * Every track of the element shares the anchor, so segment n of every
 * rendition covers the same media time. A video track cuts at the first
 * keyframe in [boundary - part target, ...); it asks upstream for that
 * keyframe one part target before the boundary; if none arrives it cuts
 * anyway, without a keyframe, before the segment would outgrow the target
 * duration (EXTINF rounded must stay <= EXT-X-TARGETDURATION). Audio tracks
 * cut at the sample nearest the boundary.
 *
 * Parts close as soon as the next sample would not fit in the part target,
 * so a part is published the moment its last sample arrives: one frame of
 * latency is never spent waiting for the next one. */

#include "llhlstrack.h"
#include "llhlstrack-private.h"
#include "llhlsfile.h"
#include "llhlsresume.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/pbutils/pbutils.h>

GST_DEBUG_CATEGORY_EXTERN (gst_ll_hls_sink_debug);
#define GST_CAT_DEFAULT gst_ll_hls_sink_debug

/* A timestamp more than FORWARD_JUMP beyond the expected next one, or more
 * than BACKWARD_JUMP behind the previous one, starts a new timeline
 * (EXT-X-DISCONTINUITY). Smaller steps back are jitter, as WebRTC sources
 * produce when their jitter buffer corrects its clock skew: such a sample
 * is moved to just after its predecessor instead. */
#define FORWARD_JUMP (1 * GST_SECOND)
#define BACKWARD_JUMP (500 * GST_MSECOND)
/* Timing jitter up to this much between parts is smoothed over. */
#define MAX_SNAP (50 * GST_MSECOND)
/* Where a sample that went back in time is put: after its predecessor. */
#define JITTER_STEP (1 * GST_MSECOND)

static void
llhls_segment_free (LlHlsSegment *seg)
{
  if (!seg)
    return;
  g_array_unref (seg->parts);
  g_free (seg);
}

static void
llhls_metadata_free (LlHlsMetadata *m)
{
  g_bytes_unref (m->id3);
  g_free (m);
}

LlHlsTrack *
llhls_track_new (const gchar *name, gboolean is_video,
                 const LlHlsTrackHooks *hooks)
{
  LlHlsTrack *t = g_new0 (LlHlsTrack, 1);

  t->name = g_strdup (name);
  t->is_video = is_video;
  t->hooks = *hooks;
  t->seg_fd = -1;
  t->samples = g_array_new (FALSE, FALSE, sizeof (LlHlsSample));
  t->payload = g_byte_array_new ();
  t->scratch = g_byte_array_new ();
  t->keyframe_requested_for = G_MININT64;
  g_queue_init (&t->segments);
  g_queue_init (&t->metadata);
  g_mutex_init (&t->info_lock);
  g_mutex_init (&t->meta_lock);
  return t;
}

static void
llhls_track_drop_open_segment (LlHlsTrack *t)
{
  if (t->seg_fd >= 0) {
    close (t->seg_fd);
    t->seg_fd = -1;
  }
  if (t->seg_tmp) {
    g_unlink (t->seg_tmp);
    g_clear_pointer (&t->seg_tmp, g_free);
  }
  g_clear_pointer (&t->cur, llhls_segment_free);
}

void
llhls_track_free (LlHlsTrack *t)
{
  if (!t)
    return;
  llhls_track_drop_open_segment (t);
  g_queue_clear_full (&t->segments, (GDestroyNotify)llhls_segment_free);
  g_queue_clear_full (&t->metadata, (GDestroyNotify)llhls_metadata_free);
  g_array_unref (t->samples);
  g_byte_array_unref (t->payload);
  g_byte_array_unref (t->scratch);
  g_clear_pointer (&t->codec_data, g_bytes_unref);
  gst_clear_caps (&t->caps);
  g_free (t->codec_string);
  g_free (t->dir);
  g_free (t->name);
  g_mutex_clear (&t->info_lock);
  g_mutex_clear (&t->meta_lock);
  g_free (t);
}

/* The segment that was growing when the last run stopped becomes a complete
 * one made of the parts players may already have played: its file is the
 * concatenation of them, as for any segment. */
static gboolean
llhls_track_complete_partial (LlHlsTrack *t, const LlHlsResumeState *st)
{
  g_autoptr (GByteArray) seg = g_byte_array_new ();
  g_autofree gchar *name = NULL;
  g_autoptr (GError) err = NULL;
  LlHlsSegment *s;

  gc_cmaf_write_styp (seg);
  for (guint i = 0; i < st->partial_parts->len; i++) {
    g_autofree gchar *path = g_build_filename (
        t->dir, g_ptr_array_index (st->partial_parts, i), NULL);
    g_autofree gchar *data = NULL;
    gsize len;

    if (!g_file_get_contents (path, &data, &len, NULL)) {
      GST_WARNING ("%s: part %s of the unfinished segment is gone", t->name,
                   path);
      return FALSE;
    }
    g_byte_array_append (seg, (const guint8 *)data, len);
  }
  name = g_strdup_printf ("seg-%" G_GUINT64_FORMAT ".m4s", st->partial.msn);
  if (!llhls_file_write_atomic (t->dir, name, seg->data, seg->len, NULL, 0,
                                &err)) {
    GST_WARNING ("%s: %s", t->name, err->message);
    return FALSE;
  }
  s = g_new0 (LlHlsSegment, 1);
  s->msn = st->partial.msn;
  s->start = G_MININT64 / 4;
  s->duration = st->partial.duration;
  s->pdt = st->partial.pdt;
  s->init_id = st->partial.init_id;
  s->discontinuity = st->partial.discontinuity;
  s->independent = TRUE;
  s->complete = TRUE;
  s->size = seg->len;
  s->parts = g_array_new (FALSE, FALSE, sizeof (LlHlsPart));
  s->parts_deleted = TRUE;
  g_queue_push_tail (&t->segments, s);
  return TRUE;
}

/* A playlist left in the folder by an earlier run (a crash, a restart of the
 * publisher) is continued, not overwritten: its segments stay listed, the
 * numbering goes on, and the new stream starts behind EXT-X-DISCONTINUITY
 * with its own init segment. Players that hold the old playlist keep
 * working. */
static void
llhls_track_resume (LlHlsTrack *t)
{
  g_autofree gchar *path = g_build_filename (t->dir, "media.m3u8", NULL);
  g_autofree gchar *text = NULL;
  gsize len = 0;
  LlHlsResumeState st = {0};
  g_autoptr (GError) err = NULL;
  g_autoptr (GDir) dir = NULL;
  const gchar *name;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return;
  if (!llhls_resume_parse (text, len, &st, &err)) {
    GST_WARNING ("%s: not continuing %s: %s", t->name, path, err->message);
    llhls_resume_state_clear (&st);
    return;
  }
  for (guint i = 0; i < st.segments->len; i++) {
    const LlHlsResumeSegment *r =
        &g_array_index (st.segments, LlHlsResumeSegment, i);
    LlHlsSegment *seg = g_new0 (LlHlsSegment, 1);

    seg->msn = r->msn;
    /* Far in the past of the new timeline: never within the part window. */
    seg->start = G_MININT64 / 4;
    seg->duration = r->duration;
    seg->pdt = r->pdt;
    seg->init_id = r->init_id;
    seg->discontinuity = r->discontinuity;
    seg->independent = TRUE;
    seg->complete = TRUE;
    seg->parts = g_array_new (FALSE, FALSE, sizeof (LlHlsPart));
    seg->parts_deleted = TRUE;
    g_queue_push_tail (&t->segments, seg);
  }
  t->discontinuity_seq = st.discontinuity_seq;
  t->init_id = st.max_init_id + 1;
  t->next_msn = st.next_msn;
  if (st.partial_parts->len > 0 && llhls_track_complete_partial (t, &st))
    t->next_msn = st.partial.msn + 1;
  t->first_msn = t->next_msn;
  t->discont_pending = TRUE;
  GST_INFO ("%s: continuing %s at segment %" G_GUINT64_FORMAT, t->name, path,
            t->next_msn);
  llhls_resume_state_clear (&st);

  /* Parts of the old run are not listed any more. */
  dir = g_dir_open (t->dir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir))) {
    if ((g_str_has_prefix (name, "part-") && g_str_has_suffix (name, ".m4s")) ||
        (name[0] == '.' && g_str_has_suffix (name, ".tmp")))
      llhls_file_remove (t->dir, name);
  }
}

gboolean
llhls_track_start (LlHlsTrack *t, const gchar *location,
                   const LlHlsConfig *config, GError **error)
{
  g_free (t->dir);
  t->dir = g_build_filename (location, t->name, NULL);
  t->config = *config;
  t->part_target = config->part_target;
  t->target_seconds =
      (guint)((config->target_duration + GST_SECOND / 2) / GST_SECOND);
  if (g_mkdir_with_parents (t->dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                 "cannot create folder %s: %s", t->dir, g_strerror (e));
    return FALSE;
  }
  llhls_track_resume (t);
  return TRUE;
}

guint64
llhls_track_next_msn (const LlHlsTrack *t)
{
  return t->next_msn;
}

void
llhls_track_set_first_msn (LlHlsTrack *t, guint64 msn)
{
  t->first_msn = MAX (msn, t->next_msn);
  t->next_msn = t->first_msn;
}

/* ---------------------------------------------------------------- caps */

static GstClockTime
llhls_round_part_target (LlHlsTrack *t)
{
  /* A part holds a whole number of samples: with a known sample duration,
   * advertise the nearest whole multiple when it exceeds the configured
   * target, so parts are never longer than PART-TARGET and never below 85%
   * of it. */
  GstClockTime cfg = t->config.part_target;
  GstClockTime d = t->nominal_duration;
  guint64 n;

  if (d == 0 || d >= cfg)
    return MAX (cfg, d);
  n = (cfg + d / 2) / d;
  return MAX (cfg, n * d);
}

static gboolean
llhls_track_parse_video_caps (LlHlsTrack *t, GstStructure *s, GError **error)
{
  const gchar *fmt = gst_structure_get_string (s, "stream-format");
  const GValue *cd = gst_structure_get_value (s, "codec_data");
  gint w = 0, h = 0, fn = 0, fd = 1;

  t->codec = GC_CMAF_CODEC_H264;
  t->timescale = 90000;
  t->byte_stream = g_strcmp0 (fmt, "byte-stream") == 0;
  gst_structure_get_int (s, "width", &w);
  gst_structure_get_int (s, "height", &h);
  gst_structure_get_fraction (s, "framerate", &fn, &fd);
  if (w <= 0 || h <= 0) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                 "H.264 caps without width and height (put h264parse "
                 "before llhlssink)");
    return FALSE;
  }
  t->width = w;
  t->height = h;
  t->fps_n = fn;
  t->fps_d = fd > 0 ? fd : 1;
  t->nominal_duration =
      fn > 0 ? gst_util_uint64_scale_int (GST_SECOND, t->fps_d, fn) : 0;
  g_clear_pointer (&t->codec_data, g_bytes_unref);
  if (!t->byte_stream) {
    GstBuffer *buf;
    GstMapInfo map;
    guint nls = 0;
    g_autoptr (GError) err = NULL;

    if (!cd || !GST_VALUE_HOLDS_BUFFER (cd)) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "H.264 stream-format=avc caps carry no codec_data");
      return FALSE;
    }
    buf = gst_value_get_buffer (cd);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    if (!gc_h264_avcc_parse (map.data, map.size, NULL, NULL, NULL, &nls,
                             &err)) {
      gst_buffer_unmap (buf, &map);
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "invalid H.264 codec_data: %s", err->message);
      return FALSE;
    }
    t->codec_data = g_bytes_new (map.data, map.size);
    t->nal_length_size = nls;
    gst_buffer_unmap (buf, &map);
  } else {
    /* The avcC is built from the SPS/PPS of the first keyframe. */
    t->nal_length_size = 4;
  }
  return TRUE;
}

static gboolean
llhls_track_parse_audio_caps (LlHlsTrack *t, GstStructure *s, GstCaps *caps,
                              GError **error)
{
  gint rate = 0, channels = 0;

  gst_structure_get_int (s, "rate", &rate);
  gst_structure_get_int (s, "channels", &channels);
  g_clear_pointer (&t->codec_data, g_bytes_unref);

  if (gst_structure_has_name (s, "audio/mpeg")) {
    const GValue *cd = gst_structure_get_value (s, "codec_data");
    GstBuffer *buf;
    GstMapInfo map;

    t->codec = GC_CMAF_CODEC_AAC;
    if (!cd || !GST_VALUE_HOLDS_BUFFER (cd)) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "AAC caps carry no codec_data (AudioSpecificConfig); "
                   "put aacparse before llhlssink");
      return FALSE;
    }
    buf = gst_value_get_buffer (cd);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    t->codec_data = g_bytes_new (map.data, map.size);
    gst_buffer_unmap (buf, &map);
    if (rate <= 0 || channels <= 0) {
      guint8 asc[2] = {0};
      gsize sz;
      const guint8 *d = g_bytes_get_data (t->codec_data, &sz);
      if (sz >= 2) {
        memcpy (asc, d, 2);
        rate = gst_codec_utils_aac_get_sample_rate (asc, 2);
        channels = gst_codec_utils_aac_get_channels (asc, 2);
      }
    }
    if (rate <= 0 || channels <= 0) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "AAC caps without rate and channels");
      return FALSE;
    }
    t->timescale = rate;
    t->nominal_duration = gst_util_uint64_scale_int (GST_SECOND, 1024, rate);
  } else {
    guint32 orate = 0;
    guint8 ochannels = 0, family = 0, streams = 0, coupled = 0;
    guint8 mapping[256];
    const GValue *sh = gst_structure_get_value (s, "streamheader");
    GstBuffer *head = NULL;

    t->codec = GC_CMAF_CODEC_OPUS;
    if (sh && GST_VALUE_HOLDS_ARRAY (sh) && gst_value_array_get_size (sh) > 0) {
      const GValue *v = gst_value_array_get_value (sh, 0);
      if (GST_VALUE_HOLDS_BUFFER (v))
        head = gst_buffer_ref (gst_value_get_buffer (v));
    }
    if (!head) {
      if (!gst_codec_utils_opus_parse_caps (caps, &orate, &ochannels, &family,
                                            &streams, &coupled, mapping)) {
        g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                     "Opus caps without channel layout");
        return FALSE;
      }
      head = gst_codec_utils_opus_create_header (
          orate, ochannels, family, streams, coupled, family ? mapping : NULL,
          312, 0);
      if (!head) {
        g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                     "cannot build an Opus header from the caps");
        return FALSE;
      }
      rate = orate ? (gint)orate : rate;
      channels = ochannels;
    }
    {
      GstMapInfo map;
      gst_buffer_map (head, &map, GST_MAP_READ);
      t->codec_data = g_bytes_new (map.data, map.size);
      if (map.size >= 19 && channels <= 0)
        channels = map.data[9];
      if (map.size >= 19 && rate <= 0)
        rate = GST_READ_UINT32_LE (map.data + 12);
      gst_buffer_unmap (head, &map);
      gst_buffer_unref (head);
    }
    if (channels <= 0) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "Opus caps without channel count");
      return FALSE;
    }
    /* Opus in ISO BMFF always runs on a 48 kHz clock. */
    rate = rate > 0 ? rate : 48000;
    t->timescale = 48000;
    t->nominal_duration = 20 * GST_MSECOND;
  }
  t->rate = rate;
  t->channels = channels;
  return TRUE;
}

static gboolean llhls_track_close_segment (LlHlsTrack *t, GError **error);

gboolean
llhls_track_set_caps (LlHlsTrack *t, GstCaps *caps, GError **error)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gboolean ok;

  if (t->caps && gst_caps_is_equal (t->caps, caps))
    return TRUE;

  /* A change of format ends the segment in progress: the next one gets its
   * own init segment and starts a new timeline per RFC 8216bis 4.4.4.3. */
  if (t->caps) {
    if (!llhls_track_close_segment (t, error))
      return FALSE;
    t->discont_pending = TRUE;
  }

  g_mutex_lock (&t->info_lock);
  if (t->is_video)
    ok = llhls_track_parse_video_caps (t, s, error);
  else
    ok = llhls_track_parse_audio_caps (t, s, caps, error);
  g_mutex_unlock (&t->info_lock);
  if (!ok)
    return FALSE;

  gst_caps_replace (&t->caps, caps);
  t->init_pending = TRUE;
  t->part_target = llhls_round_part_target (t);
  if (t->is_video)
    t->waiting_for_keyframe = TRUE;
  GST_DEBUG ("%s: caps %" GST_PTR_FORMAT ", part target %" GST_TIME_FORMAT,
             t->name, caps, GST_TIME_ARGS (t->part_target));
  return TRUE;
}

/* ------------------------------------------------------------- writing */

guint64
llhls_ticks (const LlHlsTrack *t, gint64 ns)
{
  if (ns <= 0)
    return 0;
  return gst_util_uint64_scale_round ((guint64)ns, t->timescale, GST_SECOND);
}

static gboolean
llhls_track_write_init (LlHlsTrack *t, GError **error)
{
  GcCmafTrack info = {0};
  g_autofree gchar *name = g_strdup_printf ("init-%u.mp4", t->init_id);
  g_autofree gchar *codec = NULL;
  gsize cd_size = 0;
  g_autoptr (GError) err = NULL;

  info.codec = t->codec;
  info.track_id = 1;
  info.timescale = t->timescale;
  info.width = t->width;
  info.height = t->height;
  info.sample_rate = t->rate;
  info.channels = t->channels;
  info.codec_data =
      t->codec_data ? g_bytes_get_data (t->codec_data, &cd_size) : NULL;
  info.codec_data_size = cd_size;
  info.avg_bitrate = t->bitrate_hint;
  info.max_bitrate = t->bitrate_hint;

  g_byte_array_set_size (t->scratch, 0);
  if (!gc_cmaf_write_init (t->scratch, &info, &err) ||
      !(codec = gc_cmaf_codec_string (&info, &err))) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                 "%s: cannot describe the stream: %s", t->name, err->message);
    return FALSE;
  }
  if (!llhls_file_write_atomic (t->dir, name, t->scratch->data, t->scratch->len,
                                NULL, 0, error))
    return FALSE;

  g_mutex_lock (&t->info_lock);
  g_free (t->codec_string);
  t->codec_string = g_steal_pointer (&codec);
  g_mutex_unlock (&t->info_lock);
  t->init_pending = FALSE;
  t->init_id++;
  return TRUE;
}

static void
llhls_track_delete_parts (LlHlsTrack *t, LlHlsSegment *seg)
{
  for (guint i = 0; i < seg->parts->len; i++) {
    g_autofree gchar *n =
        g_strdup_printf ("part-%" G_GUINT64_FORMAT ".%u.m4s", seg->msn,
                         g_array_index (seg->parts, LlHlsPart, i).index);
    llhls_file_remove (t->dir, n);
  }
  seg->parts_deleted = TRUE;
}

/* Drops segments that left the window, and files that left the playlist. */
static void
llhls_track_apply_retention (LlHlsTrack *t, gint64 edge)
{
  gboolean sliding = t->config.playlist_type == GST_LL_HLS_PLAYLIST_TYPE_LIVE;
  guint keep_files = MAX (t->config.max_files, t->config.window);
  guint64 last_msn;
  gint64 listed;
  const LlHlsSegment *tail = g_queue_peek_tail (&t->segments);

  if (!tail)
    return;
  last_msn = tail->msn;

  for (GList *l = t->segments.head; l; l = l->next) {
    LlHlsSegment *seg = l->data;
    if (!seg->parts_deleted &&
        edge - (seg->start + seg->duration) >
            (gint64)(PART_KEPT_TARGETS * t->config.target_duration))
      llhls_track_delete_parts (t, seg);
  }

  if (!sliding)
    return;

  /* The playlist lists `window` complete segments, and never less than
   * three target durations (RFC 8216bis 6.2.2); files of older ones stay
   * on disk until max-files, for players that loaded an older playlist. */
  listed = 0;
  for (GList *l = t->segments.head; l; l = l->next)
    listed += ((LlHlsSegment *)l->data)->duration;
  while (g_queue_get_length (&t->segments) > MAX (t->config.window, 1)) {
    LlHlsSegment *old = g_queue_peek_head (&t->segments);
    if (listed - old->duration < (gint64)(3 * t->config.target_duration))
      break;
    g_queue_pop_head (&t->segments);
    listed -= old->duration;
    if (!old->parts_deleted)
      llhls_track_delete_parts (t, old);
    if (old->discontinuity)
      t->discontinuity_seq++;
    llhls_segment_free (old);
  }
  if (last_msn + 1 > keep_files) {
    guint64 stale = last_msn + 1 - keep_files;
    const LlHlsSegment *head = g_queue_peek_head (&t->segments);
    /* Only the segment that just fell out of max-files needs deleting, and
     * never one the playlist still lists. */
    if (stale > 0 && stale - 1 < head->msn) {
      g_autofree gchar *n =
          g_strdup_printf ("seg-%" G_GUINT64_FORMAT ".m4s", stale - 1);
      llhls_file_remove (t->dir, n);
    }
  }
}

static void
llhls_track_account (LlHlsTrack *t, const LlHlsSegment *seg)
{
  guint64 bps = 0;

  if (seg->duration > 0)
    bps = gst_util_uint64_scale (seg->size * 8, GST_SECOND, seg->duration);
  g_mutex_lock (&t->info_lock);
  t->peak_bps = MAX (t->peak_bps, bps);
  g_mutex_unlock (&t->info_lock);
}

/* Writes the first @n samples of the open part: emsg boxes due, moof + mdat,
 * to its own file and to the end of the segment file. */
static gboolean
llhls_track_write_part_n (LlHlsTrack *t, guint n, GError **error)
{
  LlHlsSegment *seg = t->cur;
  LlHlsSample *first;
  g_autofree GcCmafSample *cs = NULL;
  GcCmafFragment frag = {0};
  LlHlsPart part = {0};
  gint64 end;
  g_autofree gchar *name = NULL;
  g_autoptr (GError) err = NULL;
  gsize bytes = 0;
  guint64 start_ticks;

  n = MIN (n, t->samples->len);
  if (n == 0)
    return TRUE;
  g_assert (seg);

  first = &g_array_index (t->samples, LlHlsSample, 0);
  /* A part is published with its last sample's duration predicted; when the
   * next sample comes a little early or late (capture jitter), the new part
   * starts where the previous one ended, and its first sample's duration
   * absorbs the difference. Only a real gap (more than a sample, and more
   * than MAX_SNAP) shows in the decode timeline. */
  start_ticks = llhls_ticks (t, first->dts);
  if (t->have_part_end &&
      ABS ((gint64)start_ticks - (gint64)t->part_end_ticks) <=
          (gint64)llhls_ticks (t, MAX (first->duration, (gint64)MAX_SNAP))) {
    const LlHlsSample *last = &g_array_index (t->samples, LlHlsSample, n - 1);
    guint64 end_ticks = llhls_ticks (t, last->dts + last->duration);
    guint64 target_ticks = llhls_ticks (t, (gint64)t->part_target);

    /* A sample that came early moves to where the last part ended; one that
     * came late pulls the part back only so far that it does not outgrow
     * PART-TARGET, closing as much of the gap as it can. */
    if (start_ticks <= t->part_end_ticks)
      start_ticks = t->part_end_ticks;
    else
      start_ticks =
          MIN (start_ticks,
               MAX (t->part_end_ticks,
                    end_ticks > target_ticks ? end_ticks - target_ticks : 0));
  }
  cs = g_new0 (GcCmafSample, n);
  for (guint i = 0; i < n; i++) {
    LlHlsSample *s = &g_array_index (t->samples, LlHlsSample, i);
    gint64 next = s->dts + s->duration;
    guint64 a = i == 0 ? start_ticks : llhls_ticks (t, s->dts);
    guint64 b = llhls_ticks (t, next);
    cs[i].duration = b > a ? (guint32)(b - a) : 1;
    cs[i].size = s->size;
    cs[i].sync = s->sync;
    /* Presentation keeps its offset from decode, as captured. */
    cs[i].cts_offset = (gint32)((gint64)llhls_ticks (t, s->pts) -
                                (gint64)llhls_ticks (t, s->dts));
    bytes += s->size;
  }
  {
    LlHlsSample *last = &g_array_index (t->samples, LlHlsSample, n - 1);
    end = last->dts + last->duration;
  }

  g_byte_array_set_size (t->scratch, 0);

  /* Timed metadata due in this part (or overdue) goes first, per CMAF. */
  g_mutex_lock (&t->meta_lock);
  while (!g_queue_is_empty (&t->metadata)) {
    LlHlsMetadata *m = g_queue_peek_head (&t->metadata);
    GcCmafEmsg e = {0};
    gsize sz;

    if ((gint64)m->running_time >= end && !t->ended)
      break;
    g_queue_pop_head (&t->metadata);
    e.timescale = t->timescale;
    e.presentation_time = llhls_ticks (t, (gint64)m->running_time);
    e.event_duration = GST_CLOCK_TIME_IS_VALID (m->duration)
                           ? (guint32)llhls_ticks (t, m->duration)
                           : 0xFFFFFFFF;
    e.id = m->id;
    e.scheme_id_uri = GC_CMAF_EMSG_SCHEME_ID3;
    e.value = "";
    e.message_data = g_bytes_get_data (m->id3, &sz);
    e.message_data_size = sz;
    if (!gc_cmaf_write_emsg (t->scratch, &e, &err)) {
      GST_WARNING ("%s: dropping timed metadata: %s", t->name, err->message);
      g_clear_error (&err);
    }
    llhls_metadata_free (m);
  }
  g_mutex_unlock (&t->meta_lock);

  frag.sequence_number = ++t->fragment_seq;
  frag.decode_time = start_ticks;
  frag.samples = cs;
  frag.n_samples = n;
  if (!gc_cmaf_write_fragment (t->scratch, 1, &frag, NULL, &err)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_MUX,
                 "%s: cannot write fragment: %s", t->name, err->message);
    return FALSE;
  }

  part.index = seg->parts->len;
  /* What the playlist says is what the file holds: the part's duration is
   * the sum of its samples' durations as written. */
  part.start = first->dts;
  {
    guint64 ticks = 0;
    for (guint i = 0; i < n; i++)
      ticks += cs[i].duration;
    part.duration =
        (gint64)gst_util_uint64_scale_round (ticks, GST_SECOND, t->timescale);
  }
  part.independent = first->sync;
  part.size = t->scratch->len + bytes;
  name = g_strdup_printf ("part-%" G_GUINT64_FORMAT ".%u.m4s", seg->msn,
                          part.index);
  if (!llhls_file_write_atomic (t->dir, name, t->scratch->data, t->scratch->len,
                                t->payload->data, bytes, error))
    return FALSE;
  if (!llhls_file_append (t->seg_fd, t->seg_tmp, t->scratch->data,
                          t->scratch->len, error) ||
      !llhls_file_append (t->seg_fd, t->seg_tmp, t->payload->data, bytes,
                          error))
    return FALSE;

  t->part_end_ticks = start_ticks;
  for (guint i = 0; i < n; i++)
    t->part_end_ticks += cs[i].duration;
  t->have_part_end = TRUE;
  g_array_append_val (seg->parts, part);
  seg->duration += part.duration;
  seg->size += part.size;
  g_array_remove_range (t->samples, 0, n);
  g_byte_array_remove_range (t->payload, 0, bytes);

  if (!llhls_track_write_playlist (t, error))
    return FALSE;

  g_mutex_lock (&t->info_lock);
  t->published = TRUE;
  t->total_bytes += part.size;
  t->total_duration += part.duration;
  g_mutex_unlock (&t->info_lock);
  if (t->hooks.published)
    t->hooks.published (t->hooks.user_data);
  return TRUE;
}

static gboolean
llhls_track_write_part (LlHlsTrack *t, GError **error)
{
  return llhls_track_write_part_n (t, t->samples->len, error);
}

static gboolean
llhls_track_open_segment (LlHlsTrack *t, gint64 dts, gint64 pdt,
                          gboolean independent, GError **error)
{
  g_autofree gchar *tmpname = NULL;

  if (t->init_pending) {
    if (!llhls_track_write_init (t, error))
      return FALSE;
    if (t->have_last)
      t->discont_pending = TRUE;
  }

  t->cur = g_new0 (LlHlsSegment, 1);
  t->cur->msn = t->next_msn++;
  t->cur->start = dts;
  t->cur->pdt = pdt;
  t->cur->init_id = t->init_id - 1;
  t->cur->independent = independent;
  t->cur->discontinuity = t->discont_pending && t->cur->msn > 0;
  if (t->discont_pending)
    t->have_part_end = FALSE;
  t->cur->parts = g_array_new (FALSE, FALSE, sizeof (LlHlsPart));
  t->discont_pending = FALSE;

  tmpname = g_strdup_printf (".seg-%" G_GUINT64_FORMAT ".m4s.tmp", t->cur->msn);
  t->seg_tmp = g_build_filename (t->dir, tmpname, NULL);
  t->seg_fd = open (t->seg_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (t->seg_fd < 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                 "cannot create %s: %s", t->seg_tmp, g_strerror (e));
    g_clear_pointer (&t->cur, llhls_segment_free);
    g_clear_pointer (&t->seg_tmp, g_free);
    return FALSE;
  }
  g_byte_array_set_size (t->scratch, 0);
  gc_cmaf_write_styp (t->scratch);
  t->cur->size = t->scratch->len;
  if (!llhls_file_append (t->seg_fd, t->seg_tmp, t->scratch->data,
                          t->scratch->len, error)) {
    llhls_track_drop_open_segment (t);
    t->next_msn--;
    return FALSE;
  }
  GST_LOG ("%s: segment %" G_GUINT64_FORMAT " opens at %" GST_STIME_FORMAT "%s",
           t->name, t->cur->msn, GST_STIME_ARGS (dts),
           independent ? " (keyframe)" : "");
  return TRUE;
}

/* How many of the unpublished samples, from the first, fit in one part. */
static guint
llhls_track_part_fit (const LlHlsTrack *t, guint limit)
{
  const LlHlsSample *first;
  guint n = 0;

  if (t->samples->len == 0)
    return 0;
  first = &g_array_index (t->samples, LlHlsSample, 0);
  limit = MIN (limit, t->samples->len);
  while (n < limit) {
    const LlHlsSample *s = &g_array_index (t->samples, LlHlsSample, n);
    if (n > 0 && s->dts + s->duration - first->dts >
                     (gint64)t->part_target + GST_MSECOND)
      break;
    n++;
  }
  return n;
}

/* Closes the open segment, whose parts are all written. */
static gboolean
llhls_track_finalize_segment (LlHlsTrack *t, GError **error)
{
  g_autofree gchar *final = NULL;
  LlHlsSegment *seg;
  gint64 edge;

  if (!t->cur)
    return TRUE;
  if (t->cur->parts->len == 0) {
    llhls_track_drop_open_segment (t);
    t->next_msn--;
    return TRUE;
  }

  if (close (t->seg_fd) != 0) {
    int e = errno;
    t->seg_fd = -1;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                 "cannot write %s: %s", t->seg_tmp, g_strerror (e));
    return FALSE;
  }
  t->seg_fd = -1;
  final = g_strdup_printf ("seg-%" G_GUINT64_FORMAT ".m4s", t->cur->msn);
  if (!llhls_file_commit (t->seg_tmp, t->dir, final, error))
    return FALSE;
  g_clear_pointer (&t->seg_tmp, g_free);

  seg = g_steal_pointer (&t->cur);
  seg->complete = TRUE;
  g_queue_push_tail (&t->segments, seg);
  llhls_track_account (t, seg);
  edge = seg->start + seg->duration;
  llhls_track_apply_retention (t, edge);
  if (!llhls_track_write_playlist (t, error))
    return FALSE;
  /* The segment's bit rate may raise the peak the multivariant playlist
   * advertises (BANDWIDTH). */
  if (t->hooks.published)
    t->hooks.published (t->hooks.user_data);
  return TRUE;
}

/* Writes every unpublished sample, in parts no longer than the part target,
 * and closes the open segment. */
static gboolean
llhls_track_close_segment (LlHlsTrack *t, GError **error)
{
  if (!t->cur)
    return TRUE;
  while (t->samples->len > 0) {
    if (!llhls_track_write_part_n (t, llhls_track_part_fit (t, G_MAXUINT),
                                   error))
      return FALSE;
  }
  return llhls_track_finalize_segment (t, error);
}

/* ---------------------------------------------------------------- push */

static gboolean
llhls_track_prepare_sample (LlHlsTrack *t, GstBuffer *buffer, GByteArray *out,
                            gboolean *sync, GError **error)
{
  GstMapInfo map;
  gboolean ok = TRUE;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
                 "cannot read buffer");
    return FALSE;
  }
  *sync = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (t->is_video && t->byte_stream) {
    g_autoptr (GError) err = NULL;

    if (!gc_h264_annexb_to_avc (map.data, map.size, out, &err)) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
                   "%s: bad H.264 access unit: %s", t->name, err->message);
      ok = FALSE;
    } else if (*sync && !t->codec_data) {
      GBytes *avcc = gc_h264_avcc_from_annexb (map.data, map.size, &err);
      if (avcc) {
        t->codec_data = avcc;
      } else {
        GST_WARNING ("%s: keyframe without SPS/PPS: %s", t->name, err->message);
        *sync = FALSE;
      }
    }
  } else {
    g_byte_array_append (out, map.data, map.size);
  }
  if (ok && t->is_video && *sync)
    *sync = gc_h264_avc_is_keyframe (out->data, out->len, t->nal_length_size);
  gst_buffer_unmap (buffer, &map);
  return ok;
}

gint64
llhls_boundary (const LlHlsTrack *t, guint64 msn)
{
  return t->anchor +
         (gint64)(msn - t->anchor_msn) * (gint64)t->config.target_duration;
}

/* Longest segment allowed: EXTINF rounded must not exceed
 * EXT-X-TARGETDURATION (RFC 8216bis 4.4.3.1). */
gint64
llhls_max_segment (const LlHlsTrack *t)
{
  return (gint64)t->target_seconds * GST_SECOND + GST_SECOND / 2 - GST_MSECOND;
}

static gboolean
llhls_track_open_with_first (LlHlsTrack *t, gint64 pdt, GError **error)
{
  const LlHlsSample *s0 = &g_array_index (t->samples, LlHlsSample, 0);

  if (!llhls_track_open_segment (t, s0->dts, pdt, s0->sync, error))
    return FALSE;
  if (t->is_video && t->hooks.segment_started)
    t->hooks.segment_started (t->hooks.user_data, t->cur->msn, s0->dts, pdt);
  return TRUE;
}

/* Ends the open segment after the first @k unpublished samples; the rest
 * open the next one. */
static gboolean
llhls_track_cut (LlHlsTrack *t, guint k, GError **error)
{
  if (!llhls_track_write_part_n (t, k, error) ||
      !llhls_track_finalize_segment (t, error))
    return FALSE;
  if (t->samples->len == 0)
    return TRUE;
  return llhls_track_open_with_first (
      t, g_array_index (t->samples, LlHlsSample, 0).pdt, error);
}

/* Video (and the reference for audio): cut at a keyframe near the grid
 * boundary, ask for that keyframe in time, publish parts as they fill. The
 * newest sample is the last unpublished one. */
static gboolean
llhls_track_video_step (LlHlsTrack *t, gint64 est, GError **error)
{
  guint n = t->samples->len;
  const LlHlsSample *last = &g_array_index (t->samples, LlHlsSample, n - 1);
  const LlHlsSample *first;
  gint64 dts = last->dts;

  if (!t->cur) {
    if (!llhls_track_open_with_first (t, last->pdt, error))
      return FALSE;
  } else {
    gint64 boundary = llhls_boundary (t, t->cur->msn + 1);
    gboolean cut = FALSE;

    if (last->sync && dts >= boundary - (gint64)t->part_target) {
      cut = TRUE;
    } else if (dts + est - t->cur->start > llhls_max_segment (t)) {
      GST_INFO ("%s: no keyframe in time, segment %" G_GUINT64_FORMAT
                " starts without one",
                t->name, t->cur->msn + 1);
      cut = TRUE;
    } else if (t->config.keyframe_requests && t->hooks.request_keyframe &&
               dts >= boundary - (gint64)t->part_target - est &&
               t->keyframe_requested_for != boundary) {
      /* Asked one part ahead, so the keyframe lands on the boundary. */
      t->keyframe_requested_for = boundary;
      t->hooks.request_keyframe (t->hooks.user_data, (GstClockTime)boundary);
    }

    if (cut) {
      if (!llhls_track_cut (t, n - 1, error))
        return FALSE;
    } else if (n > 1) {
      gint64 filled;
      first = &g_array_index (t->samples, LlHlsSample, 0);
      filled = dts - first->dts;
      /* The part closes before this sample if it would overflow, or to let
       * a keyframe open an independent part once the part before it meets
       * the 85% rule. */
      if (dts + est - first->dts > (gint64)t->part_target + GST_MSECOND ||
          (last->sync && filled * 100 >= (gint64)t->part_target * 85)) {
        if (!llhls_track_write_part_n (t, n - 1, error))
          return FALSE;
      }
    }
  }

  if (t->hooks.progress)
    t->hooks.progress (t->hooks.user_data, dts);

  /* Publish the part as soon as the next sample could not fit in it. */
  first = &g_array_index (t->samples, LlHlsSample, 0);
  if (dts + 2 * est - first->dts > (gint64)t->part_target + GST_MSECOND)
    return llhls_track_write_part (t, error);
  return TRUE;
}

/* Audio follows the reference rendition's actual cuts, so segment n of
 * every rendition starts at the same media time. Samples whose segment is
 * not decided yet are held (not published) until the reference gets there,
 * for at most one part target past the grid boundary. */
static gboolean
llhls_track_follow_step (LlHlsTrack *t, gint64 est, GError **error)
{
  while (t->samples->len > 0) {
    guint n = t->samples->len, k_cut = 0, p;
    const LlHlsSample *first = &g_array_index (t->samples, LlHlsSample, 0);
    const LlHlsSample *last = &g_array_index (t->samples, LlHlsSample, n - 1);
    gint64 cut_at = G_MAXINT64, horizon = G_MAXINT64, rt = 0, rpdt = 0;
    gint64 grid;
    LlHlsRefState st;

    if (!t->cur) {
      st = t->hooks.reference ? t->hooks.reference (t->hooks.user_data,
                                                    t->next_msn, &rt, &rpdt)
                              : LLHLS_REF_NONE;
      if (!llhls_track_open_with_first (
              t, st == LLHLS_REF_KNOWN ? rpdt : first->pdt, error))
        return FALSE;
      continue;
    }

    grid = llhls_boundary (t, t->cur->msn + 1);
    t->expected_cut = grid;
    st = t->hooks.reference ? t->hooks.reference (t->hooks.user_data,
                                                  t->cur->msn + 1, &rt, &rpdt)
                            : LLHLS_REF_NONE;
    switch (st) {
      case LLHLS_REF_NONE:
        cut_at = grid;
        break;
      case LLHLS_REF_KNOWN:
        cut_at = rt;
        break;
      case LLHLS_REF_ENDED:
        break;
      case LLHLS_REF_PENDING:
        horizon = MAX (grid - (gint64)t->part_target, rt);
        if (last->dts >= grid + (gint64)t->part_target) {
          GST_INFO ("%s: reference late for segment %" G_GUINT64_FORMAT
                    ", cutting on the grid",
                    t->name, t->cur->msn + 1);
          cut_at = grid;
        }
        break;
    }
    if (cut_at == G_MAXINT64 &&
        last->dts + est - t->cur->start > llhls_max_segment (t))
      cut_at = last->dts;
    t->expected_cut = cut_at != G_MAXINT64 ? cut_at : grid;

    while (k_cut < n) {
      const LlHlsSample *s = &g_array_index (t->samples, LlHlsSample, k_cut);
      if (s->dts + s->duration / 2 >= cut_at)
        break;
      k_cut++;
    }

    if (k_cut == 0) {
      /* The first unpublished sample already belongs to the next segment. */
      if (t->cur->parts->len == 0) {
        /* Nothing was published in this one: renumber it. */
        guint64 msn = t->cur->msn + 1;
        llhls_track_drop_open_segment (t);
        t->next_msn = msn;
        continue;
      }
      if (!llhls_track_finalize_segment (t, error))
        return FALSE;
      continue;
    }

    p = llhls_track_part_fit (t, k_cut);
    if (p == k_cut && k_cut < n) {
      /* The segment's final part: decided, whatever its length. */
      if (!llhls_track_write_part_n (t, p, error))
        return FALSE;
      continue;
    }
    if (p < k_cut) {
      const LlHlsSample *s = &g_array_index (t->samples, LlHlsSample, p - 1);
      if (s->dts + s->duration / 2 >= horizon)
        break; /* full, but the reference may still cut inside it */
      if (!llhls_track_write_part_n (t, p, error))
        return FALSE;
      continue;
    }
    /* Everything fits in one part and no cut is due yet: publish as soon as
     * the next sample would not fit, or would open the next segment. */
    if ((last->dts + last->duration + est - first->dts >
             (gint64)t->part_target + GST_MSECOND ||
         last->dts + last->duration + est / 2 >= cut_at) &&
        last->dts + last->duration / 2 < horizon) {
      if (!llhls_track_write_part_n (t, n, error))
        return FALSE;
    }
    break;
  }
  return TRUE;
}

gboolean
llhls_track_push (LlHlsTrack *t, GstBuffer *buffer, gint64 dts, gint64 pts,
                  GError **error)
{
  gboolean sync;
  guint before = t->payload->len;
  gint64 est;
  LlHlsSample s = {0};

  if (t->ended) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                 "%s: data after end of stream", t->name);
    return FALSE;
  }
  if (!t->caps) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                 "%s: data before caps", t->name);
    return FALSE;
  }

  if (!llhls_track_prepare_sample (t, buffer, t->payload, &sync, error)) {
    g_byte_array_set_size (t->payload, before);
    return FALSE;
  }

  est = GST_BUFFER_DURATION_IS_VALID (buffer)
            ? (gint64)GST_BUFFER_DURATION (buffer)
        : t->nominal_duration ? (gint64)t->nominal_duration
        : t->have_last        ? MAX (dts - t->last_dts, 1)
                              : (gint64)(GST_SECOND / 30);

  if (!t->is_video && t->hooks.wait_for_reference)
    t->hooks.wait_for_reference (t->hooks.user_data, dts);

  /* Timestamps jumping: the next segment starts a new timeline and carries
   * EXT-X-DISCONTINUITY. */
  if (t->have_last && (dts < t->last_dts - (gint64)BACKWARD_JUMP ||
                       dts > t->expected_dts + (gint64)FORWARD_JUMP)) {
    GST_INFO ("%s: timestamp jump %" GST_STIME_FORMAT " -> %" GST_STIME_FORMAT,
              t->name, GST_STIME_ARGS (t->expected_dts), GST_STIME_ARGS (dts));
    t->discont_pending = TRUE;
  } else if (t->have_last && dts <= t->last_dts) {
    gint64 shift = t->last_dts + (gint64)JITTER_STEP - dts;
    GST_LOG ("%s: timestamp %" GST_STIME_FORMAT " not after %" GST_STIME_FORMAT
             ", moved by %" G_GINT64_FORMAT " ns",
             t->name, GST_STIME_ARGS (dts), GST_STIME_ARGS (t->last_dts),
             shift);
    dts += shift;
    pts += shift;
  }
  if (t->discont_pending && t->have_anchor) {
    /* Close what we have, and re-anchor the grid so the new segment is a
     * full one. */
    guint held = t->payload->len - before;
    g_autoptr (GByteArray) keep = g_byte_array_new ();

    g_byte_array_append (keep, t->payload->data + before, held);
    g_byte_array_set_size (t->payload, before);
    if (!llhls_track_close_segment (t, error))
      return FALSE;
    g_byte_array_append (t->payload, keep->data, keep->len);
    before = 0;
    t->anchor = dts;
    t->anchor_msn = t->next_msn;
    if (t->is_video && !sync)
      t->waiting_for_keyframe = TRUE;
  }

  /* A video stream can only start (or restart) at a keyframe. */
  if (t->is_video && t->waiting_for_keyframe && !t->cur) {
    if (!sync || !t->codec_data) {
      g_byte_array_set_size (t->payload, before);
      if (t->keyframe_requested_for != G_MAXINT64 &&
          t->hooks.request_keyframe && t->config.keyframe_requests) {
        t->hooks.request_keyframe (t->hooks.user_data, GST_CLOCK_TIME_NONE);
        t->keyframe_requested_for = G_MAXINT64;
      }
      GST_LOG ("%s: dropping delta frame before the first keyframe", t->name);
      return TRUE;
    }
    t->waiting_for_keyframe = FALSE;
  }

  if (!t->have_anchor) {
    gint64 anchor = dts;

    /* The grid is the element's, fixed by the first video keyframe, so
     * segment n of every rendition covers the same media time; a track
     * that starts late joins at the segment its first sample falls in.
     * Audio before the first video keyframe is not part of the stream. */
    if (t->hooks.anchor &&
        !t->hooks.anchor (t->hooks.user_data, t->is_video, dts, &anchor)) {
      g_byte_array_set_size (t->payload, before);
      return TRUE;
    }
    if (dts + est / 2 < anchor) {
      g_byte_array_set_size (t->payload, before);
      return TRUE;
    }
    t->have_anchor = TRUE;
    t->anchor = anchor;
    t->anchor_msn = t->first_msn;
    t->next_msn =
        t->first_msn + (dts + est / 2 > anchor
                            ? (guint64)((dts + est / 2 - anchor) /
                                        (gint64)t->config.target_duration)
                            : 0);
  }

  /* The previous sample's duration is known now that its successor is
   * here. */
  if (t->samples->len > 0) {
    LlHlsSample *prev =
        &g_array_index (t->samples, LlHlsSample, t->samples->len - 1);
    prev->duration = MAX (dts - prev->dts, 1);
  }

  s.dts = dts;
  s.pts = pts;
  s.duration = est;
  s.size = t->payload->len - before;
  s.sync = sync;
  s.pdt = t->hooks.wallclock
              ? t->hooks.wallclock (t->hooks.user_data, buffer, dts)
              : g_get_real_time () * 1000;
  g_array_append_val (t->samples, s);
  t->last_dts = dts;
  t->last_est = est;
  t->expected_dts = dts + est;
  t->have_last = TRUE;

  if (t->is_video)
    return llhls_track_video_step (t, est, error);
  return llhls_track_follow_step (t, est, error);
}

void
llhls_track_mark_discontinuity (LlHlsTrack *t)
{
  t->discont_pending = TRUE;
  t->have_last = FALSE;
}

void
llhls_track_add_metadata (LlHlsTrack *t, GstClockTime running_time,
                          GstClockTime duration, guint32 id, GBytes *id3)
{
  LlHlsMetadata *m = g_new0 (LlHlsMetadata, 1);
  GList *l;

  m->running_time = running_time;
  m->duration = duration;
  m->id = id;
  m->id3 = g_bytes_ref (id3);
  /* Keep the queue ordered by time; events usually arrive in order. */
  g_mutex_lock (&t->meta_lock);
  for (l = t->metadata.tail; l; l = l->prev) {
    LlHlsMetadata *o = l->data;
    if (o->running_time <= running_time)
      break;
  }
  if (l)
    g_queue_insert_after (&t->metadata, l, m);
  else
    g_queue_push_head (&t->metadata, m);
  g_mutex_unlock (&t->meta_lock);
}

gboolean
llhls_track_finish (LlHlsTrack *t, gboolean end_list, GError **error)
{
  if (t->ended)
    return TRUE;
  if (end_list)
    t->ended = TRUE;
  if (!llhls_track_close_segment (t, error))
    return FALSE;
  if (t->is_video && t->hooks.ended)
    t->hooks.ended (t->hooks.user_data);
  if (!end_list)
    return TRUE;
  if (t->config.playlist_type == GST_LL_HLS_PLAYLIST_TYPE_VOD) {
    /* A finished recording is an on-demand asset: parts are not listed any
     * more, so their files go. */
    for (GList *l = t->segments.head; l; l = l->next) {
      LlHlsSegment *seg = l->data;
      if (!seg->parts_deleted)
        llhls_track_delete_parts (t, seg);
    }
  }
  return llhls_track_write_playlist (t, error);
}

/* ---------------------------------------------------------------- info */

const gchar *
llhls_track_name (const LlHlsTrack *t)
{
  return t->name;
}

gboolean
llhls_track_is_video (const LlHlsTrack *t)
{
  return t->is_video;
}

gboolean
llhls_track_is_published (const LlHlsTrack *t)
{
  LlHlsTrack *mt = (LlHlsTrack *)t;
  gboolean r;

  g_mutex_lock (&mt->info_lock);
  r = t->published;
  g_mutex_unlock (&mt->info_lock);
  return r;
}

gchar *
llhls_track_dup_codec_string (const LlHlsTrack *t)
{
  LlHlsTrack *mt = (LlHlsTrack *)t;
  gchar *r;

  g_mutex_lock (&mt->info_lock);
  r = g_strdup (t->codec_string);
  g_mutex_unlock (&mt->info_lock);
  return r;
}

void
llhls_track_get_video_info (const LlHlsTrack *t, guint *width, guint *height,
                            gint *fps_n, gint *fps_d)
{
  LlHlsTrack *mt = (LlHlsTrack *)t;

  g_mutex_lock (&mt->info_lock);
  *width = t->width;
  *height = t->height;
  *fps_n = t->fps_n;
  *fps_d = t->fps_d;
  g_mutex_unlock (&mt->info_lock);
}

guint
llhls_track_channels (const LlHlsTrack *t)
{
  return t->channels;
}

void
llhls_track_get_bandwidth (const LlHlsTrack *t, guint64 *peak, guint64 *average)
{
  LlHlsTrack *mt = (LlHlsTrack *)t;

  g_mutex_lock (&mt->info_lock);
  *average = t->total_duration > 0
                 ? gst_util_uint64_scale (t->total_bytes * 8, GST_SECOND,
                                          t->total_duration)
                 : 0;
  /* Before the first complete segment the average is the best estimate. */
  *peak = MAX (t->peak_bps, *average);
  g_mutex_unlock (&mt->info_lock);
}

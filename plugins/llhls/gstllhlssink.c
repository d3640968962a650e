/* gstllhlssink.c — llhlssink: request pads, properties, events and the
 * multivariant playlist; each pad's rendition is packaged by an LlHlsTrack. */

/**
 * SECTION:element-llhlssink
 * @title: llhlssink
 *
 * Packages H.264 video and AAC or Opus audio as CMAF (fragmented MP4) and
 * writes a Low-Latency HLS presentation (RFC 8216bis) into a folder:
 * `index.m3u8` (multivariant), and per rendition a media playlist with
 * EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL and
 * EXT-X-PROGRAM-DATE-TIME, an init segment, parts and segments. Every file
 * is written under a temporary name and renamed, so any web server can serve
 * the folder while it is written; `glasscastd --origin` adds blocking
 * playlist reload and delta updates. The layout is described in LAYOUT.md.
 *
 * Each `video_%u` pad is one rendition (several pads: an ABR ladder of the
 * same channel); `audio_%u` pads form the audio rendition group shared by
 * all video renditions. Segments start on keyframes: at every segment
 * boundary the element asks upstream for one (force-key-unit), so encoders
 * with a long GOP and WebRTC senders deliver it on time.
 *
 * Custom downstream events named "glasscast/timed-metadata" become `emsg`
 * ID3 boxes in the part they fall in (see %GST_LL_HLS_TIMED_METADATA).
 * On EOS the playlists are finalised with EXT-X-ENDLIST; with
 * `playlist-type=vod` every segment is kept, so a live recording becomes an
 * on-demand asset.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1 ! \
 *     x264enc tune=zerolatency key-int-max=600 bitrate=2500 ! h264parse ! llhlssink name=s location=/tmp/live \
 *     audiotestsrc is-live=true ! audioconvert ! avenc_aac ! aacparse ! s.
 * ]| A live channel in /tmp/live: serve it with `glasscastd --origin /tmp`.
 * |[
 * gst-launch-1.0 -e filesrc location=talk.mp4 ! qtdemux name=d d.video_0 ! queue ! h264parse ! \
 *     llhlssink name=s location=/srv/vod/talk playlist-type=vod d.audio_0 ! queue ! aacparse ! s.
 * ]| An on-demand asset from a file.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstllhlssink.h"
#include "llhlstrack.h"
#include "llhlsfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY (gst_ll_hls_sink_debug);
#define GST_CAT_DEFAULT gst_ll_hls_sink_debug

/* Segment starts of the reference rendition remembered for followers. */
#define REF_CUTS 16

#define DEFAULT_LOCATION NULL
#define DEFAULT_TARGET_DURATION 2
#define DEFAULT_PART_DURATION 200
#define DEFAULT_WINDOW 10
#define DEFAULT_MAX_FILES 20
#define DEFAULT_KEYFRAME_REQUESTS TRUE
#define DEFAULT_PLAYLIST_TYPE GST_LL_HLS_PLAYLIST_TYPE_LIVE

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_TARGET_DURATION,
  PROP_PART_DURATION,
  PROP_WINDOW,
  PROP_MAX_FILES,
  PROP_SEND_KEYFRAME_REQUESTS,
  PROP_PLAYLIST_TYPE,
};

/* Per sink pad; lives in the pad's element_private. The track is used only
 * from the pad's streaming thread (or with its stream lock held). */
typedef struct {
  GstLlHlsSink *sink;
  GstPad *pad;
  LlHlsTrack *track;
  GstSegment segment;
  gboolean eos;
  gboolean started;
  gboolean flushing; /* guarded by the element's lock */
  gint live;         /* upstream is live: -1 unknown, 0, 1 */
  guint keyframe_count;
  GQueue pending_metadata; /* GstStructure*, waiting for a running time */
} GstLlHlsPadData;

struct _GstLlHlsSink {
  GstElement parent;

  /* Properties, guarded by the object lock. */
  gchar *location;
  guint target_duration;
  guint part_duration;
  guint window;
  guint max_files;
  gboolean keyframe_requests;
  GstLlHlsPlaylistType playlist_type;

  /* Shared state of the running element, guarded by `lock`. */
  GMutex lock;
  GList *pads;         /* GstLlHlsPadData*, in request order */
  gboolean running;    /* between READY->PAUSED and PAUSED->READY */
  gchar *run_location; /* location in use while running */
  LlHlsConfig config;
  gboolean have_anchor;
  gint64 anchor;     /* running time of segment first_msn's start */
  guint64 first_msn; /* > 0 when continuing an earlier run's playlists */
  /* What the reference rendition (the first video pad) did: where its
   * recent segments started, how far it got, whether it ended. */
  struct {
    guint64 msn;
    gint64 dts;
    gint64 pdt;
  } ref_cuts[REF_CUTS];
  guint ref_cut_count;
  GCond ref_cond; /* signalled when any of the ref_* fields change */
  gint64 ref_progress;
  gboolean ref_ended;
  gboolean have_wall;
  gint64 wall_anchor; /* ns since the epoch at running time rt_anchor */
  gint64 rt_anchor;
  gchar *multivariant; /* last written multivariant playlist */
  guint video_count, audio_count;
};

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE (
    "video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-h264, stream-format = (string) { avc, "
                     "byte-stream }, alignment = (string) au"));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE (
    "audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/mpeg, mpegversion = (int) 4, stream-format = "
                     "(string) raw; audio/x-opus"));

#define gst_ll_hls_sink_parent_class parent_class
G_DEFINE_TYPE (GstLlHlsSink, gst_ll_hls_sink, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (llhlssink, "llhlssink", GST_RANK_NONE,
                             GST_TYPE_LL_HLS_SINK);

GType
gst_ll_hls_playlist_type_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_LL_HLS_PLAYLIST_TYPE_LIVE,
       "Live: a sliding window of `window` segments", "live"},
      {GST_LL_HLS_PLAYLIST_TYPE_EVENT,
       "Event: every segment stays listed (EXT-X-PLAYLIST-TYPE:EVENT)",
       "event"},
      {GST_LL_HLS_PLAYLIST_TYPE_VOD,
       "VOD: like event while live, EXT-X-PLAYLIST-TYPE:VOD once finished",
       "vod"},
      {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstLlHlsPlaylistType", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------ track hooks */

static void
gst_ll_hls_sink_request_keyframe (gpointer user_data, GstClockTime rt)
{
  GstLlHlsPadData *pd = user_data;
  GstEvent *ev;

  ev = gst_video_event_new_upstream_force_key_unit (rt, TRUE,
                                                    ++pd->keyframe_count);
  GST_DEBUG_OBJECT (pd->pad, "requesting keyframe at %" GST_TIME_FORMAT,
                    GST_TIME_ARGS (rt));
  gst_pad_push_event (pd->pad, ev);
}

/* Called with self->lock held. */
static GstLlHlsPadData *
gst_ll_hls_sink_reference_pad (GstLlHlsSink *self)
{
  for (GList *l = self->pads; l; l = l->next) {
    GstLlHlsPadData *pd = l->data;
    if (llhls_track_is_video (pd->track))
      return pd;
  }
  return NULL;
}

static gboolean
gst_ll_hls_sink_anchor (gpointer user_data, gboolean is_video, gint64 dts,
                        gint64 *anchor)
{
  GstLlHlsSink *self = ((GstLlHlsPadData *)user_data)->sink;
  gboolean known;

  g_mutex_lock (&self->lock);
  if (!self->have_anchor &&
      (is_video || gst_ll_hls_sink_reference_pad (self) == NULL)) {
    self->have_anchor = TRUE;
    self->anchor = dts;
  }
  known = self->have_anchor;
  *anchor = self->anchor;
  g_mutex_unlock (&self->lock);
  return known;
}

static void
gst_ll_hls_sink_segment_started (gpointer user_data, guint64 msn, gint64 dts,
                                 gint64 pdt)
{
  GstLlHlsPadData *pd = user_data;
  GstLlHlsSink *self = pd->sink;

  g_mutex_lock (&self->lock);
  if (gst_ll_hls_sink_reference_pad (self) == pd) {
    guint i = self->ref_cut_count++ % REF_CUTS;
    self->ref_cuts[i].msn = msn;
    self->ref_cuts[i].dts = dts;
    self->ref_cuts[i].pdt = pdt;
    self->ref_progress = dts;
    g_cond_broadcast (&self->ref_cond);
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_ll_hls_sink_progress (gpointer user_data, gint64 dts)
{
  GstLlHlsPadData *pd = user_data;
  GstLlHlsSink *self = pd->sink;

  g_mutex_lock (&self->lock);
  if (gst_ll_hls_sink_reference_pad (self) == pd) {
    self->ref_progress = dts;
    g_cond_broadcast (&self->ref_cond);
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_ll_hls_sink_ended (gpointer user_data)
{
  GstLlHlsPadData *pd = user_data;
  GstLlHlsSink *self = pd->sink;

  g_mutex_lock (&self->lock);
  if (gst_ll_hls_sink_reference_pad (self) == pd) {
    self->ref_ended = TRUE;
    g_cond_broadcast (&self->ref_cond);
  }
  g_mutex_unlock (&self->lock);
}

/* Audio waits for the reference video to catch up, as a muxer would, so it
 * can follow the video's cuts without holding much unpublished: it may run
 * one part target ahead. Live streams wait briefly and never before the
 * video started (audio before the first keyframe is dropped); non-live
 * streams also wait for the video to start. A reference that stalls never
 * blocks the audio for long. As with any muxer, audio and video coming
 * from one demuxer thread need a queue each. */
static void
gst_ll_hls_sink_wait_for_reference (gpointer user_data, gint64 dts)
{
  GstLlHlsPadData *pd = user_data;
  GstLlHlsSink *self = pd->sink;
  gboolean live = pd->live != 0;
  gint64 ahead = (gint64)self->config.part_target;
  gint64 deadline = g_get_monotonic_time () +
                    (live ? 3 * (gint64)self->config.part_target / 1000
                          : 5 * G_TIME_SPAN_SECOND);

  g_mutex_lock (&self->lock);
  while (self->running && !pd->flushing && !self->ref_ended &&
         gst_ll_hls_sink_reference_pad (self) != NULL) {
    if (self->ref_progress == G_MININT64) {
      if (live)
        break;
    } else if (self->ref_progress + ahead >= dts) {
      break;
    }
    if (!g_cond_wait_until (&self->ref_cond, &self->lock, deadline)) {
      GST_DEBUG_OBJECT (pd->pad, "video reference late, going on");
      break;
    }
  }
  g_mutex_unlock (&self->lock);
}

static LlHlsRefState
gst_ll_hls_sink_reference (gpointer user_data, guint64 msn, gint64 *time,
                           gint64 *pdt)
{
  GstLlHlsSink *self = ((GstLlHlsPadData *)user_data)->sink;
  LlHlsRefState st = LLHLS_REF_PENDING;
  guint64 last_msn = 0;
  gboolean any;

  g_mutex_lock (&self->lock);
  if (gst_ll_hls_sink_reference_pad (self) == NULL) {
    g_mutex_unlock (&self->lock);
    return LLHLS_REF_NONE;
  }
  any = self->ref_cut_count > 0;
  if (any)
    last_msn = self->ref_cuts[(self->ref_cut_count - 1) % REF_CUTS].msn;
  if (any && msn <= last_msn) {
    st = LLHLS_REF_NONE; /* too old to be remembered: follow the grid */
    for (guint i = 0; i < MIN (self->ref_cut_count, REF_CUTS); i++) {
      if (self->ref_cuts[i].msn == msn) {
        *time = self->ref_cuts[i].dts;
        *pdt = self->ref_cuts[i].pdt;
        st = LLHLS_REF_KNOWN;
        break;
      }
    }
  } else if (self->ref_ended) {
    st = LLHLS_REF_ENDED;
  } else {
    *time = any ? self->ref_progress : G_MININT64;
  }
  g_mutex_unlock (&self->lock);
  return st;
}

static gint64
gst_ll_hls_sink_wallclock (gpointer user_data, GstBuffer *buffer,
                           GstClockTime rt)
{
  GstLlHlsPadData *pd = user_data;
  GstLlHlsSink *self = pd->sink;
  static GstStaticCaps unix_caps = GST_STATIC_CAPS ("timestamp/x-unix");
  static GstStaticCaps ntp_caps = GST_STATIC_CAPS ("timestamp/x-ntp");
  GstReferenceTimestampMeta *meta;
  gint64 r;

  /* A capture time carried by the buffer (chatstamp, RTCP sender reports)
   * beats anything measured here. */
  meta = gst_buffer_get_reference_timestamp_meta (
      buffer, gst_static_caps_get (&unix_caps));
  if (meta)
    return (gint64)meta->timestamp;
  meta = gst_buffer_get_reference_timestamp_meta (
      buffer, gst_static_caps_get (&ntp_caps));
  if (meta && meta->timestamp > G_GUINT64_CONSTANT (2208988800) * GST_SECOND)
    return (gint64)(meta->timestamp -
                    G_GUINT64_CONSTANT (2208988800) * GST_SECOND);

  g_mutex_lock (&self->lock);
  if (!self->have_wall) {
    GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
    gint64 now = g_get_real_time () * 1000;

    /* Map running time to wall-clock through the pipeline clock: the
     * running time `rt` happened (clock_now - base - rt) ago. */
    self->rt_anchor = (gint64)rt;
    self->wall_anchor = now;
    if (clock) {
      GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
      GstClockTime cnow = gst_clock_get_time (clock);
      if (GST_CLOCK_TIME_IS_VALID (base) && cnow >= base)
        self->wall_anchor = now - ((gint64)(cnow - base) - (gint64)rt);
      gst_object_unref (clock);
    }
    self->have_wall = TRUE;
  }
  r = self->wall_anchor + ((gint64)rt - self->rt_anchor);
  g_mutex_unlock (&self->lock);
  return r;
}

static gchar *
gst_ll_hls_sink_render_multivariant (GstLlHlsSink *self)
{
  GString *s = g_string_new ("#EXTM3U\n#EXT-X-VERSION:6\n");
  GString *audio_codecs = g_string_new (NULL);
  guint64 audio_peak = 0, audio_avg = 0;
  gboolean have_audio = FALSE, have_video = FALSE, first_audio = TRUE;

  for (GList *l = self->pads; l; l = l->next) {
    GstLlHlsPadData *pd = l->data;
    g_autofree gchar *codec = NULL;
    guint64 peak, avg;

    if (llhls_track_is_video (pd->track)) {
      have_video = TRUE;
      continue;
    }
    codec = llhls_track_dup_codec_string (pd->track);
    llhls_track_get_bandwidth (pd->track, &peak, &avg);
    audio_peak = MAX (audio_peak, peak);
    audio_avg = MAX (audio_avg, avg);
    if (codec && !strstr (audio_codecs->str, codec))
      g_string_append_printf (audio_codecs, "%s%s",
                              audio_codecs->len ? "," : "", codec);
    g_string_append_printf (
        s,
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"%s\",DEFAULT=%s,"
        "AUTOSELECT=YES,CHANNELS=\"%u\",URI=\"%s/media.m3u8\"\n",
        llhls_track_name (pd->track), first_audio ? "YES" : "NO",
        llhls_track_channels (pd->track), llhls_track_name (pd->track));
    first_audio = FALSE;
    have_audio = TRUE;
  }

  for (GList *l = self->pads; l; l = l->next) {
    GstLlHlsPadData *pd = l->data;
    g_autofree gchar *codec = llhls_track_dup_codec_string (pd->track);
    guint64 peak, avg;
    gboolean video = llhls_track_is_video (pd->track);

    if (have_video != video)
      continue;
    llhls_track_get_bandwidth (pd->track, &peak, &avg);
    if (video) {
      peak += audio_peak;
      avg += audio_avg;
    }
    /* Two significant digits: the playlist changes only when the measured
     * rate really moves. */
    for (guint64 *v = &peak; v; v = v == &peak ? &avg : NULL) {
      guint64 scale = 1;
      while (*v / scale >= 100)
        scale *= 10;
      *v = (*v + scale - 1) / scale * scale;
      if (*v == 0)
        *v = 1;
    }
    g_string_append_printf (
        s,
        "#EXT-X-STREAM-INF:BANDWIDTH=%" G_GUINT64_FORMAT
        ",AVERAGE-BANDWIDTH=%" G_GUINT64_FORMAT ",CODECS=\"%s%s%s\"",
        peak, avg, codec ? codec : "", video && have_audio ? "," : "",
        video && have_audio ? audio_codecs->str : "");
    if (video) {
      guint w, h;
      gint fn, fd;
      llhls_track_get_video_info (pd->track, &w, &h, &fn, &fd);
      g_string_append_printf (s, ",RESOLUTION=%ux%u", w, h);
      if (fn > 0 && fd > 0)
        g_string_append_printf (s, ",FRAME-RATE=%.3f", (gdouble)fn / fd);
      if (have_audio)
        g_string_append (s, ",AUDIO=\"audio\"");
    }
    g_string_append_printf (s, "\n%s/media.m3u8\n",
                            llhls_track_name (pd->track));
  }
  g_string_free (audio_codecs, TRUE);
  return g_string_free (s, FALSE);
}

/* Called with self->lock held. */
static void
gst_ll_hls_sink_update_multivariant (GstLlHlsSink *self)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GError) err = NULL;

  if (!self->running || !self->pads)
    return;
  for (GList *l = self->pads; l; l = l->next) {
    GstLlHlsPadData *pd = l->data;
    if (!llhls_track_is_published (pd->track))
      return;
  }
  text = gst_ll_hls_sink_render_multivariant (self);
  if (g_strcmp0 (text, self->multivariant) == 0)
    return;
  if (!llhls_file_write_atomic (self->run_location, "index.m3u8",
                                (const guint8 *)text, strlen (text), NULL, 0,
                                &err)) {
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
    return;
  }
  g_free (self->multivariant);
  self->multivariant = g_steal_pointer (&text);
}

static void
gst_ll_hls_sink_published (gpointer user_data)
{
  GstLlHlsSink *self = ((GstLlHlsPadData *)user_data)->sink;

  g_mutex_lock (&self->lock);
  gst_ll_hls_sink_update_multivariant (self);
  g_mutex_unlock (&self->lock);
}

static LlHlsTrack *
gst_ll_hls_sink_new_track (GstLlHlsPadData *pd, gboolean video)
{
  LlHlsTrackHooks hooks = {
      .request_keyframe = video ? gst_ll_hls_sink_request_keyframe : NULL,
      .wallclock = gst_ll_hls_sink_wallclock,
      .anchor = gst_ll_hls_sink_anchor,
      .segment_started = gst_ll_hls_sink_segment_started,
      .progress = gst_ll_hls_sink_progress,
      .ended = gst_ll_hls_sink_ended,
      .reference = video ? NULL : gst_ll_hls_sink_reference,
      .wait_for_reference = video ? NULL : gst_ll_hls_sink_wait_for_reference,
      .published = gst_ll_hls_sink_published,
      .user_data = pd,
  };

  return llhls_track_new (GST_PAD_NAME (pd->pad), video, &hooks);
}

/* Called with self->lock held. */
static gboolean
gst_ll_hls_sink_start_track (GstLlHlsSink *self, GstLlHlsPadData *pd)
{
  g_autoptr (GError) err = NULL;

  if (pd->started)
    return TRUE;
  if (!llhls_track_start (pd->track, self->run_location, &self->config, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", err->message),
                       (NULL));
    return FALSE;
  }
  pd->started = TRUE;
  /* Every track numbers its segments from the same base, the largest of
   * the playlists being continued; a pad added later joins it. */
  self->first_msn = MAX (self->first_msn, llhls_track_next_msn (pd->track));
  llhls_track_set_first_msn (pd->track, self->first_msn);
  return TRUE;
}

/* -------------------------------------------------------------- pads */

static gboolean
gst_ll_hls_sink_metadata_target (GstLlHlsSink *self, GstLlHlsPadData *pd)
{
  /* Called with self->lock held: timed metadata goes to every video
   * rendition, or to audio when there is no video. */
  return llhls_track_is_video (pd->track) || self->video_count == 0;
}

static GBytes *
gst_ll_hls_sink_metadata_payload (const GstStructure *s)
{
  const GValue *v = gst_structure_get_value (s, "id3");
  const gchar *text, *desc;

  if (v && GST_VALUE_HOLDS_BUFFER (v)) {
    GstBuffer *buf = gst_value_get_buffer (v);
    GstMapInfo map;
    GBytes *b;
    if (!gst_buffer_map (buf, &map, GST_MAP_READ))
      return NULL;
    b = g_bytes_new (map.data, map.size);
    gst_buffer_unmap (buf, &map);
    return b;
  }
  text = gst_structure_get_string (s, "text");
  if (!text)
    return NULL;
  desc = gst_structure_get_string (s, "description");
  return gc_id3_tag_new_txxx (desc ? desc : "glasscast", text);
}

static void
gst_ll_hls_sink_handle_metadata (GstLlHlsSink *self, GstLlHlsPadData *pd,
                                 const GstStructure *s, GstClockTime fallback)
{
  guint64 rt = GST_CLOCK_TIME_NONE, duration = GST_CLOCK_TIME_NONE;
  guint id = 0;
  g_autoptr (GBytes) payload = gst_ll_hls_sink_metadata_payload (s);

  if (!payload) {
    GST_WARNING_OBJECT (
        pd->pad, "timed metadata without id3 or text: %" GST_PTR_FORMAT, s);
    return;
  }
  if (!gst_structure_get_uint64 (s, "running-time", &rt))
    rt = fallback;
  gst_structure_get_uint64 (s, "duration", &duration);
  gst_structure_get_uint (s, "id", &id);

  g_mutex_lock (&self->lock);
  for (GList *l = self->pads; l; l = l->next) {
    GstLlHlsPadData *o = l->data;
    if (!gst_ll_hls_sink_metadata_target (self, o))
      continue;
    /* The track's metadata queue has its own (leaf) lock, so this never
     * waits on another pad's streaming thread. */
    llhls_track_add_metadata (o->track, rt, duration, id, payload);
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_ll_hls_sink_check_eos (GstLlHlsSink *self, guint32 seqnum)
{
  gboolean all = TRUE;
  GstMessage *msg;

  g_mutex_lock (&self->lock);
  for (GList *l = self->pads; l; l = l->next)
    all = all && ((GstLlHlsPadData *)l->data)->eos;
  g_mutex_unlock (&self->lock);
  if (!all)
    return;
  GST_INFO_OBJECT (self, "all pads at EOS, presentation finalised");
  msg = gst_message_new_eos (GST_OBJECT (self));
  gst_message_set_seqnum (msg, seqnum);
  gst_element_post_message (GST_ELEMENT (self), msg);
}

static gboolean
gst_ll_hls_sink_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (parent);
  GstLlHlsPadData *pd = gst_pad_get_element_private (pad);
  g_autoptr (GError) err = NULL;
  gboolean ret = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      if (!llhls_track_set_caps (pd->track, caps, &err)) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("%s", err->message),
                           ("caps %" GST_PTR_FORMAT, caps));
        ret = FALSE;
      }
      break;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &pd->segment);
      if (pd->segment.format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
                           ("llhlssink needs TIME segments"), (NULL));
        ret = FALSE;
      }
      break;
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->lock);
      pd->flushing = TRUE;
      g_cond_broadcast (&self->ref_cond);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      pd->flushing = FALSE;
      g_mutex_unlock (&self->lock);
      gst_segment_init (&pd->segment, GST_FORMAT_UNDEFINED);
      llhls_track_mark_discontinuity (pd->track);
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM: {
      const GstStructure *s = gst_event_get_structure (event);
      if (s && gst_structure_has_name (s, GST_LL_HLS_TIMED_METADATA)) {
        if (gst_structure_has_field (s, "running-time"))
          gst_ll_hls_sink_handle_metadata (self, pd, s, 0);
        else
          g_queue_push_tail (&pd->pending_metadata, gst_structure_copy (s));
      }
      break;
    }
    case GST_EVENT_EOS: {
      if (!llhls_track_finish (pd->track, TRUE, &err)) {
        GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
      }
      g_mutex_lock (&self->lock);
      pd->eos = TRUE;
      g_mutex_unlock (&self->lock);
      gst_ll_hls_sink_check_eos (self, gst_event_get_seqnum (event));
      break;
    }
    default:
      break;
  }
  gst_event_unref (event);
  return ret;
}

static GstFlowReturn
gst_ll_hls_sink_chain (GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (parent);
  GstLlHlsPadData *pd = gst_pad_get_element_private (pad);
  GstClockTime ts_dts = GST_BUFFER_DTS_OR_PTS (buffer);
  GstClockTime ts_pts =
      GST_BUFFER_PTS_IS_VALID (buffer) ? GST_BUFFER_PTS (buffer) : ts_dts;
  guint64 dts_abs = 0, pts_abs = 0;
  gint sign_d, sign_p;
  gint64 dts, pts;
  g_autoptr (GError) err = NULL;

  /* Data before caps cannot be packaged: refuse it like a base sink does,
   * before the segment check below would drop it silently. */
  if (!gst_pad_has_current_caps (pad)) {
    GST_WARNING_OBJECT (pad, "buffer before caps");
    gst_buffer_unref (buffer);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (!GST_CLOCK_TIME_IS_VALID (ts_dts) ||
      pd->segment.format != GST_FORMAT_TIME) {
    GST_WARNING_OBJECT (pad, "dropping buffer without timestamp or segment");
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
  sign_d = gst_segment_to_running_time_full (&pd->segment, GST_FORMAT_TIME,
                                             ts_dts, &dts_abs);
  sign_p = gst_segment_to_running_time_full (&pd->segment, GST_FORMAT_TIME,
                                             ts_pts, &pts_abs);
  if (sign_d == 0 || sign_p == 0) {
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
  dts = sign_d > 0 ? (gint64)dts_abs : -(gint64)dts_abs;
  pts = sign_p > 0 ? (gint64)pts_abs : -(gint64)pts_abs;

  if (pd->live < 0) {
    GstQuery *q = gst_query_new_latency ();
    gboolean live = FALSE;
    if (gst_pad_peer_query (pad, q))
      gst_query_parse_latency (q, &live, NULL, NULL);
    gst_query_unref (q);
    pd->live = live;
  }

  while (!g_queue_is_empty (&pd->pending_metadata)) {
    GstStructure *s = g_queue_pop_head (&pd->pending_metadata);
    gst_ll_hls_sink_handle_metadata (self, pd, s, (GstClockTime)MAX (pts, 0));
    gst_structure_free (s);
  }

  if (!llhls_track_push (pd->track, buffer, dts, pts, &err)) {
    gst_buffer_unref (buffer);
    if (g_error_matches (err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION))
      return GST_FLOW_NOT_NEGOTIATED;
    if (err->domain == G_FILE_ERROR)
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
    else
      GST_ELEMENT_ERROR (self, STREAM, MUX, ("%s", err->message), (NULL));
    return GST_FLOW_ERROR;
  }
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;
}

static GstPad *
gst_ll_hls_sink_request_new_pad (GstElement *element, GstPadTemplate *templ,
                                 const gchar *name, const GstCaps *caps)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (element);
  gboolean video = templ == gst_element_class_get_pad_template (
                                GST_ELEMENT_GET_CLASS (element), "video_%u");
  g_autofree gchar *pad_name = NULL;
  GstLlHlsPadData *pd;
  GstPad *pad;
  guint n;

  g_mutex_lock (&self->lock);
  if (name && sscanf (name, video ? "video_%u" : "audio_%u", &n) == 1) {
    pad_name = g_strdup (name);
  } else {
    n = video ? self->video_count : self->audio_count;
    pad_name = g_strdup_printf (video ? "video_%u" : "audio_%u", n);
  }
  for (GList *l = self->pads; l; l = l->next) {
    if (g_str_equal (GST_PAD_NAME (((GstLlHlsPadData *)l->data)->pad),
                     pad_name)) {
      g_mutex_unlock (&self->lock);
      GST_WARNING_OBJECT (self, "pad %s already exists", pad_name);
      return NULL;
    }
  }

  pad = gst_pad_new_from_template (templ, pad_name);
  pd = g_new0 (GstLlHlsPadData, 1);
  pd->sink = self;
  pd->pad = pad;
  gst_segment_init (&pd->segment, GST_FORMAT_UNDEFINED);
  pd->live = -1;
  g_queue_init (&pd->pending_metadata);
  pd->track = gst_ll_hls_sink_new_track (pd, video);
  gst_pad_set_element_private (pad, pd);
  gst_pad_set_chain_function (pad, GST_DEBUG_FUNCPTR (gst_ll_hls_sink_chain));
  gst_pad_set_event_function (pad,
                              GST_DEBUG_FUNCPTR (gst_ll_hls_sink_sink_event));
  GST_PAD_SET_PROXY_ALLOCATION (pad);

  self->pads = g_list_append (self->pads, pd);
  if (video)
    self->video_count = MAX (self->video_count, n + 1);
  else
    self->audio_count = MAX (self->audio_count, n + 1);
  if (self->running && !gst_ll_hls_sink_start_track (self, pd)) {
    self->pads = g_list_remove (self->pads, pd);
    g_mutex_unlock (&self->lock);
    llhls_track_free (pd->track);
    g_free (pd);
    gst_object_unref (pad);
    return NULL;
  }
  g_mutex_unlock (&self->lock);

  gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  return pad;
}

static void
gst_ll_hls_pad_data_free (GstLlHlsPadData *pd)
{
  g_queue_clear_full (&pd->pending_metadata,
                      (GDestroyNotify)gst_structure_free);
  llhls_track_free (pd->track);
  g_free (pd);
}

static void
gst_ll_hls_sink_release_pad (GstElement *element, GstPad *pad)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (element);
  GstLlHlsPadData *pd = gst_pad_get_element_private (pad);
  g_autoptr (GError) err = NULL;

  /* A rendition removed while playing is finished like at EOS: its playlist
   * gets EXT-X-ENDLIST and it leaves the multivariant playlist. A pad
   * waiting for the video is woken first, or taking its stream lock would
   * wait forever. */
  g_mutex_lock (&self->lock);
  pd->flushing = TRUE;
  g_cond_broadcast (&self->ref_cond);
  g_mutex_unlock (&self->lock);
  GST_PAD_STREAM_LOCK (pad);
  if (pd->started && !llhls_track_finish (pd->track, TRUE, &err))
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
  GST_PAD_STREAM_UNLOCK (pad);

  g_mutex_lock (&self->lock);
  self->pads = g_list_remove (self->pads, pd);
  gst_ll_hls_sink_update_multivariant (self);
  g_cond_broadcast (&self->ref_cond);
  g_mutex_unlock (&self->lock);

  gst_pad_set_active (pad, FALSE);
  gst_pad_set_element_private (pad, NULL);
  gst_element_remove_pad (element, pad);
  gst_ll_hls_pad_data_free (pd);
}

/* ------------------------------------------------------- state change */

static gboolean
gst_ll_hls_sink_start (GstLlHlsSink *self)
{
  gboolean ok = TRUE;

  GST_OBJECT_LOCK (self);
  if (!self->location || !*self->location) {
    GST_OBJECT_UNLOCK (self);
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
                       ("no location set: llhlssink needs a folder to write "
                        "into"),
                       (NULL));
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  g_free (self->run_location);
  self->run_location = g_strdup (self->location);
  self->config.target_duration = self->target_duration * GST_SECOND;
  self->config.part_target = self->part_duration * GST_MSECOND;
  self->config.window = self->window;
  self->config.max_files = self->max_files;
  self->config.playlist_type = self->playlist_type;
  self->config.keyframe_requests = self->keyframe_requests;
  GST_OBJECT_UNLOCK (self);

  self->have_anchor = FALSE;
  self->have_wall = FALSE;
  self->ref_cut_count = 0;
  self->ref_progress = G_MININT64;
  self->ref_ended = FALSE;
  g_clear_pointer (&self->multivariant, g_free);
  self->running = TRUE;
  if (g_mkdir_with_parents (self->run_location, 0755) != 0) {
    GST_ELEMENT_ERROR (
        self, RESOURCE, OPEN_WRITE,
        ("cannot create folder %s: %s", self->run_location, g_strerror (errno)),
        (NULL));
    ok = FALSE;
  }
  self->first_msn = 0;
  for (GList *l = self->pads; ok && l; l = l->next)
    ok = gst_ll_hls_sink_start_track (self, l->data);
  for (GList *l = self->pads; ok && l; l = l->next)
    llhls_track_set_first_msn (((GstLlHlsPadData *)l->data)->track,
                               self->first_msn);
  if (!ok)
    self->running = FALSE;
  g_mutex_unlock (&self->lock);
  return ok;
}

static void
gst_ll_hls_sink_stop (GstLlHlsSink *self)
{
  GList *pads;

  /* Pads are inactive here, so no streaming thread touches the tracks. A
   * stream stopped without EOS is finalised all the same: what was
   * recorded stays playable. */
  g_mutex_lock (&self->lock);
  self->running = FALSE;
  pads = g_list_copy (self->pads);
  g_mutex_unlock (&self->lock);

  for (GList *l = pads; l; l = l->next) {
    GstLlHlsPadData *pd = l->data;
    g_autoptr (GError) err = NULL;

    if (pd->started && !llhls_track_finish (pd->track, TRUE, &err))
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", err->message), (NULL));
    llhls_track_free (pd->track);
    pd->track = gst_ll_hls_sink_new_track (
        pd, g_str_has_prefix (GST_PAD_NAME (pd->pad), "video_"));
    pd->started = FALSE;
    pd->eos = FALSE;
    pd->live = -1;
    gst_segment_init (&pd->segment, GST_FORMAT_UNDEFINED);
    g_queue_clear_full (&pd->pending_metadata,
                        (GDestroyNotify)gst_structure_free);
  }
  g_list_free (pads);
}

static GstStateChangeReturn
gst_ll_hls_sink_change_state (GstElement *element, GstStateChange transition)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED &&
      !gst_ll_hls_sink_start (self))
    return GST_STATE_CHANGE_FAILURE;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* Wake audio pads waiting for the video before their pads are
     * deactivated (which takes their stream locks). */
    g_mutex_lock (&self->lock);
    self->running = FALSE;
    g_cond_broadcast (&self->ref_cond);
    g_mutex_unlock (&self->lock);
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_ll_hls_sink_stop (self);
  return ret;
}

/* --------------------------------------------------------- properties */

static void
gst_ll_hls_sink_set_property (GObject *object, guint prop_id,
                              const GValue *value, GParamSpec *pspec)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_TARGET_DURATION:
      self->target_duration = g_value_get_uint (value);
      break;
    case PROP_PART_DURATION:
      self->part_duration = g_value_get_uint (value);
      break;
    case PROP_WINDOW:
      self->window = g_value_get_uint (value);
      break;
    case PROP_MAX_FILES:
      self->max_files = g_value_get_uint (value);
      break;
    case PROP_SEND_KEYFRAME_REQUESTS:
      self->keyframe_requests = g_value_get_boolean (value);
      break;
    case PROP_PLAYLIST_TYPE:
      self->playlist_type = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ll_hls_sink_get_property (GObject *object, guint prop_id, GValue *value,
                              GParamSpec *pspec)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_TARGET_DURATION:
      g_value_set_uint (value, self->target_duration);
      break;
    case PROP_PART_DURATION:
      g_value_set_uint (value, self->part_duration);
      break;
    case PROP_WINDOW:
      g_value_set_uint (value, self->window);
      break;
    case PROP_MAX_FILES:
      g_value_set_uint (value, self->max_files);
      break;
    case PROP_SEND_KEYFRAME_REQUESTS:
      g_value_set_boolean (value, self->keyframe_requests);
      break;
    case PROP_PLAYLIST_TYPE:
      g_value_set_enum (value, self->playlist_type);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ll_hls_sink_finalize (GObject *object)
{
  GstLlHlsSink *self = GST_LL_HLS_SINK (object);

  g_list_free_full (self->pads, (GDestroyNotify)gst_ll_hls_pad_data_free);
  g_free (self->location);
  g_free (self->run_location);
  g_free (self->multivariant);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->ref_cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_ll_hls_sink_class_init (GstLlHlsSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GParamFlags flags =
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_ll_hls_sink_set_property;
  gobject_class->get_property = gst_ll_hls_sink_get_property;
  gobject_class->finalize = gst_ll_hls_sink_finalize;

  g_object_class_install_property (
      gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
                           "Folder the presentation is written into: "
                           "index.m3u8 and one sub-folder per rendition "
                           "(created if missing)",
                           DEFAULT_LOCATION, flags));
  g_object_class_install_property (
      gobject_class, PROP_TARGET_DURATION,
      g_param_spec_uint ("target-duration", "Target duration",
                         "Segment target duration in seconds "
                         "(EXT-X-TARGETDURATION); segments are cut at "
                         "keyframes on a grid of this period",
                         1, 60, DEFAULT_TARGET_DURATION, flags));
  g_object_class_install_property (
      gobject_class, PROP_PART_DURATION,
      g_param_spec_uint ("part-duration", "Part duration",
                         "Partial segment target in milliseconds "
                         "(EXT-X-PART-INF PART-TARGET, rounded to whole "
                         "frames); must be well below target-duration",
                         20, 5000, DEFAULT_PART_DURATION, flags));
  g_object_class_install_property (
      gobject_class, PROP_WINDOW,
      g_param_spec_uint ("window", "Window",
                         "Complete segments listed in a live media playlist "
                         "(playlist-type=live)",
                         1, G_MAXUINT32, DEFAULT_WINDOW, flags));
  g_object_class_install_property (
      gobject_class, PROP_MAX_FILES,
      g_param_spec_uint ("max-files", "Max files",
                         "Complete segments kept on disk per rendition in "
                         "live mode, including the listed ones (at least "
                         "window); older ones are deleted. Event and VOD "
                         "playlists keep every segment",
                         1, G_MAXUINT32, DEFAULT_MAX_FILES, flags));
  g_object_class_install_property (
      gobject_class, PROP_SEND_KEYFRAME_REQUESTS,
      g_param_spec_boolean ("send-keyframe-requests", "Send keyframe requests",
                            "Send upstream force-key-unit events so a "
                            "keyframe lands on every segment boundary",
                            DEFAULT_KEYFRAME_REQUESTS, flags));
  g_object_class_install_property (
      gobject_class, PROP_PLAYLIST_TYPE,
      g_param_spec_enum ("playlist-type", "Playlist type",
                         "live: sliding window; event: every segment listed; "
                         "vod: like event, finalised as VOD on EOS",
                         GST_TYPE_LL_HLS_PLAYLIST_TYPE, DEFAULT_PLAYLIST_TYPE,
                         flags));

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_ll_hls_sink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_ll_hls_sink_release_pad);
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_ll_hls_sink_change_state);

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (
      element_class, "Low-Latency HLS sink", "Sink/Muxer/Network",
      "Packages H.264 and AAC/Opus as CMAF and writes a Low-Latency HLS "
      "presentation (RFC 8216bis) into a folder",
      "Glasscast <dev@glasscast.invalid>");

  gst_type_mark_as_plugin_api (GST_TYPE_LL_HLS_PLAYLIST_TYPE, 0);
  GST_DEBUG_CATEGORY_INIT (gst_ll_hls_sink_debug, "llhlssink", 0,
                           "Low-Latency HLS sink");
}

static void
gst_ll_hls_sink_init (GstLlHlsSink *self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  self->target_duration = DEFAULT_TARGET_DURATION;
  self->part_duration = DEFAULT_PART_DURATION;
  self->window = DEFAULT_WINDOW;
  self->max_files = DEFAULT_MAX_FILES;
  self->keyframe_requests = DEFAULT_KEYFRAME_REQUESTS;
  self->playlist_type = DEFAULT_PLAYLIST_TYPE;
  g_mutex_init (&self->lock);
  g_cond_init (&self->ref_cond);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

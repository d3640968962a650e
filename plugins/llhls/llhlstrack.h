/* llhlstrack.h — one rendition of llhlssink: cuts samples into parts and segments,
 * writes CMAF files and the rendition's LL-HLS media playlist. */

#pragma once

#include <gst/gst.h>
#include "cmaf.h"

G_BEGIN_DECLS

typedef enum {
  GST_LL_HLS_PLAYLIST_TYPE_LIVE,
  GST_LL_HLS_PLAYLIST_TYPE_EVENT,
  GST_LL_HLS_PLAYLIST_TYPE_VOD,
} GstLlHlsPlaylistType;

/* Settings of the element, copied into each track when it starts. */
typedef struct {
  GstClockTime target_duration; /* ns, whole seconds */
  GstClockTime part_target;     /* ns */
  guint window;                 /* complete segments listed (live) */
  guint max_files;              /* complete segments kept on disk (live) */
  GstLlHlsPlaylistType playlist_type;
  gboolean keyframe_requests;
} LlHlsConfig;

/* What the reference rendition (the first video track) has done about a
 * segment number, as seen by a follower (audio) track. */
typedef enum {
  LLHLS_REF_NONE,    /* no reference: follow the grid */
  LLHLS_REF_PENDING, /* not cut yet; it has reached the returned time */
  LLHLS_REF_KNOWN,   /* the segment starts at the returned time */
  LLHLS_REF_ENDED,   /* the reference ended before this segment */
} LlHlsRefState;

/* What a track needs from its element; called from the track's streaming
 * thread. */
typedef struct {
  /* Ask upstream for a keyframe at @running_time (GST_CLOCK_TIME_NONE: now). */
  void (*request_keyframe) (gpointer user_data, GstClockTime running_time);
  /* Wall-clock capture time (ns since the Unix epoch) of a buffer at
   * @running_time; @buffer may be NULL. */
  gint64 (*wallclock) (gpointer user_data, GstBuffer *buffer,
                       GstClockTime running_time);
  /* The element-wide segment grid: stores in @anchor the running time
   * segment 0 starts at. A video track fixes it with its first keyframe
   * (@dts); an audio track fixes it only when there is no video. Returns
   * FALSE while it is not known yet. */
  gboolean (*anchor) (gpointer user_data, gboolean is_video, gint64 dts,
                      gint64 *anchor);
  /* A video track reports where its segments start, how far it got, and
   * that it ended; the element keeps the reports of the reference track. */
  void (*segment_started) (gpointer user_data, guint64 msn, gint64 dts,
                           gint64 pdt);
  void (*progress) (gpointer user_data, gint64 dts);
  void (*ended) (gpointer user_data);
  /* A follower asks about segment @msn: @time gets the start (KNOWN) or the
   * reference's progress (PENDING), @pdt the start's PDT (KNOWN). */
  LlHlsRefState (*reference) (gpointer user_data, guint64 msn, gint64 *time,
                              gint64 *pdt);
  /* A follower about to take a sample at @dts: blocks while the reference
   * lags behind it (as a muxer would), within limits set by the element. */
  void (*wait_for_reference) (gpointer user_data, gint64 dts);
  /* A part or segment was published: playlist and files are on disk. */
  void (*published) (gpointer user_data);
  gpointer user_data;
} LlHlsTrackHooks;

typedef struct _LlHlsTrack LlHlsTrack;

LlHlsTrack *llhls_track_new (const gchar *name, gboolean is_video,
                             const LlHlsTrackHooks *hooks);
void llhls_track_free (LlHlsTrack *track);

/* Sets the folder (LOCATION/<name>) and settings; creates the folder. Must be
 * called before the first buffer. */
gboolean llhls_track_start (LlHlsTrack *track, const gchar *location,
                            const LlHlsConfig *config, GError **error);

/* A folder that already holds a playlist is continued: the number the next
 * segment would get, and the number every track of the element starts its
 * grid at (the largest of their next numbers). */
guint64 llhls_track_next_msn (const LlHlsTrack *track);
void llhls_track_set_first_msn (LlHlsTrack *track, guint64 msn);

/* New caps: returns FALSE with @error for caps the track cannot package
 * (unsupported format, missing codec data). A real change of format closes
 * the current segment and starts a new init segment behind a
 * discontinuity. */
gboolean llhls_track_set_caps (LlHlsTrack *track, GstCaps *caps,
                               GError **error);

/* Takes one access unit (ownership stays with the caller). @dts and @pts are
 * running times in ns; @dts may equal @pts. */
gboolean llhls_track_push (LlHlsTrack *track, GstBuffer *buffer, gint64 dts,
                           gint64 pts, GError **error);

/* The next sample starts a new timeline (flush, source restart). */
void llhls_track_mark_discontinuity (LlHlsTrack *track);

/* Queues an ID3 tag to be written as an emsg box in the part where
 * @running_time falls (or the next part written, if that part is gone). */
void llhls_track_add_metadata (LlHlsTrack *track, GstClockTime running_time,
                               GstClockTime duration, guint32 id, GBytes *id3);

/* Writes out what is pending and, with @end_list, closes the playlist with
 * EXT-X-ENDLIST. */
gboolean llhls_track_finish (LlHlsTrack *track, gboolean end_list,
                             GError **error);

/* --- read by the element for the multivariant playlist --- */

const gchar *llhls_track_name (const LlHlsTrack *track);
gboolean llhls_track_is_video (const LlHlsTrack *track);
/* TRUE once the init segment and a first part are on disk. */
gboolean llhls_track_is_published (const LlHlsTrack *track);
/* (transfer full) (nullable): RFC 6381 codec string, once known. */
gchar *llhls_track_dup_codec_string (const LlHlsTrack *track);
void llhls_track_get_video_info (const LlHlsTrack *track, guint *width,
                                 guint *height, gint *fps_n, gint *fps_d);
guint llhls_track_channels (const LlHlsTrack *track);
/* Peak and average bit rates (bit/s) measured over the segments so far. */
void llhls_track_get_bandwidth (const LlHlsTrack *track, guint64 *peak,
                                guint64 *average);

G_END_DECLS

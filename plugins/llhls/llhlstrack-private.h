/* llhlstrack-private.h — the state of one llhlssink rendition, shared by the
 * files that implement it (llhlstrack.c cuts and writes, llhlsplaylist.c renders). */

#pragma once

#include "llhlstrack.h"

G_BEGIN_DECLS

/* Parts stay listed for segments within this many target durations of the
 * live edge (RFC 8216bis 4.4.4.9), and on disk one more. */
#define PART_LISTED_TARGETS 3
#define PART_KEPT_TARGETS 4

typedef struct {
  guint index;
  gint64 start; /* ns */
  gint64 duration;
  gboolean independent;
  gsize size;
} LlHlsPart;

typedef struct {
  guint64 msn;
  gint64 start; /* ns, dts of first sample */
  gint64 duration;
  gint64 pdt; /* ns since the epoch */
  guint init_id;
  gboolean discontinuity;
  gboolean independent;
  gboolean complete;
  gsize size;
  GArray *parts; /* LlHlsPart */
  gboolean parts_deleted;
} LlHlsSegment;

typedef struct {
  gint64 dts;
  gint64 pts;
  gint64 duration; /* estimate until the next sample arrives */
  gint64 pdt;      /* wall-clock capture time, ns since the epoch */
  guint32 size;
  gboolean sync;
} LlHlsSample;

typedef struct {
  GstClockTime running_time;
  GstClockTime duration;
  guint32 id;
  GBytes *id3;
} LlHlsMetadata;

struct _LlHlsTrack {
  gchar *name;
  gboolean is_video;
  LlHlsTrackHooks hooks;

  gchar *dir;
  LlHlsConfig config;
  GstClockTime part_target; /* advertised PART-TARGET, ns */
  guint target_seconds;     /* EXT-X-TARGETDURATION */

  /* format */
  GcCmafCodec codec;
  guint32 timescale;
  gboolean byte_stream; /* H.264 in Annex B: converted to AVC here */
  guint nal_length_size;
  GBytes *codec_data; /* avcC / ASC / OpusHead */
  GstCaps *caps;
  guint width, height;
  gint fps_n, fps_d;
  guint rate, channels;
  GstClockTime nominal_duration; /* from caps, 0 if unknown */
  guint init_id;                 /* id of the next init segment to write */
  gboolean init_pending;         /* format changed, init not yet written */
  guint32 bitrate_hint;

  /* timeline */
  gboolean have_anchor;
  gint64 anchor; /* running time of segment anchor_msn's start */
  guint64 anchor_msn;
  gboolean discont_pending;
  gint64 last_dts;
  gint64 expected_dts;
  gboolean have_last;
  gint64 keyframe_requested_for; /* boundary a request was sent for */
  gint64 last_est;               /* duration of the latest sample */
  gboolean have_part_end;        /* part_end_ticks is on this timeline */
  guint64 part_end_ticks;        /* decode time where the last part ended */
  gint64 expected_cut;           /* audio: where the open segment ends */
  gboolean waiting_for_keyframe;

  /* packaging */
  guint64 first_msn; /* number of the segment at the grid's anchor */
  guint64 next_msn;
  guint32 fragment_seq;
  LlHlsSegment *cur; /* open segment or NULL */
  int seg_fd;        /* temp file of the open segment */
  gchar *seg_tmp;
  GArray *samples;     /* LlHlsSample of the open part */
  GByteArray *payload; /* their bytes */
  GByteArray *scratch;
  GQueue segments; /* complete LlHlsSegment, oldest first */
  guint64 discontinuity_seq;
  GMutex meta_lock; /* guards metadata: added from any pad's thread */
  GQueue metadata;  /* LlHlsMetadata, by running time */
  gboolean ended;

  /* info read by the element, guarded by info_lock */
  GMutex info_lock;
  gboolean published;
  gchar *codec_string;
  guint64 peak_bps, total_bytes;
  gint64 total_duration;
};

/* llhlstrack.c */
gint64 llhls_boundary (const LlHlsTrack *t, guint64 msn);
gint64 llhls_max_segment (const LlHlsTrack *t);
guint64 llhls_ticks (const LlHlsTrack *t, gint64 ns);

/* llhlsplaylist.c: writes the rendition's media playlist (atomically). */
gboolean llhls_track_write_playlist (LlHlsTrack *t, GError **error);

G_END_DECLS

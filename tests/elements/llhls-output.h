/* llhls-output.h — reads back what llhlssink wrote, for the element tests:
 * media playlists parsed into segments and parts, CMAF files walked box by box. */

#pragma once

#include <gst/check/gstcheck.h>

G_BEGIN_DECLS

/* --- media playlists --- */

typedef struct {
  gdouble duration;
  gchar *uri;
  gboolean independent;
} PlPart;

typedef struct {
  guint64 msn;
  gboolean complete; /* has EXTINF and a URI */
  gdouble duration;
  gchar *uri;
  gboolean discontinuity;
  gchar *map; /* URI of an EXT-X-MAP in front of this segment */
  gchar *pdt;
  GPtrArray *parts; /* PlPart */
} PlSegment;

typedef struct {
  gchar *text;
  guint target_duration;
  gdouble part_target;
  guint64 media_sequence;
  gchar *playlist_type;
  gboolean endlist;
  gboolean preload_hint;
  GPtrArray *segments; /* PlSegment, in order; the open one last */
} Playlist;

/* (transfer full): @text parsed; fails the test if it is no playlist. */
Playlist *playlist_parse (const gchar *text);
void playlist_free (Playlist *pl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Playlist, playlist_free)

/* The @i-th segment listed / the segment numbered @msn (NULL if not listed) /
 * the @i-th part of a segment; the first and last fail the test when out of
 * range. */
PlSegment *pl_segment (const Playlist *pl, guint i);
PlSegment *pl_find_msn (const Playlist *pl, guint64 msn);
PlPart *pl_part (const PlSegment *seg, guint i);
guint pl_complete_count (const Playlist *pl);

/* (transfer full) (nullable): the value of attribute @name in a tag line,
 * without quotes. */
gchar *attr_value (const gchar *line, const gchar *name);
guint count_substrings (const gchar *text, const gchar *needle);
/* Milliseconds since the epoch of "YYYY-MM-DDTHH:MM:SS.mmmZ"; -1 for any
 * other form. */
gint64 pdt_to_ms (const gchar *pdt);

/* --- CMAF files --- */

/* What a part or segment file holds, read back from its boxes. */
typedef struct {
  gchar *error; /* why the file is not a valid CMAF chunk, or NULL */
  gchar first_box[5];
  guint n_fragments;
  guint n_emsg;
  guint64 tfdt;        /* baseMediaDecodeTime of the first fragment */
  guint n_samples;     /* in all fragments */
  guint32 first_flags; /* flags of the first sample */
  guint64 duration;    /* sum of sample durations, in the track timescale */
} Mp4Media;

#define SAMPLE_IS_NON_SYNC 0x00010000

/* Walks a part or segment file; m->error says why it is not valid CMAF. */
void mp4_read_media (const gchar *path, Mp4Media *m);
void mp4_media_clear (Mp4Media *m);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Mp4Media, mp4_media_clear)

typedef struct {
  guint32 timescale;
  guint64 presentation_time;
  gchar *scheme;
  gchar *value;
  GBytes *message;
} Mp4Emsg;

/* Reads the file's first box, which must be a version 1 emsg. */
void mp4_read_first_emsg (const gchar *path, Mp4Emsg *e);
void mp4_emsg_clear (Mp4Emsg *e);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Mp4Emsg, mp4_emsg_clear)

/* Width and height of the avc1 sample entry of an init segment. */
void mp4_read_avc1_size (const gchar *path, guint *width, guint *height);

/* Removes a folder and everything below it (symbolic links are removed, never
 * followed): the element tests' temporary output folders. */
void test_remove_tree (const gchar *path);

G_END_DECLS

/* playlist.h — a parsed LL-HLS media playlist, as much as the origin needs.
 * Finds the live edge (msn, part), the server-control values, the preload hint, and renders delta updates. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_PLAYLIST_ERROR (gc_playlist_error_quark ())
GQuark gc_playlist_error_quark (void);

typedef enum {
  GC_PLAYLIST_ERROR_NOT_A_PLAYLIST, /* no #EXTM3U first line, NUL bytes, too big */
  GC_PLAYLIST_ERROR_MALFORMED, /* a tag the origin relies on is unreadable */
} GcPlaylistErrorCode;

/* What a client asked with _HLS_skip. */
typedef enum {
  GC_PLAYLIST_SKIP_NONE = 0,
  GC_PLAYLIST_SKIP_YES, /* skip segments */
  GC_PLAYLIST_SKIP_V2,  /* skip segments and date ranges */
} GcPlaylistSkip;

/* The position of another rendition, for EXT-X-RENDITION-REPORT. */
typedef struct {
  const gchar *uri; /* relative to the playlist being rendered */
  gint64 last_msn;
  gint64 last_part; /* < 0: no LAST-PART attribute */
} GcRenditionReport;

typedef struct _GcPlaylist GcPlaylist;

/* Largest playlist text the parser accepts, in bytes. */
#define GC_PLAYLIST_MAX_SIZE (4 * 1024 * 1024)

GcPlaylist *gc_playlist_parse (const gchar *text, gsize length, GError **error);
void gc_playlist_free (GcPlaylist *playlist);

gint64 gc_playlist_get_media_sequence (const GcPlaylist *playlist);
guint gc_playlist_get_target_duration (const GcPlaylist *playlist);
gdouble gc_playlist_get_part_target (const GcPlaylist *playlist);
gdouble gc_playlist_get_can_skip_until (const GcPlaylist *playlist);
gboolean gc_playlist_has_endlist (const GcPlaylist *playlist);
guint gc_playlist_get_n_segments (const GcPlaylist *playlist);

/* Media sequence number of the last complete segment (one with EXTINF and a
 * URI); media-sequence - 1 when there is none yet. */
gint64 gc_playlist_get_last_complete_msn (const GcPlaylist *playlist);

/* The live edge: the msn of the newest segment, complete or still growing
 * parts, and the index of its newest part (-1 when it lists none). */
void gc_playlist_get_live_edge (const GcPlaylist *playlist, gint64 *msn,
                                gint64 *part);

/* (nullable) URI of EXT-X-PRELOAD-HINT with TYPE=PART. */
const gchar *gc_playlist_get_preload_hint (const GcPlaylist *playlist);

/* Whether a blocking reload for (msn, part) is satisfied by this playlist:
 * part < 0 asks for the complete segment msn; part >= 0 for partial segment
 * part of segment msn, or anything later. */
gboolean gc_playlist_satisfies (const GcPlaylist *playlist, gint64 msn,
                                gint64 part);

/* Whether a part URI is listed by an EXT-X-PART tag. */
gboolean gc_playlist_lists_part (const GcPlaylist *playlist, const gchar *uri);

/* Number of segments a delta update would replace with EXT-X-SKIP, using
 * @skip_until seconds as the skip boundary. */
guint gc_playlist_count_skippable (const GcPlaylist *playlist,
                                   gdouble skip_until);

/* Renders the playlist as the origin serves it: the writer's text with an
 * EXT-X-SERVER-CONTROL the origin can honour (blocking reload, delta updates
 * within @skip_until seconds), with the first segments replaced by EXT-X-SKIP
 * when @skip asks for it, and with one EXT-X-RENDITION-REPORT per entry of
 * @reports replacing any the writer put there. (transfer full) */
gchar *gc_playlist_render (const GcPlaylist *playlist, GcPlaylistSkip skip,
                           gdouble skip_until, const GcRenditionReport *reports,
                           guint n_reports);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcPlaylist, gc_playlist_free)

G_END_DECLS

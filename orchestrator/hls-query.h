/* hls-query.h — the LL-HLS delivery directives of a playlist request (_HLS_msn, _HLS_part, _HLS_skip).
 * Parsed from the raw query string with the strict rules of RFC 8216bis 6.2.5: anything doubtful is a 400. */

#pragma once

#include <glib.h>

#include "playlist.h"

G_BEGIN_DECLS

typedef struct {
  gint64 msn;  /* -1: no _HLS_msn */
  gint64 part; /* -1: no _HLS_part */
  GcPlaylistSkip skip;
} GcHlsQuery;

/* Largest value accepted for _HLS_msn and _HLS_part. */
#define GC_HLS_QUERY_MAX_VALUE ((gint64)1 << 52)

/* Parses @query (percent-encoded, without '?'; NULL means none) into @out.
 * Other parameters are ignored; a malformed, negative, repeated or
 * out-of-range directive, or _HLS_part without _HLS_msn, fails with
 * GC_ORIGIN_ERROR_BAD_REQUEST. */
gboolean gc_hls_query_parse (const gchar *query, GcHlsQuery *out,
                             GError **error);

/* Whether the request asks to be held (has _HLS_msn). */
gboolean gc_hls_query_is_blocking (const GcHlsQuery *query);

G_END_DECLS

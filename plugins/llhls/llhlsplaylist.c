/* llhlsplaylist.c — renders one llhlssink rendition's LL-HLS media playlist
 * (RFC 8216bis) from its segments and parts, and publishes it atomically. */

#include "llhlstrack-private.h"
#include "llhlsfile.h"

GST_DEBUG_CATEGORY_EXTERN (gst_ll_hls_sink_debug);
#define GST_CAT_DEFAULT gst_ll_hls_sink_debug

static gchar *
llhls_format_pdt (gint64 ns)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (ns / GST_SECOND);
  gint ms = (gint)((ns % GST_SECOND) / GST_MSECOND);
  g_autofree gchar *base = NULL;

  if (!dt)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, ms);
}

static gboolean
llhls_segment_lists_parts (const LlHlsTrack *t, const LlHlsSegment *seg,
                           gint64 edge)
{
  if (t->ended)
    return FALSE;
  if (!seg->complete)
    return TRUE;
  return edge - (seg->start + seg->duration) <
         (gint64)(PART_LISTED_TARGETS * t->config.target_duration);
}

static void
llhls_render_segment (LlHlsTrack *t, GString *p, const LlHlsSegment *seg,
                      gint64 edge, guint *last_init)
{
  g_autofree gchar *pdt = llhls_format_pdt (seg->pdt);

  if (seg->discontinuity)
    g_string_append (p, "#EXT-X-DISCONTINUITY\n");
  if (*last_init != seg->init_id) {
    g_string_append_printf (p, "#EXT-X-MAP:URI=\"init-%u.mp4\"\n",
                            seg->init_id);
    *last_init = seg->init_id;
  }
  g_string_append_printf (p, "#EXT-X-PROGRAM-DATE-TIME:%s\n", pdt);
  if (llhls_segment_lists_parts (t, seg, edge)) {
    for (guint i = 0; i < seg->parts->len; i++) {
      const LlHlsPart *part = &g_array_index (seg->parts, LlHlsPart, i);
      g_string_append_printf (
          p,
          "#EXT-X-PART:DURATION=%.5f,URI=\"part-%" G_GUINT64_FORMAT
          ".%u.m4s\"%s\n",
          (gdouble)part->duration / GST_SECOND, seg->msn, part->index,
          part->independent ? ",INDEPENDENT=YES" : "");
    }
  }
  if (seg->complete)
    g_string_append_printf (p, "#EXTINF:%.5f,\nseg-%" G_GUINT64_FORMAT ".m4s\n",
                            (gdouble)seg->duration / GST_SECOND, seg->msn);
}

/* Whether the next sample will open a new segment, as far as can be told
 * when the open segment's parts are all published: the preload hint then
 * names part 0 of the next segment, so players (and edges collapsing their
 * requests) wait for a part that will exist. */
static gboolean
llhls_track_cut_expected (const LlHlsTrack *t)
{
  gint64 next = t->cur->start + t->cur->duration;
  gint64 half = t->last_est / 2;

  if (t->samples->len > 0) {
    /* Audio writes a segment's final part while holding the first sample
     * of the next one. */
    const LlHlsSample *s = &g_array_index (t->samples, LlHlsSample, 0);
    return !t->is_video && s->dts + s->duration / 2 >= t->expected_cut;
  }
  if (next + t->last_est - t->cur->start > llhls_max_segment (t))
    return TRUE;
  if (!t->is_video)
    return next + half >= t->expected_cut;
  /* Video cuts where the requested keyframe lands: on the boundary. */
  return t->config.keyframe_requests &&
         next + half >= llhls_boundary (t, t->cur->msn + 1);
}

gboolean
llhls_track_write_playlist (LlHlsTrack *t, GError **error)
{
  g_autoptr (GString) p = g_string_sized_new (4096);
  const LlHlsSegment *first;
  gint64 edge;
  guint last_init = G_MAXUINT;
  gboolean live = !t->ended;
  gdouble part_s = (gdouble)t->part_target / GST_SECOND;

  first = g_queue_peek_head (&t->segments);
  if (!first)
    first = t->cur;
  if (!first)
    return TRUE;

  if (t->cur)
    edge = t->cur->start + t->cur->duration;
  else {
    const LlHlsSegment *last = g_queue_peek_tail (&t->segments);
    edge = last->start + last->duration;
  }

  g_string_append (p, "#EXTM3U\n#EXT-X-VERSION:6\n");
  g_string_append_printf (p, "#EXT-X-TARGETDURATION:%u\n", t->target_seconds);
  if (live) {
    g_string_append_printf (p,
                            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                            "PART-HOLD-BACK=%.3f,CAN-SKIP-UNTIL=%.1f\n",
                            3 * part_s, 6.0 * t->target_seconds);
    g_string_append_printf (p, "#EXT-X-PART-INF:PART-TARGET=%.5f\n", part_s);
  }
  g_string_append_printf (p, "#EXT-X-MEDIA-SEQUENCE:%" G_GUINT64_FORMAT "\n",
                          first->msn);
  if (t->discontinuity_seq > 0)
    g_string_append_printf (
        p, "#EXT-X-DISCONTINUITY-SEQUENCE:%" G_GUINT64_FORMAT "\n",
        t->discontinuity_seq);
  if (t->config.playlist_type == GST_LL_HLS_PLAYLIST_TYPE_EVENT ||
      (t->config.playlist_type == GST_LL_HLS_PLAYLIST_TYPE_VOD && live))
    g_string_append (p, "#EXT-X-PLAYLIST-TYPE:EVENT\n");
  else if (t->config.playlist_type == GST_LL_HLS_PLAYLIST_TYPE_VOD)
    g_string_append (p, "#EXT-X-PLAYLIST-TYPE:VOD\n");

  for (GList *l = t->segments.head; l; l = l->next)
    llhls_render_segment (t, p, l->data, edge, &last_init);
  if (t->cur && t->cur->parts->len > 0)
    llhls_render_segment (t, p, t->cur, edge, &last_init);

  if (live) {
    guint64 msn;
    guint idx;
    if (t->cur && !llhls_track_cut_expected (t)) {
      msn = t->cur->msn;
      idx = t->cur->parts->len;
    } else {
      msn = t->cur ? t->cur->msn + 1 : t->next_msn;
      idx = 0;
    }
    g_string_append_printf (
        p,
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-%" G_GUINT64_FORMAT
        ".%u.m4s\"\n",
        msn, idx);
  } else {
    g_string_append (p, "#EXT-X-ENDLIST\n");
  }

  return llhls_file_write_atomic (t->dir, "media.m3u8", (guint8 *)p->str,
                                  p->len, NULL, 0, error);
}

/* llhlsresume.c — reads back a media playlist llhlssink wrote earlier, so a
 * restarted stream continues it (same numbering, a discontinuity) instead of
 * starting over under the feet of players. */

#include "llhlsresume.h"

#include <string.h>

static gboolean
llhls_resume_fail (GError **error, guint line, const gchar *what)
{
  g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
               "line %u: %s", line, what);
  return FALSE;
}

static gboolean
llhls_resume_u64 (const gchar *s, guint64 *out)
{
  return g_ascii_string_to_unsigned (s, 10, 0, G_MAXINT64, out, NULL);
}

/* "2.00533," -> ns; a decimal with at most 9 fractional digits. */
static gboolean
llhls_resume_duration (const gchar *s, gint64 *out)
{
  guint64 whole = 0, frac = 0;
  guint digits = 0;
  const gchar *p = s;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p)) {
    if (whole > 100000)
      return FALSE;
    whole = whole * 10 + (guint64)(*p++ - '0');
  }
  if (*p == '.') {
    p++;
    while (g_ascii_isdigit (*p)) {
      if (digits < 9) {
        frac = frac * 10 + (guint64)(*p - '0');
        digits++;
      }
      p++;
    }
  }
  if (*p != ',' && *p != '\0')
    return FALSE;
  for (; digits < 9; digits++)
    frac *= 10;
  *out = (gint64)(whole * G_GUINT64_CONSTANT (1000000000) + frac);
  return TRUE;
}

/* "0.20000,URI=..." (an attribute value): the duration up to the comma. */
static gboolean
llhls_resume_duration_attr (const gchar *s, gint64 *out)
{
  g_autofree gchar *v = g_strndup (s, strcspn (s, ","));
  return llhls_resume_duration (v, out);
}

static gboolean
llhls_resume_name (const gchar *s, const gchar *prefix, const gchar *suffix,
                   guint64 *out)
{
  gsize pl = strlen (prefix), sl = strlen (suffix), l = strlen (s);
  g_autofree gchar *num = NULL;

  if (l <= pl + sl || strncmp (s, prefix, pl) != 0 ||
      strcmp (s + l - sl, suffix) != 0)
    return FALSE;
  num = g_strndup (s + pl, l - pl - sl);
  return llhls_resume_u64 (num, out);
}

gboolean
llhls_resume_parse (const gchar *text, gsize len, LlHlsResumeState *state,
                    GError **error)
{
  g_autofree gchar *copy = g_strndup (text, len);
  g_auto (GStrv) lines = NULL;
  guint64 media_seq = 0, next_msn;
  gboolean have_seq = FALSE, pending_disc = FALSE, have_inf = FALSE;
  guint init_id = 0;
  gboolean have_map = FALSE;
  gint64 pending_pdt = 0, pending_dur = 0;

  g_return_val_if_fail (state != NULL && state->segments == NULL, FALSE);

  if (len == 0)
    return llhls_resume_fail (error, 0, "empty playlist");
  if (strlen (copy) != len)
    return llhls_resume_fail (error, 0, "NUL byte in playlist");
  lines = g_strsplit (copy, "\n", -1);
  if (!lines[0] || !g_str_has_prefix (lines[0], "#EXTM3U"))
    return llhls_resume_fail (error, 1, "not a playlist");

  state->segments = g_array_new (FALSE, FALSE, sizeof (LlHlsResumeSegment));
  state->partial_parts = g_ptr_array_new_with_free_func (g_free);
  next_msn = 0;
  for (guint i = 1; lines[i]; i++) {
    gchar *l = g_strstrip (lines[i]);
    guint line = i + 1;

    if (*l == '\0')
      continue;
    if (g_str_has_prefix (l, "#EXT-X-MEDIA-SEQUENCE:")) {
      if (have_seq)
        return llhls_resume_fail (error, line, "second media sequence");
      if (!llhls_resume_u64 (l + 22, &media_seq))
        return llhls_resume_fail (error, line, "bad media sequence");
      have_seq = TRUE;
      next_msn = media_seq;
    } else if (g_str_has_prefix (l, "#EXT-X-DISCONTINUITY-SEQUENCE:")) {
      if (!llhls_resume_u64 (l + 30, &state->discontinuity_seq))
        return llhls_resume_fail (error, line, "bad discontinuity sequence");
    } else if (strcmp (l, "#EXT-X-DISCONTINUITY") == 0) {
      pending_disc = TRUE;
    } else if (g_str_has_prefix (l, "#EXT-X-MAP:URI=\"")) {
      guint64 id;
      g_autofree gchar *uri = g_strdup (l + 16);
      gchar *q = strchr (uri, '"');
      if (!q)
        return llhls_resume_fail (error, line, "bad EXT-X-MAP");
      *q = '\0';
      if (!llhls_resume_name (uri, "init-", ".mp4", &id) || id > G_MAXUINT16)
        return llhls_resume_fail (error, line, "unknown init segment name");
      init_id = (guint)id;
      have_map = TRUE;
      state->max_init_id = MAX (state->max_init_id, init_id);
    } else if (g_str_has_prefix (l, "#EXT-X-PROGRAM-DATE-TIME:")) {
      g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (l + 25, NULL);
      /* Dates outside 1970..2199 cannot be a capture time, and would
       * overflow nanoseconds. */
      if (!dt || g_date_time_to_unix (dt) < 0 ||
          g_date_time_to_unix (dt) > G_GINT64_CONSTANT (7258118400))
        return llhls_resume_fail (error, line, "bad program date-time");
      pending_pdt = g_date_time_to_unix (dt) * G_GINT64_CONSTANT (1000000000) +
                    (gint64)g_date_time_get_microsecond (dt) * 1000;
    } else if (g_str_has_prefix (l, "#EXTINF:")) {
      if (!llhls_resume_duration (l + 8, &pending_dur))
        return llhls_resume_fail (error, line, "bad EXTINF");
      have_inf = TRUE;
    } else if (g_str_has_prefix (l, "#EXT-X-PART:")) {
      /* Parts after the last segment URI belong to the segment that was
       * growing when the writer stopped. */
      const gchar *d = strstr (l, "DURATION=");
      const gchar *u = strstr (l, "URI=\"");
      g_autofree gchar *uri = NULL;
      g_autofree gchar *want = NULL;
      gint64 dur;
      gsize ul;

      if (!d || !u || !llhls_resume_duration_attr (d + 9, &dur))
        return llhls_resume_fail (error, line, "bad EXT-X-PART");
      ul = strcspn (u + 5, "\"");
      if (u[5 + ul] != '"')
        return llhls_resume_fail (error, line, "bad EXT-X-PART URI");
      uri = g_strndup (u + 5, ul);
      want = g_strdup_printf ("part-%" G_GUINT64_FORMAT ".%u.m4s", next_msn,
                              state->partial_parts->len);
      if (!have_map || !have_seq || strcmp (uri, want) != 0 ||
          state->partial_parts->len >= 10000)
        return llhls_resume_fail (error, line, "unexpected part URI");
      g_ptr_array_add (state->partial_parts, g_steal_pointer (&uri));
      state->partial.msn = next_msn;
      state->partial.duration += dur;
      state->partial.pdt = pending_pdt;
      state->partial.init_id = init_id;
      state->partial.discontinuity = pending_disc;
    } else if (*l != '#') {
      LlHlsResumeSegment seg = {0};
      guint64 msn;

      if (!have_inf || !have_map || !have_seq)
        return llhls_resume_fail (error, line, "segment without its tags");
      if (!llhls_resume_name (l, "seg-", ".m4s", &msn) || msn != next_msn)
        return llhls_resume_fail (error, line, "unexpected segment URI");
      seg.msn = msn;
      seg.duration = pending_dur;
      seg.pdt = pending_pdt;
      seg.init_id = init_id;
      seg.discontinuity = pending_disc;
      g_array_append_val (state->segments, seg);
      g_ptr_array_set_size (state->partial_parts, 0);
      memset (&state->partial, 0, sizeof (state->partial));
      next_msn++;
      pending_disc = FALSE;
      have_inf = FALSE;
      pending_pdt = 0;
    }
  }
  state->next_msn = next_msn;
  return TRUE;
}

void
llhls_resume_state_clear (LlHlsResumeState *state)
{
  g_clear_pointer (&state->segments, g_array_unref);
  g_clear_pointer (&state->partial_parts, g_ptr_array_unref);
  memset (&state->partial, 0, sizeof (state->partial));
  state->next_msn = 0;
  state->discontinuity_seq = 0;
  state->max_init_id = 0;
}

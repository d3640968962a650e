/* llhlsresume.h — reads back a media playlist llhlssink wrote earlier, so a
 * restarted stream continues it (same numbering, a discontinuity) instead of
 * starting over under the feet of players. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 msn;
  gint64 duration; /* ns */
  gint64 pdt;      /* ns since the epoch, 0 if absent */
  guint init_id;
  gboolean discontinuity;
} LlHlsResumeSegment;

typedef struct {
  guint64 discontinuity_seq;
  GArray *segments; /* LlHlsResumeSegment, in playlist order */
  guint max_init_id;
  /* The segment that was growing when the writer stopped, if it listed
   * parts: their URIs in order, and the segment (msn, summed duration, PDT,
   * init, discontinuity). Players may have played those parts, so the
   * continued stream completes this segment from them rather than reusing
   * its number. */
  GPtrArray *partial_parts;
  LlHlsResumeSegment partial;
  /* Number of the segment after the last complete one. */
  guint64 next_msn;
} LlHlsResumeState;

/* Parses @text (a media playlist written by llhlssink). Only complete
 * segments are kept; parts and hints are ignored. Fails on anything
 * inconsistent (numbering gaps, unknown URIs, bad numbers): the caller then
 * starts afresh. @state must be zero-initialised; free with
 * llhls_resume_state_clear(). */
gboolean llhls_resume_parse (const gchar *text, gsize len,
                             LlHlsResumeState *state, GError **error);
void llhls_resume_state_clear (LlHlsResumeState *state);

G_END_DECLS

/* fuzz-llhls-resume.c — libFuzzer target for llhlssink's reader of its own
 * media playlists (llhlsresume.c), which reads whatever a folder holds. */

#include "llhlsresume.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  LlHlsResumeState st = {0};
  /* An exact-size copy, so reading past the end is caught. */
  gchar *text = g_memdup2 (data, size);

  if (llhls_resume_parse (text, size, &st, NULL)) {
    guint64 prev = 0;
    /* What a successful parse promises: consecutive numbers, below the
     * number the continued stream starts at. */
    for (guint i = 0; i < st.segments->len; i++) {
      const LlHlsResumeSegment *seg =
          &g_array_index (st.segments, LlHlsResumeSegment, i);
      if (i > 0 && seg->msn != prev + 1)
        __builtin_trap ();
      if (seg->msn >= st.next_msn || seg->duration < 0 ||
          seg->init_id > st.max_init_id)
        __builtin_trap ();
      prev = seg->msn;
    }
    if (st.partial_parts->len > 0 && st.partial.msn != st.next_msn)
      __builtin_trap ();
  }
  llhls_resume_state_clear (&st);
  g_free (text);
  return 0;
}

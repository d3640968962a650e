/* origin-error.c — the GC_ORIGIN_ERROR quark.
 * Kept apart from the HTTP code so the parsers that raise these errors build without libsoup. */

#include "origin-error.h"

GQuark
gc_origin_error_quark (void)
{
  return g_quark_from_static_string ("gc-origin-error-quark");
}

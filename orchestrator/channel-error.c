/* channel-error.c — the GC_CHANNEL_ERROR quark.
 * Apart from the HTTP code so the worker and the protocol parser build without libsoup. */

#include "channel-error.h"

GQuark
gc_channel_error_quark (void)
{
  return g_quark_from_static_string ("gc-channel-error-quark");
}

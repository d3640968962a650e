/* plugin.c — registers the whip plugin's elements.
 * One plugin per folder, as in gst-plugins-good. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <openssl/crypto.h>

#include "gstwhipserversrc.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  /* Before webrtcbin's DTLS first touches OpenSSL: no clean-up at exit,
   * which races GStreamer threads still ending and crashes (README.md,
   * "Process exit"). Without effect if OpenSSL is already initialised. */
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
  return GST_ELEMENT_REGISTER (whipserversrc, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, whip,
                   "WHIP (RFC 9725) WebRTC ingest", plugin_init, VERSION,
                   GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)

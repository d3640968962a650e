/* plugin.c — registers the whip plugin's elements.
 * One plugin per folder, as in gst-plugins-good. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwhipserversrc.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER (whipserversrc, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, whip,
                   "WHIP (RFC 9725) WebRTC ingest", plugin_init, VERSION,
                   GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)

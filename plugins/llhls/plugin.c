/* plugin.c — registers the llhls plugin's elements.
 * One plugin per folder, as in gst-plugins-good. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstllhlssink.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER (llhlssink, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, llhls,
                   "CMAF Low-Latency HLS packaging", plugin_init, VERSION,
                   GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)

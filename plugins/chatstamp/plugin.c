/* plugin.c — registers the chatstamp plugin's element.
 * One plugin per folder, as in gst-plugins-good. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstchatstamp.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER (chatstamp, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, chatstamp,
                   "Wall-clock capture time and chat events for LL-HLS",
                   plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME,
                   GST_PACKAGE_ORIGIN)

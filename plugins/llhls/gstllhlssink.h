/* gstllhlssink.h — llhlssink: CMAF Low-Latency HLS packager and playlist writer.
 * See LAYOUT.md for the folder it writes. */

#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_LL_HLS_SINK (gst_ll_hls_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstLlHlsSink, gst_ll_hls_sink, GST, LL_HLS_SINK,
                      GstElement)

#define GST_TYPE_LL_HLS_PLAYLIST_TYPE (gst_ll_hls_playlist_type_get_type ())
GType gst_ll_hls_playlist_type_get_type (void);

/**
 * GST_LL_HLS_TIMED_METADATA:
 *
 * Name of the structure of a serialized custom downstream event
 * (%GST_EVENT_CUSTOM_DOWNSTREAM) that llhlssink turns into an `emsg` box
 * (scheme https://aomedia.org/emsg/ID3) in the part where it falls. Fields:
 *
 * - `running-time` (guint64, ns): when on the timeline the event happened;
 *   without it, the running time of the next buffer on that pad.
 * - `id3` (GstBuffer): a complete ID3v2 tag, written as is; or
 * - `text` (string) with optional `description` (string, default "glasscast"):
 *   written as an ID3v2.4 tag with one TXXX frame.
 * - `duration` (guint64, ns, optional), `id` (guint, optional).
 *
 * The event may arrive on any sink pad; it is written into every video
 * rendition (or the audio renditions when there is no video).
 */
#define GST_LL_HLS_TIMED_METADATA "glasscast/timed-metadata"

GST_ELEMENT_REGISTER_DECLARE (llhlssink);

G_END_DECLS

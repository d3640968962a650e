/* gstchatstamp.h — chatstamp: stamps buffers with their wall-clock capture
 * time and injects chat/tip events as timed metadata for llhlssink. */

#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_CHAT_STAMP (gst_chat_stamp_get_type ())
G_DECLARE_FINAL_TYPE (GstChatStamp, gst_chat_stamp, GST, CHAT_STAMP,
                      GstBaseTransform)

/**
 * GstChatStampSource:
 * @GST_CHAT_STAMP_SOURCE_AUTO: keep a `timestamp/x-unix` meta, else convert
 *   a `timestamp/x-ntp` meta, else map the running time through the clock
 * @GST_CHAT_STAMP_SOURCE_NTP: prefer `timestamp/x-ntp` (sender reports)
 *   over an existing `timestamp/x-unix`; the clock when neither is there
 * @GST_CHAT_STAMP_SOURCE_CLOCK: always the pipeline clock, replacing any
 *   upstream `timestamp/x-unix`
 *
 * Where a buffer's wall-clock capture time comes from.
 */
typedef enum {
  GST_CHAT_STAMP_SOURCE_AUTO,
  GST_CHAT_STAMP_SOURCE_NTP,
  GST_CHAT_STAMP_SOURCE_CLOCK,
} GstChatStampSource;

#define GST_TYPE_CHAT_STAMP_SOURCE (gst_chat_stamp_source_get_type ())
GType gst_chat_stamp_source_get_type (void);

/* Queues @json for the media time of @wallclock_ns (ns since the epoch);
 * what the `inject` action signal and the Redis thread call. Any thread. */
void gst_chat_stamp_inject (GstChatStamp *self, const gchar *json,
                            gint64 wallclock_ns);

GST_ELEMENT_REGISTER_DECLARE (chatstamp);

G_END_DECLS

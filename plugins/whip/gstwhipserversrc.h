/* gstwhipserversrc.h — whipserversrc: a WHIP (RFC 9725) server source that
 * exposes one publisher's H.264 and Opus as parsed, encoded streams. */

#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WHIP_SERVER_SRC (gst_whip_server_src_get_type ())
G_DECLARE_FINAL_TYPE (GstWhipServerSrc, gst_whip_server_src, GST,
                      WHIP_SERVER_SRC, GstBin)

/**
 * GstWhipServerSrcState:
 * @GST_WHIP_SERVER_SRC_STATE_IDLE: waiting for a publisher's offer.
 * @GST_WHIP_SERVER_SRC_STATE_CONNECTING: answered; ICE and DTLS under way.
 * @GST_WHIP_SERVER_SRC_STATE_LIVE: media is arriving.
 * @GST_WHIP_SERVER_SRC_STATE_ENDED: the publisher left (DELETE, "stop", no
 *   media for `timeout` seconds); EOS was pushed out of every src pad.
 * @GST_WHIP_SERVER_SRC_STATE_FAILED: ICE or DTLS failed, or no media came
 *   within `timeout` seconds of the answer; EOS was pushed as well.
 */
typedef enum {
  GST_WHIP_SERVER_SRC_STATE_IDLE,
  GST_WHIP_SERVER_SRC_STATE_CONNECTING,
  GST_WHIP_SERVER_SRC_STATE_LIVE,
  GST_WHIP_SERVER_SRC_STATE_ENDED,
  GST_WHIP_SERVER_SRC_STATE_FAILED,
} GstWhipServerSrcState;

#define GST_TYPE_WHIP_SERVER_SRC_STATE (gst_whip_server_src_state_get_type ())
GType gst_whip_server_src_state_get_type (void);

/**
 * GST_WHIP_SERVER_SRC_ANSWER:
 *
 * Name of the structure the "offer" action signal's promise is replied
 * with. Fields: `status` (guint, an HTTP status: 201 on success, 400 bad
 * SDP, 406 no H.264, 409 busy, 500/503 internal), `answer` (string, the
 * complete SDP answer, with 201), `session-id` (string, with 201), `error`
 * (string, a reason for the publisher, otherwise).
 */
#define GST_WHIP_SERVER_SRC_ANSWER "whip-answer"

/**
 * GST_WHIP_SERVER_SRC_STATE_MESSAGE:
 *
 * Name of the element message posted on every state change, with fields
 * `state` (#GstWhipServerSrcState) and `reason` (string).
 */
#define GST_WHIP_SERVER_SRC_STATE_MESSAGE "whipserversrc-state"

GST_ELEMENT_REGISTER_DECLARE (whipserversrc);

G_END_DECLS

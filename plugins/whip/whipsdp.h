/* whipsdp.h — checks a WHIP publisher's SDP offer before webrtcbin sees it,
 * narrows it to what we pass through, and completes webrtcbin's answer. */

#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

/* Offers larger than this are refused unread: a browser's offer with every
 * codec and extension is about 6 KiB. */
#define WHIP_SDP_MAX_SIZE (64 * 1024)
/* At most this many m-lines; a WHIP publisher sends one audio and one video. */
#define WHIP_SDP_MAX_MEDIA 8

#define WHIP_SDP_ERROR (whip_sdp_error_quark ())
GQuark whip_sdp_error_quark (void);

/**
 * WhipSdpError:
 * @WHIP_SDP_ERROR_MALFORMED: not an SDP offer webrtcbin can take (HTTP 400).
 * @WHIP_SDP_ERROR_UNSUPPORTED: a well-formed offer asking for something we
 *   do not receive, e.g. no H.264 video (HTTP 406).
 */
typedef enum {
  WHIP_SDP_ERROR_MALFORMED,
  WHIP_SDP_ERROR_UNSUPPORTED,
} WhipSdpError;

/**
 * WhipSdpOffer:
 * @sdp: the offer narrowed to one H.264 payload type (plus its RTX) per video
 *   m-line and one Opus payload type per audio m-line.
 * @n_video: video m-lines in the offer.
 * @n_audio: audio m-lines in the offer.
 */
typedef struct {
  GstSDPMessage *sdp;
  guint n_video;
  guint n_audio;
} WhipSdpOffer;

WhipSdpOffer *whip_sdp_offer_parse (const guint8 *data, gsize size,
                                    GError **error);
void whip_sdp_offer_free (WhipSdpOffer *offer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WhipSdpOffer, whip_sdp_offer_free)

/**
 * WhipSdpCandidate:
 * @mline: the m-line webrtcbin gathered it for.
 * @line: as webrtcbin's on-ice-candidate gives it ("candidate:...").
 */
typedef struct {
  guint mline;
  gchar *line;
} WhipSdpCandidate;

WhipSdpCandidate *whip_sdp_candidate_new (guint mline, const gchar *line);
void whip_sdp_candidate_free (WhipSdpCandidate *candidate);

gchar *whip_sdp_answer_finish (const GstSDPMessage *answer,
                               const GstSDPMessage *offer,
                               GPtrArray *candidates, guint start_kbps,
                               guint min_kbps);

G_END_DECLS

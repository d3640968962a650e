/* whip-sdp.h — glasscastd's checks of WHIP SDP text: the publisher's offer before a worker is started,
 * and trickle-ice-sdpfrag bodies of PATCH (RFC 8840). Plain C over the text: no GStreamer in glasscastd. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Offers larger than this are refused unread (a browser's is ~6 KiB). */
#define GC_WHIP_SDP_MAX_SIZE (64 * 1024)
#define GC_WHIP_SDP_MAX_MEDIA 8

typedef struct {
  guint n_video;    /* video m-lines */
  guint n_audio;    /* audio m-lines */
  gchar *ice_ufrag; /* of the first m-line (bundle) or the session */
  gchar *ice_pwd;   /* ditto */
  GPtrArray *mids;  /* (element-type utf8): a=mid per m-line, "" if none */
} GcWhipOffer;

/* Checks @sdp is an offer a worker can answer: SDP syntax, ICE credentials,
 * DTLS fingerprint, at least one video m-line offering H.264 (and Opus on
 * every audio m-line).
 * Returns: (transfer full) (nullable): what the session needs later, or NULL
 * with GC_CHANNEL_ERROR_BAD_REQUEST (a reason for the publisher),
 * GC_CHANNEL_ERROR_NOT_ACCEPTABLE (no codec we receive) or
 * GC_CHANNEL_ERROR_TOO_LARGE. */
GcWhipOffer *gc_whip_sdp_check_offer (const gchar *sdp, gsize len,
                                      GError **error);
void gc_whip_offer_free (GcWhipOffer *offer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcWhipOffer, gc_whip_offer_free)

typedef struct {
  guint mline;      /* index of the m-line in the offer */
  gchar *mid;       /* (nullable) */
  gchar *candidate; /* "candidate:..." without "a=", or NULL for
                       end-of-candidates */
} GcWhipCandidate;

typedef struct {
  gchar *ice_ufrag;      /* (nullable) */
  gchar *ice_pwd;        /* (nullable) */
  GPtrArray *candidates; /* (element-type GcWhipCandidate) */
  gboolean end_of_candidates;
} GcWhipFragment;

/* Parses a trickle-ice-sdpfrag (RFC 8840 section 9) against @offer: each
 * m-line of the fragment is matched to the offer's by a=mid (or order).
 * Returns: (transfer full) (nullable): the fragment, or NULL with
 * GC_CHANNEL_ERROR_BAD_REQUEST. */
GcWhipFragment *gc_whip_sdp_parse_fragment (const gchar *frag, gsize len,
                                            const GcWhipOffer *offer,
                                            GError **error);
void gc_whip_fragment_free (GcWhipFragment *frag);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcWhipFragment, gc_whip_fragment_free)

/* Whether @frag carries ICE credentials different from @offer's: an ICE
 * restart (RFC 9725 4.3.2) rather than trickle. */
gboolean gc_whip_fragment_is_restart (const GcWhipFragment *frag,
                                      const GcWhipOffer *offer);

/* 1:1 NAT: returns a copy of @answer whose host candidates carry
 * @public_address instead of the local one (libnice still receives on the
 * local address; the NAT forwards).
 * Returns: (transfer full): the rewritten answer. */
gchar *gc_whip_sdp_announce_address (const gchar *answer,
                                     const gchar *public_address);

G_END_DECLS

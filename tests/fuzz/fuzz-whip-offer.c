/* fuzz-whip-offer.c — libFuzzer target for glasscastd's WHIP SDP checks (orchestrator/whip-sdp.c).
 * Input: an offer; when it passes, the same bytes are also tried as a PATCH sdpfrag against it. */

#include "whip-sdp.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GcWhipOffer) offer = NULL;
  g_autoptr (GcWhipFragment) frag = NULL;
  g_autofree gchar *text = NULL;

  offer = gc_whip_sdp_check_offer ((const gchar *)data, size, NULL);
  if (offer == NULL)
    return 0;
  g_assert (offer->n_video >= 1);
  g_assert (offer->mids->len == offer->n_video + offer->n_audio);
  g_assert (offer->ice_ufrag != NULL && offer->ice_pwd != NULL);
  frag = gc_whip_sdp_parse_fragment ((const gchar *)data, size, offer, NULL);
  if (frag != NULL) {
    for (guint i = 0; i < frag->candidates->len; i++) {
      const GcWhipCandidate *c = frag->candidates->pdata[i];

      g_assert (c->mline < offer->mids->len);
    }
  }
  text = g_strndup ((const gchar *)data, size);
  g_free (gc_whip_sdp_announce_address (text, "192.0.2.1"));
  return 0;
}

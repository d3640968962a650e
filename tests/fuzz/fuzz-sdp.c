/* fuzz-sdp.c — libFuzzer target for whipserversrc's check of a publisher's
 * SDP offer (plugins/whip/whipsdp.c), the only code that sees it before
 * webrtcbin. Input: the body of a WHIP POST. */

#include <string.h>

#include "whipsdp.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (WhipSdpOffer) offer = whip_sdp_offer_parse (data, size, &err);
  g_autoptr (WhipSdpOffer) again = NULL;
  g_autoptr (GPtrArray) candidates = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *answer = NULL;

  if (!offer) {
    g_assert (err != NULL && err->domain == WHIP_SDP_ERROR);
    g_assert (err->message && *err->message);
    return 0;
  }
  g_assert (offer->n_video >= 1);
  g_assert (offer->n_video + offer->n_audio ==
            gst_sdp_message_medias_len (offer->sdp));

  /* What we hand webrtcbin is itself an offer we accept, unchanged. */
  text = gst_sdp_message_as_text (offer->sdp);
  again = whip_sdp_offer_parse ((const guint8 *)text, strlen (text), &err);
  g_assert_no_error (err);
  g_assert (again->n_video == offer->n_video);
  g_assert (again->n_audio == offer->n_audio);

  /* Completing an answer never fails on anything the checker let through. */
  candidates =
      g_ptr_array_new_with_free_func ((GDestroyNotify)whip_sdp_candidate_free);
  g_ptr_array_add (
      candidates,
      whip_sdp_candidate_new (
          0, "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"));
  answer =
      whip_sdp_answer_finish (offer->sdp, again->sdp, candidates, 2500, 1000);
  g_assert (answer != NULL && strstr (answer, "a=end-of-candidates"));
  return 0;
}

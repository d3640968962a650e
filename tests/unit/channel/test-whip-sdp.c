/* test-whip-sdp.c — unit tests of glasscastd's WHIP SDP checks (orchestrator/whip-sdp.c).
 * Good offers pass, each flaw gets its own status and reason, fragments map to m-lines. */

#include <string.h>

#include "channel-error.h"
#include "whip-sdp.h"

#define OFFER                                                                  \
  "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"                          \
  "a=group:BUNDLE video0 audio1\r\n"                                           \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n"                  \
  "a=setup:actpass\r\na=ice-ufrag:abcdefgh\r\n"                                \
  "a=ice-pwd:0123456789abcdefghijklmn\r\na=sendonly\r\n"                       \
  "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 H264/90000\r\na=mid:video0\r\n"        \
  "a=fingerprint:sha-256 AA:BB\r\n"                                            \
  "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=bundle-only\r\n"                       \
  "a=ice-ufrag:abcdefgh\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"             \
  "a=rtpmap:111 OPUS/48000/2\r\na=mid:audio1\r\n"                              \
  "a=fingerprint:sha-256 AA:BB\r\n"

static gchar *
replace (const gchar *text, const gchar *from, const gchar *to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);

  return g_strjoinv (to, parts);
}

static void
test_good_offer (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcWhipOffer) offer =
      gc_whip_sdp_check_offer (OFFER, strlen (OFFER), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (offer->n_video, ==, 1);
  g_assert_cmpuint (offer->n_audio, ==, 1);
  g_assert_cmpstr (offer->ice_ufrag, ==, "abcdefgh");
  g_assert_cmpstr (offer->mids->pdata[1], ==, "audio1");
}

typedef struct {
  const gchar *from;
  const gchar *to;
  gint code;
  const gchar *reason;
} Flaw;

static void
test_flaw (gconstpointer data)
{
  const Flaw *f = data;
  g_autofree gchar *sdp = replace (OFFER, f->from, f->to);
  g_autoptr (GError) error = NULL;
  g_autoptr (GcWhipOffer) offer =
      gc_whip_sdp_check_offer (sdp, strlen (sdp), &error);

  g_assert_null (offer);
  g_assert_error (error, GC_CHANNEL_ERROR, f->code);
  g_assert_nonnull (strstr (error->message, f->reason));
}

static void
test_fragment (void)
{
  static const gchar frag_text[] =
      "a=ice-ufrag:abcdefgh\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:audio1\r\n"
      "a=candidate:1 1 UDP 2015363327 127.0.0.1 51000 typ host\r\n"
      "a=end-of-candidates\r\n";
  g_autoptr (GcWhipOffer) offer =
      gc_whip_sdp_check_offer (OFFER, strlen (OFFER), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GcWhipFragment) frag =
      gc_whip_sdp_parse_fragment (frag_text, strlen (frag_text), offer, &error);
  const GcWhipCandidate *c;

  g_assert_no_error (error);
  g_assert_cmpuint (frag->candidates->len, ==, 2);
  c = frag->candidates->pdata[0];
  g_assert_cmpuint (c->mline, ==, 1);
  g_assert_cmpstr (c->candidate, ==,
                   "candidate:1 1 UDP 2015363327 127.0.0.1 51000 typ host");
  g_assert_true (frag->end_of_candidates);
  g_assert_false (gc_whip_fragment_is_restart (frag, offer));
}

static void
test_restart_detected (void)
{
  static const gchar frag_text[] =
      "a=ice-ufrag:zzzzzzzz\r\na=ice-pwd:0123456789abcdefghijklmn\r\n";
  g_autoptr (GcWhipOffer) offer =
      gc_whip_sdp_check_offer (OFFER, strlen (OFFER), NULL);
  g_autoptr (GcWhipFragment) frag =
      gc_whip_sdp_parse_fragment (frag_text, strlen (frag_text), offer, NULL);

  g_assert_true (gc_whip_fragment_is_restart (frag, offer));
}

static void
test_announce_address (void)
{
  static const gchar answer[] =
      "v=0\r\na=candidate:1 1 UDP 2015363327 10.0.0.5 51000 typ host\r\n"
      "a=candidate:2 1 UDP 1 198.51.100.1 4000 typ srflx raddr 10.0.0.5 "
      "rport 51000\r\n";
  g_autofree gchar *out = gc_whip_sdp_announce_address (answer, "203.0.113.7");

  g_assert_nonnull (
      strstr (out, "a=candidate:1 1 UDP 2015363327 203.0.113.7 51000 typ "
                   "host\r\n"));
  g_assert_nonnull (strstr (out, "198.51.100.1 4000 typ srflx"));
}

int
main (int argc, char **argv)
{
  static const Flaw flaws[] = {
      {"v=0", "v=1", GC_CHANNEL_ERROR_BAD_REQUEST, "v=0"},
      {"s=-\r\n", "", GC_CHANNEL_ERROR_BAD_REQUEST, "s="},
      {"a=ice-pwd:0123456789abcdefghijklmn\r\na=sendonly", "a=sendonly",
       GC_CHANNEL_ERROR_BAD_REQUEST, "ice-pwd"},
      {"a=fingerprint:sha-256 AA:BB\r\n", "", GC_CHANNEL_ERROR_BAD_REQUEST,
       "fingerprint"},
      {"UDP/TLS/RTP/SAVPF 96", "RTP/AVP 96", GC_CHANNEL_ERROR_BAD_REQUEST,
       "UDP/TLS/RTP/SAVPF"},
      {"a=sendonly", "a=recvonly", GC_CHANNEL_ERROR_BAD_REQUEST, "send"},
      {"t=0 0\r\n", "t=0 0\r\nbroken\r\n", GC_CHANNEL_ERROR_BAD_REQUEST,
       "letter"},
      {"a=rtpmap:97 H264/90000", "a=rtpmap:97 VP9/90000",
       GC_CHANNEL_ERROR_NOT_ACCEPTABLE, "VP8, VP9"},
      {"OPUS/48000/2", "PCMU/8000", GC_CHANNEL_ERROR_NOT_ACCEPTABLE, "Opus"},
      {"m=video", "m=application", GC_CHANNEL_ERROR_NOT_ACCEPTABLE,
       "application"},
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/whip-sdp/good-offer", test_good_offer);
  for (guint i = 0; i < G_N_ELEMENTS (flaws); i++) {
    g_autofree gchar *path = g_strdup_printf ("/whip-sdp/flaw/%u", i);

    g_test_add_data_func (path, &flaws[i], test_flaw);
  }
  g_test_add_func ("/whip-sdp/fragment", test_fragment);
  g_test_add_func ("/whip-sdp/restart", test_restart_detected);
  g_test_add_func ("/whip-sdp/announce-address", test_announce_address);
  return g_test_run ();
}

/* whipsdp.c — the SDP a WHIP publisher may send us: what is checked, what is
 * narrowed away before webrtcbin sees it, and what we add to its answer. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whipsdp.h"

#include <string.h>

/* GstSDPMessage's parser accepts almost any text and webrtcbin trusts what
 * it returns, so everything webrtcbin later dereferences or asserts on is
 * checked here first: every rule below turns input that could reach a
 * webrtcbin assertion (or a publisher mistake) into a 400 or 406 with a
 * reason the publisher's UI can show. */

G_DEFINE_QUARK (whip - sdp - error - quark, whip_sdp_error)

#define MALFORMED(error, ...)                                                  \
  g_set_error (error, WHIP_SDP_ERROR, WHIP_SDP_ERROR_MALFORMED, __VA_ARGS__)
#define UNSUPPORTED(error, ...)                                                \
  g_set_error (error, WHIP_SDP_ERROR, WHIP_SDP_ERROR_UNSUPPORTED, __VA_ARGS__)

void
whip_sdp_offer_free (WhipSdpOffer *offer)
{
  if (!offer)
    return;
  if (offer->sdp)
    gst_sdp_message_free (offer->sdp);
  g_free (offer);
}

WhipSdpCandidate *
whip_sdp_candidate_new (guint mline, const gchar *line)
{
  WhipSdpCandidate *c;

  g_return_val_if_fail (line != NULL, NULL);

  c = g_new0 (WhipSdpCandidate, 1);
  c->mline = mline;
  c->line = g_strdup (line);
  return c;
}

void
whip_sdp_candidate_free (WhipSdpCandidate *candidate)
{
  if (!candidate)
    return;
  g_free (candidate->line);
  g_free (candidate);
}

/* ------------------------------------------------------------ helpers */

static const gchar *
media_or_session_attr (const GstSDPMessage *sdp, const GstSDPMedia *media,
                       const gchar *key)
{
  const gchar *v = gst_sdp_media_get_attribute_val (media, key);

  return v ? v : gst_sdp_message_get_attribute_val (sdp, key);
}

/* Flag attributes ("a=rtcp-mux") may parse with an empty or NULL value. */
static gboolean
media_has_attr (const GstSDPMedia *media, const gchar *key)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute (media, i)->key, key) == 0)
      return TRUE;
  return FALSE;
}

/* A payload type as written in m= formats or at the start of an
 * rtpmap/fmtp/rtcp-fb value: 0..127, digits only. Returns -1 otherwise. */
static gint
parse_pt (const gchar *s, const gchar **end)
{
  gint pt = 0;
  guint digits = 0;

  while (g_ascii_isdigit (*s) && digits < 4) {
    pt = pt * 10 + (*s - '0');
    s++;
    digits++;
  }
  if (digits == 0 || digits > 3 || pt > 127)
    return -1;
  if (end)
    *end = s;
  else if (*s != '\0')
    return -1;
  return pt;
}

/* The value of an attribute keyed by payload type ("96 H264/90000"), or
 * NULL. For rtcp-fb "*" never matches: we keep it, as webrtcbin does. */
static const gchar *
media_pt_attr (const GstSDPMedia *media, const gchar *key, gint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    const gchar *end;

    if (g_strcmp0 (a->key, key) != 0 || !a->value)
      continue;
    if (parse_pt (a->value, &end) == pt && *end == ' ')
      return end + 1;
  }
  return NULL;
}

/* Looks @name up in fmtp parameters "a=1;b=2". Returns a newly allocated
 * value or NULL. */
static gchar *
fmtp_param (const gchar *params, const gchar *name)
{
  g_auto (GStrv) items = NULL;

  if (!params)
    return NULL;
  items = g_strsplit (params, ";", 64);
  for (guint i = 0; items[i]; i++) {
    gchar *item = g_strstrip (items[i]);
    gchar *eq = strchr (item, '=');

    if (!eq)
      continue;
    *eq = '\0';
    if (g_ascii_strcasecmp (g_strstrip (item), name) == 0)
      return g_strdup (g_strstrip (eq + 1));
  }
  return NULL;
}

/* rtpmap "H264/90000" or "opus/48000/2": encoding name and clock rate. */
static gboolean
rtpmap_is (const gchar *rtpmap, const gchar *name, const gchar *clock)
{
  gsize n = strlen (name);

  if (!rtpmap || g_ascii_strncasecmp (rtpmap, name, n) != 0 || rtpmap[n] != '/')
    return FALSE;
  return g_str_has_prefix (rtpmap + n + 1, clock);
}

/* How much we want an H.264 payload type; -1 when we cannot depayload it.
 * packetization-mode=1 (FU-A, what every WebRTC sender uses) first, then
 * Constrained Baseline / Baseline / Main, the profiles browsers encode
 * and every HLS player decodes; other profiles pass through as a last
 * resort (OBS announces 42e01f whatever its encoder makes). */
static gint
h264_score (const gchar *fmtp)
{
  g_autofree gchar *pm = fmtp_param (fmtp, "packetization-mode");
  g_autofree gchar *plid = fmtp_param (fmtp, "profile-level-id");
  gint score = 0;

  if (pm && g_strcmp0 (pm, "1") == 0)
    score += 2;
  else if (pm && g_strcmp0 (pm, "0") != 0)
    return -1;
  if (!plid || g_ascii_strncasecmp (plid, "42", 2) == 0 ||
      g_ascii_strncasecmp (plid, "4d", 2) == 0)
    score += 1;
  if (plid) {
    if (strlen (plid) != 6)
      return -1;
    for (guint i = 0; i < 6; i++)
      if (!g_ascii_isxdigit (plid[i]))
        return -1;
  }
  return score;
}

/* Keeps only the payload types in @keep (m= formats, rtpmap, fmtp,
 * rtcp-fb), in @keep's order. */
static void
media_keep_pts (GstSDPMedia *media, const gint *keep, guint n_keep)
{
  for (gint i = gst_sdp_media_formats_len (media) - 1; i >= 0; i--)
    gst_sdp_media_remove_format (media, i);
  for (guint k = 0; k < n_keep; k++) {
    gchar buf[8];

    g_snprintf (buf, sizeof buf, "%d", keep[k]);
    gst_sdp_media_add_format (media, buf);
  }

  for (gint i = gst_sdp_media_attributes_len (media) - 1; i >= 0; i--) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    const gchar *end;
    gint pt;
    gboolean kept = FALSE;

    if (g_strcmp0 (a->key, "rtpmap") != 0 && g_strcmp0 (a->key, "fmtp") != 0 &&
        g_strcmp0 (a->key, "rtcp-fb") != 0)
      continue;
    if (a->value && g_str_has_prefix (a->value, "* "))
      continue;
    pt = a->value ? parse_pt (a->value, &end) : -1;
    for (guint k = 0; k < n_keep; k++)
      kept |= (pt == keep[k]);
    if (!kept)
      gst_sdp_media_remove_attribute (media, i);
  }
}

/* ------------------------------------------------------------ checks */

/* ICE characters (RFC 8839): ALPHA / DIGIT / "+" / "/". */
static gboolean
is_ice_chars (const gchar *s, gsize min, gsize max)
{
  gsize n = 0;

  for (; s[n]; n++)
    if (!g_ascii_isalnum (s[n]) && s[n] != '+' && s[n] != '/')
      return FALSE;
  return n >= min && n <= max;
}

/* "sha-256 AB:CD:..." (RFC 8122). */
static gboolean
is_fingerprint (const gchar *s)
{
  const gchar *sp = strchr (s, ' ');
  gsize hex = 0;

  if (!sp || sp == s)
    return FALSE;
  for (const gchar *p = s; p < sp; p++)
    if (!g_ascii_isalnum (*p) && *p != '-')
      return FALSE;
  for (const gchar *p = sp + 1; *p; p++) {
    if (g_ascii_isxdigit (*p))
      hex++;
    else if (*p != ':')
      return FALSE;
  }
  return hex >= 32 && hex % 2 == 0;
}

static gboolean
check_transport (const GstSDPMessage *sdp, const GstSDPMedia *media, guint i,
                 GError **error)
{
  const gchar *ufrag = media_or_session_attr (sdp, media, "ice-ufrag");
  const gchar *pwd = media_or_session_attr (sdp, media, "ice-pwd");
  const gchar *fp = media_or_session_attr (sdp, media, "fingerprint");
  const gchar *setup = media_or_session_attr (sdp, media, "setup");
  const gchar *proto = gst_sdp_media_get_proto (media);

  if (!proto || !strstr (proto, "SAVPF")) {
    UNSUPPORTED (error,
                 "m-line %u: protocol %s is not supported, WebRTC needs "
                 "UDP/TLS/RTP/SAVPF",
                 i, proto ? proto : "(none)");
    return FALSE;
  }
  if (!ufrag || !is_ice_chars (ufrag, 4, 256)) {
    MALFORMED (error, "m-line %u: missing or invalid a=ice-ufrag", i);
    return FALSE;
  }
  if (!pwd || !is_ice_chars (pwd, 22, 256)) {
    MALFORMED (error, "m-line %u: missing or invalid a=ice-pwd", i);
    return FALSE;
  }
  if (!fp || !is_fingerprint (fp)) {
    MALFORMED (error, "m-line %u: missing or invalid a=fingerprint", i);
    return FALSE;
  }
  if (!setup ||
      (g_strcmp0 (setup, "actpass") != 0 && g_strcmp0 (setup, "active") != 0 &&
       g_strcmp0 (setup, "passive") != 0)) {
    MALFORMED (error, "m-line %u: a=setup must be actpass, active or passive",
               i);
    return FALSE;
  }
  if (!media_has_attr (media, "rtcp-mux")) {
    UNSUPPORTED (error, "m-line %u: a=rtcp-mux is required", i);
    return FALSE;
  }
  if (media_has_attr (media, "simulcast") || media_has_attr (media, "rid")) {
    UNSUPPORTED (error, "m-line %u: simulcast is not supported", i);
    return FALSE;
  }
  if (media_has_attr (media, "recvonly") ||
      media_has_attr (media, "inactive") ||
      (!media_has_attr (media, "sendonly") &&
       !media_has_attr (media, "sendrecv") &&
       (gst_sdp_message_get_attribute_val (sdp, "recvonly") ||
        gst_sdp_message_get_attribute_val (sdp, "inactive")))) {
    MALFORMED (error, "m-line %u: a WHIP offer must send media (sendonly)", i);
    return FALSE;
  }
  return TRUE;
}

/* Checks the m= formats and their rtpmaps are well formed; every format a
 * payload type, every rtpmap naming one of them. */
static gboolean
check_formats (const GstSDPMedia *media, guint i, GError **error)
{
  guint n = gst_sdp_media_formats_len (media);

  if (n == 0 || n > 128) {
    MALFORMED (error, "m-line %u: no payload types", i);
    return FALSE;
  }
  for (guint f = 0; f < n; f++) {
    if (parse_pt (gst_sdp_media_get_format (media, f), NULL) < 0) {
      MALFORMED (error, "m-line %u: invalid payload type '%s'", i,
                 gst_sdp_media_get_format (media, f));
      return FALSE;
    }
  }
  for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);
    const gchar *end;

    if (g_strcmp0 (attr->key, "rtpmap") != 0)
      continue;
    if (!attr->value || parse_pt (attr->value, &end) < 0 || *end != ' ' ||
        !strchr (end, '/')) {
      MALFORMED (error, "m-line %u: invalid a=rtpmap", i);
      return FALSE;
    }
  }
  return TRUE;
}

/* The best H.264 payload type of a video m-line and its RTX, or -1. */
static gint
pick_h264 (const GstSDPMedia *media, gint *rtx)
{
  gint best = -1, best_score = -1;

  *rtx = -1;
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    gint pt = parse_pt (gst_sdp_media_get_format (media, f), NULL);
    gint score;

    if (!rtpmap_is (media_pt_attr (media, "rtpmap", pt), "H264", "90000"))
      continue;
    score = h264_score (media_pt_attr (media, "fmtp", pt));
    if (score > best_score) {
      best = pt;
      best_score = score;
    }
  }
  if (best < 0)
    return -1;

  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    gint pt = parse_pt (gst_sdp_media_get_format (media, f), NULL);
    g_autofree gchar *apt = NULL;

    if (!rtpmap_is (media_pt_attr (media, "rtpmap", pt), "rtx", "90000"))
      continue;
    apt = fmtp_param (media_pt_attr (media, "fmtp", pt), "apt");
    if (apt && parse_pt (apt, NULL) == best) {
      *rtx = pt;
      break;
    }
  }
  return best;
}

static gint
pick_opus (const GstSDPMedia *media)
{
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    gint pt = parse_pt (gst_sdp_media_get_format (media, f), NULL);

    if (rtpmap_is (media_pt_attr (media, "rtpmap", pt), "opus", "48000"))
      return pt;
  }
  return -1;
}

/* Every m-line named in a=group:BUNDLE must exist and every m-line needs a
 * unique a=mid when bundling. Other groups (OBS sends a=group:LS, lip
 * sync) mean nothing to a receiver and are dropped. */
static gboolean
check_bundle (GstSDPMessage *sdp, GError **error)
{
  const gchar *group = NULL;
  g_auto (GStrv) mids = NULL;
  guint n = gst_sdp_message_medias_len (sdp);

  for (gint a = gst_sdp_message_attributes_len (sdp) - 1; a >= 0; a--) {
    const GstSDPAttribute *attr = gst_sdp_message_get_attribute (sdp, a);

    if (g_strcmp0 (attr->key, "group") != 0)
      continue;
    if (attr->value && g_str_has_prefix (attr->value, "BUNDLE")) {
      if (group) {
        UNSUPPORTED (error, "more than one a=group:BUNDLE");
        return FALSE;
      }
      group = attr->value;
    } else {
      gst_sdp_message_remove_attribute (sdp, a);
    }
  }
  /* Removing attributes may have moved the one we point at. */
  group = gst_sdp_message_get_attribute_val (sdp, "group");

  for (guint i = 0; i < n; i++) {
    const gchar *mid = gst_sdp_media_get_attribute_val (
        gst_sdp_message_get_media (sdp, i), "mid");
    if (!mid) {
      if (group || n > 1) {
        MALFORMED (error, "m-line %u: missing a=mid", i);
        return FALSE;
      }
      continue;
    }
    if (*mid == '\0' || strlen (mid) > 32 || strchr (mid, ' ')) {
      MALFORMED (error, "m-line %u: invalid a=mid", i);
      return FALSE;
    }
    for (guint j = 0; j < i; j++) {
      const gchar *other = gst_sdp_media_get_attribute_val (
          gst_sdp_message_get_media (sdp, j), "mid");
      if (g_strcmp0 (mid, other) == 0) {
        MALFORMED (error, "m-lines %u and %u share a=mid:%s", j, i, mid);
        return FALSE;
      }
    }
  }

  if (!group)
    return TRUE;
  if (group[strlen ("BUNDLE")] != ' ' && group[strlen ("BUNDLE")] != '\0') {
    UNSUPPORTED (error, "a=group:%s is not supported", group);
    return FALSE;
  }
  mids = g_strsplit (group + strlen ("BUNDLE"), " ", 0);
  for (guint k = 0; mids[k]; k++) {
    gboolean found = FALSE;

    if (mids[k][0] == '\0')
      continue;
    for (guint i = 0; i < n && !found; i++)
      found = g_strcmp0 (mids[k],
                         gst_sdp_media_get_attribute_val (
                             gst_sdp_message_get_media (sdp, i), "mid")) == 0;
    if (!found) {
      MALFORMED (error, "a=group:BUNDLE names unknown mid '%s'", mids[k]);
      return FALSE;
    }
  }
  return TRUE;
}

/* Copies session-level transport attributes (OBS writes them there) into
 * each m-line, where webrtcbin looks for them. */
static void
media_inherit_transport (const GstSDPMessage *sdp, GstSDPMedia *media)
{
  static const gchar *keys[] = {"ice-ufrag", "ice-pwd", "fingerprint", "setup"};

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++) {
    const gchar *v = gst_sdp_message_get_attribute_val (sdp, keys[k]);

    if (v && !media_has_attr (media, keys[k]))
      gst_sdp_media_add_attribute (media, keys[k], v);
  }
}

/**
 * whip_sdp_offer_parse:
 * @data: (array length=size): the request body
 * @size: its length
 * @error: a #WHIP_SDP_ERROR on failure
 *
 * Checks a WHIP offer and narrows it to what whipserversrc receives: one
 * H.264 payload type (and its RTX) per video m-line, Opus per audio m-line.
 *
 * Returns: (transfer full) (nullable): the narrowed offer
 */
WhipSdpOffer *
whip_sdp_offer_parse (const guint8 *data, gsize size, GError **error)
{
  g_autoptr (WhipSdpOffer) offer = g_new0 (WhipSdpOffer, 1);
  guint n_media;

  g_return_val_if_fail (data != NULL || size == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (size == 0) {
    MALFORMED (error, "empty offer");
    return NULL;
  }
  if (size > WHIP_SDP_MAX_SIZE) {
    MALFORMED (error, "offer larger than %u bytes", WHIP_SDP_MAX_SIZE);
    return NULL;
  }
  if (memchr (data, '\0', size) ||
      !g_utf8_validate_len ((const gchar *)data, size, NULL)) {
    MALFORMED (error, "offer is not UTF-8 text");
    return NULL;
  }
  if (size < 4 || memcmp (data, "v=0", 3) != 0 ||
      (data[3] != '\r' && data[3] != '\n')) {
    MALFORMED (error, "offer does not start with v=0");
    return NULL;
  }

  gst_sdp_message_new (&offer->sdp);
  if (gst_sdp_message_parse_buffer (data, size, offer->sdp) != GST_SDP_OK) {
    MALFORMED (error, "cannot parse the SDP");
    return NULL;
  }
  /* A later "v=" line overrides the first one. */
  if (g_strcmp0 (gst_sdp_message_get_version (offer->sdp), "0") != 0) {
    MALFORMED (error, "SDP version must be 0");
    return NULL;
  }
  {
    const GstSDPOrigin *o = gst_sdp_message_get_origin (offer->sdp);
    if (!o || !o->sess_id || !o->sess_version) {
      MALFORMED (error, "missing or invalid o= line");
      return NULL;
    }
  }
  n_media = gst_sdp_message_medias_len (offer->sdp);
  if (n_media == 0) {
    MALFORMED (error, "offer has no m-lines");
    return NULL;
  }
  if (n_media > WHIP_SDP_MAX_MEDIA) {
    UNSUPPORTED (error, "more than %u m-lines", WHIP_SDP_MAX_MEDIA);
    return NULL;
  }
  if (!check_bundle (offer->sdp, error))
    return NULL;

  for (guint i = 0; i < n_media; i++) {
    GstSDPMedia *media =
        (GstSDPMedia *)gst_sdp_message_get_media (offer->sdp, i);
    const gchar *kind = gst_sdp_media_get_media (media);

    if (g_strcmp0 (kind, "video") != 0 && g_strcmp0 (kind, "audio") != 0) {
      UNSUPPORTED (error, "m-line %u: media '%s' is not supported", i,
                   kind ? kind : "");
      return NULL;
    }
    /* Port 0 with a=bundle-only is a bundled m-line (RFC 8843), which
     * webrtcbin itself offers with max-bundle; else it is rejected. */
    if (gst_sdp_media_get_port (media) == 0 &&
        !media_has_attr (media, "bundle-only")) {
      UNSUPPORTED (error,
                   "m-line %u: rejected m-lines (port 0) are not "
                   "supported",
                   i);
      return NULL;
    }
    if (!check_transport (offer->sdp, media, i, error) ||
        !check_formats (media, i, error))
      return NULL;
    media_inherit_transport (offer->sdp, media);
    /* Meaningless to WebRTC, and GStreamer 1.22 writes a media-level i=
     * without its line end: drop them so our offer prints back as SDP. */
    gst_sdp_media_set_information (media, NULL);
    gst_sdp_media_set_key (media, NULL, NULL);

    if (kind[0] == 'v') {
      gint rtx, pt = pick_h264 (media, &rtx);
      gint keep[2] = {pt, rtx};

      if (pt < 0) {
        UNSUPPORTED (error,
                     "m-line %u: no H.264 (packetization-mode 0 or 1) offered; "
                     "whipserversrc passes H.264 through and does not "
                     "transcode",
                     i);
        return NULL;
      }
      media_keep_pts (media, keep, rtx >= 0 ? 2 : 1);
      offer->n_video++;
    } else {
      gint pt = pick_opus (media);

      if (pt < 0) {
        UNSUPPORTED (error, "m-line %u: no Opus audio offered", i);
        return NULL;
      }
      media_keep_pts (media, &pt, 1);
      offer->n_audio++;
    }
  }
  if (offer->n_video == 0) {
    UNSUPPORTED (error, "offer has no video; whipserversrc needs H.264 video");
    return NULL;
  }
  return g_steal_pointer (&offer);
}

/* ------------------------------------------------------------ answer */

static gboolean
media_has_candidate (const GstSDPMedia *media, const gchar *value)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    if (g_strcmp0 (a->key, "candidate") == 0 &&
        g_strcmp0 (a->value, value) == 0)
      return TRUE;
  }
  return FALSE;
}

/* webrtcbin 1.22 drops profile-level-id from its H.264 answer; without it
 * the publisher assumes Baseline (RFC 6184) and Chromium refuses an answer
 * to a Main offer. Puts the offer's value back. */
static void
media_restore_h264_params (GstSDPMedia *media, const GstSDPMedia *offer_media)
{
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    gint pt = parse_pt (gst_sdp_media_get_format (media, f), NULL);
    g_autofree gchar *plid = NULL;
    g_autofree gchar *pm = NULL;
    g_autoptr (GString) add = g_string_new (NULL);
    gboolean done = FALSE;

    if (!rtpmap_is (media_pt_attr (media, "rtpmap", pt), "H264", "90000"))
      continue;
    plid = fmtp_param (media_pt_attr (offer_media, "fmtp", pt),
                       "profile-level-id");
    pm = fmtp_param (media_pt_attr (offer_media, "fmtp", pt),
                     "packetization-mode");
    for (guint i = 0; i < gst_sdp_media_attributes_len (media) && !done; i++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
      const gchar *end;
      GstSDPAttribute repl;
      g_autofree gchar *have_plid = NULL;
      g_autofree gchar *have_pm = NULL;
      g_autofree gchar *value = NULL;

      if (g_strcmp0 (a->key, "fmtp") != 0 || !a->value ||
          parse_pt (a->value, &end) != pt || *end != ' ')
        continue;
      done = TRUE;
      have_plid = fmtp_param (end + 1, "profile-level-id");
      have_pm = fmtp_param (end + 1, "packetization-mode");
      if (plid && !have_plid)
        g_string_append_printf (add, ";profile-level-id=%s", plid);
      if (pm && !have_pm)
        g_string_append_printf (add, ";packetization-mode=%s", pm);
      if (add->len == 0)
        break;
      value = g_strconcat (a->value, add->str, NULL);
      gst_sdp_attribute_set (&repl, "fmtp", value);
      gst_sdp_media_replace_attribute (media, i, &repl);
    }
    if (!done && (plid || pm)) {
      if (plid)
        g_string_append_printf (add, ";profile-level-id=%s", plid);
      if (pm)
        g_string_append_printf (add, ";packetization-mode=%s", pm);
      {
        g_autofree gchar *value = g_strdup_printf ("%d %s", pt, add->str + 1);
        gst_sdp_media_add_attribute (media, "fmtp", value);
      }
    }
  }
}

/* Appends Chromium's bitrate hints to the fmtp of every H.264 payload type
 * of a video m-line (adding an fmtp line where there is none). */
static void
media_add_bitrate_hints (GstSDPMedia *media, guint start_kbps, guint min_kbps)
{
  g_autoptr (GString) hints = g_string_new (NULL);

  if (start_kbps)
    g_string_append_printf (hints, ";x-google-start-bitrate=%u", start_kbps);
  if (min_kbps)
    g_string_append_printf (hints, ";x-google-min-bitrate=%u", min_kbps);
  if (hints->len == 0)
    return;

  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    gint pt = parse_pt (gst_sdp_media_get_format (media, f), NULL);
    gboolean done = FALSE;

    if (!rtpmap_is (media_pt_attr (media, "rtpmap", pt), "H264", "90000"))
      continue;
    for (guint i = 0; i < gst_sdp_media_attributes_len (media) && !done; i++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
      const gchar *end;
      GstSDPAttribute repl;

      if (g_strcmp0 (a->key, "fmtp") != 0 || !a->value ||
          parse_pt (a->value, &end) != pt || *end != ' ')
        continue;
      {
        g_autofree gchar *value = g_strconcat (a->value, hints->str, NULL);
        gst_sdp_attribute_set (&repl, "fmtp", value);
        gst_sdp_media_replace_attribute (media, i, &repl);
      }
      done = TRUE;
    }
    if (!done) {
      g_autofree gchar *value = g_strdup_printf ("%d %s", pt, hints->str + 1);
      gst_sdp_media_add_attribute (media, "fmtp", value);
    }
  }
}

/**
 * whip_sdp_answer_finish:
 * @answer: webrtcbin's local description
 * @offer: (nullable): the (narrowed) offer it answers
 * @candidates: (element-type WhipSdpCandidate): every local candidate
 *   gathered
 * @start_kbps: x-google-start-bitrate hint for H.264, 0 for none
 * @min_kbps: x-google-min-bitrate hint, 0 for none
 *
 * Makes the complete answer a WHIP publisher gets in the 201: every
 * gathered candidate and a=end-of-candidates (we take no trickle ICE), and
 * the bitrate hints Chromium reads from the H.264 fmtp.
 *
 * Returns: (transfer full): the answer's text
 */
gchar *
whip_sdp_answer_finish (const GstSDPMessage *answer, const GstSDPMessage *offer,
                        GPtrArray *candidates, guint start_kbps, guint min_kbps)
{
  GstSDPMessage *copy = NULL;
  gchar *text;

  g_return_val_if_fail (answer != NULL, NULL);

  gst_sdp_message_copy (answer, &copy);
  for (guint i = 0; i < gst_sdp_message_medias_len (copy); i++) {
    GstSDPMedia *media = (GstSDPMedia *)gst_sdp_message_get_media (copy, i);

    for (guint c = 0; candidates && c < candidates->len; c++) {
      WhipSdpCandidate *cand = g_ptr_array_index (candidates, c);
      const gchar *value = cand->line;

      if (cand->mline != i)
        continue;
      if (g_str_has_prefix (value, "a="))
        value += 2;
      if (g_str_has_prefix (value, "candidate:"))
        value += strlen ("candidate:");
      if (!media_has_candidate (media, value))
        gst_sdp_media_add_attribute (media, "candidate", value);
    }
    if (!media_has_attr (media, "end-of-candidates"))
      gst_sdp_media_add_attribute (media, "end-of-candidates", NULL);
    if (g_strcmp0 (gst_sdp_media_get_media (media), "video") != 0)
      continue;
    if (offer && i < gst_sdp_message_medias_len (offer))
      media_restore_h264_params (media, gst_sdp_message_get_media (offer, i));
    media_add_bitrate_hints (media, start_kbps, min_kbps);
  }
  text = gst_sdp_message_as_text (copy);
  gst_sdp_message_free (copy);
  return text;
}

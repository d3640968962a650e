/* whip-sdp.c — checks a WHIP offer and parses PATCH sdpfrags before anything reaches a worker.
 * Rejecting here is cheap (no process is started) and gives the publisher a precise reason. */

#include "whip-sdp.h"

#include <string.h>

#include "channel-error.h"

#define MAX_CANDIDATES 128

typedef struct {
  gchar type;
  const gchar *value; /* NUL-terminated, in the split copy */
} Line;

typedef struct {
  gchar *kind; /* "audio", "video", ... */
  gchar *proto;
  gboolean has_ufrag;
  gboolean has_pwd;
  gboolean has_fingerprint;
  gboolean receives_only;
  gchar *ufrag;
  gchar *pwd;
  gchar *mid;
  GPtrArray *codecs; /* rtpmap encoding names, as offered */
} Media;

static void
media_free (gpointer data)
{
  Media *m = data;

  g_free (m->kind);
  g_free (m->proto);
  g_free (m->ufrag);
  g_free (m->pwd);
  g_free (m->mid);
  g_ptr_array_unref (m->codecs);
  g_free (m);
}

/* Splits @text into lines of "x=value"; FALSE with a reason otherwise. */
static GStrv
split_lines (const gchar *text, gsize len, GError **error)
{
  g_autofree gchar *copy = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *out;

  if (memchr (text, '\0', len) != NULL ||
      !g_utf8_validate_len (text, len, NULL)) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "SDP is not UTF-8 text");
    return NULL;
  }
  copy = g_strndup (text, len);
  lines = g_strsplit (copy, "\n", -1);
  out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; lines[i] != NULL; i++) {
    gchar *l = lines[i];
    gsize n = strlen (l);

    if (n > 0 && l[n - 1] == '\r')
      l[--n] = '\0';
    if (n == 0)
      continue;
    if (n < 2 || l[1] != '=' || !g_ascii_islower (l[0])) {
      g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                   "SDP line %u is not <letter>=<value>", i + 1);
      g_ptr_array_free (out, TRUE);
      return NULL;
    }
    g_ptr_array_add (out, g_strdup (l));
  }
  g_ptr_array_add (out, NULL);
  return (GStrv)g_ptr_array_free (out, FALSE);
}

/* "a=name:value" or "a=name": whether @line is attribute @name; @value
 * points after the colon (or to "" ). */
static gboolean
is_attr (const gchar *line, const gchar *name, const gchar **value)
{
  gsize n = strlen (name);

  if (line[0] != 'a' || strncmp (line + 2, name, n) != 0)
    return FALSE;
  if (line[2 + n] == ':') {
    *value = line + 3 + n;
    return TRUE;
  }
  if (line[2 + n] == '\0') {
    *value = line + 2 + n;
    return TRUE;
  }
  return FALSE;
}

static gboolean
token_is_ice_chars (const gchar *s, gsize min, gsize max)
{
  gsize n = strlen (s);

  /* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 5.4) */
  if (n < min || n > max)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isalnum (s[i]) && s[i] != '+' && s[i] != '/')
      return FALSE;
  }
  return TRUE;
}

static Media *
parse_m_line (const gchar *value, guint index, GError **error)
{
  g_auto (GStrv) f = g_strsplit (value, " ", -1);
  guint64 port;
  Media *m;

  if (g_strv_length (f) < 4 ||
      !g_ascii_string_to_unsigned (f[1], 10, 0, 65535, &port, NULL)) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "m-line %u is not \"m=<media> <port> <proto> <fmt>...\"",
                 index);
    return NULL;
  }
  if (strcmp (f[2], "UDP/TLS/RTP/SAVPF") != 0) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "m-line %u: transport must be UDP/TLS/RTP/SAVPF", index);
    return NULL;
  }
  m = g_new0 (Media, 1);
  m->kind = g_strdup (f[0]);
  m->proto = g_strdup (f[2]);
  m->codecs = g_ptr_array_new_with_free_func (g_free);
  return m;
}

/* Returns: (transfer full): "VP8, VP9" for a reason text. */
static gchar *
codec_list (Media *m)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < m->codecs->len && s->len < 100; i++) {
    const gchar *c = m->codecs->pdata[i];
    gboolean dup = FALSE;

    for (guint k = 0; k < i; k++)
      dup = dup || g_ascii_strcasecmp (m->codecs->pdata[k], c) == 0;
    if (!dup)
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", c);
  }
  if (s->len == 0)
    g_string_append (s, "none");
  return g_string_free (s, FALSE);
}

static gboolean
offers_codec (Media *m, const gchar *name)
{
  for (guint i = 0; i < m->codecs->len; i++) {
    if (g_ascii_strcasecmp (m->codecs->pdata[i], name) == 0)
      return TRUE;
  }
  return FALSE;
}

GcWhipOffer *
gc_whip_sdp_check_offer (const gchar *sdp, gsize len, GError **error)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) media = NULL;
  g_autoptr (GcWhipOffer) offer = NULL;
  gboolean has_o = FALSE;
  gboolean has_s = FALSE;
  gboolean s_ufrag = FALSE;
  gboolean s_pwd = FALSE;
  gboolean s_fingerprint = FALSE;
  g_autofree gchar *s_ufrag_v = NULL;
  g_autofree gchar *s_pwd_v = NULL;
  Media *cur = NULL;

  g_return_val_if_fail (sdp != NULL || len == 0, NULL);

  if (len > GC_WHIP_SDP_MAX_SIZE) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_TOO_LARGE,
                 "SDP offer larger than %d bytes", GC_WHIP_SDP_MAX_SIZE);
    return NULL;
  }
  if (len == 0) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "empty SDP offer");
    return NULL;
  }
  lines = split_lines (sdp, len, error);
  if (lines == NULL)
    return NULL;
  if (lines[0] == NULL || strcmp (lines[0], "v=0") != 0) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "SDP must start with v=0");
    return NULL;
  }
  media = g_ptr_array_new_with_free_func (media_free);
  for (guint i = 1; lines[i] != NULL; i++) {
    const gchar *l = lines[i];
    const gchar *v;

    if (l[0] == 'm') {
      if (media->len == GC_WHIP_SDP_MAX_MEDIA) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "SDP has more than %d m-lines", GC_WHIP_SDP_MAX_MEDIA);
        return NULL;
      }
      cur = parse_m_line (l + 2, media->len, error);
      if (cur == NULL)
        return NULL;
      g_ptr_array_add (media, cur);
    } else if (cur == NULL && l[0] == 'o') {
      has_o = TRUE;
    } else if (cur == NULL && l[0] == 's') {
      has_s = TRUE;
    } else if (is_attr (l, "ice-ufrag", &v)) {
      if (!token_is_ice_chars (v, 4, 256)) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "a=ice-ufrag must be 4 to 256 ice-chars");
        return NULL;
      }
      if (cur != NULL) {
        cur->has_ufrag = TRUE;
        g_free (cur->ufrag);
        cur->ufrag = g_strdup (v);
      } else {
        s_ufrag = TRUE;
        g_free (s_ufrag_v);
        s_ufrag_v = g_strdup (v);
      }
    } else if (is_attr (l, "ice-pwd", &v)) {
      if (!token_is_ice_chars (v, 22, 256)) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "a=ice-pwd must be 22 to 256 ice-chars");
        return NULL;
      }
      if (cur != NULL) {
        cur->has_pwd = TRUE;
        g_free (cur->pwd);
        cur->pwd = g_strdup (v);
      } else {
        s_pwd = TRUE;
        g_free (s_pwd_v);
        s_pwd_v = g_strdup (v);
      }
    } else if (is_attr (l, "fingerprint", &v)) {
      if (strchr (v, ' ') == NULL) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "a=fingerprint must be \"<hash> <digest>\"");
        return NULL;
      }
      if (cur)
        cur->has_fingerprint = TRUE;
      else
        s_fingerprint = TRUE;
    } else if (cur != NULL && is_attr (l, "mid", &v)) {
      g_free (cur->mid);
      cur->mid = g_strdup (v);
    } else if (cur != NULL &&
               (is_attr (l, "recvonly", &v) || is_attr (l, "inactive", &v))) {
      cur->receives_only = TRUE;
    } else if (cur != NULL && is_attr (l, "rtpmap", &v)) {
      g_auto (GStrv) f = g_strsplit_set (v, " /", 3);

      if (g_strv_length (f) < 2 || f[1][0] == '\0') {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "m-line %u: malformed a=rtpmap", media->len - 1);
        return NULL;
      }
      if (cur->codecs->len < 64)
        g_ptr_array_add (cur->codecs, g_strdup (f[1]));
    }
  }
  if (!has_o || !has_s) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "SDP needs o= and s= lines");
    return NULL;
  }
  if (media->len == 0) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "SDP offer has no m-lines");
    return NULL;
  }

  offer = g_new0 (GcWhipOffer, 1);
  offer->mids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < media->len; i++) {
    Media *m = media->pdata[i];

    if (!(m->has_ufrag || s_ufrag) || !(m->has_pwd || s_pwd)) {
      g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                   "m-line %u has no a=ice-ufrag and a=ice-pwd", i);
      return NULL;
    }
    if (!m->has_fingerprint && !s_fingerprint) {
      g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                   "m-line %u has no a=fingerprint (DTLS)", i);
      return NULL;
    }
    if (m->receives_only) {
      g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                   "m-line %u does not send: a WHIP offer publishes", i);
      return NULL;
    }
    if (strcmp (m->kind, "video") == 0) {
      offer->n_video++;
      if (!offers_codec (m, "H264")) {
        g_autofree gchar *offered = codec_list (m);

        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_ACCEPTABLE,
                     "video m-line %u offers no H.264 (offered: %s); "
                     "Glasscast passes H.264 through",
                     i, offered);
        return NULL;
      }
    } else if (strcmp (m->kind, "audio") == 0) {
      offer->n_audio++;
      if (!offers_codec (m, "opus")) {
        g_autofree gchar *offered = codec_list (m);

        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_ACCEPTABLE,
                     "audio m-line %u offers no Opus (offered: %s)", i,
                     offered);
        return NULL;
      }
    } else {
      g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_ACCEPTABLE,
                   "m-line %u is \"%s\": only audio and video are received", i,
                   m->kind);
      return NULL;
    }
    g_ptr_array_add (offer->mids, g_strdup (m->mid ? m->mid : ""));
  }
  if (offer->n_video == 0) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_NOT_ACCEPTABLE,
                 "offer has no video: Glasscast needs H.264 video");
    return NULL;
  }
  {
    Media *first = media->pdata[0];

    offer->ice_ufrag = g_strdup (first->ufrag ? first->ufrag : s_ufrag_v);
    offer->ice_pwd = g_strdup (first->pwd ? first->pwd : s_pwd_v);
  }
  return g_steal_pointer (&offer);
}

void
gc_whip_offer_free (GcWhipOffer *offer)
{
  if (offer == NULL)
    return;
  g_free (offer->ice_ufrag);
  g_free (offer->ice_pwd);
  g_clear_pointer (&offer->mids, g_ptr_array_unref);
  g_free (offer);
}

static void
candidate_free (gpointer data)
{
  GcWhipCandidate *c = data;

  g_free (c->mid);
  g_free (c->candidate);
  g_free (c);
}

/* "candidate:<foundation> <component> <transport> <priority> <address>
 * <port> typ <type> ..." (RFC 8839 5.1). */
static gboolean
candidate_is_valid (const gchar *value)
{
  g_auto (GStrv) f = g_strsplit (value, " ", -1);
  guint64 n;

  return g_strv_length (f) >= 8 && f[0][0] != '\0' &&
         g_ascii_string_to_unsigned (f[1], 10, 1, 256, &n, NULL) &&
         g_ascii_string_to_unsigned (f[3], 10, 0, G_MAXUINT32, &n, NULL) &&
         f[4][0] != '\0' &&
         g_ascii_string_to_unsigned (f[5], 10, 0, 65535, &n, NULL) &&
         strcmp (f[6], "typ") == 0 && f[7][0] != '\0';
}

GcWhipFragment *
gc_whip_sdp_parse_fragment (const gchar *text, gsize len,
                            const GcWhipOffer *offer, GError **error)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GcWhipFragment) frag = NULL;
  gint section = -1; /* m-line index in the fragment */
  gint mline = -1;   /* matched m-line of the offer */
  gchar *mid = NULL; /* of the current section, owned by frag */

  g_return_val_if_fail (offer != NULL, NULL);

  if (len > GC_WHIP_SDP_MAX_SIZE) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_TOO_LARGE,
                 "SDP fragment larger than %d bytes", GC_WHIP_SDP_MAX_SIZE);
    return NULL;
  }
  lines = split_lines (text ? text : "", len, error);
  if (lines == NULL)
    return NULL;
  frag = g_new0 (GcWhipFragment, 1);
  frag->candidates = g_ptr_array_new_with_free_func (candidate_free);
  for (guint i = 0; lines[i] != NULL; i++) {
    const gchar *l = lines[i];
    const gchar *v;

    if (l[0] == 'm') {
      section++;
      mline = section < (gint)offer->mids->len ? section : -1;
      mid = NULL;
      continue;
    }
    if (is_attr (l, "mid", &v) && section >= 0) {
      mline = -1;
      for (guint k = 0; k < offer->mids->len; k++) {
        if (strcmp (offer->mids->pdata[k], v) == 0)
          mline = (gint)k;
      }
      if (mline < 0) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "a=mid:%.32s is not in the offer", v);
        return NULL;
      }
      mid = (gchar *)offer->mids->pdata[mline];
    } else if (is_attr (l, "ice-ufrag", &v)) {
      if (!token_is_ice_chars (v, 4, 256)) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "a=ice-ufrag must be 4 to 256 ice-chars");
        return NULL;
      }
      g_free (frag->ice_ufrag);
      frag->ice_ufrag = g_strdup (v);
    } else if (is_attr (l, "ice-pwd", &v)) {
      if (!token_is_ice_chars (v, 22, 256)) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "a=ice-pwd must be 22 to 256 ice-chars");
        return NULL;
      }
      g_free (frag->ice_pwd);
      frag->ice_pwd = g_strdup (v);
    } else if (is_attr (l, "candidate", &v) ||
               is_attr (l, "end-of-candidates", &v)) {
      gboolean end = g_str_has_prefix (l, "a=end-of-candidates");
      GcWhipCandidate *c;

      if (end && section < 0) {
        frag->end_of_candidates = TRUE;
        continue;
      }
      if (section < 0 || mline < 0) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "a=candidate outside an m= section of the offer");
        return NULL;
      }
      if (!end && !candidate_is_valid (v)) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "malformed a=candidate (RFC 8839 5.1)");
        return NULL;
      }
      if (frag->candidates->len == MAX_CANDIDATES) {
        g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                     "more than %d candidates", MAX_CANDIDATES);
        return NULL;
      }
      if (end)
        frag->end_of_candidates = TRUE;
      c = g_new0 (GcWhipCandidate, 1);
      c->mline = (guint)mline;
      c->mid = g_strdup (mid);
      c->candidate = end ? NULL : g_strdup_printf ("candidate:%s", v);
      g_ptr_array_add (frag->candidates, c);
    }
  }
  if ((frag->ice_ufrag == NULL) != (frag->ice_pwd == NULL)) {
    g_set_error (error, GC_CHANNEL_ERROR, GC_CHANNEL_ERROR_BAD_REQUEST,
                 "a=ice-ufrag and a=ice-pwd go together");
    return NULL;
  }
  return g_steal_pointer (&frag);
}

void
gc_whip_fragment_free (GcWhipFragment *frag)
{
  if (frag == NULL)
    return;
  g_free (frag->ice_ufrag);
  g_free (frag->ice_pwd);
  g_clear_pointer (&frag->candidates, g_ptr_array_unref);
  g_free (frag);
}

gboolean
gc_whip_fragment_is_restart (const GcWhipFragment *frag,
                             const GcWhipOffer *offer)
{
  g_return_val_if_fail (frag != NULL && offer != NULL, FALSE);

  return frag->ice_ufrag != NULL &&
         (g_strcmp0 (frag->ice_ufrag, offer->ice_ufrag) != 0 ||
          g_strcmp0 (frag->ice_pwd, offer->ice_pwd) != 0);
}

gchar *
gc_whip_sdp_announce_address (const gchar *answer, const gchar *public_address)
{
  g_auto (GStrv) lines = NULL;
  GString *out;

  g_return_val_if_fail (answer != NULL, NULL);
  g_return_val_if_fail (public_address != NULL, NULL);

  lines = g_strsplit (answer, "\n", -1);
  out = g_string_sized_new (strlen (answer) + 64);
  for (guint i = 0; lines[i] != NULL; i++) {
    gchar *l = lines[i];

    if (g_str_has_prefix (l, "a=candidate:")) {
      gsize n = strlen (l);
      gboolean cr = n > 0 && l[n - 1] == '\r';
      g_auto (GStrv) f = NULL;

      if (cr)
        l[n - 1] = '\0';
      f = g_strsplit (l, " ", -1);
      if (g_strv_length (f) >= 8 && strcmp (f[6], "typ") == 0 &&
          strcmp (f[7], "host") == 0) {
        g_free (f[4]);
        f[4] = g_strdup (public_address);
        g_free (lines[i]);
        lines[i] = g_strjoinv (" ", f);
        if (cr) {
          gchar *with_cr = g_strconcat (lines[i], "\r", NULL);

          g_free (lines[i]);
          lines[i] = with_cr;
        }
      } else if (cr) {
        l[n - 1] = '\r';
      }
    }
    g_string_append (out, lines[i]);
    if (lines[i + 1] != NULL)
      g_string_append_c (out, '\n');
  }
  return g_string_free (out, FALSE);
}

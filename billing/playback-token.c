/* playback-token.c — mints and verifies playback tokens (playback-token.h): a canonical text and its HMAC-SHA256.
 * Strict parsing (one spelling per token), MAC before anything else is believed, constant-time comparison. */

#include "playback-token.h"

#include <string.h>

#define VERSION_PREFIX "v1."
#define MAC_BYTES 32
/* Unpadded base64url of 32 bytes. */
#define MAC_CHARS 43
#define CHANNEL_MAX 64
/* Decimal digits of G_MAXINT64. */
#define INT64_DIGITS 19

GQuark
gc_playback_token_error_quark (void)
{
  return g_quark_from_static_string ("gc-playback-token-error-quark");
}

static gboolean
channel_is_valid (const gchar *channel, gsize len)
{
  if (len < 1 || len > CHANNEL_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isalnum (channel[i]) && channel[i] != '_' && channel[i] != '-')
      return FALSE;
  }
  return TRUE;
}

/* A positive decimal of @len digits, no sign, no leading zero. */
static gboolean
parse_positive (const gchar *text, gsize len, gint64 *out)
{
  guint64 v = 0;

  if (len < 1 || len > INT64_DIGITS || text[0] == '0')
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    guint digit;

    if (!g_ascii_isdigit (text[i]))
      return FALSE;
    digit = (guint)(text[i] - '0');
    if (v > ((guint64)G_MAXINT64 - digit) / 10)
      return FALSE;
    v = v * 10 + digit;
  }
  *out = (gint64)v;
  return TRUE;
}

/* Writes the unpadded base64url MAC of @signed_text (MAC_CHARS + NUL). */
static void
compute_mac (GBytes *secret, const gchar *signed_text, gsize len,
             gchar out[MAC_CHARS + 1])
{
  gsize key_len = 0;
  const guchar *key = g_bytes_get_data (secret, &key_len);
  guint8 digest[MAC_BYTES];
  gsize digest_len = sizeof digest;
  g_autofree gchar *b64 = NULL;
  GHmac *hmac;

  hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  g_hmac_update (hmac, (const guchar *)signed_text, (gssize)len);
  g_hmac_get_digest (hmac, digest, &digest_len);
  g_hmac_unref (hmac);
  b64 = g_base64_encode (digest, sizeof digest);
  for (gsize i = 0; i < MAC_CHARS; i++) {
    gchar c = b64[i];

    out[i] = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  out[MAC_CHARS] = '\0';
  memset (digest, 0, sizeof digest);
}

static gboolean
equal_constant_time (const gchar *a, const gchar *b, gsize len)
{
  guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= (guint8)(a[i] ^ b[i]);
  return diff == 0;
}

static gboolean
secret_is_valid (GBytes *secret)
{
  return secret != NULL &&
         g_bytes_get_size (secret) >= GC_PLAYBACK_TOKEN_SECRET_MIN;
}

gchar *
gc_playback_token_mint (GBytes *secret, const gchar *channel, gint64 viewer_id,
                        gint64 expires, GError **error)
{
  g_autofree gchar *text = NULL;
  gchar mac[MAC_CHARS + 1];
  gchar *token;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!secret_is_valid (secret) || channel == NULL ||
      !channel_is_valid (channel, strlen (channel)) || viewer_id <= 0 ||
      expires <= 0) {
    g_set_error (error, GC_PLAYBACK_TOKEN_ERROR,
                 GC_PLAYBACK_TOKEN_ERROR_INVALID_ARGUMENT,
                 "a playback token needs a secret of at least %d bytes, a "
                 "valid channel name, a viewer and an expiry",
                 GC_PLAYBACK_TOKEN_SECRET_MIN);
    return NULL;
  }
  text = g_strdup_printf (VERSION_PREFIX "%s.%" G_GINT64_FORMAT
                                         ".%" G_GINT64_FORMAT,
                          channel, viewer_id, expires);
  compute_mac (secret, text, strlen (text), mac);
  token = g_strconcat (text, ".", mac, NULL);
  memset (mac, 0, sizeof mac);
  return token;
}

static gint64
malformed (GError **error, const gchar *why)
{
  g_set_error (error, GC_PLAYBACK_TOKEN_ERROR,
               GC_PLAYBACK_TOKEN_ERROR_MALFORMED,
               "malformed playback token: %s", why);
  return 0;
}

gint64
gc_playback_token_verify (GBytes *const *secrets, const gchar *token,
                          const gchar *channel, gint64 now, gint64 *expires,
                          GError **error)
{
  const gchar *fields[4];
  gsize lens[4];
  const gchar *p;
  const gchar *mac_text;
  gsize signed_len;
  gsize len;
  gint64 viewer = 0;
  gint64 expiry = 0;
  gboolean matched = FALSE;
  guint n_secrets = 0;

  g_return_val_if_fail (secrets != NULL && secrets[0] != NULL, 0);
  g_return_val_if_fail (channel != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (token == NULL)
    return malformed (error, "missing");
  len = strnlen (token, GC_PLAYBACK_TOKEN_MAX_LENGTH + 1);
  if (len > GC_PLAYBACK_TOKEN_MAX_LENGTH)
    return malformed (error, "too long");
  if (strncmp (token, VERSION_PREFIX, strlen (VERSION_PREFIX)) != 0)
    return malformed (error, "unknown version");

  /* channel.viewer.expires.mac, each non-empty. */
  p = token + strlen (VERSION_PREFIX);
  for (guint i = 0; i < 4; i++) {
    const gchar *dot = i < 3 ? strchr (p, '.') : NULL;

    fields[i] = p;
    lens[i] = dot != NULL ? (gsize)(dot - p) : strlen (p);
    if (i < 3 && dot == NULL)
      return malformed (error, "too few fields");
    p = fields[i] + lens[i] + 1;
  }
  mac_text = fields[3];
  if (!channel_is_valid (fields[0], lens[0]))
    return malformed (error, "bad channel name");
  if (!parse_positive (fields[1], lens[1], &viewer))
    return malformed (error, "bad viewer");
  if (!parse_positive (fields[2], lens[2], &expiry))
    return malformed (error, "bad expiry");
  if (lens[3] != MAC_CHARS)
    return malformed (error, "bad signature length");
  for (gsize i = 0; i < MAC_CHARS; i++) {
    if (!g_ascii_isalnum (mac_text[i]) && mac_text[i] != '-' &&
        mac_text[i] != '_')
      return malformed (error, "bad signature characters");
  }

  /* Every secret is tried, matched or not: the time taken does not say
   * which one signed. */
  signed_len = (gsize)(mac_text - 1 - token);
  for (; secrets[n_secrets] != NULL; n_secrets++) {
    gchar expected[MAC_CHARS + 1];

    if (!secret_is_valid (secrets[n_secrets]))
      continue;
    compute_mac (secrets[n_secrets], token, signed_len, expected);
    matched |= equal_constant_time (expected, mac_text, MAC_CHARS);
    memset (expected, 0, sizeof expected);
  }
  if (!matched) {
    g_set_error_literal (error, GC_PLAYBACK_TOKEN_ERROR,
                         GC_PLAYBACK_TOKEN_ERROR_BAD_MAC,
                         "playback token not signed by this service");
    return 0;
  }
  if (lens[0] != strlen (channel) ||
      strncmp (fields[0], channel, lens[0]) != 0) {
    g_set_error_literal (error, GC_PLAYBACK_TOKEN_ERROR,
                         GC_PLAYBACK_TOKEN_ERROR_WRONG_CHANNEL,
                         "playback token is for another channel");
    return 0;
  }
  if (now >= expiry) {
    g_set_error_literal (error, GC_PLAYBACK_TOKEN_ERROR,
                         GC_PLAYBACK_TOKEN_ERROR_EXPIRED,
                         "playback token expired");
    return 0;
  }
  if (expires != NULL)
    *expires = expiry;
  return viewer;
}

/* token.c — formats and checks signed session tokens (see token.h for the layout).
 * Strict by design: exactly one spelling of every token is accepted, so a signature can't be reused on a variant. */

#include "token.h"

#include <string.h>

#define TOKEN_VERSION "v1"
#define NONCE_CHARS 22 /* base64url of 16 bytes, unpadded */
#define MAC_BYTES 32
#define MAC_CHARS 43 /* base64url of 32 bytes, unpadded */
#define MAX_DECIMAL_DIGITS 19

static gchar *
base64url_encode (const guint8 *data, gsize len)
{
  gchar *s = g_base64_encode (data, len);

  for (gchar *p = s; *p != '\0'; p++) {
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
    else if (*p == '=')
      *p = '\0';
  }
  return s;
}

static gboolean
is_base64url (const gchar *s, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isalnum (s[i]) && s[i] != '-' && s[i] != '_')
      return FALSE;
  }
  return TRUE;
}

/* Canonical decimal only: no sign, no leading zero, fits a gint64. */
static gboolean
parse_decimal (const gchar *s, gsize len, gint64 *out)
{
  guint64 v = 0;

  if (len == 0 || len > MAX_DECIMAL_DIGITS || (s[0] == '0' && len > 1))
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
    v = v * 10 + (guint64)(s[i] - '0');
  }
  /* 19 digits never overflow a guint64, so this check is enough. */
  if (v > G_MAXINT64)
    return FALSE;
  *out = (gint64)v;
  return TRUE;
}

static gchar *
compute_mac (const guint8 *secret, const gchar *signed_part, gsize len)
{
  GHmac *h = g_hmac_new (G_CHECKSUM_SHA256, secret, GC_ACCOUNTS_SECRET_BYTES);
  guint8 digest[MAC_BYTES];
  gsize n = sizeof digest;
  gchar *mac;

  g_hmac_update (h, (const guchar *)signed_part, (gssize)len);
  g_hmac_get_digest (h, digest, &n);
  g_hmac_unref (h);
  mac = base64url_encode (digest, sizeof digest);
  memset (digest, 0, sizeof digest);
  return mac;
}

/* Time depends only on @len, never on where the first difference is. */
static gboolean
equal_constant_time (const gchar *a, const gchar *b, gsize len)
{
  volatile guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= (guint8)(a[i] ^ b[i]);
  return diff == 0;
}

gchar *
gc_accounts_token_format (const guint8 *secret, gint64 account_id,
                          gint64 expiry, const guint8 *nonce)
{
  g_autofree gchar *nonce_text = NULL;
  g_autofree gchar *body = NULL;
  g_autofree gchar *mac = NULL;

  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (account_id > 0, NULL);
  g_return_val_if_fail (expiry >= 0, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);

  nonce_text = base64url_encode (nonce, GC_ACCOUNTS_NONCE_BYTES);
  body = g_strdup_printf (TOKEN_VERSION ".%" G_GINT64_FORMAT
                                        ".%" G_GINT64_FORMAT ".%s",
                          account_id, expiry, nonce_text);
  mac = compute_mac (secret, body, strlen (body));
  return g_strconcat (body, ".", mac, NULL);
}

static gboolean
malformed (GError **error)
{
  g_set_error_literal (error, GC_ACCOUNTS_ERROR,
                       GC_ACCOUNTS_ERROR_TOKEN_MALFORMED, "malformed token");
  return FALSE;
}

gboolean
gc_accounts_token_parse (const guint8 *secret, const gchar *token,
                         gint64 *account_id, gint64 *expiry, gchar **nonce,
                         GError **error)
{
  const gchar *parts[5];
  gsize lens[5];
  const gchar *p;
  gsize len;
  guint n = 0;
  gint64 id, exp;
  g_autofree gchar *mac = NULL;

  g_return_val_if_fail (secret != NULL, FALSE);
  g_return_val_if_fail (token != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  len = strnlen (token, GC_ACCOUNTS_TOKEN_MAX_LEN + 1);
  if (len > GC_ACCOUNTS_TOKEN_MAX_LEN)
    return malformed (error);

  /* Split on '.' into exactly five parts, without copying. */
  p = token;
  while (TRUE) {
    const gchar *dot = strchr (p, '.');

    if (n == G_N_ELEMENTS (parts))
      return malformed (error);
    parts[n] = p;
    lens[n] = dot != NULL ? (gsize)(dot - p) : strlen (p);
    n++;
    if (dot == NULL)
      break;
    p = dot + 1;
  }
  if (n != G_N_ELEMENTS (parts))
    return malformed (error);

  if (lens[0] != strlen (TOKEN_VERSION) ||
      memcmp (parts[0], TOKEN_VERSION, lens[0]) != 0)
    return malformed (error);
  if (!parse_decimal (parts[1], lens[1], &id) || id <= 0)
    return malformed (error);
  if (!parse_decimal (parts[2], lens[2], &exp))
    return malformed (error);
  /* 22 characters carry 132 bits for 128: the last one's low four bits must
   * be zero (A, Q, g or w), as our encoder writes it. */
  if (lens[3] != NONCE_CHARS || !is_base64url (parts[3], lens[3]) ||
      strchr ("AQgw", parts[3][NONCE_CHARS - 1]) == NULL)
    return malformed (error);
  if (lens[4] != MAC_CHARS || !is_base64url (parts[4], lens[4]))
    return malformed (error);

  /* Compare the MAC's text, not its decoded bytes: base64 has several
   * spellings of the same last byte, and only ours may verify. */
  mac = compute_mac (secret, token, (gsize)(parts[4] - 1 - token));
  if (!equal_constant_time (mac, parts[4], MAC_CHARS)) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR,
                         GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE,
                         "token signature does not match");
    return FALSE;
  }

  if (account_id != NULL)
    *account_id = id;
  if (expiry != NULL)
    *expiry = exp;
  if (nonce != NULL)
    *nonce = g_strndup (parts[3], lens[3]);
  return TRUE;
}

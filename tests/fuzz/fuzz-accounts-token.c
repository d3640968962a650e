/* fuzz-accounts-token.c — libFuzzer target for the session token parser (accounts/token.c).
 * Input: a token as a client would send it in a cookie or bearer header; anything it accepts must re-format identically. */

#include <string.h>

#include "token.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* A fixed secret: the fuzzer can still reach the signature check, and a token
 * it forges against this secret must round-trip exactly. */
static const guint8 secret[GC_ACCOUNTS_SECRET_BYTES] = {
    0x67, 0x6c, 0x61, 0x73, 0x73, 0x63, 0x61, 0x73, 0x74, 0x2d, 0x66,
    0x75, 0x7a, 0x7a, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x2d,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39};

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree gchar *token = g_strndup ((const gchar *)data, size);
  g_autofree gchar *nonce = NULL;
  g_autofree guchar *nonce_bytes = NULL;
  g_autofree gchar *std = NULL;
  g_autofree gchar *again = NULL;
  g_autoptr (GError) error = NULL;
  gint64 id = 0, expiry = 0;
  gsize n = 0;

  if (!gc_accounts_token_parse (secret, token, &id, &expiry, &nonce, &error)) {
    g_assert (error != NULL && error->domain == GC_ACCOUNTS_ERROR);
    g_assert (error->code == GC_ACCOUNTS_ERROR_TOKEN_MALFORMED ||
              error->code == GC_ACCOUNTS_ERROR_TOKEN_BAD_SIGNATURE);
    return 0;
  }
  g_assert (error == NULL);
  g_assert (id > 0 && expiry >= 0);
  g_assert (strlen (nonce) == 22);

  /* Only the one canonical spelling is accepted: re-formatting the parsed
   * fields must give back the input, byte for byte. */
  std = g_strconcat (nonce, "==", NULL);
  g_strdelimit (std, "-", '+');
  g_strdelimit (std, "_", '/');
  nonce_bytes = g_base64_decode (std, &n);
  g_assert (n == GC_ACCOUNTS_NONCE_BYTES);
  again = gc_accounts_token_format (secret, id, expiry, nonce_bytes);
  g_assert (strcmp (again, token) == 0);
  return 0;
}

/* secret.c — PBKDF2-HMAC-SHA256 (RFC 8018 5.2) over GLib's GHmac, random secrets from getrandom(2).
 * Why PBKDF2: operators may pick their own keys; a salted, iterated hash keeps a leaked config from revealing them. */

#include "secret.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define PREFIX "pbkdf2-sha256$"
#define SALT_BYTES 16
#define DK_BYTES 32 /* one SHA-256 block: PBKDF2's single-block case */
#define MIN_ITERATIONS 1000
#define MAX_ITERATIONS 10000000

static void
fill_random (guint8 *buf, gsize len)
{
  gsize done = 0;

  while (done < len) {
    ssize_t n = getrandom (buf + done, len - done, 0);

    if (n < 0 && errno == EINTR)
      continue;
    /* getrandom only fails on a kernel without it (< 3.17): no safe way on. */
    if (n < 0)
      g_error ("getrandom: %s", g_strerror (errno));
    done += (gsize)n;
  }
}

gchar *
gc_secret_generate (void)
{
  guint8 raw[32];
  GString *out = g_string_sized_new (2 * sizeof raw + 1);

  fill_random (raw, sizeof raw);
  for (gsize i = 0; i < sizeof raw; i++)
    g_string_append_printf (out, "%02x", raw[i]);
  memset (raw, 0, sizeof raw);
  return g_string_free (out, FALSE);
}

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

/* Returns: (transfer full) (nullable): the bytes, or NULL if @text is not
 * strict unpadded base64url. */
static guint8 *
base64url_decode (const gchar *text, gsize *len)
{
  gsize n = strlen (text);
  g_autofree gchar *std = NULL;
  gsize padded;

  if (n == 0 || n % 4 == 1 || n > 256)
    return NULL;
  padded = (n + 3) / 4 * 4;
  std = g_malloc (padded + 1);
  for (gsize i = 0; i < n; i++) {
    gchar c = text[i];

    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!g_ascii_isalnum (c))
      return NULL;
    std[i] = c;
  }
  memset (std + n, '=', padded - n);
  std[padded] = '\0';
  return g_base64_decode (std, len);
}

static void
pbkdf2_sha256 (const gchar *secret, const guint8 *salt, gsize salt_len,
               guint iterations, guint8 out[DK_BYTES])
{
  static const guint8 block_index[4] = {0, 0, 0, 1};
  GHmac *base =
      g_hmac_new (G_CHECKSUM_SHA256, (const guchar *)secret, strlen (secret));
  GHmac *h = g_hmac_copy (base);
  guint8 u[DK_BYTES];
  gsize n = sizeof u;

  /* U1 = HMAC(P, S || INT(1)); Ui = HMAC(P, Ui-1); T = U1 ^ ... ^ Uc. The
   * keyed state is computed once and copied per round. */
  g_hmac_update (h, salt, salt_len);
  g_hmac_update (h, block_index, sizeof block_index);
  g_hmac_get_digest (h, u, &n);
  g_hmac_unref (h);
  memcpy (out, u, DK_BYTES);
  for (guint i = 1; i < iterations; i++) {
    h = g_hmac_copy (base);
    g_hmac_update (h, u, sizeof u);
    n = sizeof u;
    g_hmac_get_digest (h, u, &n);
    g_hmac_unref (h);
    for (guint k = 0; k < DK_BYTES; k++)
      out[k] ^= u[k];
  }
  memset (u, 0, sizeof u);
  g_hmac_unref (base);
}

gchar *
gc_secret_hash (const gchar *secret, guint iterations)
{
  guint8 salt[SALT_BYTES];
  guint8 dk[DK_BYTES];
  g_autofree gchar *salt_text = NULL;
  g_autofree gchar *dk_text = NULL;

  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (
      iterations >= MIN_ITERATIONS && iterations <= MAX_ITERATIONS, NULL);

  fill_random (salt, sizeof salt);
  pbkdf2_sha256 (secret, salt, sizeof salt, iterations, dk);
  salt_text = base64url_encode (salt, sizeof salt);
  dk_text = base64url_encode (dk, sizeof dk);
  memset (dk, 0, sizeof dk);
  return g_strdup_printf (PREFIX "%u$%s$%s", iterations, salt_text, dk_text);
}

/* Splits @hash into its parts; FALSE with @error if it is not ours. */
static gboolean
parse_hash (const gchar *hash, guint *iterations, guint8 **salt,
            gsize *salt_len, guint8 **dk, GError **error)
{
  g_auto (GStrv) fields = NULL;
  guint64 iter;
  gsize dk_len = 0;

  if (hash == NULL || !g_str_has_prefix (hash, PREFIX)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "not a \"" PREFIX "...\" hash (make one with glasscastd "
                 "--hash-key)");
    return FALSE;
  }
  fields = g_strsplit (hash + strlen (PREFIX), "$", -1);
  if (g_strv_length (fields) != 3 ||
      !g_ascii_string_to_unsigned (fields[0], 10, MIN_ITERATIONS,
                                   MAX_ITERATIONS, &iter, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "hash needs <iterations>$<salt>$<hash> with %u to %u "
                 "iterations",
                 MIN_ITERATIONS, MAX_ITERATIONS);
    return FALSE;
  }
  *salt = base64url_decode (fields[1], salt_len);
  *dk = base64url_decode (fields[2], &dk_len);
  if (*salt == NULL || *salt_len < 8 || *dk == NULL || dk_len != DK_BYTES) {
    g_clear_pointer (salt, g_free);
    g_clear_pointer (dk, g_free);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "hash has a malformed salt or digest (base64url, salt of at "
                 "least 8 bytes, digest of %u)",
                 DK_BYTES);
    return FALSE;
  }
  *iterations = (guint)iter;
  return TRUE;
}

gboolean
gc_secret_hash_validate (const gchar *hash, GError **error)
{
  g_autofree guint8 *salt = NULL;
  g_autofree guint8 *dk = NULL;
  gsize salt_len;
  guint iterations;

  return parse_hash (hash, &iterations, &salt, &salt_len, &dk, error);
}

gboolean
gc_secret_verify (const gchar *secret, const gchar *hash)
{
  g_autofree guint8 *salt = NULL;
  g_autofree guint8 *expected = NULL;
  guint8 dk[DK_BYTES];
  gsize salt_len;
  guint iterations;
  guint8 diff = 0;

  if (secret == NULL ||
      !parse_hash (hash, &iterations, &salt, &salt_len, &expected, NULL))
    return FALSE;
  pbkdf2_sha256 (secret, salt, salt_len, iterations, dk);
  for (guint i = 0; i < DK_BYTES; i++)
    diff |= (guint8)(dk[i] ^ expected[i]);
  memset (dk, 0, sizeof dk);
  return diff == 0;
}

typedef struct {
  gchar *secret;
  gchar *hash;
} VerifyData;

static void
verify_data_free (gpointer data)
{
  VerifyData *d = data;

  gc_secret_free (d->secret);
  g_free (d->hash);
  g_free (d);
}

static void
verify_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  VerifyData *d = task_data;

  g_task_return_boolean (task, gc_secret_verify (d->secret, d->hash));
}

void
gc_secret_verify_async (const gchar *secret, const gchar *hash,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  VerifyData *d = g_new0 (VerifyData, 1);

  d->secret = g_strdup (secret ? secret : "");
  d->hash = g_strdup (hash);
  g_task_set_source_tag (task, gc_secret_verify_async);
  g_task_set_task_data (task, d, verify_data_free);
  g_task_run_in_thread (task, verify_thread);
}

gboolean
gc_secret_verify_finish (GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), NULL);
}

void
gc_secret_free (gchar *secret)
{
  if (secret == NULL)
    return;
  /* volatile: the compiler must not drop a store to memory about to be
   * freed. */
  for (volatile gchar *p = secret; *p != '\0'; p++)
    *p = '\0';
  g_free (secret);
}

/* secret.h — stream keys and admin tokens: generation, salted PBKDF2-HMAC-SHA256 hashes, constant-time checks.
 * Only hashes are ever stored or configured; secrets pass through memory and are never logged. */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Iterations `glasscastd --hash-key` uses: about 15 ms of one core. */
#define GC_SECRET_DEFAULT_ITERATIONS 30000

/* Returns: (transfer full): a new random secret, 64 hex digits (256 bits from
 * the kernel's CSPRNG). */
gchar *gc_secret_generate (void);

/* Hashes @secret with a fresh random salt.
 * Returns: (transfer full): "pbkdf2-sha256$<iterations>$<salt>$<hash>", salt
 * and hash in unpadded base64url. */
gchar *gc_secret_hash (const gchar *secret, guint iterations);

/* Whether @hash is a hash gc_secret_hash() could have written; @error says
 * what is wrong with it (never echoing the value). */
gboolean gc_secret_hash_validate (const gchar *hash, GError **error);

/* Whether @secret matches @hash. Runs for the same time whatever @secret is
 * (the derived keys are compared in constant time). Slow by design: call it
 * off the main context, see gc_secret_verify_async(). */
gboolean gc_secret_verify (const gchar *secret, const gchar *hash);

/* gc_secret_verify() on a worker thread. @secret and @hash are copied. */
void gc_secret_verify_async (const gchar *secret, const gchar *hash,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
gboolean gc_secret_verify_finish (GAsyncResult *result);

/* Overwrites @secret with zeros, then frees it. */
void gc_secret_free (gchar *secret);

G_END_DECLS

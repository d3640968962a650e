/* fuzz-playback-token.c — libFuzzer target for the playback token verifier (billing/playback-token.c).
 * Input: a channel name, a newline, then the token. Nothing may crash or read out of bounds; nothing unsigned may pass. */

#include <string.h>

#include "playback-token.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const guint8 old_key[32] = "fuzz-old-secret-0123456789abcdef";
static const guint8 new_key[32] = "fuzz-new-secret-0123456789abcdef";

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const guint8 *newline = memchr (data, '\n', size);
  gsize channel_len = newline != NULL ? (gsize)(newline - data) : 0;
  const guint8 *rest = newline != NULL ? newline + 1 : data;
  g_autofree gchar *channel = g_strndup ((const gchar *)data, channel_len);
  g_autofree gchar *token =
      g_strndup ((const gchar *)rest, size - (gsize)(rest - data));
  g_autoptr (GBytes) old_secret = g_bytes_new_static (old_key, sizeof old_key);
  g_autoptr (GBytes) new_secret = g_bytes_new_static (new_key, sizeof new_key);
  GBytes *secrets[] = {new_secret, old_secret, NULL};
  g_autoptr (GError) error = NULL;
  g_autofree gchar *minted = NULL;
  gint64 expires = 0;
  gint64 viewer;

  viewer =
      gc_playback_token_verify (secrets, token, channel, 0, &expires, &error);
  if (viewer > 0) {
    g_autofree gchar *again = NULL;

    /* Only a token we could have minted passes: the same text, re-signed. */
    g_assert (error == NULL && expires > 0);
    again = gc_playback_token_mint (new_secret, channel, viewer, expires, NULL);
    if (strcmp (again, token) != 0) {
      g_free (again);
      again =
          gc_playback_token_mint (old_secret, channel, viewer, expires, NULL);
    }
    g_assert (strcmp (again, token) == 0);
  } else {
    g_assert (viewer == 0 && error != NULL &&
              error->domain == GC_PLAYBACK_TOKEN_ERROR);
    g_assert (strlen (token) < 8 || strstr (error->message, token) == NULL);
  }
  g_clear_error (&error);

  /* What we mint for a valid channel we accept, under either secret. */
  minted = gc_playback_token_mint (old_secret, channel, 7, 1000, &error);
  if (minted != NULL)
    g_assert (gc_playback_token_verify (secrets, minted, channel, 999, NULL,
                                        NULL) == 7);
  return 0;
}

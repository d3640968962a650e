/* normalize.c — NFKC_Casefold on top of GLib's normaliser and case folder.
 * GLib has no NFKC_Casefold, but NFKC, then fold, then NFKC again gives the same words for chat text. */

#include "normalize.h"

#include <string.h>

/* The Default_Ignorable_Code_Point ranges that appear in real evasion
 * attempts; NFKC keeps them, Unicode's NFKC_Casefold drops them. */
static gboolean
is_ignorable (gunichar c)
{
  return c == 0x00AD || c == 0x034F || c == 0x061C || c == 0x115F ||
         c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
         (c >= 0x180B && c <= 0x180F) || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F) ||
         c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
         c == 0xFFA0 || (c >= 0x1D173 && c <= 0x1D17A) ||
         (c >= 0xE0000 && c <= 0xE0FFF);
}

gboolean
gc_chat_unichar_is_word (gunichar c)
{
  return g_unichar_isalnum (c) || g_unichar_ismark (c);
}

gchar *
gc_chat_normalize (const gchar *text, gssize len)
{
  g_autofree gchar *nfkc = NULL;
  g_autofree gchar *folded = NULL;
  g_autofree gchar *again = NULL;
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate_len (text, len < 0 ? strlen (text) : (gsize)len, NULL))
    return NULL;
  nfkc = g_utf8_normalize (text, len, G_NORMALIZE_NFKC);
  if (nfkc == NULL)
    return NULL;
  folded = g_utf8_casefold (nfkc, -1);
  again = g_utf8_normalize (folded, -1, G_NORMALIZE_NFKC);
  if (again == NULL)
    return NULL;

  out = g_string_sized_new (strlen (again));
  for (const gchar *p = again; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (!is_ignorable (c))
      g_string_append_unichar (out, c);
  }
  return g_string_free (out, FALSE);
}

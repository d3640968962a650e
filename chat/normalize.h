/* normalize.h — the one text form every comparison uses: NFKC + case folding, invisible characters removed.
 * Blocked terms, unique-chat and emote checks all run on this form, so "ＢＡＤ", "Bad" and "bad" are one word. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* NFKC(casefold(NFKC(@text))) with default-ignorable characters (zero-width
 * spaces and joiners, soft hyphens, bidi controls, variation selectors)
 * dropped, so they cannot split a blocked word.
 * Returns: (transfer full) (nullable): the normalised text, NULL when
 * @text is not valid UTF-8. */
gchar *gc_chat_normalize (const gchar *text, gssize len);

/* Letters, digits and combining marks: what words are made of. Everything
 * else (spaces, punctuation, symbols, '_') separates words. */
gboolean gc_chat_unichar_is_word (gunichar c);

G_END_DECLS

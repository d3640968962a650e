/* terms.h — a room's blocked terms compiled into one Aho-Corasick automaton, matched in O(message length).
 * Terms are words or phrases; '*' inside a single word is a wildcard for any run of word characters. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Compiled once per change of the term list, then only read. Not thread
 * safe: matching keeps scratch state in the automaton (main context only). */
typedef struct _GcChatTerms GcChatTerms;

typedef struct {
  const gchar *term; /* canonical form, from gc_chat_term_canonicalize() */
  gboolean hold;     /* a match holds the message for review */
} GcChatTermSpec;

/* Validates @term and returns its canonical form: normalised
 * (gc_chat_normalize), words separated by one space, runs of '*' collapsed.
 * Refuses empty terms, terms that are only wildcards, wildcards in phrases,
 * and characters that are neither word characters nor '*' (they could never
 * match, since matching happens between word boundaries).
 * Returns: (transfer full) (nullable): the canonical term. */
gchar *gc_chat_term_canonicalize (const gchar *term, GError **error);

/* Returns: (transfer full): the automaton for @specs (may be empty). */
GcChatTerms *gc_chat_terms_compile (const GcChatTermSpec *specs, guint n);
void gc_chat_terms_free (GcChatTerms *terms);

guint gc_chat_terms_get_count (const GcChatTerms *terms);

/* Looks for the terms in @normalized (output of gc_chat_normalize). A term
 * that refuses wins over one that holds.
 * @hold: (out) (optional): whether the reported term holds for review.
 * Returns: the index in the compiled specs of a matching term, or -1. */
gint gc_chat_terms_match (GcChatTerms *terms, const gchar *normalized,
                          gboolean *hold);

/* Returns: the canonical term at @index. */
const gchar *gc_chat_terms_get (const GcChatTerms *terms, guint index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcChatTerms, gc_chat_terms_free)

G_END_DECLS

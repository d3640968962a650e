/* terms.c — blocked-term matching: one Aho-Corasick automaton over the bytes of normalised text.
 * The message is fed as "\1word\2\1word\2..." so word boundaries are ordinary symbols of the automaton. */

#include "terms.h"

#include <string.h>

#include "chat-error.h"
#include "normalize.h"

/*
 * Why this shape. A term is compiled into "pieces" that must appear in order
 * inside one word:
 *
 *   bad        ->  "\1bad\2"            (whole word)
 *   buy votes  ->  "\1buy\2\1votes\2"   (consecutive words)
 *   spam*      ->  "\1spam"             (word starting with spam)
 *   *spam      ->  "spam\2"
 *   *spam*     ->  "spam"
 *   f*ck       ->  "\1f", "ck\2"        (two pieces, in order, no overlap)
 *
 * All pieces of all terms go into one automaton, so a message costs one
 * pass over its bytes whatever the number of terms; only the rare
 * multi-piece terms keep a little per-word progress, reset lazily with a
 * generation stamp instead of clearing arrays per message. Edges are sparse
 * sorted arrays: a dense 256-way table would cost 1 KiB per state.
 */

#define WORD_START 0x01
#define WORD_END 0x02
#define ROOT 0

typedef struct {
  guint32 pattern;
  guint16 piece;
  guint16 len; /* bytes of the piece */
} Output;

typedef struct {
  guint8 byte;
  guint32 target;
} Edge;

typedef struct {
  guint32 fail;
  guint32 dict; /* nearest state on the fail chain with outputs; ROOT: none */
  guint32 first_edge;
  guint32 n_edges;
  guint32 first_output;
  guint32 n_outputs;
} State;

typedef struct {
  gchar *term;
  gboolean hold;
  guint n_pieces;
  /* Matching scratch for multi-piece terms. */
  guint64 stamp;    /* word generation the two fields below belong to */
  guint next_piece; /* pieces matched so far in this word */
  gsize prev_end;   /* offset just past the last matched piece */
} Pattern;

struct _GcChatTerms {
  GArray *states;   /* State */
  GArray *edges;    /* Edge, grouped per state, sorted by byte */
  GArray *outputs;  /* Output, grouped per state */
  GArray *patterns; /* Pattern */
  guint64 generation;
};

/* Construction-time trie node: children in a small growable array. */
typedef struct {
  GArray *children; /* Edge, sorted */
  GArray *outs;     /* Output */
} BuildNode;

gchar *
gc_chat_term_canonicalize (const gchar *term, GError **error)
{
  g_autofree gchar *norm = NULL;
  g_auto (GStrv) words = NULL;
  GString *out;
  guint n_words = 0;
  gboolean has_star = FALSE;

  if (term == NULL || (norm = gc_chat_normalize (term, -1)) == NULL) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "term is not valid UTF-8");
    return NULL;
  }
  out = g_string_new (NULL);
  words = g_strsplit_set (g_strstrip (norm), " \t\n\r", -1);
  for (guint i = 0; words[i] != NULL; i++) {
    gboolean any_word_char = FALSE;
    gboolean last_star = FALSE;

    if (*words[i] == '\0')
      continue;
    if (n_words++ > 0)
      g_string_append_c (out, ' ');
    for (const gchar *p = words[i]; *p != '\0'; p = g_utf8_next_char (p)) {
      gunichar c = g_utf8_get_char (p);

      if (c == '*') {
        has_star = TRUE;
        if (!last_star)
          g_string_append_c (out, '*');
        last_star = TRUE;
        continue;
      }
      last_star = FALSE;
      if (!gc_chat_unichar_is_word (c)) {
        g_string_free (out, TRUE);
        g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                     "terms are made of letters and digits, with * as a "
                     "wildcard");
        return NULL;
      }
      any_word_char = TRUE;
      g_string_append_unichar (out, c);
    }
    if (!any_word_char) {
      g_string_free (out, TRUE);
      g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                   "a term must contain a letter or digit");
      return NULL;
    }
  }
  if (n_words == 0) {
    g_string_free (out, TRUE);
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST, "empty term");
    return NULL;
  }
  if (n_words > 1 && has_star) {
    g_string_free (out, TRUE);
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "wildcards are only allowed in single-word terms");
    return NULL;
  }
  if (out->len > 200) {
    g_string_free (out, TRUE);
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "term too long");
    return NULL;
  }
  return g_string_free (out, FALSE);
}

static guint32
build_node_new (GPtrArray *nodes)
{
  BuildNode *n = g_new0 (BuildNode, 1);

  n->children = g_array_new (FALSE, FALSE, sizeof (Edge));
  n->outs = g_array_new (FALSE, FALSE, sizeof (Output));
  g_ptr_array_add (nodes, n);
  return nodes->len - 1;
}

static void
build_node_free (gpointer data)
{
  BuildNode *n = data;

  g_array_unref (n->children);
  g_array_unref (n->outs);
  g_free (n);
}

static gint
find_edge (const Edge *edges, guint n, guint8 byte)
{
  guint lo = 0, hi = n;

  while (lo < hi) {
    guint mid = (lo + hi) / 2;

    if (edges[mid].byte == byte)
      return (gint)mid;
    if (edges[mid].byte < byte)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -(gint)lo - 1;
}

static void
insert_piece (GPtrArray *nodes, const GString *piece, Output out)
{
  guint32 cur = ROOT;

  for (gsize i = 0; i < piece->len; i++) {
    BuildNode *n = g_ptr_array_index (nodes, cur);
    guint8 b = (guint8)piece->str[i];
    gint at = find_edge ((Edge *)n->children->data, n->children->len, b);

    if (at >= 0) {
      cur = g_array_index (n->children, Edge, at).target;
    } else {
      Edge e = {b, build_node_new (nodes)};

      /* build_node_new may move the pointer array, not the node. */
      g_array_insert_val (n->children, (guint)(-at - 1), e);
      cur = e.target;
    }
  }
  out.len = (guint16)piece->len;
  g_array_append_val (((BuildNode *)g_ptr_array_index (nodes, cur))->outs, out);
}

static void
gstring_free (gpointer data)
{
  g_string_free (data, TRUE);
}

/* Splits a canonical term into its pieces (see the comment at the top). */
static GPtrArray *
term_pieces (const gchar *term)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func (gstring_free);
  g_auto (GStrv) words = g_strsplit (term, " ", -1);
  g_auto (GStrv) parts = NULL;
  guint n_parts;

  if (g_strv_length (words) > 1 || strchr (term, '*') == NULL) {
    GString *s = g_string_new (NULL);

    for (guint i = 0; words[i] != NULL; i++) {
      g_string_append_c (s, WORD_START);
      g_string_append (s, words[i]);
      g_string_append_c (s, WORD_END);
    }
    g_ptr_array_add (pieces, s);
    return pieces;
  }

  parts = g_strsplit (term, "*", -1);
  n_parts = g_strv_length (parts);
  for (guint i = 0; i < n_parts; i++) {
    GString *s;

    if (*parts[i] == '\0')
      continue; /* a leading/trailing '*': that end is not anchored */
    s = g_string_new (NULL);
    if (i == 0)
      g_string_append_c (s, WORD_START);
    g_string_append (s, parts[i]);
    if (i == n_parts - 1)
      g_string_append_c (s, WORD_END);
    g_ptr_array_add (pieces, s);
  }
  return pieces;
}

GcChatTerms *
gc_chat_terms_compile (const GcChatTermSpec *specs, guint n)
{
  GcChatTerms *terms = g_new0 (GcChatTerms, 1);
  g_autoptr (GPtrArray) nodes =
      g_ptr_array_new_with_free_func (build_node_free);
  g_autoptr (GArray) queue = g_array_new (FALSE, FALSE, sizeof (guint32));

  terms->states = g_array_new (FALSE, TRUE, sizeof (State));
  terms->edges = g_array_new (FALSE, FALSE, sizeof (Edge));
  terms->outputs = g_array_new (FALSE, FALSE, sizeof (Output));
  terms->patterns = g_array_new (FALSE, TRUE, sizeof (Pattern));

  build_node_new (nodes);
  for (guint i = 0; i < n; i++) {
    g_autoptr (GPtrArray) pieces = term_pieces (specs[i].term);
    Pattern p = {0};

    if (pieces->len == 0 || pieces->len > G_MAXUINT16)
      continue;
    p.term = g_strdup (specs[i].term);
    p.hold = specs[i].hold;
    p.n_pieces = pieces->len;
    for (guint k = 0; k < pieces->len; k++) {
      Output out = {terms->patterns->len, (guint16)k, 0};

      insert_piece (nodes, g_ptr_array_index (pieces, k), out);
    }
    g_array_append_val (terms->patterns, p);
  }

  /* Flatten the trie, states keep their build indices. */
  g_array_set_size (terms->states, nodes->len);
  for (guint i = 0; i < nodes->len; i++) {
    BuildNode *bn = g_ptr_array_index (nodes, i);
    State *s = &g_array_index (terms->states, State, i);

    s->first_edge = terms->edges->len;
    s->n_edges = bn->children->len;
    g_array_append_vals (terms->edges, bn->children->data, bn->children->len);
    s->first_output = terms->outputs->len;
    s->n_outputs = bn->outs->len;
    g_array_append_vals (terms->outputs, bn->outs->data, bn->outs->len);
  }

  /* Failure and dictionary links, breadth first. */
  {
    State *states = (State *)terms->states->data;
    const Edge *edges = (const Edge *)terms->edges->data;
    guint head = 0;

    for (guint e = 0; e < states[ROOT].n_edges; e++) {
      guint32 v = edges[states[ROOT].first_edge + e].target;

      states[v].fail = ROOT;
      states[v].dict = ROOT;
      g_array_append_val (queue, v);
    }
    while (head < queue->len) {
      guint32 u = g_array_index (queue, guint32, head++);

      for (guint e = 0; e < states[u].n_edges; e++) {
        const Edge *edge = &edges[states[u].first_edge + e];
        guint32 v = edge->target;
        guint32 f = states[u].fail;
        gint at;

        for (;;) {
          at = find_edge (edges + states[f].first_edge, states[f].n_edges,
                          edge->byte);
          if (at >= 0 || f == ROOT)
            break;
          f = states[f].fail;
        }
        states[v].fail =
            at >= 0 ? edges[states[f].first_edge + (guint)at].target : ROOT;
        states[v].dict = states[states[v].fail].n_outputs > 0
                             ? states[v].fail
                             : states[states[v].fail].dict;
        g_array_append_val (queue, v);
      }
    }
  }
  return terms;
}

void
gc_chat_terms_free (GcChatTerms *terms)
{
  if (terms == NULL)
    return;
  for (guint i = 0; i < terms->patterns->len; i++)
    g_free (g_array_index (terms->patterns, Pattern, i).term);
  g_array_unref (terms->states);
  g_array_unref (terms->edges);
  g_array_unref (terms->outputs);
  g_array_unref (terms->patterns);
  g_free (terms);
}

guint
gc_chat_terms_get_count (const GcChatTerms *terms)
{
  return terms ? terms->patterns->len : 0;
}

const gchar *
gc_chat_terms_get (const GcChatTerms *terms, guint index)
{
  g_return_val_if_fail (index < terms->patterns->len, NULL);
  return g_array_index (terms->patterns, Pattern, index).term;
}

typedef struct {
  GcChatTerms *terms;
  guint32 state;
  gsize pos; /* offset of the next symbol in the virtual "\1w\2" stream */
  gint refuse;
  gint hold;
} Scan;

static void
report (Scan *scan, const Output *out)
{
  Pattern *p = &g_array_index (scan->terms->patterns, Pattern, out->pattern);
  gsize end = scan->pos + 1;

  if (p->n_pieces > 1) {
    gsize start = end - out->len;

    if (p->stamp != scan->terms->generation) {
      p->stamp = scan->terms->generation;
      p->next_piece = 0;
      p->prev_end = 0;
    }
    if (out->piece != p->next_piece || start < p->prev_end)
      return;
    p->next_piece++;
    p->prev_end = end;
    if (p->next_piece < p->n_pieces)
      return;
  }
  if (p->hold) {
    if (scan->hold < 0)
      scan->hold = (gint)out->pattern;
  } else if (scan->refuse < 0) {
    scan->refuse = (gint)out->pattern;
  }
}

static void
step (Scan *scan, guint8 byte)
{
  const State *states = (const State *)scan->terms->states->data;
  const Edge *edges = (const Edge *)scan->terms->edges->data;
  const Output *outputs = (const Output *)scan->terms->outputs->data;
  guint32 s = scan->state;
  gint at;

  /* A new word starts a new generation: multi-piece progress from the
   * previous word is stale without touching it. */
  if (byte == WORD_START)
    scan->terms->generation++;

  for (;;) {
    at = find_edge (edges + states[s].first_edge, states[s].n_edges, byte);
    if (at >= 0 || s == ROOT)
      break;
    s = states[s].fail;
  }
  s = at >= 0 ? edges[states[s].first_edge + (guint)at].target : ROOT;
  scan->state = s;

  for (guint32 t = s; t != ROOT; t = states[t].dict) {
    for (guint i = 0; i < states[t].n_outputs; i++)
      report (scan, &outputs[states[t].first_output + i]);
    if (states[t].dict == ROOT)
      break;
  }
  scan->pos++;
}

gint
gc_chat_terms_match (GcChatTerms *terms, const gchar *normalized,
                     gboolean *hold)
{
  Scan scan = {terms, ROOT, 0, -1, -1};
  gboolean in_word = FALSE;

  if (hold != NULL)
    *hold = FALSE;
  if (terms == NULL || terms->patterns->len == 0 || normalized == NULL)
    return -1;

  for (const gchar *p = normalized; *p != '\0';) {
    const gchar *next = g_utf8_next_char (p);
    gunichar c = g_utf8_get_char (p);

    if (gc_chat_unichar_is_word (c)) {
      if (!in_word)
        step (&scan, WORD_START);
      in_word = TRUE;
      for (const gchar *b = p; b < next; b++)
        step (&scan, (guint8)*b);
    } else if (in_word) {
      step (&scan, WORD_END);
      in_word = FALSE;
    }
    p = next;
  }
  if (in_word)
    step (&scan, WORD_END);

  if (scan.refuse >= 0)
    return scan.refuse;
  if (scan.hold >= 0 && hold != NULL)
    *hold = TRUE;
  return scan.hold;
}

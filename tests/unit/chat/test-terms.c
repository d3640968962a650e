/* test-terms.c — unit tests of blocked-term matching (chat/terms.c).
 * Whole words, phrases, wildcards, word boundaries, normalised input, hold terms, validation. */

#include "normalize.h"
#include "terms.h"

/* Compiles @terms (NULL-terminated; a leading '?' marks a hold term) and
 * matches @text. Returns the matched canonical term or NULL. */
static gchar *
match (const gchar *text, const gchar *const *terms, gboolean *hold)
{
  g_autoptr (GPtrArray) canon = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) specs =
      g_array_new (FALSE, FALSE, sizeof (GcChatTermSpec));
  g_autoptr (GcChatTerms) compiled = NULL;
  g_autofree gchar *norm = gc_chat_normalize (text, -1);
  gint hit;

  for (guint i = 0; terms[i] != NULL; i++) {
    gboolean h = terms[i][0] == '?';
    gchar *c = gc_chat_term_canonicalize (terms[i] + (h ? 1 : 0), NULL);
    GcChatTermSpec spec = {c, h};

    g_assert_nonnull (c);
    g_ptr_array_add (canon, c);
    g_array_append_val (specs, spec);
  }
  compiled = gc_chat_terms_compile ((GcChatTermSpec *)specs->data, specs->len);
  hit = gc_chat_terms_match (compiled, norm, hold);
  return hit >= 0 ? g_strdup (gc_chat_terms_get (compiled, (guint)hit)) : NULL;
}

static void
assert_match (const gchar *text, const gchar *term, const gchar *expected)
{
  const gchar *terms[] = {term, NULL};
  g_autofree gchar *got = match (text, terms, NULL);

  g_assert_cmpstr (got, ==, expected);
}

static void
test_whole_word (void)
{
  assert_match ("this is bad", "bad", "bad");
  assert_match ("bad!", "bad", "bad");
  assert_match ("(bad)", "bad", "bad");
}

static void
test_word_boundaries (void)
{
  assert_match ("badge", "bad", NULL);
  assert_match ("notbad", "bad", NULL);
  assert_match ("bad_word", "bad", "bad"); /* '_' separates words */
}

static void
test_case_and_unicode_forms (void)
{
  assert_match ("BAD", "bad", "bad");
  assert_match ("\xef\xbc\xa2\xef\xbc\xa1\xef\xbc\xa4", "bad", "bad");
  assert_match ("b\xe2\x80\x8b"
                "ad",
                "bad", "bad");
  assert_match ("\xef\xac\x81sh", "fish", "fish"); /* ﬁsh */
  assert_match ("fish", "\xef\xac\x81sh", "fish"); /* terms normalised too */
}

static void
test_prefix_wildcard (void)
{
  assert_match ("spammer here", "spam*", "spam*");
  assert_match ("spam", "spam*", "spam*");
  assert_match ("antispam", "spam*", NULL);
}

static void
test_suffix_wildcard (void)
{
  assert_match ("antispam", "*spam", "*spam");
  assert_match ("spammer", "*spam", NULL);
}

static void
test_infix_wildcard (void)
{
  assert_match ("antispammer", "*spam*", "*spam*");
  assert_match ("spa m", "*spam*", NULL);
}

static void
test_inner_wildcard (void)
{
  assert_match ("fck", "f*ck", "f*ck");
  assert_match ("fuuuck", "f*ck", "f*ck");
  assert_match ("fk", "f*ck", NULL);
  assert_match ("ck", "c*ck", NULL); /* pieces may not overlap */
  assert_match ("cck", "c*ck", "c*ck");
  assert_match ("abxab", "*ab*ab*", "*ab*ab*");
  assert_match ("ab", "*ab*ab*", NULL);
  /* Progress does not leak from one word into the next. */
  assert_match ("f ck", "f*ck", NULL);
}

static void
test_phrase (void)
{
  assert_match ("buy cheap followers now", "cheap followers",
                "cheap followers");
  assert_match ("cheap  ,  followers", "cheap followers", "cheap followers");
  assert_match ("cheap fake followers", "cheap followers", NULL);
}

static void
test_many_terms_one_pass (void)
{
  const gchar *terms[] = {"alpha", "beta*",    "*gamma",
                          "d*lta", "eps ilon", NULL};
  g_autofree gchar *a = match ("xx betamax", terms, NULL);
  g_autofree gchar *b = match ("omegagamma", terms, NULL);
  g_autofree gchar *c = match ("deeelta", terms, NULL);
  g_autofree gchar *d = match ("eps ilon", terms, NULL);
  g_autofree gchar *e = match ("alphabet soup", terms, NULL);

  g_assert_cmpstr (a, ==, "beta*");
  g_assert_cmpstr (b, ==, "*gamma");
  g_assert_cmpstr (c, ==, "d*lta");
  g_assert_cmpstr (d, ==, "eps ilon");
  g_assert_null (e);
}

static void
test_refuse_wins_over_hold (void)
{
  const gchar *terms[] = {"?maybe", "never", NULL};
  gboolean hold = TRUE;
  g_autofree gchar *a = match ("maybe never", terms, &hold);
  g_autofree gchar *b = NULL;

  g_assert_cmpstr (a, ==, "never");
  g_assert_false (hold);
  b = match ("maybe", terms, &hold);
  g_assert_cmpstr (b, ==, "maybe");
  g_assert_true (hold);
}

static void
test_canonical_forms (void)
{
  g_autofree gchar *a =
      gc_chat_term_canonicalize ("  Cheap   FOLLOWERS ", NULL);
  g_autofree gchar *b = gc_chat_term_canonicalize ("sp**am", NULL);

  g_assert_cmpstr (a, ==, "cheap followers");
  g_assert_cmpstr (b, ==, "sp*am");
}

static void
test_bad_terms_refused (void)
{
  const gchar *bad[] = {"", "   ", "*", "**", "no*pe phrase", "a.b", "x-y"};

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *c = gc_chat_term_canonicalize (bad[i], &error);

    g_assert_null (c);
    g_assert_nonnull (error);
  }
}

static void
test_empty_automaton_matches_nothing (void)
{
  g_autoptr (GcChatTerms) t = gc_chat_terms_compile (NULL, 0);

  g_assert_cmpint (gc_chat_terms_match (t, "anything", NULL), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/terms/whole-word", test_whole_word);
  g_test_add_func ("/chat/terms/word-boundaries", test_word_boundaries);
  g_test_add_func ("/chat/terms/case-and-unicode", test_case_and_unicode_forms);
  g_test_add_func ("/chat/terms/prefix-wildcard", test_prefix_wildcard);
  g_test_add_func ("/chat/terms/suffix-wildcard", test_suffix_wildcard);
  g_test_add_func ("/chat/terms/infix-wildcard", test_infix_wildcard);
  g_test_add_func ("/chat/terms/inner-wildcard", test_inner_wildcard);
  g_test_add_func ("/chat/terms/phrase", test_phrase);
  g_test_add_func ("/chat/terms/many-terms", test_many_terms_one_pass);
  g_test_add_func ("/chat/terms/refuse-wins-over-hold",
                   test_refuse_wins_over_hold);
  g_test_add_func ("/chat/terms/canonical-forms", test_canonical_forms);
  g_test_add_func ("/chat/terms/bad-terms-refused", test_bad_terms_refused);
  g_test_add_func ("/chat/terms/empty", test_empty_automaton_matches_nothing);
  return g_test_run ();
}

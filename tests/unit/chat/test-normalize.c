/* test-normalize.c — unit tests of chat text normalisation (chat/normalize.c).
 * NFKC + case folding: fullwidth forms, ligatures, compatibility characters, case, invisible characters. */

#include "normalize.h"

static void
assert_normalizes (const gchar *in, const gchar *expected)
{
  g_autofree gchar *out = gc_chat_normalize (in, -1);

  g_assert_cmpstr (out, ==, expected);
}

static void
test_case_folds (void)
{
  assert_normalizes ("HeLLo World", "hello world");
}

static void
test_fullwidth_becomes_ascii (void)
{
  /* ＢＡＤ: fullwidth Latin capitals. */
  assert_normalizes ("\xef\xbc\xa2\xef\xbc\xa1\xef\xbc\xa4", "bad");
}

static void
test_ligatures_decompose (void)
{
  /* ﬁ (U+FB01) and ﬀ (U+FB00). */
  assert_normalizes ("\xef\xac\x81ne", "fine");
  assert_normalizes ("o\xef\xac\x80", "off");
}

static void
test_sharp_s_folds_to_ss (void)
{
  assert_normalizes ("STRA\xc3\x9f"
                     "E",
                     "strasse");
}

static void
test_compatibility_forms (void)
{
  /* Circled letters, superscripts, mathematical bold: all plain. */
  assert_normalizes ("\xe2\x93\x91\xe2\x93\x90\xe2\x93\x93", "bad"); /* ⓑⓐⓓ */
  assert_normalizes ("x\xc2\xb2", "x2");                             /* x² */
  assert_normalizes ("\xf0\x9d\x90\x9b\xf0\x9d\x90\x9a\xf0\x9d\x90\x9d",
                     "bad"); /* 𝐛𝐚𝐝 */
}

static void
test_composed_and_decomposed_agree (void)
{
  g_autofree gchar *a = gc_chat_normalize ("caf\xc3\xa9", -1);  /* é */
  g_autofree gchar *b = gc_chat_normalize ("cafe\xcc\x81", -1); /* e + ◌́ */

  g_assert_cmpstr (a, ==, b);
}

static void
test_invisible_characters_removed (void)
{
  /* Zero-width space, soft hyphen, zero-width joiner inside a word. */
  assert_normalizes ("b\xe2\x80\x8b"
                     "a\xc2\xad"
                     "d\xe2\x80\x8d",
                     "bad");
}

static void
test_invalid_utf8_refused (void)
{
  g_assert_null (gc_chat_normalize ("ab\xff", -1));
}

static void
test_word_characters (void)
{
  g_assert_true (gc_chat_unichar_is_word ('a'));
  g_assert_true (gc_chat_unichar_is_word ('7'));
  g_assert_true (gc_chat_unichar_is_word (0x00E9)); /* é */
  g_assert_true (gc_chat_unichar_is_word (0x0301)); /* combining acute */
  g_assert_true (gc_chat_unichar_is_word (0x4E2D)); /* 中 */
  g_assert_false (gc_chat_unichar_is_word (' '));
  g_assert_false (gc_chat_unichar_is_word ('_'));
  g_assert_false (gc_chat_unichar_is_word ('!'));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/normalize/case-folds", test_case_folds);
  g_test_add_func ("/chat/normalize/fullwidth", test_fullwidth_becomes_ascii);
  g_test_add_func ("/chat/normalize/ligatures", test_ligatures_decompose);
  g_test_add_func ("/chat/normalize/sharp-s", test_sharp_s_folds_to_ss);
  g_test_add_func ("/chat/normalize/compatibility", test_compatibility_forms);
  g_test_add_func ("/chat/normalize/composition",
                   test_composed_and_decomposed_agree);
  g_test_add_func ("/chat/normalize/invisible",
                   test_invisible_characters_removed);
  g_test_add_func ("/chat/normalize/invalid-utf8", test_invalid_utf8_refused);
  g_test_add_func ("/chat/normalize/word-characters", test_word_characters);
  return g_test_run ();
}

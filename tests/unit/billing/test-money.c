/* test-money.c — unit tests of billing/money.c: currencies, checked arithmetic, the fee/creator split.
 * The split is checked for every amount from 1 to 10^7 minor units against an independent statement of the rule. */

#include "money.h"

#define PROPERTY_MAX G_GINT64_CONSTANT (10000000)
#define ONE G_GINT64_CONSTANT (1000000)
#define HALF (ONE / 2)

/* The shares every amount is checked with: the default 15%, an odd 12.345%,
 * and the extremes of rounding (1 ppm, 999999 ppm). */
static const guint32 property_shares[] = {GC_SHARE_DEFAULT_PLATFORM_PPM, 123450,
                                          1, 999999};

static GcMoney
money (gint64 amount, const gchar *currency)
{
  g_autoptr (GError) error = NULL;
  GcMoney m;

  g_assert_true (gc_money_init (&m, amount, currency, &error));
  g_assert_no_error (error);
  return m;
}

/* Round half up stated as a property rather than computed: the fee is the
 * integer within half a unit of the exact gross x share, the upper one on a
 * tie: fee - 1/2 <= gross x ppm / 10^6 < fee + 1/2. */
static gboolean
fee_follows_rule (gint64 gross, guint32 ppm, gint64 fee)
{
  gint64 exact = gross * (gint64)ppm; /* < 10^13 here: no overflow */

  return fee * ONE - HALF <= exact && exact < fee * ONE + HALF;
}

static void
check_every_amount (const gchar *currency)
{
  for (gsize s = 0; s < G_N_ELEMENTS (property_shares); s++) {
    guint32 ppm = property_shares[s];
    GcMoney gross = money (0, currency);
    GcMoney fee, creator, refund_fee, refund_creator;
    gsize failures = 0;

    for (gint64 amount = 1; amount <= PROPERTY_MAX; amount++) {
      gross.amount = amount;
      gc_money_split (&gross, ppm, &fee, &creator, NULL);
      if (fee.amount + creator.amount != amount ||
          !fee_follows_rule (amount, ppm, fee.amount) || creator.amount < 0)
        failures++;

      /* A refund is the mirror image: -fee(g) and -creator(g). */
      gross.amount = -amount;
      gc_money_split (&gross, ppm, &refund_fee, &refund_creator, NULL);
      if (refund_fee.amount != -fee.amount ||
          refund_creator.amount != -creator.amount)
        failures++;
    }
    if (failures != 0)
      g_test_message ("%s at %u ppm: %" G_GSIZE_FORMAT " failures", currency,
                      ppm, failures);
    g_assert_cmpuint (failures, ==, 0);
    g_assert_cmpstr (fee.currency, ==, currency);
    g_assert_cmpstr (creator.currency, ==, currency);
  }
}

static void
test_split_every_amount_two_decimals (void)
{
  check_every_amount ("USD");
}

static void
test_split_every_amount_jpy (void)
{
  g_assert_cmpint (gc_currency_exponent ("JPY"), ==, 0);
  check_every_amount ("JPY");
}

static void
test_split_every_amount_three_decimals (void)
{
  g_assert_cmpint (gc_currency_exponent ("KWD"), ==, 3);
  check_every_amount ("KWD");
}

static void
test_split_more_shares (void)
{
  static const guint32 shares[] = {0,
                                   GC_SHARE_PPM_ONE,
                                   500000,
                                   333333,
                                   GC_SHARE_PPM_FROM_BPS (1500),
                                   GC_SHARE_PPM_FROM_BPS (1),
                                   100000};
  GcMoney gross = money (0, "EUR"), fee, creator;

  for (gsize s = 0; s < G_N_ELEMENTS (shares); s++) {
    for (gint64 amount = 1; amount <= 1000000; amount++) {
      gross.amount = amount;
      g_assert_true (gc_money_split (&gross, shares[s], &fee, &creator, NULL));
      g_assert_cmpint (fee.amount + creator.amount, ==, amount);
      g_assert_true (fee_follows_rule (amount, shares[s], fee.amount));
    }
  }
  gross.amount = 12345;
  gc_money_split (&gross, 0, &fee, &creator, NULL);
  g_assert_cmpint (fee.amount, ==, 0);
  gc_money_split (&gross, GC_SHARE_PPM_ONE, &fee, &creator, NULL);
  g_assert_cmpint (creator.amount, ==, 0);
}

static void
test_split_known_answers (void)
{
  static const struct {
    gint64 gross;
    guint32 ppm;
    gint64 fee;
  } cases[] = {
      {1, 150000, 0},      /* 0.15 */
      {3, 150000, 0},      /* 0.45 */
      {4, 150000, 1},      /* 0.6 */
      {10, 150000, 2},     /* 1.5: half rounds up */
      {30, 150000, 5},     /* 4.5 */
      {999, 150000, 150},  /* 149.85 */
      {100, 123450, 12},   /* 12.345 */
      {200, 123450, 25},   /* 24.69 */
      {4, 123450, 0},      /* 0.4938 */
      {1, 500000, 1},      /* 0.5 */
      {-1, 500000, -1},    /* -0.5: magnitudes round half up */
      {-10, 150000, -2},   /* -1.5 */
      {-999, 150000, -150} /* -149.85 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_assert_cmpint (gc_money_platform_fee (cases[i].gross, cases[i].ppm), ==,
                     cases[i].fee);
  }
}

/* Near the top of the range the product needs 84 bits: check against a
 * 128-bit formulation of the same rule. */
static void
test_split_extremes (void)
{
  static const gint64 grosses[] = {G_MAXINT64,     G_MAXINT64 - 1,
                                   G_MAXINT64 / 2, 4611686018427387905,
                                   999999999999,   1000000000000000001};
  static const guint32 shares[] = {0,      1,      123450,          150000,
                                   500000, 999999, GC_SHARE_PPM_ONE};

  for (gsize g = 0; g < G_N_ELEMENTS (grosses); g++) {
    for (gsize s = 0; s < G_N_ELEMENTS (shares); s++) {
      __extension__ unsigned __int128 product =
          (unsigned __int128)grosses[g] * shares[s] + HALF;
      gint64 expected = (gint64)(product / ONE);
      GcMoney gross = money (grosses[g], "USD"), fee, creator;

      g_assert_cmpint (gc_money_platform_fee (grosses[g], shares[s]), ==,
                       expected);
      g_assert_cmpint (gc_money_platform_fee (-grosses[g], shares[s]), ==,
                       -expected);
      g_assert_true (gc_money_split (&gross, shares[s], &fee, &creator, NULL));
      g_assert_cmpint (fee.amount, ==, expected);
      g_assert_cmpint (creator.amount, ==, grosses[g] - expected);
    }
  }
}

static void
test_split_refuses_share_above_one (void)
{
  g_autoptr (GError) error = NULL;
  GcMoney gross = money (100, "USD"), fee, creator;

  g_assert_false (
      gc_money_split (&gross, GC_SHARE_PPM_ONE + 1, &fee, &creator, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
}

static void
test_currency_exponents (void)
{
  static const struct {
    const gchar *code;
    gint exponent;
  } cases[] = {
      {"USD", 2},  {"EUR", 2}, {"GBP", 2},   {"usd", 2}, {"JPY", 0},
      {"KRW", 0},  {"VND", 0}, {"CLP", 0},   {"XOF", 0}, {"BHD", 3},
      {"KWD", 3},  {"JOD", 3}, {"OMR", 3},   {"TND", 3}, {"kwd", 3},
      {"XXX", -1}, {"US", -1}, {"USDD", -1}, {"", -1},   {"U$D", -1},
      {"XAU", -1}, {NULL, -1},
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (gc_currency_exponent (cases[i].code), ==,
                     cases[i].exponent);
}

static void
test_init_normalises_and_refuses (void)
{
  g_autoptr (GError) error = NULL;
  GcMoney m = money (-5, "jpy");

  g_assert_cmpstr (m.currency, ==, "JPY");
  g_assert_cmpint (m.amount, ==, -5);

  g_assert_false (gc_money_init (&m, 1, "ABC", &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY);
  g_clear_error (&error);
  /* G_MININT64 has no negation: never an amount. */
  g_assert_false (gc_money_init (&m, G_MININT64, "USD", &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW);
}

static void
test_add_and_sub (void)
{
  g_autoptr (GError) error = NULL;
  GcMoney a = money (1999, "USD"), b = money (-2000, "USD"), r;

  g_assert_true (gc_money_add (&a, &b, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.amount, ==, -1);
  g_assert_cmpstr (r.currency, ==, "USD");
  g_assert_true (gc_money_sub (&a, &b, &a, &error));
  g_assert_cmpint (a.amount, ==, 3999);
}

static void
test_add_and_sub_refuse_overflow (void)
{
  g_autoptr (GError) error = NULL;
  GcMoney max = money (G_MAXINT64, "USD"), min = money (-G_MAXINT64, "USD");
  GcMoney one = money (1, "USD"), r = money (7, "USD");

  g_assert_false (gc_money_add (&max, &one, &r, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW);
  g_clear_error (&error);
  g_assert_cmpint (r.amount, ==, 7); /* untouched */
  /* -(2^63 - 1) - 1 = G_MININT64: representable, but not an amount. */
  g_assert_false (gc_money_sub (&min, &one, &r, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW);
  g_clear_error (&error);
  g_assert_false (gc_money_sub (&max, &min, &r, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW);
  g_clear_error (&error);
  g_assert_true (gc_money_add (&max, &min, &r, &error));
  g_assert_cmpint (r.amount, ==, 0);
}

static void
test_add_refuses_mixed_currencies (void)
{
  g_autoptr (GError) error = NULL;
  GcMoney usd = money (1, "USD"), eur = money (1, "EUR"), r;

  g_assert_false (gc_money_add (&usd, &eur, &r, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CURRENCY_MISMATCH);
}

static void
test_share_parse (void)
{
  static const struct {
    const gchar *text;
    guint32 ppm;
  } good[] = {{"15", 150000}, {"15%", 150000},  {"12.345%", 123450},
              {"0.0001%", 1}, {"100", 1000000}, {"100.0000%", 1000000},
              {"0", 0},       {"7.5", 75000},   {"099.9999", 999999}};
  static const gchar *const bad[] = {
      "",     "%",   "101",  "100.0001", "1.23456", "-1",
      "1.",   ".5",  "15 %", " 15",      "abc",     "1000",
      "15%%", "1e1", "0x1",  "15.0x",    "15,5"};

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    guint32 ppm = 0;

    g_assert_true (gc_share_parse_percent (good[i].text, &ppm, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (ppm, ==, good[i].ppm);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    guint32 ppm = 42;

    g_assert_false (gc_share_parse_percent (bad[i], &ppm, &error));
    g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
    g_assert_cmpuint (ppm, ==, 42);
  }
}

static void
test_to_string_uses_exponent (void)
{
  static const struct {
    gint64 amount;
    const gchar *currency;
    const gchar *text;
  } cases[] = {
      {1234, "USD", "12.34 USD"},
      {-5, "USD", "-0.05 USD"},
      {0, "EUR", "0.00 EUR"},
      {1500, "JPY", "1500 JPY"},
      {-12345, "KWD", "-12.345 KWD"},
      {1, "BHD", "0.001 BHD"},
      {G_MAXINT64, "USD", "92233720368547758.07 USD"},
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    GcMoney m = money (cases[i].amount, cases[i].currency);
    g_autofree gchar *text = gc_money_to_string (&m);

    g_assert_cmpstr (text, ==, cases[i].text);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/billing/money/currency/exponents",
                   test_currency_exponents);
  g_test_add_func ("/billing/money/init/normalises-and-refuses",
                   test_init_normalises_and_refuses);
  g_test_add_func ("/billing/money/arithmetic/add-and-sub", test_add_and_sub);
  g_test_add_func ("/billing/money/arithmetic/overflow-refused",
                   test_add_and_sub_refuse_overflow);
  g_test_add_func ("/billing/money/arithmetic/mixed-currencies-refused",
                   test_add_refuses_mixed_currencies);
  g_test_add_func ("/billing/money/split/every-amount/usd",
                   test_split_every_amount_two_decimals);
  g_test_add_func ("/billing/money/split/every-amount/jpy",
                   test_split_every_amount_jpy);
  g_test_add_func ("/billing/money/split/every-amount/kwd",
                   test_split_every_amount_three_decimals);
  g_test_add_func ("/billing/money/split/more-shares", test_split_more_shares);
  g_test_add_func ("/billing/money/split/known-answers",
                   test_split_known_answers);
  g_test_add_func ("/billing/money/split/extremes", test_split_extremes);
  g_test_add_func ("/billing/money/split/share-above-one-refused",
                   test_split_refuses_share_above_one);
  g_test_add_func ("/billing/money/share/parse-percent", test_share_parse);
  g_test_add_func ("/billing/money/to-string", test_to_string_uses_exponent);

  return g_test_run ();
}

/* money.c — ISO 4217 exponents, checked integer arithmetic on amounts, and the fee/creator split.
 * Integers only (scripts/check-no-float.sh fails the build's tests otherwise). */

#include "money.h"

#include <string.h>

typedef struct {
  gchar code[4];
  guint8 exponent;
} Currency;

/* ISO 4217 active codes and the decimals of their minor unit. Two decimals
 * is the common case; the zero-decimal (JPY, KRW...) and three-decimal (BHD,
 * KWD...) ones are the reason the table exists. Funds codes and precious
 * metals are left out: nobody pays a creator in XAU. Stripe's own quirks
 * (ISK, HUF, TWD, UGX amounts sent with two extra zeros) are the Stripe
 * client's to translate, not this table's. */
static const Currency currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2},
    {"ARS", 2}, {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2},
    {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
    {"BOB", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2},
    {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHF", 2}, {"CLP", 0}, {"CNY", 2},
    {"COP", 2}, {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0},
    {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
    {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
    {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2},
    {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
    {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0},
    {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2},
    {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2},
    {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
    {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2},
    {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3},
    {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2},
    {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0},
    {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2},
    {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2},
    {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2},
    {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2},
    {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYU", 2}, {"UZS", 2}, {"VES", 2},
    {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XOF", 0},
    {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWL", 2},
};

/* Upper-cases @code into @upper; FALSE unless it is exactly three ASCII
 * letters. */
static gboolean
normalise_code (const gchar *code, gchar upper[4])
{
  for (gsize i = 0; i < 3; i++) {
    if (!g_ascii_isalpha (code[i]))
      return FALSE;
    upper[i] = g_ascii_toupper (code[i]);
  }
  upper[3] = '\0';
  return code[3] == '\0';
}

static const Currency *
find_currency (const gchar *code, gchar upper[4])
{
  if (code == NULL || !normalise_code (code, upper))
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (currencies); i++) {
    if (memcmp (currencies[i].code, upper, 4) == 0)
      return &currencies[i];
  }
  return NULL;
}

gint
gc_currency_exponent (const gchar *code)
{
  gchar upper[4];
  const Currency *c = find_currency (code, upper);

  return c != NULL ? c->exponent : -1;
}

gboolean
gc_money_init (GcMoney *money, gint64 amount, const gchar *currency,
               GError **error)
{
  gchar upper[4];

  g_return_val_if_fail (money != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (find_currency (currency, upper) == NULL) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY,
                 "unknown currency \"%s\"",
                 currency != NULL ? currency : "(null)");
    return FALSE;
  }
  if (amount < GC_MONEY_AMOUNT_MIN) {
    g_set_error_literal (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW,
                         "amount out of range");
    return FALSE;
  }
  money->amount = amount;
  memcpy (money->currency, upper, sizeof upper);
  return TRUE;
}

static gboolean
same_currency (const GcMoney *a, const GcMoney *b, GError **error)
{
  if (strcmp (a->currency, b->currency) != 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CURRENCY_MISMATCH,
                 "cannot combine %s with %s", a->currency, b->currency);
    return FALSE;
  }
  return TRUE;
}

static gboolean
store_checked (gboolean overflowed, gint64 sum, const GcMoney *a,
               GcMoney *result, GError **error)
{
  if (overflowed || sum < GC_MONEY_AMOUNT_MIN) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW,
                 "amount in %s out of range", a->currency);
    return FALSE;
  }
  memmove (result->currency, a->currency, sizeof result->currency);
  result->amount = sum;
  return TRUE;
}

gboolean
gc_money_add (const GcMoney *a, const GcMoney *b, GcMoney *result,
              GError **error)
{
  gint64 sum;
  gboolean overflowed;

  g_return_val_if_fail (a != NULL && b != NULL && result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!same_currency (a, b, error))
    return FALSE;
  overflowed = __builtin_add_overflow (a->amount, b->amount, &sum);
  return store_checked (overflowed, sum, a, result, error);
}

gboolean
gc_money_sub (const GcMoney *a, const GcMoney *b, GcMoney *result,
              GError **error)
{
  gint64 difference;
  gboolean overflowed;

  g_return_val_if_fail (a != NULL && b != NULL && result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!same_currency (a, b, error))
    return FALSE;
  overflowed = __builtin_sub_overflow (a->amount, b->amount, &difference);
  return store_checked (overflowed, difference, a, result, error);
}

/* |gross| x ppm / 10^6 rounded half up, without a 128-bit product: with
 * |gross| = whole x 10^6 + rest, the exact quotient is whole x ppm (an
 * integer, at most |gross|) plus rest x ppm / 10^6 (rest x ppm < 10^12), so
 * only the second part needs rounding, and 10^6 / 2 is exact. */
gint64
gc_money_platform_fee (gint64 gross, guint32 platform_ppm)
{
  guint64 magnitude, whole, rest, fee;

  g_return_val_if_fail (platform_ppm <= GC_SHARE_PPM_ONE, 0);
  g_return_val_if_fail (gross >= GC_MONEY_AMOUNT_MIN, 0);

  magnitude = gross < 0 ? (guint64)(-gross) : (guint64)gross;
  whole = magnitude / GC_SHARE_PPM_ONE;
  rest = magnitude % GC_SHARE_PPM_ONE;
  fee = whole * platform_ppm +
        (rest * platform_ppm + GC_SHARE_PPM_ONE / 2) / GC_SHARE_PPM_ONE;
  return gross < 0 ? -(gint64)fee : (gint64)fee;
}

gboolean
gc_money_split (const GcMoney *gross, guint32 platform_ppm, GcMoney *fee,
                GcMoney *creator, GError **error)
{
  gint64 fee_amount;

  g_return_val_if_fail (gross != NULL && fee != NULL && creator != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (platform_ppm > GC_SHARE_PPM_ONE) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "a share is at most %d ppm, not %u", GC_SHARE_PPM_ONE,
                 platform_ppm);
    return FALSE;
  }
  if (gross->amount < GC_MONEY_AMOUNT_MIN) {
    g_set_error_literal (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW,
                         "amount out of range");
    return FALSE;
  }
  fee_amount = gc_money_platform_fee (gross->amount, platform_ppm);
  /* |fee| <= |gross| with the same sign: the difference cannot overflow. */
  memmove (fee->currency, gross->currency, sizeof fee->currency);
  memmove (creator->currency, gross->currency, sizeof creator->currency);
  creator->amount = gross->amount - fee_amount;
  fee->amount = fee_amount;
  return TRUE;
}

gboolean
gc_share_parse_percent (const gchar *text, guint32 *platform_ppm,
                        GError **error)
{
  const gchar *p = text;
  guint32 whole = 0, fraction = 0;
  guint whole_digits = 0, fraction_digits = 0;

  g_return_val_if_fail (text != NULL && platform_ppm != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (; g_ascii_isdigit (*p) && whole_digits < 4; p++, whole_digits++)
    whole = whole * 10 + (guint32)(*p - '0');
  if (*p == '.') {
    p++;
    for (; g_ascii_isdigit (*p) && fraction_digits < 5; p++, fraction_digits++)
      fraction = fraction * 10 + (guint32)(*p - '0');
    if (fraction_digits == 0)
      goto bad;
  }
  if (*p == '%')
    p++;
  if (whole_digits == 0 || whole_digits > 3 || fraction_digits > 4 ||
      *p != '\0')
    goto bad;
  for (; fraction_digits < 4; fraction_digits++)
    fraction *= 10;
  whole = whole * 10000 + fraction;
  if (whole > GC_SHARE_PPM_ONE)
    goto bad;
  *platform_ppm = whole;
  return TRUE;

bad:
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
               "\"%s\" is not a share from 0%% to 100%% with at most 4 "
               "decimals",
               text);
  return FALSE;
}

gchar *
gc_money_to_string (const GcMoney *money)
{
  gint exponent;
  guint64 magnitude, unit = 1;

  g_return_val_if_fail (money != NULL, NULL);

  exponent = gc_currency_exponent (money->currency);
  if (exponent < 0 || money->amount < GC_MONEY_AMOUNT_MIN)
    return g_strdup_printf ("%" G_GINT64_FORMAT " (minor units) %s",
                            money->amount, money->currency);
  for (gint i = 0; i < exponent; i++)
    unit *= 10;
  magnitude =
      money->amount < 0 ? (guint64)(-money->amount) : (guint64)money->amount;
  if (exponent == 0)
    return g_strdup_printf ("%s%" G_GUINT64_FORMAT " %s",
                            money->amount < 0 ? "-" : "", magnitude,
                            money->currency);
  return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT " %s",
                          money->amount < 0 ? "-" : "", magnitude / unit,
                          exponent, magnitude % unit, money->currency);
}

/* money.h — amounts as 64-bit integers of a currency's minor unit, ISO 4217 currencies and exponents,
 * checked arithmetic, and the platform/creator split. Integers only: no floating point anywhere. */

#pragma once

#include <glib.h>

#include "billing-error.h"

G_BEGIN_DECLS

/* Amounts are symmetric: G_MININT64 is never a valid amount, so negating
 * (a refund is a negative charge) can never overflow. */
#define GC_MONEY_AMOUNT_MAX G_MAXINT64
#define GC_MONEY_AMOUNT_MIN (-G_MAXINT64)

/* Shares are parts per million of the gross: 15% is 150000, 12.345% is
 * 123450. Basis points convert exactly (1 bp = 100 ppm). */
#define GC_SHARE_PPM_ONE 1000000
#define GC_SHARE_PPM_FROM_BPS(bps) ((guint32)(bps)*100u)
/* The default split: the creator keeps 85%, the platform takes 15%. */
#define GC_SHARE_DEFAULT_PLATFORM_PPM 150000

/* @currency: an upper-case ISO 4217 code, NUL-terminated. */
typedef struct {
  gint64 amount; /* minor units: cents, yen, fils */
  gchar currency[4];
} GcMoney;

/* Returns: the number of decimals of the minor unit of @code (0 for JPY,
 * 2 for EUR, 3 for KWD), or -1 if @code is not a known ISO 4217 code.
 * @code is matched ignoring ASCII case (Stripe sends "usd"). */
gint gc_currency_exponent (const gchar *code);

/* Fills @money after checking @currency (any case, stored upper-case) and
 * that @amount is not G_MININT64. Fails with UNKNOWN_CURRENCY or OVERFLOW. */
gboolean gc_money_init (GcMoney *money, gint64 amount, const gchar *currency,
                        GError **error);

/* @result = @a + @b (or @a - @b). Fails with CURRENCY_MISMATCH, or with
 * OVERFLOW when the exact result is outside the amount range; @result is
 * then left untouched. @result may be @a or @b. */
gboolean gc_money_add (const GcMoney *a, const GcMoney *b, GcMoney *result,
                       GError **error);
gboolean gc_money_sub (const GcMoney *a, const GcMoney *b, GcMoney *result,
                       GError **error);

/* The platform's fee on @gross for a share of @platform_ppm (0 to
 * GC_SHARE_PPM_ONE): gross x share rounded half up, computed exactly with
 * integers (never overflows). Negative grosses (refunds) are symmetric:
 * fee(-g) == -fee(g), i.e. magnitudes round half up ("half away from zero"),
 * so refunding a whole charge reverses its fee exactly.
 * @gross must not be G_MININT64. */
gint64 gc_money_platform_fee (gint64 gross, guint32 platform_ppm);

/* Splits @gross into the platform's @fee (gc_money_platform_fee()) and the
 * @creator's part, gross - fee, so the two always add up to @gross; both
 * have @gross's sign (or are zero) and currency. Fails with INVALID_ARGUMENT
 * for a share above GC_SHARE_PPM_ONE. */
gboolean gc_money_split (const GcMoney *gross, guint32 platform_ppm,
                         GcMoney *fee, GcMoney *creator, GError **error);

/* Parses a configured share: a percentage with up to 4 decimals and an
 * optional '%' ("15", "15%", "12.345%", "0.0001%"), from 0 to 100, into
 * parts per million. Decimal text only, parsed with integers. */
gboolean gc_share_parse_percent (const gchar *text, guint32 *platform_ppm,
                                 GError **error);

/* Returns: (transfer full): "-12.345 KWD", "1500 JPY", "0.05 USD": the
 * amount in major units with the currency's exponent, for logs and
 * messages. */
gchar *gc_money_to_string (const GcMoney *money);

G_END_DECLS

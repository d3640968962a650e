// money.js — money on the pages (monetize.js, dashboard.js): integer minor units in and out of decimal text by
// string handling, never by floating-point arithmetic; Intl formats the exact decimal string.

/** Digits after the decimal point in @currency (ISO 4217): 2 for USD, 0 for JPY; 2 if Intl does not know it. */
export function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** The plain decimal text of @minor (integer minor units, number, string or BigInt): 1999 USD -> "19.99". */
export function decimalText(minor, currency) {
  const digits = fractionDigits(currency);
  const n = BigInt(minor);
  const sign = n < 0n ? '-' : '';
  const units = (n < 0n ? -n : n).toString().padStart(digits + 1, '0');
  return sign + (digits ? `${units.slice(0, -digits)}.${units.slice(-digits)}` : units);
}

/** @minor formatted for people in @currency, e.g. "$19.99"; "1999 XYZ" when Intl cannot. */
export function formatMoney(minor, currency) {
  try {
    const format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    return format.format(decimalText(minor, currency));
  } catch {
    return `${minor} ${currency}`;
  }
}

/**
 * The integer minor units (a BigInt) of what someone typed, in @currency's major units: "5" -> 500n,
 * "5.5" -> 550n, "0,75" -> 75n (either decimal mark; no grouping separators). Throws an Error whose
 * message is for the user when the text is not an amount.
 */
export function parseMoney(text, currency) {
  const digits = fractionDigits(currency);
  const t = String(text ?? '').trim();
  const m = /^(\d*)(?:[.,](\d*))?$/.exec(t);
  if (!m || !(m[1] + (m[2] ?? '')).length)
    throw new Error('Enter an amount, e.g. 5 or 2.50.');
  const frac = m[2] ?? '';
  if (frac.length > digits)
    throw new Error(digits ? `Use at most ${digits} digits after the decimal point.` : 'Use whole amounts.');
  return BigInt((m[1] || '0') + frac.padEnd(digits, '0'));
}

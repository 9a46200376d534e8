/**
 * ISO 4217 codes that are not money a wallet can hold: precious metals, special drawing rights,
 * bond-market units, the test code and "no currency".
 */
const NOT_MONEY = new Set([
  "XAG",
  "XAU",
  "XPD",
  "XPT",
  "XDR",
  "XSU",
  "XUA",
  "XBA",
  "XBB",
  "XBC",
  "XBD",
  "XTS",
  "XXX",
]);

const CURRENCIES = new Set(Intl.supportedValuesOf("currency").filter((code) => !NOT_MONEY.has(code)));

/** True for an upper-case ISO 4217 code of a currency a wallet can hold. */
export const isCurrency = (code: string): boolean => CURRENCIES.has(code);

/** Pure rules about card numbers, expiry dates and CVVs. */

/** True when `digits` passes the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (digit < 0 || digit > 9) return false;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** The digit that makes `partial` followed by it Luhn-valid. */
export function luhnCheckDigit(partial: string): string {
  for (let digit = 0; digit <= 9; digit++) {
    if (luhnValid(`${partial}${digit}`)) return String(digit);
  }
  throw new Error("unreachable: one of ten digits always completes a Luhn number");
}

const inRange = (prefix: number, low: number, high: number) => prefix >= low && prefix <= high;

/** The card network, from the number's issuer prefix (IIN ranges); `unknown` when none matches. */
export function brandOf(number: string): string {
  const first = (length: number) => Number(number.slice(0, length));
  if (number.startsWith("4")) return "visa";
  if (inRange(first(2), 51, 55) || inRange(first(4), 2221, 2720)) return "mastercard";
  if (first(2) === 34 || first(2) === 37) return "amex";
  if (number.startsWith("6011") || number.startsWith("65") || inRange(first(3), 644, 649)) return "discover";
  if (inRange(first(4), 3528, 3589)) return "jcb";
  if (inRange(first(3), 300, 305) || first(2) === 36 || first(2) === 38 || first(2) === 39) return "diners";
  if (number.startsWith("62")) return "unionpay";
  if (first(2) === 50 || inRange(first(2), 56, 58) || first(2) === 63 || first(2) === 67) return "maestro";
  return "unknown";
}

/** A card is usable through the last day of its expiry month (UTC). */
export function isExpired(month: number, year: number, now = new Date()): boolean {
  const currentYear = now.getUTCFullYear();
  return year < currentYear || (year === currentYear && month < now.getUTCMonth() + 1);
}

/** Uniform random decimal digits: bytes of 250 and above are discarded so that no digit is favoured. */
function randomDigits(count: number): string {
  let digits = "";
  while (digits.length < count) {
    for (const byte of crypto.getRandomValues(new Uint8Array(count))) {
      if (byte < 250 && digits.length < count) digits += String(byte % 10);
    }
  }
  return digits;
}

/** Issuer prefix of the numbers this service issues (a Visa range). */
const ISSUER_PREFIX = "4000";

export interface IssuedCard {
  number: string;
  cvv: string;
  expiryMonth: number;
  expiryYear: number;
}

/** A new 16-digit Luhn-valid number, a three-digit CVV and an expiry three years ahead. */
export function issueCard(now = new Date()): IssuedCard {
  const body = `${ISSUER_PREFIX}${randomDigits(11)}`;
  return {
    number: `${body}${luhnCheckDigit(body)}`,
    cvv: randomDigits(3),
    expiryMonth: now.getUTCMonth() + 1,
    expiryYear: now.getUTCFullYear() + 3,
  };
}

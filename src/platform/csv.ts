/**
 * CSV as RFC 4180 has it: a header row, CRLF after every record, and a field in double quotes when it
 * holds a comma, a double quote, CR or LF (a double quote doubled inside). Null is an empty field.
 */
export type CsvField = string | number | null;

const field = (value: CsvField): string => {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export const toCsv = (header: readonly string[], rows: readonly (readonly CsvField[])[]): string =>
  [header, ...rows].map((row) => `${row.map(field).join(",")}\r\n`).join("");

export const CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present";

/** True when the client's Accept header asks for CSV (text/csv). */
export const acceptsCsv = (request: Request): boolean =>
  /(^|,)\s*text\/csv\s*(;|,|$)/i.test(request.headers.get("accept") ?? "");

/** A statement's transactions as CSV (RFC 4180): one header row, one record per transaction. */
import { toCsv } from "../../platform/csv.ts";
import type { Statement } from "./model.ts";

const HEADER = [
  "id",
  "createdAt",
  "type",
  "amount",
  "currency",
  "balanceAfter",
  "description",
  "cardId",
  "authorizationId",
  "transferId",
  "refundOf",
  "metadata",
] as const;

/** Amounts in minor units as in JSON; metadata as its JSON text (empty when there is none). */
export const statementCsv = (statement: Statement): string =>
  toCsv(
    HEADER,
    statement.transactions.map((transaction) => [
      transaction.id,
      transaction.createdAt,
      transaction.type,
      transaction.amount,
      transaction.currency,
      transaction.balanceAfter,
      transaction.description,
      transaction.cardId,
      transaction.authorizationId,
      transaction.transferId,
      transaction.refundOf,
      Object.keys(transaction.metadata).length === 0 ? null : JSON.stringify(transaction.metadata),
    ]),
  );

/** An example of the CSV, for the document. */
export const STATEMENT_CSV_EXAMPLE = `${HEADER.join(",")}\r\n01938f6e-7b1c-7c4e-9a4b-2f1d3c5e7a90,2026-11-24T10:00:00.000Z,topup,150000,SGD,150000,Salary,,,,,"{""invoice"":""INV-1""}"\r\n`;

/**
 * Which database failures are the database's (503 database_unavailable: retry shortly) rather than a
 * bug (500), and what each 503 tells a client about when to retry. The behaviour behind each is in
 * tests/ship/failure-semantics.test.ts; failures a test cannot provoke on demand (a reset or a broken
 * pipe) are classified here.
 */
import { describe, expect, test } from "bun:test";
import {
  databaseUnavailable,
  isDatabaseUnavailable,
  outcomeUnknown,
  storageFull,
} from "../../src/platform/errors.ts";

const withCode = (code: string, message = "failed") => Object.assign(new Error(message), { code });

describe("a failure of the database", () => {
  const unavailable = [
    ["57P01 admin shutdown (a switchover, pg_terminate_backend)", withCode("57P01")],
    ["57P02 crash shutdown (another backend crashed)", withCode("57P02")],
    ["57P03 cannot connect now (starting up, shutting down)", withCode("57P03")],
    ["25006 read-only transaction (a demoted primary or a standby)", withCode("25006")],
    ["ECONNREFUSED", withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432")],
    ["ECONNRESET", withCode("ECONNRESET", "read ECONNRESET")],
    ["EPIPE", withCode("EPIPE", "write EPIPE")],
    ["the connection ending mid-query", new Error("Connection terminated unexpectedly")],
    [
      "a query on a client whose connection failed",
      new Error("Client has encountered a connection error and is not queryable"),
    ],
    ["a query on a client being closed", new Error("Client was closed and is not queryable")],
  ] as const;
  for (const [name, error] of unavailable) {
    test(`${name} is the database being unavailable`, () => {
      expect(isDatabaseUnavailable(error)).toBe(true);
    });
  }

  test("a constraint violation is not", () => {
    expect(isDatabaseUnavailable(withCode("23505", "duplicate key value"))).toBe(false);
  });
});

describe("Retry-After on every 503 the database causes", () => {
  test("database_unavailable and outcome_unknown: 1 s, the pool reconnects as soon as the database answers", () => {
    expect(databaseUnavailable().headers).toEqual({ "retry-after": "1" });
    expect(outcomeUnknown().headers).toEqual({ "retry-after": "1" });
  });

  test("storage_full: 30 s, room is made by an operator", () => {
    expect(storageFull().headers).toEqual({ "retry-after": "30" });
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Kind, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import { createApp, DOCUMENTED_MODELS } from "../../src/app.ts";
import { Amount } from "../../src/modules/ledger/model.ts";
import { Role } from "../../src/modules/members/model.ts";
import { Limit } from "../../src/modules/wallets/limits.ts";
import { loadConfig } from "../../src/platform/config.ts";
import { type Database, openDatabase } from "../../src/platform/db.ts";
import { literalUnion } from "../../src/platform/literals.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { MAX_AMOUNT, MAX_BALANCE, MoneyValue } from "../../src/platform/schemas.ts";

/** Named models resolve references to one another by $id, as they do when the app validates. */
const references: TSchema[] = Object.values(DOCUMENTED_MODELS);

const isSchema = (value: unknown): value is TSchema =>
  typeof value === "object" && value !== null && Kind in value;

const examplesOf = (schema: TSchema): unknown[] => (Array.isArray(schema.examples) ? schema.examples : []);

/** Every way `value` fails `schema`, as "path: message" lines (none when it is valid). */
const failures = (schema: TSchema, value: unknown) =>
  [...Value.Errors(schema, references, value)].map((error) => `${error.path}: ${error.message}`);

/** Fields `value` has that `schema` does not declare, at any depth (a response model allows them). */
const undeclared = (schema: TSchema, value: unknown) =>
  Value.Equal(Value.Clean(schema, references, Value.Clone(value)), value) ? [] : [value];

let db: Database;
const requestBodies: { route: string; schema: TSchema }[] = [];

beforeAll(async () => {
  const config = loadConfig({ DATA_DIR: "memory://", LOG_LEVEL: "silent" });
  const logger = createLogger(config);
  // The routes are all this needs; the database is never queried.
  db = await openDatabase(config, logger);
  const app = await createApp({
    config,
    logger,
    db,
    secrets: { adminApiKey: "unused-in-this-test", cardEncryptionKey: new Uint8Array(32) },
  });
  for (const route of app.routes) {
    const body: unknown = route.hooks.body;
    if (isSchema(body)) requestBodies.push({ route: `${route.method} ${route.path}`, schema: body });
  }
});

afterAll(async () => {
  await db.close();
});

describe("the examples the document shows", () => {
  test("every request body has examples, and each is a valid body", () => {
    expect(requestBodies.length).toBeGreaterThan(15);
    for (const { route, schema } of requestBodies) {
      const examples = examplesOf(schema);
      expect(examples.length, route).toBeGreaterThan(0);
      for (const example of examples) expect(failures(schema, example), route).toEqual([]);
    }
  });

  test("every named model has examples, each valid and with no field the model does not declare", () => {
    for (const [name, model] of Object.entries(DOCUMENTED_MODELS)) {
      const examples = examplesOf(model);
      expect(examples.length, name).toBeGreaterThan(0);
      for (const example of examples) {
        expect(failures(model, example), name).toEqual([]);
        expect(undeclared(model, example), name).toEqual([]);
      }
    }
  });
});

describe("enumerations", () => {
  const Direction = literalUnion(["up", "down"], { description: "up or down" });

  test("take their values and refuse any other, with the message a union of literals gives", () => {
    const compiled = TypeCompiler.Compile(Direction);
    for (const value of ["up", "down"]) {
      expect(Value.Check(Direction, value)).toBe(true);
      expect(compiled.Check(value)).toBe(true);
    }
    for (const value of ["UP", "sideways", "", 1, null, undefined, ["up"]]) {
      expect(Value.Check(Direction, value)).toBe(false);
      expect(compiled.Check(value)).toBe(false);
      expect([...compiled.Errors(value)].map((error) => error.message)).toEqual(["Expected union value"]);
    }
  });

  test("are published as a string enum and typed as the union of their values", () => {
    expect(JSON.parse(JSON.stringify(Role))).toEqual({
      description: "admin or member",
      type: "string",
      enum: ["admin", "member"],
    });
    const roles: Static<typeof Role>[] = ["admin", "member"];
    // @ts-expect-error: a role is "admin" or "member", not any string
    const owner: Static<typeof Role> = "owner";
    expect(roles.every((role) => Value.Check(Role, role))).toBe(true);
    expect(Value.Check(Role, owner)).toBe(false);
  });
});

describe("money integers", () => {
  test("are int64 in the document, and validation still takes amounts to 10^12 and balances to 10^15", () => {
    for (const schema of [MoneyValue, Limit, Amount]) expect(schema.format).toBe("int64");
    const cases: [TSchema, unknown, boolean][] = [
      [Amount, MAX_AMOUNT, true],
      [Amount, MAX_AMOUNT + 1, false],
      [MoneyValue, MAX_BALANCE, true],
      [MoneyValue, MAX_BALANCE + 1, false],
      [Limit, MAX_BALANCE, true],
      [Limit, 1.5, false],
      [Limit, "500000", false],
    ];
    for (const [schema, value, valid] of cases) {
      expect(Value.Check(schema, value), String(value)).toBe(valid);
      expect(TypeCompiler.Compile(schema).Check(value), String(value)).toBe(valid);
    }
  });
});

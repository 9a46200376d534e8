/**
 * What makes the committed document one every client generator reads alike (tests/http/openapi.test.ts
 * checks that it is what the service serves): described operations, enumerations as `enum`, 64-bit
 * money, named models referenced rather than copied, and examples.
 */
import { describe, expect, test } from "bun:test";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const document = (await Bun.file(
  new URL("../../openapi/openapi.json", import.meta.url),
).json()) as JsonObject;
const paths = isObject(document.paths) ? document.paths : {};
const components = isObject(document.components) ? document.components : {};
const schemas = isObject(components.schemas) ? components.schemas : {};

/** Every object in the document with the JSON pointer-like path to it. */
function* objects(value: Json, path = "#"): Generator<[string, JsonObject]> {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* objects(item, `${path}/${index}`);
  } else if (isObject(value)) {
    yield [path, value];
    for (const [key, item] of Object.entries(value)) yield* objects(item, `${path}/${key}`);
  }
}

const operations = Object.entries(paths).flatMap(([path, item]) =>
  Object.entries(isObject(item) ? item : {}).map(([method, operation]) => ({
    where: `${method.toUpperCase()} ${path}`,
    operation: isObject(operation) ? operation : {},
  })),
);

/** The money fields of the API: amounts reach 10^12, balances and limits 10^15. */
const MONEY_FIELDS = new Set([
  "amount",
  "balance",
  "availableBalance",
  "dailyLimit",
  "monthlyLimit",
  "spentToday",
  "spentThisMonth",
  "capturedAmount",
  "refundedAmount",
  "balanceAfter",
]);

describe("the committed OpenAPI document", () => {
  test("every operation has a description beyond its summary", () => {
    expect(operations.length).toBeGreaterThan(40);
    for (const { where, operation } of operations) {
      const description = typeof operation.description === "string" ? operation.description : "";
      expect(description.length, where).toBeGreaterThan(20);
      expect(description, where).not.toBe(operation.summary ?? "");
    }
  });

  test("enumerations are { type: string, enum }, never const or an anyOf of consts", () => {
    const enums = [...objects(document)].filter(([, schema]) => Array.isArray(schema.enum));
    expect(enums.length).toBeGreaterThan(10);
    for (const [path, schema] of enums) expect(schema.type, path).toBe("string");
    for (const [path, schema] of objects(document)) expect(Object.keys(schema), path).not.toContain("const");
  });

  test("every money integer, in requests and responses, is format int64", () => {
    let money = 0;
    for (const [path, schema] of objects(document)) {
      if (!isObject(schema.properties)) continue;
      for (const [name, property] of Object.entries(schema.properties)) {
        if (!MONEY_FIELDS.has(name) || !isObject(property)) continue;
        money++;
        expect(property.type, `${path}/${name}`).toBe("integer");
        expect(property.format, `${path}/${name}`).toBe("int64");
      }
    }
    expect(money).toBeGreaterThan(25);
  });

  test("lists, bulk deletes and transfers $ref their items' model instead of copying it", () => {
    const listed = Object.entries(schemas).filter(([name]) => /Page$|^Deleted/.test(name));
    expect(listed.length).toBeGreaterThan(10);
    const transfer = schemas.Transfer;
    const itemsOf = (schema: Json | undefined, field: string) =>
      isObject(schema) && isObject(schema.properties) && isObject(schema.properties[field])
        ? schema.properties[field].items
        : undefined;
    for (const [where, items] of [
      ...listed.map(([name, schema]): [string, Json | undefined] => [name, itemsOf(schema, "data")]),
      ["Transfer.transactions", itemsOf(transfer, "transactions")] as [string, Json | undefined],
    ]) {
      const ref = isObject(items) ? items.$ref : undefined;
      expect(typeof ref === "string" ? ref : "", where).toMatch(/^#\/components\/schemas\/\w+$/);
      expect(Object.keys(schemas), where).toContain(String(ref).split("/").pop() ?? "");
    }
  });

  test("every named schema and every request body has examples", () => {
    for (const [name, schema] of Object.entries(schemas)) {
      const examples = isObject(schema) ? schema.examples : undefined;
      expect(Array.isArray(examples) && examples.length > 0, name).toBe(true);
    }
    for (const { where, operation } of operations) {
      const body = isObject(operation.requestBody) ? operation.requestBody : undefined;
      if (body === undefined) continue;
      const content = isObject(body.content) ? body.content["application/json"] : undefined;
      const schema = isObject(content) ? content.schema : undefined;
      const examples = isObject(schema) ? schema.examples : undefined;
      expect(Array.isArray(examples) && examples.length > 0, where).toBe(true);
    }
  });
});

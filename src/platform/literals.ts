import { Kind, type SchemaOptions, type TSchema, type TUnsafe, Type, TypeRegistry } from "@sinclair/typebox";
import { DefaultErrorFunction, SetErrorFunction, ValueErrorType } from "@sinclair/typebox/errors";

/** TypeBox kind of a string that is one of a fixed list of values. */
const STRING_ENUM_KIND = "StringEnum";

interface StringEnumSchema extends TSchema {
  enum: readonly string[];
}

TypeRegistry.Set<StringEnumSchema>(
  STRING_ENUM_KIND,
  (schema, value) => typeof value === "string" && schema.enum.includes(value),
);

// A value outside the list gets the message TypeBox gives a union of literals ("Expected union
// value"), which the HTTP pipeline words from the schema's description, as it did before the list was
// published as an enum; every other message is TypeBox's own.
SetErrorFunction((error) =>
  error.errorType === ValueErrorType.Kind && error.schema[Kind] === STRING_ENUM_KIND
    ? "Expected union value"
    : DefaultErrorFunction(error),
);

/**
 * One of a list of strings, typed as the union of its values and published as
 * `{ "type": "string", "enum": [...] }`, the form every client generator reads as an enumeration (a
 * TypeBox union of literals would be an `anyOf` of `const`s).
 */
export function literalUnion<const Values extends readonly [string, ...string[]]>(
  values: Values,
  options?: SchemaOptions,
): TUnsafe<Values[number]> {
  return Type.Unsafe<Values[number]>({ ...options, [Kind]: STRING_ENUM_KIND, type: "string", enum: values });
}

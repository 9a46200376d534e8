import { type SchemaOptions, type TLiteral, type TUnion, Type } from "@sinclair/typebox";

type Literals<Values extends readonly string[]> = { [Index in keyof Values]: TLiteral<Values[Index]> };

/**
 * A union of string literals from a list of values, typed as precisely as if each literal were
 * written out (Array.map alone would widen them to string).
 */
export function literalUnion<const Values extends readonly [string, ...string[]]>(
  values: Values,
  options?: SchemaOptions,
): TUnion<[...Literals<Values>]> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as unknown as TUnion<[...Literals<Values>]>;
}

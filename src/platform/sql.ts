import type pg from "pg";
import type { Queryable } from "./db.ts";

/** Timestamps leave the service as RFC 3339 strings in UTC. */
export const iso = (value: Date): string => value.toISOString();

export const isoOrNull = (value: Date | null): string | null => (value === null ? null : value.toISOString());

/**
 * Builds `SET a = $n, b = $n+1, updated_at = $now` from the defined entries of `changes`, mapping each
 * field to its column; `$nowParameter` is the service clock's "now". Columns come from the fixed
 * `columns` map, never from client text.
 */
export function setClause<Field extends string>(
  changes: Partial<Record<Field, unknown>>,
  columns: Record<Field, string>,
  firstParameter: number,
  nowParameter: number,
): { sql: string; values: unknown[] } {
  const assignments: string[] = [];
  const values: unknown[] = [];
  for (const field of Object.keys(columns) as Field[]) {
    const value = changes[field];
    if (value === undefined) continue;
    values.push(value);
    assignments.push(`${columns[field]} = $${firstParameter + values.length - 1}`);
  }
  assignments.push(`updated_at = $${nowParameter}`);
  return { sql: assignments.join(", "), values };
}

/** The single row a statement must have returned (an INSERT or UPDATE … RETURNING of a known row). */
export function onlyRow<Row>(result: { rows: Row[] }): Row {
  const row = result.rows[0];
  if (row === undefined) throw new Error("the statement returned no row");
  return row;
}

/**
 * WHERE conditions for the filters a client gave: `<condition> $n` for each defined value, whose value
 * is appended to `values`. Conditions ("wallet_id =", "created_at >=") are fixed in code, never client text.
 */
export function filterConditions(
  filters: readonly (readonly [condition: string, value: unknown])[],
  values: unknown[],
): string[] {
  const conditions: string[] = [];
  for (const [condition, value] of filters) {
    if (value === undefined) continue;
    values.push(value);
    conditions.push(`${condition} $${values.length}`);
  }
  return conditions;
}

/** The parameters of one statement composed of parts: each part binds its own values and gets their `$n`. */
export class Parameters {
  readonly values: unknown[] = [];

  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * A change as common table expressions (`name AS (INSERT …)`) for the WITH clause of one statement.
 * Names are the part's own (prefixed by its table), so parts compose without clashing.
 */
export type Writes = (parameters: Parameters) => string[];

/**
 * Runs `writes` as one statement: one round trip whatever their number. PostgreSQL runs each
 * data-modifying CTE once and to completion, all on one snapshot, and checks foreign keys at the end
 * of the statement, so a part may reference rows another part inserts; two parts must never change
 * the same row (only one of the changes would take effect). Returns the rows of `select`, a query over
 * the parts' CTEs.
 */
export async function writeTogether<Row extends pg.QueryResultRow>(
  db: Queryable,
  writes: readonly Writes[],
  select = "SELECT 1",
): Promise<Row[]> {
  const parameters = new Parameters();
  const expressions = writes.flatMap((write) => write(parameters));
  if (expressions.length === 0) return [];
  const result = await db.query<Row>(`WITH ${expressions.join(",\n")}\n${select}`, parameters.values);
  return result.rows;
}

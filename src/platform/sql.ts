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

/** A list request after validation: paging, a whitelisted sort column and direction. */
export interface ListOptions<Sort extends string> {
  limit: number;
  skip: number;
  sortBy: Sort;
  direction: "ASC" | "DESC";
}

export interface Page<Item> {
  data: Item[];
  skip: number;
  limit: number;
  hasMore: boolean;
}

interface ListQuery<Sort extends string> {
  limit?: number;
  skip?: number;
  sortBy?: Sort;
  sort?: string;
}

export function listOptions<Sort extends string>(
  query: ListQuery<Sort>,
  defaultSort: Sort,
): ListOptions<Sort> {
  return {
    limit: query.limit ?? 20,
    skip: query.skip ?? 0,
    sortBy: query.sortBy ?? defaultSort,
    direction: query.sort?.toLowerCase() === "asc" ? "ASC" : "DESC",
  };
}

/**
 * ORDER BY / LIMIT / OFFSET for a list. The column comes from `columns`, a fixed map from the
 * whitelisted sort field, so no client text ever reaches the SQL. `id` breaks ties, keeping pages stable.
 * One extra row is fetched to tell whether there is a next page.
 */
export function pageClause<Sort extends string>(
  options: ListOptions<Sort>,
  columns: Record<Sort, string>,
  nextParameter: number,
  tiebreak = "id",
): string {
  const column = columns[options.sortBy];
  return `ORDER BY ${column} ${options.direction}, ${tiebreak} ${options.direction} LIMIT $${nextParameter} OFFSET $${nextParameter + 1}`;
}

export const pageValues = (options: ListOptions<string>) => [options.limit + 1, options.skip];

export function toPage<Row, Item>(
  rows: Row[],
  options: ListOptions<string>,
  map: (row: Row) => Item,
): Page<Item> {
  return {
    data: rows.slice(0, options.limit).map(map),
    skip: options.skip,
    limit: options.limit,
    hasMore: rows.length > options.limit,
  };
}

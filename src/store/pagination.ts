/**
 * Keyset pagination shared by every list. A page is ordered by a sort key plus the id as a
 * tie-breaker. `after` returns the items that follow the cursor item in the requested order;
 * `before` returns the nearest `limit` items that precede it, still in the requested order —
 * so paging backwards from a page's first item yields exactly the previous page. Given
 * both, the page holds the items strictly between the two cursors, in the requested order,
 * starting next to `after`.
 */
import type { SqlParam } from "./executor.js";

export type SortOrder = "asc" | "desc";

export interface Keyset {
  /** SQL expressions, most significant first; the last must be unique (the id). */
  columns: readonly string[];
}

export interface PageRequest {
  order: SortOrder;
  limit: number;
  /** Key values of the cursor item, in `columns` order. */
  after?: readonly SqlParam[];
  before?: readonly SqlParam[];
}

export interface PagePlan {
  where: string | undefined;
  params: SqlParam[];
  orderBy: string;
  limit: number;
  /** Rows come back in the reverse of the requested order and must be flipped. */
  reversed: boolean;
}

export function planPage(keyset: Keyset, page: PageRequest): PagePlan {
  const tuple = `(${keyset.columns.join(", ")})`;
  const bound = (op: string, cursor: readonly SqlParam[]) => `${tuple} ${op} (${cursor.map(() => "?").join(", ")})`;
  const forward = page.order === "asc" ? ">" : "<";
  const backward = page.order === "asc" ? "<" : ">";
  if (page.after !== undefined && page.before !== undefined) {
    return {
      where: `${bound(forward, page.after)} AND ${bound(backward, page.before)}`,
      params: [...page.after, ...page.before],
      orderBy: keyset.columns.map((c) => `${c} ${page.order === "asc" ? "ASC" : "DESC"}`).join(", "),
      limit: page.limit,
      reversed: false,
    };
  }
  const cursor = page.before ?? page.after;
  const backwards = page.before !== undefined;
  // Scan direction: the requested order, or its reverse when reading the page before a cursor.
  const ascending = (page.order === "asc") !== backwards;
  const direction = ascending ? "ASC" : "DESC";
  return {
    where: cursor === undefined ? undefined : bound(ascending ? ">" : "<", cursor),
    params: cursor === undefined ? [] : [...cursor],
    orderBy: keyset.columns.map((c) => `${c} ${direction}`).join(", "),
    limit: page.limit,
    reversed: backwards,
  };
}

export function applyOrder<T>(rows: T[], plan: PagePlan): T[] {
  return plan.reversed ? rows.reverse() : rows;
}

import { InvalidArgumentError } from "../core/errors.js";
import { type IdPrefix, requireId } from "../core/ids.js";
import { LIMITS } from "../core/validate.js";
import type { SqlParam } from "../store/executor.js";
import type { PageRequest, SortOrder } from "../store/pagination.js";

export interface PageInput {
  before?: string | null;
  after?: string | null;
  limit?: number | null;
  order?: SortOrder | null;
}

/**
 * Resolves checked page parameters (their schema is common.ts's PageQuery) and the cursor
 * id to its sort key with `lookup`. An
 * id that names no visible item is rejected: silently restarting from the top would make a
 * client page forever.
 */
export async function resolvePage(
  input: PageInput,
  prefix: IdPrefix,
  defaultOrder: SortOrder,
  lookup: (id: string) => Promise<SqlParam[] | undefined>,
): Promise<PageRequest> {
  const order = input.order ?? defaultOrder;
  const limit = input.limit ?? LIMITS.pageDefault;
  const page: PageRequest = { order, limit };
  for (const field of ["before", "after"] as const) {
    const id = input[field];
    if (id == null) continue;
    requireId(prefix, id, field);
    const key = await lookup(id);
    if (key === undefined) {
      throw new InvalidArgumentError(`${field} cursor '${id}' does not name an item of this list; pass the id of an item from a previous page`);
    }
    page[field] = key;
  }
  return page;
}

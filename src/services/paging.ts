import { InvalidArgumentError } from "../core/errors.js";
import { type IdPrefix, requireId } from "../core/ids.js";
import { LIMITS, optionalEnum, optionalInteger } from "../core/validate.js";
import type { SqlParam } from "../store/executor.js";
import type { PageRequest, SortOrder } from "../store/pagination.js";

export interface PageInput {
  before?: string | null;
  after?: string | null;
  limit?: number | null;
  order?: SortOrder | null;
}

/**
 * Validates page parameters and resolves the cursor id to its sort key with `lookup`. An
 * id that names no visible item is rejected: silently restarting from the top would make a
 * client page forever.
 */
export async function resolvePage(
  input: PageInput,
  prefix: IdPrefix,
  defaultOrder: SortOrder,
  lookup: (id: string) => Promise<SqlParam[] | undefined>,
): Promise<PageRequest> {
  const order = optionalEnum(input.order, "order", ["asc", "desc"] as const) ?? defaultOrder;
  const limit = optionalInteger(input.limit, "limit", 1, LIMITS.pageMax) ?? LIMITS.pageDefault;
  if (input.before != null && input.after != null) {
    throw new InvalidArgumentError("give either before or after, not both");
  }
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

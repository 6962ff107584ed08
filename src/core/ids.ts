import { randomUUID } from "node:crypto";
import { InvalidArgumentError } from "./errors.js";

export const ID_PREFIXES = ["org", "agent", "run", "step", "message", "key", "delivery"] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

const UUID_V4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
const patterns = new Map<IdPrefix, RegExp>(
  ID_PREFIXES.map((prefix) => [prefix, new RegExp(`^${prefix}-${UUID_V4}$`)]),
);

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomUUID()}`;
}

export function isId(prefix: IdPrefix, value: unknown): value is string {
  return typeof value === "string" && patterns.get(prefix)!.test(value);
}

/** Returns the id unchanged, or throws a 400-class error naming the expected format. */
export function requireId(prefix: IdPrefix, value: unknown, field = `${prefix}_id`): string {
  if (isId(prefix, value)) return value;
  const shown = typeof value === "string" ? `'${value.slice(0, 80)}'` : String(value);
  throw new InvalidArgumentError(
    `${field} ${shown} is not a valid ${prefix} id: expected '${prefix}-' followed by a lowercase UUID v4, e.g. '${prefix}-123e4567-e89b-42d3-a456-426614174000'`,
  );
}

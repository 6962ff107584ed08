/** Schema building blocks shared by every input and response schema. */
import { type Static, type TSchema, type TUnsafe, Type } from "typebox";
import type { JsonObject as JsonObjectValue } from "../model.js";
import { LIMITS } from "../validate.js";

const SCALARS = new Set(["string", "integer", "number", "boolean"]);

/**
 * `T | null`. A scalar becomes `type: [T, "null"]` (an enum also lists null) rather than an
 * anyOf: the response serializer writes a type list directly, but for an anyOf it runs a
 * validator on every value to pick the branch — a real cost on a 100-run page.
 */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const plain = schema as unknown as { type?: unknown; enum?: unknown[] };
  if (typeof plain.type === "string" && SCALARS.has(plain.type)) {
    return Type.Unsafe<Static<T> | null>({
      ...plain,
      type: [plain.type, "null"],
      ...(plain.enum === undefined ? {} : { enum: [...plain.enum, null] }),
    });
  }
  return Type.Union([schema, Type.Null()]) as unknown as TUnsafe<Static<T> | null>;
}

export const Timestamp = Type.String({ format: "date-time", description: "ISO 8601 UTC timestamp" });
export const NullableTimestamp = Nullable(Timestamp);

export const id = (prefix: string) =>
  Type.String({ description: `${prefix}-<uuid v4>`, examples: [`${prefix}-123e4567-e89b-42d3-a456-426614174000`] });

export const JsonObject = Type.Unsafe<JsonObjectValue>({ type: "object", additionalProperties: true, description: "Any JSON object" });

export const Tags = Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.tag }), { maxItems: LIMITS.tags });

export const PageQuery = {
  before: Type.Optional(Type.String({ description: "Return the page immediately before this item, in the requested order; with after, the items strictly between the two" })),
  after: Type.Optional(Type.String({ description: "Return the items after this item, in the requested order" })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageMax, description: `Page size (default ${LIMITS.pageDefault})` })),
  order: Type.Optional(Type.Union([Type.Literal("asc"), Type.Literal("desc")])),
};

export const StringEnum = <T extends string>(values: readonly T[], options: object = {}) =>
  Type.Unsafe<T>({ type: "string", enum: [...values], ...options });

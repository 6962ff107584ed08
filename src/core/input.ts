/**
 * Every input has one JSON schema (in `core/schemas/`), compiled once per process and used
 * by both entry points: the services check what library callers pass, and the HTTP layer
 * checks requests with the very same compiled validators (and publishes the schemas in the
 * OpenAPI document). A violation is a ValidationError whose problems read the same either way.
 *
 * Before its schema, every input is checked for what no schema can say: a NUL character in
 * a string or key (PostgreSQL's text and jsonb cannot store one, so it would fail deep in a
 * write), a number that is not finite (JSON.parse reads 1e400 as Infinity, which would be
 * stored as null) and nesting deeper than MAX_JSON_DEPTH (a deeper value overflows the stack
 * of whatever walks it recursively: JSON.stringify, the drivers). Each is an
 * InvalidArgumentError naming the field, the same for an HTTP body or query and for a
 * library call.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsPlugin from "ajv-formats";
import type { Static, TSchema } from "typebox";
import { InvalidArgumentError, ValidationError } from "./errors.js";

export const MAX_JSON_DEPTH = 64;

const addFormats = addFormatsPlugin as unknown as <T>(ajv: T) => T;
const OPTIONS = { removeAdditional: false, useDefaults: true, allErrors: true, strict: false } as const;

/**
 * Exact: values must already have the schema's types (library calls, JSON bodies).
 * Coercing: text from query strings, paths and headers becomes the schema's types, and a lone
 * value an array (`statuses=a` is `["a"]`).
 */
export type InputMode = "exact" | "coercing";

const compilers: { readonly [mode in InputMode]: Ajv } = {
  exact: addFormats(new Ajv({ ...OPTIONS, coerceTypes: false })),
  coercing: addFormats(new Ajv({ ...OPTIONS, coerceTypes: "array" })),
};
const compiled: { readonly [mode in InputMode]: WeakMap<object, ValidateFunction> } = { exact: new WeakMap(), coercing: new WeakMap() };

export function inputValidator(schema: object, mode: InputMode = "exact"): ValidateFunction {
  let validate = compiled[mode].get(schema);
  if (validate === undefined) {
    validate = compilers[mode].compile(schema);
    compiled[mode].set(schema, validate);
  }
  return validate;
}

/** Returns `value` typed by its schema, or throws a ValidationError naming each bad field. */
export function checkInput<T extends TSchema>(schema: T, value: unknown): Static<T> {
  checkJsonValue(value);
  const validate = inputValidator(schema);
  if (!validate(value)) throw validationError(validate.errors ?? []);
  return value as Static<T>;
}

/** `context` names the part of a request the issues are about when it is not the input itself (a path parameter, a header). */
export function validationError(issues: readonly ErrorObject[], context?: string): ValidationError {
  // A nullable object is `anyOf [object, null]`: when it fails, what was wrong with the object
  // is the news, not that it was not null either.
  const meaningful = issues.filter((issue) => issue.keyword !== "anyOf" && !(issue.keyword === "type" && issue.params.type === "null"));
  return new ValidationError((meaningful.length > 0 ? meaningful : issues).map((issue) => describeIssue(issue, context)));
}

function describeIssue(issue: ErrorObject, context: string | undefined): string {
  const path = issue.instancePath.replace(/^\//, "").replace(/\//g, ".");
  const where = [context, path].filter(Boolean).join(".") || "request";
  switch (issue.keyword) {
    case "additionalProperties":
      return `${where}: unknown field '${String(issue.params.additionalProperty)}'`;
    case "enum":
      return `${where} must be one of ${(issue.params.allowedValues as unknown[]).join(", ")}`;
    case "required":
      return `${where}: missing required field '${String(issue.params.missingProperty)}'`;
    default:
      return `${where} ${issue.message ?? "is invalid"}`;
  }
}

/**
 * Checks a query (filters, paging): as with Letta's client's empty `key=`, a null value
 * means "not given", so null properties are dropped before the check.
 */
export function checkQuery<T extends TSchema>(schema: T, query: unknown): Static<T> {
  if (query === null || typeof query !== "object" || Array.isArray(query)) return checkInput(schema, query);
  const given = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== null && value !== undefined));
  return checkInput(schema, given);
}

interface Pending {
  value: unknown;
  path: string;
  depth: number;
}

/**
 * Throws when `value` holds a NUL character or a number that is not finite, or nests deeper
 * than MAX_JSON_DEPTH (the root is level 1). The walk is iterative, so a value nested a
 * million deep — or a cyclic one from an in-process caller — is refused rather than
 * overflowing the stack.
 */
export function checkJsonValue(value: unknown): void {
  const pending: Pending[] = [{ value, path: "", depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: item, path, depth } = next;
    if (typeof item === "string") {
      if (item.includes("\0")) throw new InvalidArgumentError(`${path || "the input"} holds a NUL character (\\u0000); remove it`);
      continue;
    }
    if (typeof item === "number") {
      // JSON.parse reads 1e400 as Infinity, which JSON cannot write back: it would be stored as null.
      if (!Number.isFinite(item)) throw new InvalidArgumentError(`${path || "the input"} is a number beyond what JSON can hold (${item}); send a finite number`);
      continue;
    }
    if (item === null || typeof item !== "object") continue;
    if (depth > MAX_JSON_DEPTH) {
      throw new InvalidArgumentError(`${path.split(".")[0] || "the input"} nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`);
    }
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) pending.push({ value: item[i], path: joinPath(path, String(i)), depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(item)) {
      if (key.includes("\0")) throw new InvalidArgumentError(`${path || "the input"} has a key holding a NUL character (\\u0000); remove it`);
      pending.push({ value: (item as Record<string, unknown>)[key], path: joinPath(path, key), depth: depth + 1 });
    }
  }
}

function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

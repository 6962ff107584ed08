/**
 * Every input has one JSON schema (in `core/schemas/`), compiled once per process and used
 * by both entry points: the services check what library callers pass, and the HTTP layer
 * checks requests with the very same compiled validators (and publishes the schemas in the
 * OpenAPI document). A violation is a ValidationError whose problems read the same either way.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsPlugin from "ajv-formats";
import type { Static, TSchema } from "typebox";
import { ValidationError } from "./errors.js";

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

/**
 * The error classes every layer raises. Each carries a machine code; the HTTP layer maps
 * codes to statuses in one place, and both store backends raise the same classes with the
 * same messages, so a caller cannot tell which database answered.
 */
export type ErrorCode =
  | "VALIDATION_ERROR"
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "INVALID_TRANSITION"
  | "CONFLICT"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "UNAVAILABLE";

export class LedgerError extends Error {
  readonly code: ErrorCode;
  /** Problems with individual fields, for schema-style errors. */
  readonly problems: readonly string[] | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; problems?: string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.problems = options?.problems;
  }
}

/** The caller sent something malformed: a bad id, a wrong type, an out-of-range value. */
export class InvalidArgumentError extends LedgerError {
  constructor(message: string, options?: { cause?: unknown; problems?: string[] }) {
    super("INVALID_ARGUMENT", message, options);
  }
}

/**
 * The input does not match its schema (a wrong type, an unknown or missing field, a value
 * outside its range or list). One problem per field; the message lists them all. The HTTP
 * layer answers these 422, whether its own schema check or a service found them.
 */
export class ValidationError extends LedgerError {
  constructor(problems: string[]) {
    super("VALIDATION_ERROR", `invalid request: ${problems.join("; ")}`, { problems });
  }
}

/** The resource does not exist, or belongs to another organization (never revealed). */
export class NotFoundError extends LedgerError {
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

/** The run's state machine does not allow the requested change. Retrying cannot help. */
export class InvalidTransitionError extends LedgerError {
  constructor(message: string) {
    super("INVALID_TRANSITION", message);
  }
}

/** The request conflicts with stored state (an idempotency key reused with another body, a duplicate id). */
export class ConflictError extends LedgerError {
  constructor(message: string) {
    super("CONFLICT", message);
  }
}

export class UnauthenticatedError extends LedgerError {
  constructor(message: string) {
    super("UNAUTHENTICATED", message);
  }
}

export class PermissionDeniedError extends LedgerError {
  constructor(message: string) {
    super("PERMISSION_DENIED", message);
  }
}

/**
 * The database cannot be reached or is restarting: nothing was written, or (when the
 * connection dropped during COMMIT) the outcome is unknown. Retrying after a short wait is
 * the fix; the HTTP layer answers 503 with Retry-After.
 */
export class UnavailableError extends LedgerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("UNAVAILABLE", message, options);
  }
}

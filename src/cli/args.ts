/**
 * The command line, parsed by Node's `util.parseArgs` in strict mode: words, `--option value`
 * or `--option=value`, and switches. Every option any command takes is declared here; each
 * command then reads its own and refuses the rest, so a typo never passes silently.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

const text = { type: "string" } as const;
const repeated = { type: "string", multiple: true } as const;
const OPTIONS = {
  json: { type: "boolean" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean" },
  status: repeated,
  tag: repeated,
  after: text,
  "agent-id": text,
  "api-key": text,
  bucket: text,
  "conversation-id": text,
  "created-after": text,
  "created-before": text,
  "database-url": text,
  "group-by": text,
  limit: text,
  name: text,
  "older-than": text,
  order: text,
  org: text,
  "project-id": text,
  role: text,
  "stop-reason": text,
  url: text,
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

type Values = Partial<Record<string, string | boolean | string[]>>;

/** Parses with `util.parseArgs` (strict); its refusals become UsageErrors (exit code 2). */
function strictArgs<T extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export class Options {
  private readonly used = new Set<string>();
  private readonly values: Values;
  readonly words: string[];

  constructor(argv: readonly string[]) {
    const parsed = strictArgs(argv, OPTIONS, true);
    this.values = parsed.values as Values;
    this.words = parsed.positionals;
  }

  string(name: string): string | undefined {
    this.used.add(name);
    const value = this.values[name];
    return typeof value === "string" ? value : undefined;
  }

  all(name: string): string[] | undefined {
    this.used.add(name);
    const value = this.values[name];
    return Array.isArray(value) ? value : undefined;
  }

  flag(name: string): boolean {
    this.used.add(name);
    return this.values[name] === true;
  }

  integer(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got '${value}'`);
    return n;
  }

  /** Fails on options the command did not read. */
  rejectUnknown(command: string): void {
    const unknown = Object.keys(this.values).filter((k) => this.values[k] !== undefined && !this.used.has(k));
    if (unknown.length > 0) throw new UsageError(`${command} does not take ${unknown.map((k) => `--${k}`).join(", ")}; see 'runledger help'`);
  }
}

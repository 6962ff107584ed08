/** Command-line words and `--flag value` / `--flag=value` / `--switch` options. */
export class UsageError extends Error {}

export interface Parsed {
  words: string[];
  options: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], switches: readonly string[]): Parsed {
  const words: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (switches.includes(name)) value = "true";
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    options.set(name, [...(options.get(name) ?? []), value]);
  }
  return { words, options };
}

export class Options {
  private readonly used = new Set<string>();
  constructor(private readonly parsed: Parsed) {}

  get words(): string[] {
    return this.parsed.words;
  }

  string(name: string): string | undefined {
    this.used.add(name);
    return this.parsed.options.get(name)?.at(-1);
  }

  all(name: string): string[] | undefined {
    this.used.add(name);
    return this.parsed.options.get(name);
  }

  flag(name: string): boolean {
    this.used.add(name);
    return this.parsed.options.get(name)?.at(-1) === "true";
  }

  integer(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got '${value}'`);
    return n;
  }

  /** Fails on options the command did not read: a typo never passes silently. */
  rejectUnknown(command: string): void {
    const unknown = [...this.parsed.options.keys()].filter((k) => !this.used.has(k));
    if (unknown.length > 0) throw new UsageError(`${command} does not take ${unknown.map((k) => `--${k}`).join(", ")}; see 'runledger help'`);
  }
}

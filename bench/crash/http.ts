/**
 * Requests of the crash bench: every answer is counted by status (and, while the database
 * is restarting, in the outage's own tally), with a 10 s client timeout that counts as a
 * failure, never as a wait.
 */
export const CLIENT_TIMEOUT_MS = 10_000;

export type Outcome = number | "network" | "timeout";

export interface Answer {
  status: Outcome;
  body: unknown;
  headers: Headers | undefined;
}

/** What the outage tally records beyond counts: whether each 503 explained itself. */
export interface OutageTally {
  counts: Map<Outcome, number>;
  /** 503s without a `{detail, code}` body or without Retry-After. */
  unexplained503: number;
  /** The slowest answer (ms) seen during the outage. */
  slowestMs: number;
}

export class Traffic {
  readonly counts = new Map<Outcome, number>();
  /** 500s and client timeouts outside the outage, with the request that got them. */
  readonly failures: string[] = [];
  outage: OutageTally | undefined;
  readonly outages: OutageTally[] = [];

  constructor(private readonly authorization: string) {}

  beginOutage(): void {
    this.outage = { counts: new Map(), unexplained503: 0, slowestMs: 0 };
    this.outages.push(this.outage);
  }

  endOutage(): void {
    this.outage = undefined;
  }

  async call(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, key = this.authorization): Promise<Answer> {
    const started = performance.now();
    let answer: Answer;
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: key, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        // not JSON; kept as text
      }
      answer = { status: response.status, body: parsed, headers: response.headers };
    } catch (error) {
      const name = (error as Error).name;
      answer = { status: name === "TimeoutError" || name === "AbortError" ? "timeout" : "network", body: String(error), headers: undefined };
    }
    this.count(answer, performance.now() - started, `${method} ${path}`);
    return answer;
  }

  private count(answer: Answer, ms: number, what: string): void {
    bump(this.counts, answer.status);
    const outage = this.outage;
    if (outage !== undefined) {
      bump(outage.counts, answer.status);
      outage.slowestMs = Math.max(outage.slowestMs, ms);
      if (answer.status === 503 && !explained(answer)) outage.unexplained503++;
      return;
    }
    if (answer.status === 500 || answer.status === "timeout") {
      if (this.failures.length < 20) this.failures.push(`${what}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
  }
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function explained(answer: Answer): boolean {
  const body = answer.body as { detail?: unknown; code?: unknown } | undefined;
  return typeof body?.detail === "string" && typeof body.code === "string" && answer.headers?.get("retry-after") != null;
}

export function isOk(status: Outcome): boolean {
  return typeof status === "number" && status >= 200 && status < 300;
}

/** Worth sending again: the server was away, restarting or unable to reach its database. */
export function isTransient(status: Outcome): boolean {
  return typeof status !== "number" || status >= 500;
}

export { sleep } from "../proc.js";

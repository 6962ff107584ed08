/**
 * The soak's load: open loop, on fixed schedules (a request leaves when it is due whatever
 * the answers so far; a latency counts from when the request was due, so a stall shows in
 * the figures instead of slowing the sender). Requests go to the server processes round
 * robin.
 *
 * - lifecycles: create (with callback_url) → running → 2 steps with usage → 5 messages →
 *   the end, 200 ms apart. Of every 10: 5 complete, 3 complete "backfilled" (completed_at
 *   two days ago, so the retention policy of 1 day deletes them at the sweeper's next pass),
 *   1 fails, 1 is cancelled. Each carries a callback_url.
 * - reads: a recent run or its messages by id, the run list under rotating filters, and
 *   statistics under rotating groupings.
 * - bulk delete: every few seconds, the runs created more than `keepS` ago, so the stored
 *   runs stay at a steady count (about rate × keepS) and the reads see the same data size
 *   throughout.
 */
import { sleep } from "../proc.js";
import type { Recorder } from "./recorder.js";

export interface Rates {
  lifecyclesPerS: number;
  getsPerS: number;
  listsPerS: number;
  statsPerS: number;
  bulkDeleteEveryS: number;
  keepS: number;
}

export const RATES: Rates = { lifecyclesPerS: 8, getsPerS: 8, listsPerS: 4, statsPerS: 1, bulkDeleteEveryS: 10, keepS: 90 };

export interface LoadTarget {
  baseUrls: readonly string[];
  apiKey: string;
  agentIds: readonly string[];
  callbackUrl: string;
}

type Outcome = "completed" | "backfilled" | "failed" | "cancelled";
const OUTCOMES: readonly Outcome[] = ["completed", "backfilled", "completed", "failed", "completed", "backfilled", "completed", "cancelled", "completed", "backfilled"];
const MODELS = ["gpt-4o", "claude-sonnet"];
const STEP_GAP_MS = 200;
const TWO_DAYS_MS = 2 * 86_400_000;
const MESSAGES = [
  { message_type: "user_message", content: "What is the weather in Paris?" },
  { message_type: "reasoning_message", reasoning: "The user wants the current weather; call the weather tool." },
  { message_type: "tool_call_message", tool_call: { name: "get_weather", arguments: '{"city":"Paris"}', tool_call_id: "call_1" } },
  { message_type: "tool_return_message", tool_return: '{"temp_c":18,"sky":"clear"}', tool_call_id: "call_1", status: "success" },
  { message_type: "assistant_message", content: "It is 18 °C and clear in Paris." },
];

/** Fires `fire(due, n)` `rate` times a second on a fixed schedule until the returned stop is called. */
function every(rate: number, fire: (due: number, n: number) => void): () => void {
  const start = performance.now();
  const interval = 1_000 / rate;
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    while (!stopped && start + n * interval <= performance.now()) fire(start + n * interval, n++);
    if (!stopped) timer = setTimeout(tick, Math.max(0, start + n * interval - performance.now()));
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Waits until `at`; returns when the next request was due: `at`, or now if that has passed (the previous answer came late). */
async function until(at: number): Promise<number> {
  const now = performance.now();
  if (at > now) await sleep(at - now);
  return Math.max(at, now);
}

export class SoakLoad {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stops: (() => void)[] = [];
  /** Runs created lately (not backfilled ones, which retention deletes within seconds): the reads' and followers' targets. */
  private readonly recent: { base: string; id: string }[] = [];
  private readonly toFollow: { base: string; id: string }[] = [];
  private readonly headers: Record<string, string>;
  lifecycles = 0;

  constructor(
    private readonly target: LoadTarget,
    private readonly recorder: Recorder,
    /** Hears each run with a callback_url that ended, when its terminal request was answered. */
    private readonly onEnded: (runId: string, at: number) => void,
    private readonly rates: Rates = RATES,
  ) {
    this.headers = { authorization: `Bearer ${target.apiKey}`, "content-type": "application/json" };
  }

  start(): void {
    const r = this.rates;
    this.stops.push(
      every(r.lifecyclesPerS, (due, n) => this.track(this.lifecycle(due, n))),
      every(r.getsPerS, (due, n) => this.track(this.getById(due, n))),
      every(r.listsPerS, (due, n) => this.track(this.list(due, n))),
      every(r.statsPerS, (due, n) => this.track(this.stats(due, n))),
      every(1 / r.bulkDeleteEveryS, (due, n) => this.track(this.bulkDelete(due, n))),
    );
  }

  /** Stops scheduling and waits for every request in flight; start() begins again. */
  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** The newest created run no follower has taken yet. */
  nextToFollow(): { base: string; id: string } | undefined {
    return this.toFollow.pop();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private base(n: number): string {
    return this.target.baseUrls[n % this.target.baseUrls.length]!;
  }

  /** One request; its latency (from `due`) or its error goes to the recorder. Resolves with the parsed body, or undefined on error. */
  private async call<T>(kind: string, base: string, method: string, path: string, body: unknown, expect: number, due: number): Promise<T | undefined> {
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: this.headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status !== expect) {
        this.recorder.error(kind, `${method} ${path} → HTTP ${response.status} ${text.slice(0, 300)}`, response.status);
        return undefined;
      }
      this.recorder.latency(kind, performance.now() - due);
      return (text === "" ? null : JSON.parse(text)) as T;
    } catch (error) {
      this.recorder.error(kind, `${method} ${path}: ${String(error)}`);
      return undefined;
    }
  }

  private async lifecycle(due: number, n: number): Promise<void> {
    this.lifecycles++;
    const base = this.base(n);
    const outcome = OUTCOMES[n % OUTCOMES.length]!;
    const agentId = this.target.agentIds[n % this.target.agentIds.length]!;
    const created = await this.call<{ id: string }>(
      "create",
      base,
      "POST",
      "/v1/runs",
      { agent_id: agentId, callback_url: this.target.callbackUrl, tags: ["soak", outcome], metadata: { n } },
      201,
      due,
    );
    if (created === undefined) return;
    const run = `/v1/runs/${created.id}`;
    if (outcome !== "backfilled") {
      this.recent.push({ base, id: created.id });
      if (this.recent.length > 100) this.recent.shift();
      this.toFollow.push({ base, id: created.id });
      if (this.toFollow.length > 20) this.toFollow.shift();
    }
    let at = await until(due + STEP_GAP_MS);
    if ((await this.call("update", base, "PATCH", run, { status: "running" }, 200, at)) === undefined) return;
    for (let s = 0; s < 2; s++) {
      at = await until(due + (2 + s) * STEP_GAP_MS);
      const step = { model: MODELS[n % MODELS.length], prompt_tokens: 800 + (n % 200), completion_tokens: 40 + (n % 50), status: "success" };
      if ((await this.call("step", base, "POST", `${run}/steps`, step, 201, at)) === undefined) return;
    }
    at = await until(due + 4 * STEP_GAP_MS);
    if ((await this.call("messages", base, "POST", `${run}/messages`, { messages: MESSAGES }, 201, at)) === undefined) return;
    at = await until(due + 5 * STEP_GAP_MS);
    const ended = await this.end(outcome, base, run, at);
    // A backfilled run's webhook is not awaited: retention may delete the run before its
    // delivery is sent, and a deleted run's deliveries go with it (which also races the
    // dispatcher's sends on purpose).
    if (ended !== undefined && outcome !== "backfilled") this.onEnded(created.id, performance.now());
  }

  private end(outcome: Outcome, base: string, run: string, at: number): Promise<unknown> {
    switch (outcome) {
      case "completed":
        return this.call("update", base, "PATCH", run, { status: "completed", stop_reason: "end_turn" }, 200, at);
      case "backfilled": {
        const completedAt = new Date(Date.now() - TWO_DAYS_MS).toISOString();
        return this.call("update", base, "PATCH", run, { status: "completed", stop_reason: "end_turn", completed_at: completedAt, total_duration_ns: 1_200_000_000 }, 200, at);
      }
      case "failed":
        return this.call("update", base, "PATCH", run, { status: "failed", stop_reason: "llm_api_error", error: { type: "RateLimitError", message: "429 from the provider" } }, 200, at);
      case "cancelled":
        return this.call("cancel", base, "POST", `${run}/cancel`, undefined, 200, at);
    }
  }

  private async getById(due: number, n: number): Promise<void> {
    const run = this.recent[Math.floor(Math.random() * this.recent.length)];
    if (run === undefined) return;
    if (n % 2 === 0) await this.call("get_run", run.base, "GET", `/v1/runs/${run.id}`, undefined, 200, due);
    else await this.call("get_messages", run.base, "GET", `/v1/runs/${run.id}/messages?limit=50`, undefined, 200, due);
  }

  private async list(due: number, n: number): Promise<void> {
    const agent = this.target.agentIds[n % this.target.agentIds.length]!;
    const since = new Date(Date.now() - 30_000).toISOString();
    const queries = [
      "?limit=20",
      "?statuses=completed&limit=20",
      `?agent_id=${agent}&limit=50`,
      "?tags=soak&tags=failed&limit=20",
      "?active=true",
      "?order_by=duration&order=desc&limit=20",
      `?created_after=${encodeURIComponent(since)}&limit=100`,
      "?statuses=failed&statuses=cancelled&limit=20",
    ];
    await this.call("list", this.base(n), "GET", `/v1/runs/${queries[n % queries.length]}`, undefined, 200, due);
  }

  private async stats(due: number, n: number): Promise<void> {
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    const queries = ["", "?group_by=status", `?bucket=minute&created_after=${encodeURIComponent(since)}`, "?group_by=model", "?group_by=agent_id"];
    await this.call("stats", this.base(n), "GET", `/v1/runs/stats${queries[n % queries.length]}`, undefined, 200, due);
  }

  private async bulkDelete(due: number, n: number): Promise<void> {
    const before = new Date(Date.now() - this.rates.keepS * 1_000).toISOString();
    await this.call("bulk_delete", this.base(n), "POST", "/v1/runs/bulk/delete", { created_before: before }, 200, due);
  }
}

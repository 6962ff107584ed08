/**
 * The harness's own record of what it wrote. A write is *acknowledged* once a 2xx answered
 * it (or, on a retry, the server said it already has it: a 409 "already exists" for a step
 * or message id, the same run for an Idempotency-Key); it is *in doubt* while it was sent
 * but no answer said either way (the server was killed, the answer lost). Acknowledged
 * writes must all be in the database after any number of crashes; writes in doubt may or
 * may not be, and nothing else may be.
 */

/** What a lifecycle sets out to do. The abandoned ones leave their run for the reaper. */
export type Plan = "complete" | "fail" | "cancel" | "abandon-created" | "abandon-running";

export interface StepEntry {
  id: string;
  prompt_tokens: number;
  completion_tokens: number;
  acknowledged: boolean;
}

export interface MessageEntry {
  id: string;
  content: string;
  acknowledged: boolean;
}

export interface RunEntry {
  id: string;
  plan: Plan;
  /** Where the run was created (its organization's callback receiver). */
  callback: boolean;
  createdAcknowledged: boolean;
  steps: Map<string, StepEntry>;
  messages: Map<string, MessageEntry>;
  /** The terminal status this harness asked for, and whether it was acknowledged. */
  terminal: { status: string; stop_reason: string; acknowledged: boolean } | undefined;
  /** The server refused a write because the run had already ended (the reaper got there first). */
  supersededBy: string | undefined;
  /** When the create was acknowledged (Date.now()). */
  createdAt: number;
}

export class Journal {
  readonly runs = new Map<string, RunEntry>();
  /** Acknowledged writes by kind. */
  readonly acknowledged = { runs: 0, transitions: 0, steps: 0, messages: 0 };
  /** Acknowledgements that came as "already there" on a retry. */
  acknowledgedOnRetry = 0;
  /** Lifecycles that got every write of their plan acknowledged. */
  lifecycles = 0;

  addRun(id: string, plan: Plan): RunEntry {
    const entry: RunEntry = {
      id,
      plan,
      callback: true,
      createdAcknowledged: true,
      steps: new Map(),
      messages: new Map(),
      terminal: undefined,
      supersededBy: undefined,
      createdAt: Date.now(),
    };
    this.runs.set(id, entry);
    this.acknowledged.runs++;
    return entry;
  }

  /** Runs this harness created and that were not abandoned on purpose. */
  followed(): RunEntry[] {
    return [...this.runs.values()].filter((r) => !r.plan.startsWith("abandon"));
  }
}

/**
 * The run lifecycle, as data.
 *
 *   created ──► running ──► completed
 *      │           ├──────► failed
 *      │           └──────► cancelled
 *      ├──────────────────► failed      (e.g. the reaper's `expired`)
 *      └──────────────────► cancelled
 *
 * Terminal statuses (completed, failed, cancelled) allow nothing further. Each terminal
 * status accepts only the stop reasons mapped to it below. The store applies a transition
 * as `UPDATE … WHERE status IN (allowed sources)`, never read-then-write, so of several
 * concurrent transitions exactly one takes effect.
 */
import { InvalidArgumentError } from "./errors.js";

export const RUN_STATUSES = ["created", "running", "completed", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const ACTIVE_STATUSES = ["created", "running"] as const satisfies readonly RunStatus[];
export const TERMINAL_STATUSES = ["completed", "failed", "cancelled"] as const satisfies readonly RunStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** Target status → the statuses it may be entered from. */
export const TRANSITIONS: { readonly [to in RunStatus]: readonly RunStatus[] } = {
  created: [],
  running: ["created"],
  completed: ["running"],
  failed: ["created", "running"],
  cancelled: ["created", "running"],
};

export function isTerminal(status: RunStatus): status is TerminalStatus {
  switch (status) {
    case "completed":
    case "failed":
    case "cancelled":
      return true;
    case "created":
    case "running":
      return false;
  }
}

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return TRANSITIONS[to].includes(from);
}

/** Letta's thirteen stop reasons plus the reaper's three, each bound to the terminal status it implies. */
export const STOP_REASON_STATUS = {
  end_turn: "completed",
  max_steps: "completed",
  tool_rule: "completed",
  requires_approval: "completed",
  cancelled: "cancelled",
  error: "failed",
  llm_api_error: "failed",
  invalid_llm_response: "failed",
  invalid_tool_call: "failed",
  no_tool_call: "failed",
  max_tokens_exceeded: "failed",
  insufficient_credits: "failed",
  context_window_overflow_in_system_prompt: "failed",
  expired: "failed",
  timed_out: "failed",
  heartbeat_lost: "failed",
} as const satisfies Record<string, TerminalStatus>;

export type StopReason = keyof typeof STOP_REASON_STATUS;
export const STOP_REASONS = Object.keys(STOP_REASON_STATUS) as StopReason[];

/** The stop reason used when a producer gives a terminal status without one. */
export const DEFAULT_STOP_REASON: { readonly [s in TerminalStatus]: StopReason } = {
  completed: "end_turn",
  failed: "error",
  cancelled: "cancelled",
};

export function parseRunStatus(value: unknown, field = "status"): RunStatus {
  if (typeof value === "string" && (RUN_STATUSES as readonly string[]).includes(value)) return value as RunStatus;
  throw new InvalidArgumentError(`${field} '${String(value)}' is not a run status; expected one of ${RUN_STATUSES.join(", ")}`);
}

export function parseStopReason(value: unknown, field = "stop_reason"): StopReason {
  if (typeof value === "string" && Object.hasOwn(STOP_REASON_STATUS, value)) return value as StopReason;
  throw new InvalidArgumentError(`${field} '${String(value)}' is not a stop reason; expected one of ${STOP_REASONS.join(", ")}`);
}

/**
 * Resolves the (status, stop_reason) pair a terminal update asks for. Either may be
 * omitted: a stop reason alone implies its status; a status alone takes its default reason.
 */
export function resolveTerminal(status: TerminalStatus | undefined, stopReason: StopReason | undefined): {
  status: TerminalStatus;
  stopReason: StopReason;
} {
  if (status === undefined && stopReason === undefined) {
    throw new InvalidArgumentError("a terminal update needs a status or a stop_reason");
  }
  if (stopReason === undefined) return { status: status!, stopReason: DEFAULT_STOP_REASON[status!] };
  const implied = STOP_REASON_STATUS[stopReason];
  if (status !== undefined && status !== implied) {
    throw new InvalidArgumentError(
      `stop_reason '${stopReason}' belongs to status '${implied}', not '${status}'; send status '${implied}' or a stop reason of '${status}'`,
    );
  }
  return { status: implied, stopReason };
}

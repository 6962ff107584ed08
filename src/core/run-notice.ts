/**
 * A notice says "run R of organization O has events up to seq S". It carries no event
 * data: subscribers read the events from run_events, which stays the source of truth, so a
 * lost or duplicated notice costs a query, never an event.
 */
export interface RunNotice {
  organization_id: string;
  run_id: string;
  seq_id: number;
}

/** The PostgreSQL channel notices travel on between server processes. */
export const NOTIFY_CHANNEL = "runledger_events";

export function encodeNotice(notice: RunNotice): string {
  return JSON.stringify({ o: notice.organization_id, r: notice.run_id, s: notice.seq_id });
}

export function decodeNotice(payload: string): RunNotice | undefined {
  try {
    const value = JSON.parse(payload) as { o?: unknown; r?: unknown; s?: unknown };
    if (typeof value.o === "string" && typeof value.r === "string" && typeof value.s === "number") {
      return { organization_id: value.o, run_id: value.r, seq_id: value.s };
    }
  } catch {
    // A payload that is not ours is ignored.
  }
  return undefined;
}

/**
 * What the soak's client saw: latencies by request kind in the current 10 s window, and
 * every error (network error, timeout, 5xx, any status other than the one expected, a
 * stream that ended early, a missing webhook), with the first few kept verbatim.
 */
import { percentile } from "../stats.js";

export interface WindowFigures {
  /** p99 latency (ms) per request kind with at least one answer in the window. */
  p99: Map<string, number>;
  requests: number;
  errors: number;
}

export class Recorder {
  private window = new Map<string, number[]>();
  private windowErrors = 0;
  requests = 0;
  errors = 0;
  serverErrors = 0;
  readonly firstErrors: string[] = [];
  readonly perKind = new Map<string, number>();

  latency(kind: string, ms: number): void {
    this.requests++;
    this.perKind.set(kind, (this.perKind.get(kind) ?? 0) + 1);
    let samples = this.window.get(kind);
    if (samples === undefined) this.window.set(kind, (samples = []));
    samples.push(ms);
  }

  error(kind: string, message: string, status?: number): void {
    this.errors++;
    this.windowErrors++;
    if (status !== undefined && status >= 500) this.serverErrors++;
    if (this.firstErrors.length < 20) this.firstErrors.push(`${kind}: ${message}`);
  }

  /** The window's figures; starts the next window. */
  take(): WindowFigures {
    const p99 = new Map<string, number>();
    let requests = 0;
    for (const [kind, samples] of this.window) {
      requests += samples.length;
      p99.set(kind, percentile(samples.sort((a, b) => a - b), 99));
    }
    const figures = { p99, requests, errors: this.windowErrors };
    this.window = new Map();
    this.windowErrors = 0;
    return figures;
  }
}

/**
 * Open event streams per API key, in this process. A key at its cap gets 429 for a new
 * stream until one of its streams closes, however it closes: the client going away, the
 * stream ending, an error. Keys with no open stream hold no entry.
 */
import { TooManyRequestsError } from "./errors.js";

export class StreamSlots {
  private readonly open = new Map<string, number>();

  /** `max` streams per key; 0 for no cap. */
  constructor(readonly max: number) {}

  /** Takes a slot for `key` or throws; the returned function frees it (once, however often called). */
  acquire(key: string): () => void {
    const count = this.open.get(key) ?? 0;
    if (this.max > 0 && count >= this.max) {
      throw new TooManyRequestsError(
        "TOO_MANY_STREAMS",
        `this API key already has ${count} open event streams on this server, the most allowed (RUNLEDGER_MAX_STREAMS_PER_KEY=${this.max}); close one before opening another`,
      );
    }
    this.open.set(key, count + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left === 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }
}

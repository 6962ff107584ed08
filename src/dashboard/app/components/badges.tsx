import type { FeedState } from "../sse.js";
import type { RunStatus } from "../types.js";

export function StatusBadge({ status }: { status: RunStatus | string }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

const FEED_TEXT: Record<FeedState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Ended",
  failed: "Not live",
};

/** Whether the page is following the server right now, announced to screen readers when it changes. */
export function FeedBadge({ state, detail }: { state: FeedState; detail?: string }) {
  return (
    <span class={`feed feed-${state}`} role="status" aria-live="polite" title={detail}>
      <span class="dot" aria-hidden="true" />
      {FEED_TEXT[state]}
    </span>
  );
}

/** Hooks that keep a page in step with the server. */
import { useEffect, useRef, useState } from "preact/hooks";
import { type FeedState, followSse, type SseMessage } from "./sse.js";

/**
 * Follows an SSE URL for as long as the component shows it (and the URL stays the same),
 * reconnecting by itself; returns the connection's state for the page to show.
 */
export function useFeed(url: string | null, headers: Record<string, string>, onMessage: (message: SseMessage) => void, options: { readyComment?: string; endEvent?: string; lastEventId?: string } = {}): { state: FeedState; detail?: string } {
  const [state, setState] = useState<{ state: FeedState; detail?: string }>({ state: "connecting" });
  const handler = useRef(onMessage);
  handler.current = onMessage;
  const auth = headers.authorization;
  useEffect(() => {
    if (url === null) return;
    const stop = new AbortController();
    void followSse(url, {
      headers: auth === undefined ? {} : { authorization: auth },
      lastEventId: options.lastEventId,
      readyComment: options.readyComment,
      endEvent: options.endEvent,
      signal: stop.signal,
      onMessage: (message) => handler.current(message),
      onState: (s, detail) => setState({ state: s, detail }),
    });
    return () => stop.abort();
    // The feed restarts only when its URL or key changes.
  }, [url, auth]);
  return state;
}

/**
 * Runs `task` now and again whenever `poke` is called, at most once per `minGapMs` and
 * never two at once: a burst of live events costs one refresh, not one per event.
 */
export function useThrottledRefresh(task: () => Promise<void>, minGapMs: number): () => void {
  const current = useRef(task);
  current.current = task;
  const state = useRef({ running: false, pending: false, last: 0, timer: 0 as ReturnType<typeof setTimeout> | 0 });
  const poke = useRef(() => {});
  poke.current = () => {
    const s = state.current;
    if (s.running || s.timer !== 0) {
      s.pending = true;
      return;
    }
    const wait = Math.max(0, s.last + minGapMs - Date.now());
    s.timer = setTimeout(() => {
      s.timer = 0;
      s.running = true;
      s.pending = false;
      s.last = Date.now();
      void current.current().finally(() => {
        s.running = false;
        if (s.pending) poke.current();
      });
    }, wait);
  };
  useEffect(() => () => {
    if (state.current.timer !== 0) clearTimeout(state.current.timer);
  }, []);
  return () => poke.current();
}

/** Re-renders every `ms` while `active` (for elapsed times of running runs). */
export function useTick(active: boolean, ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return now;
}

/**
 * Everything the run page shows, and how it stays live. An active run is followed on its
 * event stream (GET /v1/runs/{id}/events) from just after its newest message, opened before
 * the rest is read: whatever is written while the page loads arrives on the stream, and
 * rows that arrive twice (read and streamed) are merged by id. Steps are read whole (a
 * thousand per request); messages a page at a time as the reader scrolls. When the run
 * ends, the page reads it once more and settles.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { errorMessage } from "./api.js";
import { useApp } from "./context.js";
import { useFeed, useThrottledRefresh } from "./live.js";
import type { SseMessage } from "./sse.js";
import { type Delivery, isActive, type LettaMessage, type Run, type Step, type Usage } from "./types.js";

const STEP_PAGE = 1000;
export const MESSAGE_PAGE = 500;
const CHUNKS_KEPT = 400;

export interface RunData {
  run?: Run;
  usage?: Usage;
  steps: Step[];
  messages: LettaMessage[];
  /** Every message up to now has been read (later ones arrive live). */
  messagesComplete: boolean;
  loadingMessages: boolean;
  loadMoreMessages(): void;
  /** Stream chunks (token deltas) since the newest message. */
  chunks: Record<string, unknown>[];
  deliveries?: Delivery[];
  refreshDeliveries(): void;
  error?: string;
  notFound: boolean;
  feed: ReturnType<typeof useFeed>;
  reload(): void;
}

function upsertById<T extends { id: string }>(list: readonly T[], item: T, compare: (a: T, b: T) => number): T[] {
  const index = list.findIndex((x) => x.id === item.id);
  if (index >= 0) {
    const copy = list.slice();
    copy[index] = item;
    return copy;
  }
  const copy = [...list, item];
  if (copy.length > 1 && compare(copy[copy.length - 2]!, item) > 0) copy.sort(compare);
  return copy;
}

const byStart = (a: Step, b: Step) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id);
const bySeq = (a: LettaMessage, b: LettaMessage) => a.seq_id - b.seq_id;

export function useRunData(runId: string): RunData {
  const app = useApp();
  const [run, setRun] = useState<Run | undefined>(undefined);
  const [usage, setUsage] = useState<Usage | undefined>(undefined);
  const [steps, setSteps] = useState<Step[]>([]);
  const [messages, setMessages] = useState<LettaMessage[]>([]);
  const [messagesComplete, setMessagesComplete] = useState(false);
  const [loadingMessages, setLoadingMessages] = useState(false);
  const [chunks, setChunks] = useState<Record<string, unknown>[]>([]);
  const [deliveries, setDeliveries] = useState<Delivery[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [notFound, setNotFound] = useState(false);
  /** Where the live stream starts: set once the page knows the run is active. */
  const [streamFrom, setStreamFrom] = useState<number | null>(null);
  const messageCursor = useRef<{ last?: string; complete: boolean; loading: boolean }>({ complete: false, loading: false });
  const base = `/v1/runs/${encodeURIComponent(runId)}`;

  const fail = (e: unknown) => {
    if ((e as { status?: number }).status === 404) setNotFound(true);
    else setError(errorMessage(e));
  };

  const readRun = async () => {
    const [r, u] = await Promise.all([app.api.get<Run>(base), app.api.get<Usage>(`${base}/usage`)]);
    setRun(r);
    setUsage(u);
    return r;
  };
  const refreshRun = useThrottledRefresh(() => readRun().then(() => {}, fail), 200);
  const refreshUsage = useThrottledRefresh(() => app.api.get<Usage>(`${base}/usage`).then(setUsage, () => {}), 300);

  const readSteps = async () => {
    const all: Step[] = [];
    for (let after: string | undefined; ; ) {
      const page = await app.api.get<Step[]>(`${base}/steps`, { order: "asc", limit: STEP_PAGE, after });
      all.push(...page);
      if (page.length < STEP_PAGE) break;
      after = page.at(-1)!.id;
    }
    setSteps((current) => {
      // Steps streamed in while the read was under way are kept.
      const merged = new Map(all.map((s) => [s.id, s]));
      for (const s of current) if (!merged.has(s.id)) merged.set(s.id, s);
      return [...merged.values()].sort(byStart);
    });
  };

  const loadMoreMessages = async () => {
    const cursor = messageCursor.current;
    if (cursor.complete || cursor.loading) return;
    cursor.loading = true;
    setLoadingMessages(true);
    try {
      const page = await app.api.get<LettaMessage[]>(`${base}/messages`, { order: "asc", limit: MESSAGE_PAGE, after: cursor.last });
      if (page.length > 0) cursor.last = page.at(-1)!.id;
      if (page.length < MESSAGE_PAGE) cursor.complete = true;
      setMessages((current) => {
        const seen = new Set(current.map((m) => m.id));
        const added = page.filter((m) => !seen.has(m.id));
        return added.length === 0 ? current : [...current, ...added].sort(bySeq);
      });
      setMessagesComplete(cursor.complete);
    } catch (e) {
      fail(e);
    } finally {
      cursor.loading = false;
      setLoadingMessages(false);
    }
  };

  const readDeliveries = () => app.api.get<Delivery[]>(`${base}/callbacks`).then(setDeliveries, () => {});
  const refreshDeliveries = useThrottledRefresh(readDeliveries, 500);

  /**
   * Where the stream would start is read first; everything read after it is at least that
   * new, and anything later arrives on the stream. Then all of it at once.
   */
  const loadAll = async () => {
    try {
      const newest = await app.api.get<LettaMessage[]>(`${base}/messages`, { order: "desc", limit: 1 });
      const [current] = await Promise.all([readRun(), readSteps(), loadMoreMessages(), readDeliveries()]);
      if (isActive(current.status)) setStreamFrom(newest[0]?.seq_id ?? 0);
    } catch (e) {
      fail(e);
    }
  };

  useEffect(() => {
    void loadAll();
  }, [runId]);

  const onEvent = (message: SseMessage) => {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(message.data) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (message.event) {
      case "status":
        refreshRun();
        break;
      case "step":
        setSteps((current) => upsertById(current, data.step as Step, byStart));
        refreshUsage();
        break;
      case "message":
        setChunks([]);
        if (messageCursor.current.complete) setMessages((current) => upsertById(current, data as unknown as LettaMessage, bySeq));
        break;
      case "chunk":
        setChunks((current) => [...current.slice(-(CHUNKS_KEPT - 1)), data]);
        break;
      case "end":
        setChunks([]);
        void readRun().catch(fail);
        void readSteps().catch(() => {});
        refreshDeliveries();
        break;
    }
  };
  const feed = useFeed(streamFrom === null ? null : `${base}/events`, app.api.headers(), onEvent, { endEvent: "end", lastEventId: streamFrom === null ? undefined : String(streamFrom) });

  return {
    run,
    usage,
    steps,
    messages,
    messagesComplete,
    loadingMessages,
    loadMoreMessages: () => void loadMoreMessages(),
    chunks,
    deliveries,
    refreshDeliveries,
    error,
    notFound,
    feed: run !== undefined && !isActive(run.status) && streamFrom === null ? { state: "ended" } : feed,
    reload: () => void loadAll(),
  };
}

/** A minimal SSE reader for tests: fetches a stream and yields parsed events until it ends or is aborted. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  comment?: string;
}

export async function* readSse(url: string, init: RequestInit & { signal?: AbortSignal }): AsyncGenerator<SseEvent> {
  // Aborting the request (not just cancelling the body) makes the client drop the socket.
  const controller = new AbortController();
  init.signal?.addEventListener("abort", () => controller.abort(), { once: true });
  const response = await fetch(url, { ...init, signal: controller.signal });
  if (!response.ok || response.body === null) throw new Error(`SSE request failed: ${response.status} ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let boundary = buffer.indexOf("\n\n");
      while (boundary !== -1) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const event: SseEvent = { data: "" };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) event.comment = line.slice(1).trim();
          else if (line.startsWith("data: ")) data.push(line.slice(6));
          else if (line.startsWith("id: ")) event.id = line.slice(4);
          else if (line.startsWith("event: ")) event.event = line.slice(7);
        }
        event.data = data.join("\n");
        yield event;
        boundary = buffer.indexOf("\n\n");
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    controller.abort();
  }
}

/** Collects events until `stop` says so (or the stream ends), with a deadline. */
export async function collect(stream: AsyncGenerator<SseEvent>, stop: (events: SseEvent[]) => boolean, deadlineMs = 10_000): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const deadline = setTimeout(() => void stream.return(undefined), deadlineMs);
  try {
    for await (const event of stream) {
      events.push(event);
      if (stop(events)) break;
    }
  } finally {
    clearTimeout(deadline);
  }
  return events;
}

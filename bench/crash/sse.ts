/** Reading a server-sent event stream over fetch, as the bench's followers do. */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface SseRequest {
  url: string;
  method?: "GET" | "POST";
  body?: unknown;
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Called once the server answered 2xx and the stream is open. */
  onOpen?: () => void;
}

/**
 * Calls `onEvent` for each event until the server closes the stream (resolves "ended"),
 * `onEvent` returns "stop" (resolves "stopped") or the connection fails (rejects). A
 * non-2xx answer rejects with its status.
 */
export async function readSse(request: SseRequest, onEvent: (message: EventSourceMessage) => "stop" | void): Promise<"ended" | "stopped"> {
  const response = await fetch(request.url, {
    method: request.method ?? "GET",
    headers: { ...request.headers, ...(request.body === undefined ? {} : { "content-type": "application/json" }) },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: request.signal,
  });
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`HTTP ${response.status}`);
  }
  request.onOpen?.();
  let stop = false;
  const parser = createParser({
    onEvent: (message) => {
      if (!stop && onEvent(message) === "stop") stop = true;
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    // Leaving the loop cancels the stream, which closes the connection.
    if (stop) break;
  }
  return stop ? "stopped" : "ended";
}

/**
 * A small HTTP client for producers: the write side of runledger's API (Letta's own client
 * covers the read side). Errors come back as the same LedgerError classes the services
 * throw, so `track()` treats both transports alike.
 */
import {
  ConflictError,
  InvalidArgumentError,
  InvalidTransitionError,
  LedgerError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from "../core/errors.js";
import type { LettaMessage } from "../core/letta-messages.js";
import type { Run, RunEvent, Step } from "../core/model.js";
import type { RunCreateInput, RunUpdateInput } from "../services/runs.js";
import type { StepFinishInput, StepInput } from "../services/steps.js";

export interface ClientOptions {
  /** The server root, e.g. http://127.0.0.1:8283 */
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/** A response that is not one of runledger's own errors (a 5xx, a proxy's page). */
export class HttpRequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "HttpRequestError";
  }
}

export class RunledgerClient {
  private readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  createRun(input: RunCreateInput): Promise<Run> {
    return this.request("POST", "/v1/runs", input);
  }

  getRun(runId: string): Promise<Run> {
    return this.request("GET", `/v1/runs/${encodeURIComponent(runId)}`);
  }

  updateRun(runId: string, input: RunUpdateInput): Promise<Run> {
    return this.request("PATCH", `/v1/runs/${encodeURIComponent(runId)}`, input);
  }

  cancelRun(runId: string): Promise<Run> {
    return this.request("POST", `/v1/runs/${encodeURIComponent(runId)}/cancel`, {});
  }

  heartbeat(runId: string): Promise<Run> {
    return this.request("POST", `/v1/runs/${encodeURIComponent(runId)}/heartbeat`, {});
  }

  recordStep(runId: string, input: StepInput): Promise<Step> {
    return this.request("POST", `/v1/runs/${encodeURIComponent(runId)}/steps`, input);
  }

  finishStep(runId: string, stepId: string, input: StepFinishInput): Promise<Step> {
    return this.request("PATCH", `/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}`, input);
  }

  appendMessages(runId: string, messages: readonly object[]): Promise<LettaMessage[]> {
    return this.request("POST", `/v1/runs/${encodeURIComponent(runId)}/messages`, { messages });
  }

  appendChunks(runId: string, chunks: readonly object[]): Promise<RunEvent[]> {
    return this.request("POST", `/v1/runs/${encodeURIComponent(runId)}/events`, { chunks });
  }

  /**
   * Follows the run's status events over SSE, reconnecting (with Last-Event-ID) when the
   * connection drops, until `signal` aborts or the run ends. Calls `onStatus` for each.
   */
  async watchStatus(runId: string, onStatus: (status: string) => void, signal: AbortSignal): Promise<void> {
    let lastId: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const response = await fetch(`${this.baseUrl}/v1/runs/${encodeURIComponent(runId)}/events?kinds=status`, {
          headers: { authorization: `Bearer ${this.options.apiKey}`, ...(lastId ? { "last-event-id": lastId } : {}) },
          signal,
        });
        if (!response.ok || response.body === null) throw await toError(response);
        failures = 0;
        let buffer = "";
        const decoder = new TextDecoder();
        for await (const chunk of response.body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end = buffer.indexOf("\n\n");
          while (end !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (.*)$/m.exec(block)?.[1];
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id !== undefined) lastId = id;
            if (data !== undefined && (event === "status" || event === "end")) onStatus((JSON.parse(data) as { status: string }).status);
            if (event === "end") return;
            end = buffer.indexOf("\n\n");
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof NotFoundError || error instanceof UnauthenticatedError || error instanceof PermissionDeniedError) throw error;
        failures++;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** failures)));
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.options.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    if (!response.ok) throw await toError(response);
    return (await response.json()) as T;
  }
}

async function toError(response: Response): Promise<LedgerError | HttpRequestError> {
  let detail = `HTTP ${response.status}`;
  let code = "";
  try {
    const body = (await response.json()) as { detail?: string; code?: string };
    detail = body.detail ?? detail;
    code = body.code ?? "";
  } catch {
    // Not a runledger error body; keep the status line.
  }
  switch (code) {
    case "NOT_FOUND":
      return new NotFoundError(detail);
    case "INVALID_TRANSITION":
      return new InvalidTransitionError(detail);
    case "CONFLICT":
      return new ConflictError(detail);
    case "UNAUTHENTICATED":
      return new UnauthenticatedError(detail);
    case "PERMISSION_DENIED":
      return new PermissionDeniedError(detail);
    case "INVALID_ARGUMENT":
    case "VALIDATION_ERROR":
      return new InvalidArgumentError(detail);
    default:
      return new HttpRequestError(response.status, `${detail} (HTTP ${response.status})`);
  }
}

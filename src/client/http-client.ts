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
  ValidationError,
  UnauthenticatedError,
  UnavailableError,
} from "../core/errors.js";
import { createParser } from "eventsource-parser";
import type { LettaMessage } from "../core/letta-messages.js";
import type { ApiKey, Run, RunEvent, Step, Usage } from "../core/model.js";
import type { BulkResult } from "../services/bulk.js";
import type { RunStatsReport } from "../services/stats.js";
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

  listRuns(query: Record<string, string | number | boolean | readonly string[] | undefined> = {}): Promise<Run[]> {
    return this.request("GET", `/v1/runs/${queryString(query)}`);
  }

  runUsage(runId: string): Promise<Usage> {
    return this.request("GET", `/v1/runs/${encodeURIComponent(runId)}/usage`);
  }

  runStats(query: Record<string, string | number | boolean | readonly string[] | undefined> = {}): Promise<RunStatsReport> {
    return this.request("GET", `/v1/runs/stats${queryString(query)}`);
  }

  bulkCancel(body: object): Promise<BulkResult> {
    return this.request("POST", "/v1/runs/bulk/cancel", body);
  }

  listApiKeys(organizationId?: string): Promise<ApiKey[]> {
    return this.request("GET", `/v1/api-keys${queryString({ organization_id: organizationId })}`);
  }

  createApiKey(input: { name?: string; role?: string; organization_id?: string }): Promise<ApiKey & { key: string }> {
    return this.request("POST", "/v1/api-keys", input);
  }

  revokeApiKey(keyId: string): Promise<ApiKey> {
    return this.request("DELETE", `/v1/api-keys/${encodeURIComponent(keyId)}`);
  }

  /**
   * Follows the run's event feed, reconnecting with Last-Event-ID when the connection drops,
   * until the run ends (resolves with its final status) or `signal` aborts.
   */
  async followEvents(
    runId: string,
    onEvent: (kind: string, data: Record<string, unknown>, seqId: number | undefined) => void,
    signal: AbortSignal,
    kinds?: readonly string[],
  ): Promise<string | undefined> {
    let lastId: string | undefined;
    let failures = 0;
    const query = kinds === undefined ? "" : queryString({ kinds });
    while (!signal.aborted) {
      try {
        const response = await fetch(`${this.baseUrl}/v1/runs/${encodeURIComponent(runId)}/events${query}`, {
          headers: { authorization: `Bearer ${this.options.apiKey}`, ...(lastId ? { "last-event-id": lastId } : {}) },
          signal,
        });
        if (!response.ok || response.body === null) throw await toError(response);
        failures = 0;
        let final: { status: string } | undefined;
        const parser = createParser({
          onEvent: (message) => {
            if (message.id !== undefined) lastId = message.id;
            if (message.event === undefined || final !== undefined) return;
            const parsed = JSON.parse(message.data) as Record<string, unknown>;
            if (message.event === "end") final = { status: parsed.status as string };
            else onEvent(message.event, parsed, message.id === undefined ? undefined : Number(message.id));
          },
        });
        const decoder = new TextDecoder();
        for await (const chunk of response.body) {
          parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
          if (final !== undefined) return final.status;
        }
      } catch (error) {
        if (signal.aborted) return undefined;
        if (error instanceof NotFoundError || error instanceof UnauthenticatedError || error instanceof PermissionDeniedError) throw error;
        failures++;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** failures)));
    }
    return undefined;
  }

  /** Calls `onStatus` for each status the run enters, until it ends or `signal` aborts. */
  async watchStatus(runId: string, onStatus: (status: string) => void, signal: AbortSignal): Promise<void> {
    const final = await this.followEvents(runId, (_kind, data) => onStatus(data.status as string), signal, ["status"]);
    if (final !== undefined) onStatus(final);
  }

  /**
   * One request on fetch's shared keep-alive connections. The timeout is a timer cleared
   * when the answer is read: `AbortSignal.timeout` would keep each request's signal and
   * timer alive for the whole timeout, tens of thousands of them for a busy producer.
   */
  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const controller = new AbortController();
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.options.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      if (!response.ok) throw await toError(response);
      return (await response.json()) as T;
    } finally {
      clearTimeout(timer);
    }
  }
}

function queryString(query: Record<string, string | number | boolean | readonly string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

async function toError(response: Response): Promise<LedgerError | HttpRequestError> {
  let detail = `HTTP ${response.status}`;
  let code = "";
  let problems: string[] = [];
  try {
    const body = (await response.json()) as { detail?: string; code?: string; problems?: string[] };
    detail = body.detail ?? detail;
    code = body.code ?? "";
    problems = body.problems ?? [detail];
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
    case "VALIDATION_ERROR":
      return new ValidationError(problems);
    case "INVALID_ARGUMENT":
      return new InvalidArgumentError(detail);
    case "UNAVAILABLE":
      return new UnavailableError(detail);
    default:
      return new HttpRequestError(response.status, `${detail} (HTTP ${response.status})`);
  }
}

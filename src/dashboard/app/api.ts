/**
 * The public HTTP API as the dashboard calls it: the same routes, the same bearer key and
 * the same query strings a script would send, so what a page shows is what a script gets.
 */
import type { Query } from "./query.js";
import { queryString } from "./query.js";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export type Unauthorized = (error: ApiError) => void;

export class Api {
  constructor(readonly key: string, private readonly onUnauthorized: Unauthorized = () => {}) {}

  /** The path and query string of a request, as shown to people next to what it produced. */
  static url(path: string, query?: Query): string {
    const qs = query === undefined ? "" : queryString(query);
    return qs === "" ? path : `${path}?${qs}`;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", Api.url(path, query), undefined, signal);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>("DELETE", path);
  }

  headers(): Record<string, string> {
    return { authorization: `Bearer ${this.key}` };
  }

  private async request<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? this.headers() : { ...this.headers(), "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: "no-store",
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(0, "NETWORK", "the server did not answer; check that runledger is running");
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const detail = (parsed as { detail?: unknown } | undefined)?.detail;
      const code = (parsed as { code?: unknown } | undefined)?.code;
      const error = new ApiError(
        response.status,
        typeof code === "string" ? code : `HTTP_${response.status}`,
        typeof detail === "string" ? detail : `the server answered ${response.status} ${response.statusText}`,
      );
      if (response.status === 401) this.onUnauthorized(error);
      throw error;
    }
    return parsed as T;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.status === 0 ? error.message : `${error.message} (${error.status})`;
  return error instanceof Error ? error.message : String(error);
}

export const isAbort = (error: unknown): boolean => error instanceof DOMException && error.name === "AbortError";

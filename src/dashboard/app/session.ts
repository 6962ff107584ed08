/**
 * The signed-in API key. It lives in this tab's sessionStorage only: never in a URL, a
 * cookie or localStorage, so it leaves with the tab and no other origin can read it.
 */
import { Api, ApiError } from "./api.js";

const STORAGE_KEY = "runledger.api-key";
/** The server's answer on the key's role, so a reload can draw the page before asking again. */
const ROLE_KEY = "runledger.can-write";

export interface Session {
  api: Api;
  /** Whether the key may change runs (write or admin), as the server answered. */
  canWrite: boolean;
}

export const storedKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);
export const forgetKey = (): void => {
  sessionStorage.removeItem(STORAGE_KEY);
  sessionStorage.removeItem(ROLE_KEY);
};

/** The session this tab signed in with, as it was last confirmed; undefined before a sign-in. */
export function storedSession(onUnauthorized: (error: ApiError) => void): Session | undefined {
  const key = storedKey();
  const role = sessionStorage.getItem(ROLE_KEY);
  if (key === null || role === null) return undefined;
  return { api: new Api(key, onUnauthorized), canWrite: role === "true" };
}

/**
 * Checks the key with a read, then asks the server whether it may write: a dry-run bulk
 * cancel that selects nothing changes nothing, and answers 403 for a read key. The server
 * enforces the role on every request either way; this only decides which controls to show.
 */
export async function signIn(key: string, onUnauthorized: (error: ApiError) => void): Promise<Session> {
  const api = new Api(key, onUnauthorized);
  // Both at once: a page load waits for sign-in, so it costs one round trip, not two.
  const [, canWrite] = await Promise.all([
    api.get("/v1/runs/", { limit: 1 }),
    api.post("/v1/runs/bulk/cancel", { dry_run: true, created_after: "9999-12-31T00:00:00.000Z" }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 403) return false;
        throw error;
      },
    ),
  ]);
  sessionStorage.setItem(STORAGE_KEY, key);
  sessionStorage.setItem(ROLE_KEY, String(canWrite));
  return { api, canWrite };
}

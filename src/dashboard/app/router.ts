/**
 * URL-driven navigation: every view (page, filters, cursor, tab) is in the address bar, so
 * it can be bookmarked, shared and restored with Back.
 */
import { useEffect, useState } from "preact/hooks";

export interface Location {
  path: string;
  params: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Location {
  return { path: window.location.pathname.replace(/\/+$/, "") || "/", params: new URLSearchParams(window.location.search) };
}

export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (url === window.location.pathname + window.location.search) return;
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  if (!options.replace) window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", () => {
  for (const listener of listeners) listener();
});

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return location;
}

/** A click on an in-app link navigates without a reload; modified clicks open as usual. */
export function followLink(event: MouseEvent): void {
  const anchor = (event.target as Element | null)?.closest?.("a");
  if (anchor === null || anchor === undefined || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || anchor.target !== "" || anchor.hasAttribute("download")) return;
  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith("/v1/") || url.pathname.startsWith("/docs")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

export function withParams(path: string, params: URLSearchParams): string {
  const qs = params.toString();
  return qs === "" ? path : `${path}?${qs}`;
}

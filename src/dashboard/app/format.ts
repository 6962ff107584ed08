/** How figures read on the page: durations from nanoseconds, local times, grouped digits. */
const integer = new Intl.NumberFormat("en-US");

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : integer.format(value);
}

export function formatDurationNs(ns: number | null | undefined): string {
  if (ns === null || ns === undefined) return "—";
  if (ns === 0) return "0 ms";
  const ms = ns / 1e6;
  if (ms < 1) return `${(ns / 1e3).toFixed(0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function formatTime(iso: string | null | undefined): string {
  return iso === null || iso === undefined ? "—" : timeFormat.format(new Date(iso));
}

export function formatFullTime(iso: string | null | undefined): string {
  return iso === null || iso === undefined ? "—" : fullFormat.format(new Date(iso));
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)}%`;
}

export function shortId(id: string): string {
  const dash = id.indexOf("-");
  return `${id.slice(0, dash + 1)}${id.slice(dash + 1, dash + 9)}`;
}

/** JSON for people: pretty-printed, and strings that hold JSON (tool arguments) unfolded. */
export function prettyJson(value: unknown): string {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? String(value);
}

/**
 * The run filters shared by the runs and stats pages. Choices apply at once; typed values
 * (tags, a duration, dates) apply when the field is left or Enter is pressed.
 */
import { useApp } from "../context.js";
import { RANGES, type Range, type RunFilters } from "../filters.js";
import { RUN_STATUSES, STOP_REASONS } from "../types.js";

const RANGE_LABELS: Record<Range, string> = { "15m": "Last 15 minutes", "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days" };

function toLocalInput(iso: string | undefined): string {
  if (iso === undefined) return "";
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string | undefined {
  if (value === "") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const value = (event: Event) => (event.currentTarget as HTMLInputElement | HTMLSelectElement).value;

export function FilterBar({ filters, onChange, allowAnyTime = true }: { filters: RunFilters; onChange(filters: RunFilters): void; allowAnyTime?: boolean }) {
  const app = useApp();
  const agents = [...app.agents.values()].sort((a, b) => a.name.localeCompare(b.name));
  const set = (patch: Partial<RunFilters>) => onChange({ ...filters, ...patch });
  const custom = filters.range === undefined && (filters.created_after !== undefined || filters.created_before !== undefined || !allowAnyTime);
  const timeChoice = filters.range ?? (custom ? "custom" : "any");

  return (
    <form class="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
      <label>
        <span>Agent</span>
        <select value={filters.agent_id ?? ""} onChange={(e) => set({ agent_id: value(e) || undefined })}>
          <option value="">All agents</option>
          {filters.agent_id !== undefined && !app.agents.has(filters.agent_id) && <option value={filters.agent_id}>{filters.agent_id}</option>}
          {agents.map((a) => (
            <option key={a.id} value={a.id}>{a.name}</option>
          ))}
        </select>
      </label>

      <fieldset class="statuses">
        <legend>Status</legend>
        {RUN_STATUSES.map((status) => (
          <label key={status} class="check">
            <input
              type="checkbox"
              checked={filters.statuses.includes(status)}
              onChange={(e) => {
                const on = (e.currentTarget as HTMLInputElement).checked;
                set({ statuses: on ? [...filters.statuses, status] : filters.statuses.filter((s) => s !== status) });
              }}
            />
            {status}
          </label>
        ))}
      </fieldset>

      <label>
        <span>Stop reason</span>
        <select value={filters.stop_reason ?? ""} onChange={(e) => set({ stop_reason: value(e) || undefined })}>
          <option value="">Any</option>
          {STOP_REASONS.map((r) => (
            <option key={r} value={r}>{r}</option>
          ))}
        </select>
      </label>

      <label>
        <span>Created</span>
        <select
          value={timeChoice}
          onChange={(e) => {
            const choice = value(e);
            if (choice === "any") set({ range: undefined, created_after: undefined, created_before: undefined });
            else if (choice === "custom") set({ range: undefined, created_after: new Date(Date.now() - RANGES["24h"]).toISOString(), created_before: undefined });
            else set({ range: choice as Range, created_after: undefined, created_before: undefined });
          }}
        >
          {allowAnyTime && <option value="any">Any time</option>}
          {(Object.keys(RANGES) as Range[]).map((r) => (
            <option key={r} value={r}>{RANGE_LABELS[r]}</option>
          ))}
          <option value="custom">Between…</option>
        </select>
      </label>
      {timeChoice === "custom" && (
        <>
          <label>
            <span>After</span>
            <input type="datetime-local" value={toLocalInput(filters.created_after)} onChange={(e) => set({ created_after: fromLocalInput(value(e)) })} />
          </label>
          <label>
            <span>Before</span>
            <input type="datetime-local" value={toLocalInput(filters.created_before)} onChange={(e) => set({ created_before: fromLocalInput(value(e)) })} />
          </label>
        </>
      )}

      <label>
        <span>Tags (all of)</span>
        <input
          type="text"
          placeholder="prod, eval"
          value={filters.tags.join(", ")}
          onChange={(e) => set({ tags: value(e).split(",").map((t) => t.trim()).filter((t) => t !== "") })}
        />
      </label>

      <label>
        <span>Background</span>
        <select value={filters.background ?? ""} onChange={(e) => set({ background: (value(e) || undefined) as RunFilters["background"] })}>
          <option value="">Any</option>
          <option value="true">Background only</option>
          <option value="false">Foreground only</option>
        </select>
      </label>

      <div class="duration">
        <label>
          <span>Duration</span>
          <select
            value={filters.duration_operator ?? "gt"}
            aria-label="Duration comparison"
            onChange={(e) => set({ duration_operator: value(e) as "gt" | "lt" })}
          >
            <option value="gt">longer than</option>
            <option value="lt">shorter than</option>
          </select>
        </label>
        <label>
          <span class="sr-only">Duration in seconds</span>
          <input
            type="number"
            min="0"
            step="any"
            inputMode="decimal"
            placeholder="seconds"
            aria-label="Duration in seconds"
            value={filters.duration_value === undefined ? "" : String(filters.duration_value / 1e9)}
            onChange={(e) => {
              const seconds = Number(value(e));
              set({ duration_value: value(e) === "" || !Number.isFinite(seconds) || seconds < 0 ? undefined : Math.round(seconds * 1e9) });
            }}
          />
        </label>
      </div>

      <button type="button" class="quiet" onClick={() => onChange({ statuses: [], tags: [], range: allowAnyTime ? undefined : "24h" })}>
        Clear filters
      </button>
    </form>
  );
}

/**
 * A run's steps on one time axis from the run's start: each bar starts when the step
 * started and is as long as the step took, split into LLM time and tool time. Rows render
 * only while on screen, so a thousand steps scroll as smoothly as ten.
 */
import { useRef, useState } from "preact/hooks";
import { formatDurationNs, formatFullTime, formatNumber } from "../format.js";
import { useTick } from "../live.js";
import { isActive, type Run, type Step } from "../types.js";
import { JsonView } from "./json-view.js";
import { VirtualList, type VirtualListHandle } from "./virtual-list.js";

interface Span {
  startMs: number;
  endMs: number;
}

/** Nanosecond fields are wall-clock instants only when they are this large (after 1973); smaller ones come from a monotonic clock. */
const EPOCH_NS = 1e17;
const instantMs = (ns: number | null, fallbackMs: number) => (ns !== null && ns > EPOCH_NS ? ns / 1e6 : fallbackMs);

function stepSpan(step: Step, now: number): Span {
  const startMs = instantMs(step.step_start_ns, Date.parse(step.created_at));
  if (step.step_ns !== null) return { startMs, endMs: startMs + step.step_ns / 1e6 };
  return { startMs, endMs: step.status === "pending" ? now : Math.max(startMs, Date.parse(step.updated_at)) };
}

export const isFailedStep = (step: Step): boolean => step.status === "failed" || step.error_type !== null;

function tokenParts(step: Step): string {
  const parts = [
    step.cached_input_tokens !== null && `${formatNumber(step.cached_input_tokens)} cached`,
    step.cache_write_tokens !== null && `${formatNumber(step.cache_write_tokens)} cache write`,
    step.reasoning_tokens !== null && `${formatNumber(step.reasoning_tokens)} reasoning`,
  ].filter(Boolean);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

function StepDetail({ step, index }: { step: Step; index: number }) {
  const fields: [string, string | number | null][] = [
    ["Step id", step.id],
    ["Status", step.status],
    ["Stop reason", step.stop_reason],
    ["Provider", [step.provider_name, step.provider_category].filter(Boolean).join(" · ") || null],
    ["Model", step.model],
    ["Endpoint", step.model_endpoint],
    ["Context window", step.context_window_limit === null ? null : formatNumber(step.context_window_limit)],
    ["Prompt tokens", formatNumber(step.prompt_tokens)],
    ["Completion tokens", formatNumber(step.completion_tokens)],
    ["Cached input tokens", step.cached_input_tokens === null ? null : formatNumber(step.cached_input_tokens)],
    ["Cache write tokens", step.cache_write_tokens === null ? null : formatNumber(step.cache_write_tokens)],
    ["Reasoning tokens", step.reasoning_tokens === null ? null : formatNumber(step.reasoning_tokens)],
    ["LLM time", formatDurationNs(step.llm_request_ns)],
    ["Tool time", formatDurationNs(step.tool_execution_ns)],
    ["Step time", formatDurationNs(step.step_ns)],
    ["Created", formatFullTime(step.created_at)],
    ["Feedback", step.feedback],
    ["Trace id", step.trace_id],
    ["Request id", step.request_id],
    ["Error type", step.error_type],
  ];
  return (
    <section class="step-detail" aria-label={`Step ${index + 1} details`}>
      <h3>Step {index + 1}</h3>
      <dl class="figures">
        {fields.map(([label, value]) => (
          <div class="figure" key={label}>
            <dt>{label}</dt>
            <dd class={label.endsWith("id") ? "mono" : undefined}>{value === null || value === "" ? "—" : value}</dd>
          </div>
        ))}
      </dl>
      {step.error_data !== null && (
        <>
          <h4>Error data</h4>
          <JsonView value={step.error_data} label="error data" />
        </>
      )}
    </section>
  );
}

export function Waterfall({ run, steps }: { run: Run; steps: readonly Step[] }) {
  const active = isActive(run.status) || steps.some((s) => s.status === "pending");
  const now = useTick(active);
  const list = useRef<VirtualListHandle>(null);
  const [selected, setSelected] = useState<string | undefined>(undefined);

  if (steps.length === 0) return <p class="empty">No steps recorded{isActive(run.status) ? " yet" : ""}.</p>;

  const spans = steps.map((s) => stepSpan(s, now));
  const runStart = Date.parse(run.started_at ?? run.created_at);
  const t0 = Math.min(runStart, ...spans.map((s) => s.startMs));
  const runEnd = run.completed_at !== null ? Date.parse(run.completed_at) : active ? now : t0;
  const t1 = Math.max(runEnd, ...spans.map((s) => s.endMs), t0 + 1);
  const width = t1 - t0;
  const fraction = (ms: number) => Math.max(0, Math.min(1, ms / width));
  const pct = (ms: number) => `${fraction(ms) * 100}%`;
  /** A bar from `startMs` (since t0) lasting `ms`, clipped to the axis. */
  const place = (startMs: number, ms: number) => ({ left: pct(startMs), width: `${Math.min(fraction(ms), 1 - fraction(startMs)) * 100}%` });
  const firstError = steps.findIndex(isFailedStep);
  const selectedIndex = steps.findIndex((s) => s.id === selected);

  const jump = () => {
    if (firstError < 0) return;
    list.current?.scrollToIndex(firstError);
    setSelected(steps[firstError]!.id);
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-step-id="${steps[firstError]!.id}"]`)?.focus());
  };

  return (
    <div class="waterfall">
      <div class="waterfall-bar">
        <span>{formatNumber(steps.length)} steps over {formatDurationNs(width * 1e6)}</span>
        <span class="legend"><span class="swatch llm" aria-hidden="true" /> LLM <span class="swatch tool" aria-hidden="true" /> tool <span class="swatch other" aria-hidden="true" /> other</span>
        <button type="button" onClick={jump} disabled={firstError < 0}>{firstError < 0 ? "No failed steps" : `Jump to first error (step ${firstError + 1})`}</button>
      </div>
      <div class="step-row axis-row" aria-hidden="true">
        <span /><span /><span /><span /><span />
        <span class="axis">
          {[0, 0.25, 0.5, 0.75, 1].map((f) => (
            <span key={f} style={{ left: `${f * 100}%` }}>{f === 0 ? "0" : formatDurationNs(f * width * 1e6)}</span>
          ))}
        </span>
      </div>
      <VirtualList
        handle={list}
        class="steps-list"
        label="Steps"
        items={steps}
        keyOf={(s) => s.id}
        estimate={44}
        render={(step, i) => {
          const span = spans[i]!;
          const llmStart = instantMs(step.llm_request_start_ns, span.startMs);
          const llmMs = (step.llm_request_ns ?? 0) / 1e6;
          const toolMs = (step.tool_execution_ns ?? 0) / 1e6;
          const failed = isFailedStep(step);
          return (
            <button
              type="button"
              class={`step-row${failed ? " failed" : ""}${step.id === selected ? " selected" : ""}`}
              data-step-id={step.id}
              aria-pressed={step.id === selected}
              onClick={() => setSelected(step.id === selected ? undefined : step.id)}
            >
              <span class="step-index" {...(i === 0 ? { elementtiming: "steps-first-row" } : {})}>{i + 1}</span>
              <span class={`step-status status-${step.status}`}>{step.status}</span>
              <span class="step-model clip">{step.model ?? "—"}</span>
              <span class="step-tokens">{formatNumber(step.prompt_tokens)} → {formatNumber(step.completion_tokens)}<span class="muted">{tokenParts(step)}</span></span>
              <span class="step-time">LLM {formatDurationNs(step.llm_request_ns)} · tool {formatDurationNs(step.tool_execution_ns)}</span>
              <span class="track" aria-hidden="true">
                <span class="bar" style={place(span.startMs - t0, Math.max(span.endMs - span.startMs, width / 500))} />
                {llmMs > 0 && <span class="bar llm" style={place(llmStart - t0, llmMs)} />}
                {toolMs > 0 && <span class="bar tool" style={place(llmStart - t0 + llmMs, toolMs)} />}
              </span>
            </button>
          );
        }}
      />
      {selectedIndex >= 0 && <StepDetail step={steps[selectedIndex]!} index={selectedIndex} />}
    </div>
  );
}

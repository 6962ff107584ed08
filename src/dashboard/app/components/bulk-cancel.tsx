import { useState } from "preact/hooks";
import { errorMessage } from "../api.js";
import { useApp } from "../context.js";
import { filtersToBody, type RunFilters } from "../filters.js";
import type { BulkResult } from "../types.js";
import { Confirm } from "./confirm.js";

/** Cancels every active run the filters select, after showing how many a dry run counts. */
export function BulkCancel({ filters, onDone }: { filters: RunFilters; onDone(): void }) {
  const app = useApp();
  const [step, setStep] = useState<{ kind: "idle" } | { kind: "confirm"; body: Record<string, unknown>; matched: number } | { kind: "busy"; body: Record<string, unknown>; matched: number }>({ kind: "idle" });
  const [message, setMessage] = useState<string | undefined>(undefined);

  const count = async () => {
    setMessage(undefined);
    const body = filtersToBody(filters);
    try {
      const result = await app.api.post<BulkResult>("/v1/runs/bulk/cancel", { ...body, dry_run: true });
      if (result.matched === 0) setMessage("No active runs match these filters.");
      else setStep({ kind: "confirm", body, matched: result.matched });
    } catch (e) {
      setMessage(`Could not count the runs: ${errorMessage(e)}`);
    }
  };

  const cancel = async (body: Record<string, unknown>, matched: number) => {
    setStep({ kind: "busy", body, matched });
    try {
      const result = await app.api.post<BulkResult>("/v1/runs/bulk/cancel", body);
      setMessage(`Cancelled ${result.changed} run${result.changed === 1 ? "" : "s"}.`);
      onDone();
    } catch (e) {
      setMessage(`Bulk cancel failed: ${errorMessage(e)}`);
    }
    setStep({ kind: "idle" });
  };

  return (
    <div class="bulk">
      <button type="button" class="danger-outline" onClick={() => void count()}>Cancel matching runs…</button>
      {message !== undefined && <span role="status" class="muted">{message}</span>}
      {step.kind !== "idle" && (
        <Confirm
          title={`Cancel ${step.matched} active run${step.matched === 1 ? "" : "s"}?`}
          confirm={`Cancel ${step.matched} run${step.matched === 1 ? "" : "s"}`}
          cancel="Keep them running"
          danger
          busy={step.kind === "busy"}
          onConfirm={() => void cancel(step.body, step.matched)}
          onCancel={() => setStep({ kind: "idle" })}
        >
          <p>
            A dry run counted <strong>{step.matched}</strong> created or running run{step.matched === 1 ? "" : "s"} that match the current filters.
            Each moves to <code>cancelled</code> with stop reason <code>cancelled</code>, its producer is told, and its webhook is sent.
          </p>
        </Confirm>
      )}
    </div>
  );
}

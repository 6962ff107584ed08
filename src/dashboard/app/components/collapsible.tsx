import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

const FOLD_LINES = 12;

/** Long content shows its first lines and a button to show the rest. */
export function Collapsible({ lines, children, label, onToggle }: { lines: number; children: ComponentChildren; label?: string; onToggle?(): void }) {
  const [open, setOpen] = useState(false);
  if (lines <= FOLD_LINES) return <>{children}</>;
  return (
    <div class={open ? "fold open" : "fold"}>
      <div class="fold-body">{children}</div>
      <button
        type="button"
        class="link"
        aria-expanded={open}
        onClick={() => {
          setOpen(!open);
          onToggle?.();
        }}
      >
        {open ? "Show less" : `Show all ${lines} lines${label ? ` of ${label}` : ""}`}
      </button>
    </div>
  );
}

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/** A modal question (the platform's <dialog>: focus is trapped, Escape answers no). */
export function Confirm(props: { title: string; children: ComponentChildren; confirm: string; cancel?: string; busy?: boolean; onConfirm(): void; onCancel(): void; danger?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  return (
    <dialog ref={dialog} aria-labelledby="confirm-title" onCancel={(e) => { e.preventDefault(); props.onCancel(); }}>
      <h2 id="confirm-title">{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      <div class="actions">
        <button type="button" class="quiet" onClick={props.onCancel} autofocus>{props.cancel ?? "Back"}</button>
        <button type="button" class={props.danger ? "danger" : ""} disabled={props.busy} onClick={props.onConfirm}>
          {props.busy ? "Working…" : props.confirm}
        </button>
      </div>
    </dialog>
  );
}

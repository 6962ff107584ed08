/**
 * A scrolling list that renders only the rows on screen (plus a margin), so a run with ten
 * thousand messages costs the page a few dozen DOM nodes. Rows may differ in height: each
 * is measured once shown (and again when it changes, say when a long message is unfolded)
 * and unmeasured rows count at an estimate. A row that grows above the viewport moves the
 * scroll position by as much, so what the reader is looking at stays put.
 */
import type { ComponentChildren, Ref } from "preact";
import { useEffect, useImperativeHandle, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

export interface VirtualListHandle {
  scrollToIndex(index: number): void;
  scrollToEnd(): void;
}

interface Props<T> {
  items: readonly T[];
  keyOf(item: T): string;
  /** Height in px of a row not measured yet. */
  estimate: number;
  render(item: T, index: number): ComponentChildren;
  label: string;
  /** Called when the last rows come into view (load the next page). */
  onNearEnd?(): void;
  class?: string;
  handle?: Ref<VirtualListHandle>;
}

const OVERSCAN_PX = 600;

/** The first index whose row ends below `y`. */
function indexAt(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1]! <= y) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo);
}

export function VirtualList<T>(props: Props<T>) {
  const { items, keyOf, estimate } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const [measured, setMeasured] = useState(0);

  const offsets = useMemo(() => {
    const result = new Float64Array(items.length + 1);
    for (let i = 0; i < items.length; i++) result[i + 1] = result[i]! + (heights.current.get(keyOf(items[i]!)) ?? estimate);
    return result;
  }, [items, measured, estimate]);
  const offsetsRef = useRef(offsets);
  offsetsRef.current = offsets;

  const observer = useMemo(() => {
    let scheduled = 0;
    return new ResizeObserver((entries) => {
      let scrollBy = 0;
      let changed = false;
      const top = scroller.current?.scrollTop ?? 0;
      for (const entry of entries) {
        const element = entry.target as HTMLElement;
        const key = element.dataset.key!;
        const height = Math.ceil(entry.borderBoxSize[0]?.blockSize ?? element.offsetHeight);
        const before = heights.current.get(key) ?? estimate;
        if (height === before || height === 0) continue;
        heights.current.set(key, height);
        changed = true;
        if (Number(element.dataset.top) < top) scrollBy += height - before;
      }
      if (scrollBy !== 0 && scroller.current !== null) scroller.current.scrollTop += scrollBy;
      if (changed && scheduled === 0) {
        scheduled = requestAnimationFrame(() => {
          scheduled = 0;
          setMeasured((m) => m + 1);
        });
      }
    });
  }, [estimate]);
  useEffect(() => () => observer.disconnect(), [observer]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element === null) return;
    const resize = new ResizeObserver(() => setViewport(element.clientHeight));
    resize.observe(element);
    setViewport(element.clientHeight);
    return () => resize.disconnect();
  }, []);

  useImperativeHandle(props.handle ?? null, () => ({
    scrollToIndex(index: number) {
      const element = scroller.current;
      if (element !== null) element.scrollTop = offsetsRef.current[Math.max(0, Math.min(index, items.length - 1))] ?? 0;
    },
    scrollToEnd() {
      const element = scroller.current;
      if (element !== null) element.scrollTop = element.scrollHeight;
    },
  }), [items.length]);

  const total = offsets[items.length] ?? 0;
  const first = items.length === 0 ? 0 : indexAt(offsets, Math.max(0, scrollTop - OVERSCAN_PX));
  const last = items.length === 0 ? -1 : indexAt(offsets, scrollTop + viewport + OVERSCAN_PX);

  const nearEnd = items.length > 0 && last >= items.length - 3;
  const onNearEnd = props.onNearEnd;
  useEffect(() => {
    if (nearEnd) onNearEnd?.();
  }, [nearEnd, items.length]);

  const rows = [];
  for (let i = first; i <= last && i < items.length; i++) {
    const item = items[i]!;
    const key = keyOf(item);
    rows.push(
      <Row key={key} rowKey={key} top={offsets[i]!} observer={observer} index={i} size={items.length}>
        {props.render(item, i)}
      </Row>,
    );
  }

  return (
    <div
      ref={scroller}
      class={`vlist ${props.class ?? ""}`}
      tabIndex={0}
      aria-label={props.label}
      role="region"
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div class="vlist-space" role="list" style={{ height: `${total}px` }}>
        {rows}
      </div>
    </div>
  );
}

function Row(props: { rowKey: string; top: number; observer: ResizeObserver; index: number; size: number; children: ComponentChildren }) {
  const element = useRef<HTMLDivElement>(null);
  const { observer } = props;
  useLayoutEffect(() => {
    const node = element.current;
    if (node === null) return;
    observer.observe(node);
    return () => observer.unobserve(node);
  }, [observer]);
  return (
    <div
      ref={element}
      class="vlist-row"
      role="listitem"
      aria-setsize={props.size}
      aria-posinset={props.index + 1}
      data-key={props.rowKey}
      data-top={props.top}
      style={{ top: `${props.top}px` }}
    >
      {props.children}
    </div>
  );
}

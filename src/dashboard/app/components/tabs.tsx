import type { ComponentChildren } from "preact";

interface Tab<Id extends string> {
  id: Id;
  label: string;
}

/** WAI-ARIA tabs: arrow keys, Home and End move between them; the choice is in the URL. */
export function Tabs<Id extends string>(props: { tabs: readonly Tab<Id>[]; selected: Id; onSelect(id: Id): void; counts?: Partial<Record<Id, number>>; children: ComponentChildren }) {
  const { tabs, selected } = props;
  const move = (event: KeyboardEvent) => {
    const index = tabs.findIndex((t) => t.id === selected);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const tab = tabs[(next + tabs.length) % tabs.length]!;
    props.onSelect(tab.id);
    document.getElementById(`tab-${tab.id}`)?.focus();
  };
  return (
    <div class="tabs">
      <div role="tablist" aria-label="Run views" onKeyDown={move}>
        {tabs.map((tab) => {
          const count = props.counts?.[tab.id];
          return (
            <button
              key={tab.id}
              id={`tab-${tab.id}`}
              type="button"
              role="tab"
              aria-selected={tab.id === selected}
              aria-controls={`panel-${tab.id}`}
              tabIndex={tab.id === selected ? 0 : -1}
              onClick={() => props.onSelect(tab.id)}
            >
              {tab.label}
              {count !== undefined && <span class="count">{formatCount(count)}</span>}
            </button>
          );
        })}
      </div>
      <div role="tabpanel" id={`panel-${selected}`} aria-labelledby={`tab-${selected}`} class="tabpanel">
        {props.children}
      </div>
    </div>
  );
}

const formatCount = (n: number) => new Intl.NumberFormat("en-US").format(n);

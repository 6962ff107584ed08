import { prettyJson } from "../format.js";
import { Collapsible } from "./collapsible.js";

/** JSON as people read it: pretty-printed, long documents folded. */
export function JsonView({ value, label }: { value: unknown; label?: string }) {
  const text = prettyJson(value);
  return (
    <Collapsible lines={text.split("\n").length} label={label}>
      <pre class="json">{text}</pre>
    </Collapsible>
  );
}

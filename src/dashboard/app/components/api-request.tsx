import { useState } from "preact/hooks";

/** The exact request behind a figure, and a curl command for it to copy. */
export function ApiRequest({ url }: { url: string }) {
  const [copied, setCopied] = useState<string | undefined>(undefined);
  const curl = `curl -s '${window.location.origin}${url}' -H "Authorization: Bearer $RUNLEDGER_API_KEY"`;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(curl);
      setCopied("Copied");
    } catch {
      setCopied("Select the text to copy it");
    }
  };
  return (
    <div class="api-request">
      <code>GET {url}</code>
      <button type="button" class="quiet small" onClick={() => void copy()} aria-label={`Copy the curl command for GET ${url}`}>Copy as curl</button>
      {copied !== undefined && <span role="status" class="muted">{copied}</span>}
    </div>
  );
}

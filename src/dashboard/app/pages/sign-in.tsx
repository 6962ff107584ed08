import { useState } from "preact/hooks";
import { type ApiError, errorMessage } from "../api.js";
import { type Session, signIn } from "../session.js";

export function SignIn(props: { notice?: string; onSignedIn(session: Session): void; onUnauthorized(error: ApiError): void }) {
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(props.notice);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (trimmed === "") {
      setError("Paste an API key (it starts with rlk_).");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await signIn(trimmed, props.onUnauthorized));
    } catch (e) {
      setError(`That key was not accepted: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <form onSubmit={(e) => void submit(e)} aria-describedby="sign-in-help">
        <h1>runledger</h1>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="rlk_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-invalid={error !== undefined}
          aria-describedby={error !== undefined ? "sign-in-error" : undefined}
          autofocus
        />
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
        {error !== undefined && <p id="sign-in-error" class="error" role="alert">{error}</p>}
        <p id="sign-in-help" class="muted">
          The key is kept in this browser tab only and is forgotten when the tab closes. A read key shows everything and changes nothing.
          The first admin key is printed when the server starts on an empty database; create more with <code>runledger keys create</code>.
        </p>
      </form>
    </main>
  );
}

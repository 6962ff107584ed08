/** The dashboard: sign in with an API key, then the runs, run and stats pages. */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { render } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "./api.js";
import { App, type AppContext } from "./context.js";
import { RunPage } from "./pages/run.js";
import { RunsPage } from "./pages/runs.js";
import { SignIn } from "./pages/sign-in.js";
import { followLink, useLocation } from "./router.js";
import { forgetKey, type Session, signIn, storedKey, storedSession } from "./session.js";
import type { Agent } from "./types.js";

type StatsModule = typeof import("./pages/stats.js");

/** The stats page and its chart library load the first time the page is opened. */
function LazyStats({ params }: { params: URLSearchParams }) {
  const [module, setModule] = useState<StatsModule | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    import("./pages/stats.js").then(setModule, () => setFailed(true));
  }, []);
  if (failed) return <p class="error" role="alert">Could not load the stats page; reload to try again.</p>;
  return module === undefined ? <p class="muted" role="status">Loading statistics…</p> : <module.StatsPage params={params} />;
}

function Shell({ session, onSignOut }: { session: Session; onSignOut(): void }) {
  const location = useLocation();
  const [agents, setAgents] = useState<{ byId: ReadonlyMap<string, Agent>; loaded: boolean }>({ byId: new Map(), loaded: false });
  const refreshAgents = useCallback(() => {
    session.api.get<Agent[]>("/v1/agents/", { limit: 1000 }).then(
      (list) => setAgents({ byId: new Map(list.map((a) => [a.id, a])), loaded: true }),
      () => {},
    );
  }, [session]);
  useEffect(refreshAgents, [refreshAgents]);
  const context: AppContext = useMemo(
    () => ({ api: session.api, canWrite: session.canWrite, agents: agents.byId, agentsLoaded: agents.loaded, refreshAgents }),
    [session, agents, refreshAgents],
  );

  const runMatch = /^\/runs\/([^/]+)$/.exec(location.path);
  let page;
  let section: "runs" | "stats" = "runs";
  if (runMatch !== null) page = <RunPage key={runMatch[1]} runId={decodeURIComponent(runMatch[1]!)} params={location.params} />;
  else if (location.path === "/stats") {
    section = "stats";
    page = <LazyStats params={location.params} />;
  } else page = <RunsPage params={location.params} />;

  return (
    <App.Provider value={context}>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/">runledger</a>
        <nav aria-label="Sections">
          <a href="/" aria-current={section === "runs" ? "page" : undefined}>Runs</a>
          <a href="/stats" aria-current={section === "stats" ? "page" : undefined}>Stats</a>
          <a href="/docs" target="_blank" rel="noopener">API</a>
        </nav>
        <span class="who" title={session.canWrite ? "This key can change runs" : "This key can only read"}>
          {session.canWrite ? "write access" : "read only"}
        </span>
        <button type="button" class="quiet" onClick={onSignOut}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </App.Provider>
  );
}

function Root() {
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(storedKey() !== null);

  const signOut = useCallback((reason?: string) => {
    forgetKey();
    setSession(null);
    setRestoring(false);
    setNotice(reason);
  }, []);
  const onUnauthorized = useCallback((error: ApiError) => signOut(`Signed out: ${error.message}`), [signOut]);

  // A reload draws the page at once with the session this tab confirmed, and confirms it
  // again meanwhile: a revoked key signs out, a changed role changes the controls.
  useEffect(() => {
    const key = storedKey();
    if (key === null) return;
    const known = storedSession(onUnauthorized);
    if (known !== undefined) {
      setSession(known);
      setRestoring(false);
    }
    signIn(key, onUnauthorized).then(
      (confirmed) => {
        if (known === undefined || known.canWrite !== confirmed.canWrite) setSession(confirmed);
        setRestoring(false);
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) return;
        setRestoring(false);
        if (known === undefined) setNotice(error instanceof Error ? error.message : String(error));
      },
    );
  }, [onUnauthorized]);

  if (restoring) return <p class="boot">Signing in…</p>;
  if (session === null) return <SignIn notice={notice} onSignedIn={(s) => { setNotice(undefined); setSession(s); }} onUnauthorized={onUnauthorized} />;
  return <Shell session={session} onSignOut={() => signOut()} />;
}

document.addEventListener("click", followLink);
const root = document.getElementById("app")!;
root.textContent = "";
render(<Root />, root);

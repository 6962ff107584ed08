import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "./api.js";
import type { Agent } from "./types.js";

export interface AppContext {
  api: Api;
  canWrite: boolean;
  /** The organization's agents by id (for names); refreshed when an unknown id shows up. */
  agents: ReadonlyMap<string, Agent>;
  /** Whether the agents list has been read once (until then every id is unknown). */
  agentsLoaded: boolean;
  refreshAgents(): void;
}

export const App = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const app = useContext(App);
  if (app === null) throw new Error("useApp outside a signed-in page");
  return app;
}

export function agentName(app: AppContext, agentId: string): string {
  return app.agents.get(agentId)?.name ?? agentId;
}

/**
 * One place that builds the world a test needs: a ledger per backend for the file, and per
 * test a fresh organization (so tests never see each other's rows), its actors and agents.
 */
import { afterAll, beforeAll, describe } from "vitest";
import type { Actor, Agent, Run } from "../../src/core/model.js";
import type { Ledger, LedgerOptions } from "../../src/ledger.js";
import { BACKENDS, type Backend } from "./backends.js";

export interface World {
  ledger: Ledger;
  backend: Backend["name"];
  url: string;
  /** A new organization with an admin, a writer and a reader. */
  tenant(): Promise<Tenant>;
}

export interface Tenant {
  orgId: string;
  admin: Actor;
  writer: Actor;
  reader: Actor;
  agent(name?: string): Promise<Agent>;
  /** A run of a new (or the given) agent, moved to `status` through the public API. */
  run(options?: { agentId?: string; status?: "created" | "running" | "completed" | "failed" | "cancelled"; input?: Record<string, unknown> }): Promise<Run>;
}

/** Declares `body` once per backend; PostgreSQL is skipped only when no server answers (never in CI). */
export function forEachBackend(title: string, body: (world: () => World) => void, options?: Omit<LedgerOptions, "url">): void {
  for (const backend of BACKENDS) {
    describe.skipIf(!backend.available)(`${title} [${backend.name}]`, () => {
      let world: World | undefined;
      let dispose: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        const opened = await backend.open(options);
        dispose = opened.dispose;
        world = makeWorld(opened.ledger, backend.name, opened.url);
      });
      afterAll(async () => {
        await dispose?.();
      });
      body(() => {
        if (world === undefined) throw new Error("the backend did not open");
        return world;
      });
    });
  }
}

function makeWorld(ledger: Ledger, backend: Backend["name"], url: string): World {
  return {
    ledger,
    backend,
    url,
    async tenant() {
      const org = await ledger.organizations.createTrusted(`org ${Math.random().toString(36).slice(2)}`);
      const actor = (role: Actor["role"]): Actor => ({ organization_id: org.id, role });
      const writer = actor("write");
      const tenant: Tenant = {
        orgId: org.id,
        admin: actor("admin"),
        writer,
        reader: actor("read"),
        agent: (name = "agent") => ledger.agents.create(writer, { name }),
        async run(options = {}) {
          const agentId = options.agentId ?? (await tenant.agent()).id;
          let run = await ledger.runs.create(writer, { agent_id: agentId, ...options.input });
          const status = options.status ?? "created";
          if (status === "running" || status === "completed") run = await ledger.runs.update(writer, run.id, { status: "running" });
          if (status === "completed") run = await ledger.runs.update(writer, run.id, { status: "completed", stop_reason: "end_turn" });
          if (status === "failed") run = await ledger.runs.update(writer, run.id, { status: "failed", stop_reason: "error" });
          if (status === "cancelled") run = await ledger.runs.cancel(writer, run.id);
          return run;
        },
      };
      return tenant;
    },
  };
}

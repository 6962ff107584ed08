/**
 * `npm start`: opens the ledger on DATABASE_URL (default: SQLite under ./data), bootstraps
 * the first organization and admin key on an empty database, and records one demo run so
 * the installation can be seen working.
 */
import { openLedger, DEFAULT_DATABASE_URL } from "./ledger.js";

const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const ledger = await openLedger({ url });
const boot = await ledger.apiKeys.bootstrap(process.env.RUNLEDGER_ADMIN_KEY);
if (boot !== undefined && process.env.RUNLEDGER_ADMIN_KEY === undefined) {
  console.log(`created organization ${boot.organization.id} and its admin key (shown once): ${boot.key.key}`);
}
const orgs = await ledger.store.read.organizations.list();
const actor = { organization_id: orgs[0]!.id, role: "write" as const };
const agent = await ledger.agents.create(actor, { name: "demo agent" });
const run = await ledger.runs.create(actor, { agent_id: agent.id });
await ledger.runs.update(actor, run.id, { status: "running" });
await ledger.steps.record(actor, run.id, { status: "success", model: "demo", prompt_tokens: 12, completion_tokens: 3 });
await ledger.messages.append(actor, run.id, [{ message_type: "assistant_message", content: "hello" }]);
const done = await ledger.runs.update(actor, run.id, { status: "completed", stop_reason: "end_turn" });
console.log(`ledger on ${url}: run ${done.id} ${done.status}, usage`, await ledger.runs.usage(actor, run.id));
await ledger.close();

/** Commands that work on a database directly: migrate, keys (also over HTTP) and purge. */
import type { Actor } from "../core/model.js";
import { parseDuration } from "../core/duration.js";
import { DEFAULT_DATABASE_URL, openLedger, type Ledger } from "../ledger.js";
import { Options, UsageError } from "./args.js";
import { printJson, printTable, progress } from "./output.js";
import { clientFrom, required } from "./remote.js";

function databaseUrl(options: Options): string {
  return options.string("database-url") ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

async function withLedger<T>(url: string, fn: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await openLedger({ url, listen: false });
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
  }
}

/** Direct database access is the installation's own authority: it acts as the superuser of the default organization. */
async function superuser(ledger: Ledger): Promise<Actor> {
  const boot = await ledger.apiKeys.bootstrap();
  const orgs = await ledger.organizations.listTrusted();
  if (boot !== undefined) process.stderr.write(`initialized an empty database; its superuser key: ${boot.key.key}\n`);
  return { organization_id: orgs[0]!.id, role: "admin", superuser: true };
}

export async function migrateCommand(options: Options): Promise<void> {
  const url = databaseUrl(options);
  options.rejectUnknown("migrate");
  await withLedger(url, async () => {});
  process.stdout.write(`migrated ${url.replace(/\/\/[^@/]*@/, "//…@")}\n`);
}

const KEY_COLUMNS = ["id", "organization_id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"];

export async function keysCommand(sub: string | undefined, options: Options): Promise<void> {
  const json = options.flag("json");
  // Over HTTP when a server is named (--url, --api-key or RUNLEDGER_URL); on the database otherwise.
  const remote = options.string("url") !== undefined || options.string("api-key") !== undefined || Boolean(process.env.RUNLEDGER_URL);
  const org = options.string("org");
  const url = remote ? "" : databaseUrl(options);
  switch (sub) {
    case "create": {
      const input = { name: options.string("name"), role: options.string("role") ?? "read", organization_id: org };
      const client = remote ? clientFrom(options) : undefined;
      options.rejectUnknown("keys create");
      const key = client
        ? await client.createApiKey(input)
        : await withLedger(url, async (ledger) => ledger.apiKeys.create(await superuser(ledger), input as never));
      if (json) printJson(key);
      else process.stdout.write(`created ${key.role} key ${key.id} in ${key.organization_id}\nsecret (shown once): ${key.key}\n`);
      return;
    }
    case "list": {
      const client = remote ? clientFrom(options) : undefined;
      options.rejectUnknown("keys list");
      const keys = client
        ? await client.listApiKeys(org)
        : await withLedger(url, async (ledger) => ledger.apiKeys.list(await superuser(ledger), org));
      if (json) printJson(keys);
      else printTable(keys as unknown as Record<string, unknown>[], KEY_COLUMNS);
      return;
    }
    case "revoke": {
      const keyId = required(options.words[2], "keys revoke <key_id>");
      const client = remote ? clientFrom(options) : undefined;
      options.rejectUnknown("keys revoke");
      const key = client
        ? await client.revokeApiKey(keyId)
        : await withLedger(url, async (ledger) => ledger.apiKeys.revoke(await superuser(ledger), keyId));
      if (json) printJson(key);
      else process.stdout.write(`revoked ${key.id} at ${key.revoked_at}\n`);
      return;
    }
    default:
      throw new UsageError("keys commands: create [--role admin|write|read] [--name …] [--org …], list [--org …], revoke <key_id>");
  }
}

/**
 * `purge` applies the retention policies now (and purges soft-deleted runs past their
 * grace); with --older-than it instead deletes the ended runs older than that in one
 * organization (--org, default the first), optionally only --status, or counts them with
 * --dry-run.
 */
export async function purgeCommand(options: Options): Promise<void> {
  const json = options.flag("json");
  const olderThan = options.string("older-than");
  const statuses = options.all("status");
  const org = options.string("org");
  const dryRun = options.flag("dry-run");
  const url = databaseUrl(options);
  options.rejectUnknown("purge");
  await withLedger(url, async (ledger) => {
    if (olderThan === undefined) {
      if (statuses !== undefined || dryRun) throw new UsageError("--status and --dry-run go with --older-than");
      const counts = await ledger.retention.applyAll(await superuser(ledger), { defaultGraceDays: 7 }, (c) =>
        process.stderr.write(`purged ${c.expired + c.purged} runs so far\n`),
      );
      if (json) printJson(counts);
      else process.stdout.write(`deleted ${counts.expired} runs past their retention and purged ${counts.purged} soft-deleted runs\n`);
      return;
    }
    const ms = parseDuration(olderThan, "--older-than");
    const actor = await superuser(ledger);
    const target = { ...actor, organization_id: org ?? actor.organization_id };
    const query = {
      statuses: (statuses ?? ["completed", "failed", "cancelled"]) as never,
      created_before: new Date(Date.now() - ms).toISOString(),
      dry_run: dryRun,
    };
    const result = await ledger.bulk.delete(target, query, progress("deleting"));
    if (json) printJson(result);
    else process.stdout.write(`${dryRun ? "would delete" : "deleted"} ${dryRun ? result.matched : result.changed} runs\n`);
  });
}

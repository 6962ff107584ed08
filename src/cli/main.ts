/**
 * The `runledger` command: serve, migrate, keys, runs and purge. Output is a table for
 * people or JSON with --json; errors go to stderr with an exit code that says what kind:
 * 2 usage or configuration, 3 not found, 4 conflict or illegal transition, 5 authentication
 * or permission, 1 anything else.
 */
import { ConfigError, loadConfig } from "../config.js";
import { LedgerError } from "../core/errors.js";
import { serve } from "../serve.js";
import { Options, UsageError } from "./args.js";
import { keysCommand, migrateCommand, purgeCommand } from "./direct.js";
import { runsCommand } from "./remote.js";

const HELP = `runledger — run tracking for AI agents

  runledger [serve] [--host H] [--port P] [--database-url URL] [--log-level L]
  runledger migrate [--database-url URL]
  runledger keys create [--role admin|write|read] [--name N] [--org ORG_ID]
  runledger keys list [--org ORG_ID]
  runledger keys revoke KEY_ID
  runledger runs list [--agent-id A] [--status S]… [--tag T]… [--limit N] [--order asc|desc] [--after RUN_ID]
  runledger runs show RUN_ID
  runledger runs tail RUN_ID
  runledger runs cancel RUN_ID… | runs cancel [--agent-id A] [--status S]… [--tag T]… [--dry-run]
  runledger runs stats [filters] [--group-by agent_id|status|stop_reason|model] [--bucket minute|hour|day]
  runledger purge [--older-than 30d [--status S]… [--org ORG_ID] [--dry-run]]

Server commands (runs, and keys with --url) use --url / RUNLEDGER_URL (default http://127.0.0.1:8283)
and --api-key / RUNLEDGER_API_KEY. Database commands (migrate, keys, purge) use --database-url /
DATABASE_URL (default sqlite:./data/runledger.db). Add --json for machine-readable output.
`;

export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === undefined || argv[0].startsWith("-") || argv[0] === "serve") {
      if (argv.includes("--help")) {
        process.stdout.write(HELP);
        return 0;
      }
      await serve(loadConfig(argv[0] === "serve" ? argv.slice(1) : argv));
      return -1; // keeps running
    }
    const options = new Options(argv);
    const [command, sub] = options.words;
    switch (command) {
      case "help":
        process.stdout.write(HELP);
        return 0;
      case "migrate":
        await migrateCommand(options);
        return 0;
      case "keys":
        await keysCommand(sub, options);
        return 0;
      case "runs":
        await runsCommand(sub, options);
        return 0;
      case "purge":
        await purgeCommand(options);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'; run 'runledger help'`);
    }
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`runledger: ${message}\n`);
  if (error instanceof UsageError || error instanceof ConfigError) return 2;
  if (error instanceof LedgerError) {
    switch (error.code) {
      case "VALIDATION_ERROR":
      case "INVALID_ARGUMENT":
        return 2;
      case "NOT_FOUND":
        return 3;
      case "CONFLICT":
      case "INVALID_TRANSITION":
        return 4;
      case "UNAUTHENTICATED":
      case "PERMISSION_DENIED":
        return 5;
      case "UNAVAILABLE":
        // The database is down or restarting: worth running again, like any other failure.
        return 1;
    }
  }
  if (!(error instanceof LedgerError)) process.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
  return 1;
}

#!/usr/bin/env node
/**
 * The runledger command. `runledger` or `runledger serve` starts the server; `runledger
 * migrate` applies migrations and exits.
 */
import { ConfigError, loadConfig } from "./config.js";
import { openLedger } from "./ledger.js";
import { serve } from "./serve.js";

async function main(argv: string[]): Promise<void> {
  const [command = "serve", ...rest] = argv[0]?.startsWith("-") ? ["serve", ...argv] : argv;
  switch (command) {
    case "serve":
      await serve(loadConfig(rest));
      return;
    case "migrate": {
      const config = loadConfig(rest);
      const ledger = await openLedger({ url: config.databaseUrl });
      await ledger.close();
      console.log(`migrated ${config.databaseUrl}`);
      return;
    }
    default:
      throw new ConfigError(`unknown command '${command}'; commands: serve, migrate`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `runledger: ${error.message}` : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});

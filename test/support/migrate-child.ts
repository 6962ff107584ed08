// Opens (and so migrates) a ledger on the URL given as the first argument, then exits.
import { openLedger } from "../../src/ledger.js";

const ledger = await openLedger({ url: process.argv[2]! });
await ledger.close();

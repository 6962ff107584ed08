// Rewrites schema/<backend>.txt from what the migrations produce (see test/support/schema-dump.ts).
import { writeFileSync } from "node:fs";
import { BACKENDS } from "../test/support/backends.js";
import { dumpSchema } from "../test/support/schema-dump.js";
import { storeOf } from "../src/store/store.js";

for (const backend of BACKENDS.filter((b) => b.available)) {
  const opened = await backend.open({ listen: false });
  try {
    writeFileSync(new URL(`../schema/${backend.name}.txt`, import.meta.url), await dumpSchema(storeOf(opened.ledger)));
    console.log(`wrote schema/${backend.name}.txt`);
  } finally {
    await opened.dispose();
  }
}

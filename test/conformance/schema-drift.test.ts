import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { forEachBackend } from "../support/fixtures.js";
import { dumpSchema } from "../support/schema-dump.js";
import { storeOf } from "../../src/store/store.js";

forEachBackend("schema", (world) => {
  it("matches the committed description (run `npm run schema:dump` after adding a migration)", async () => {
    const committed = readFileSync(new URL(`../../schema/${world().backend}.txt`, import.meta.url), "utf8");
    expect(await dumpSchema(storeOf(world().ledger))).toBe(committed);
  });
});

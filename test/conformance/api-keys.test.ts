import { expect, it } from "vitest";
import { forEachBackend } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

forEachBackend("API keys and organizations", (world) => {
  it("bootstraps once: the first key is a superuser admin, stored only as a hash", async () => {
    const ledger = world().ledger;
    const first = await ledger.apiKeys.bootstrap();
    expect(first).toBeDefined();
    expect(first!.key).toMatchObject({ role: "admin", is_superuser: true });
    expect(first!.key.key).toMatch(/^rlk_[A-Za-z0-9]{12}_/);
    expect(await ledger.apiKeys.bootstrap()).toBeUndefined();
    const stored = await storeOf(ledger).driver.all<Record<string, unknown>>("SELECT * FROM api_keys");
    expect(JSON.stringify(stored)).not.toContain(first!.key.key);

    const superuser = await ledger.apiKeys.authenticate(first!.key.key);
    expect(superuser).toMatchObject({ organization_id: first!.organization.id, role: "admin", superuser: true });

    // The superuser creates an organization and a write key in it.
    const org = await ledger.organizations.create(superuser, { name: "acme" });
    expect((await ledger.organizations.list(superuser)).map((o) => o.id)).toContain(org.id);
    const writeKey = await ledger.apiKeys.create(superuser, { organization_id: org.id, role: "write", name: "producer" });
    const writer = await ledger.apiKeys.authenticate(writeKey.key);
    expect(writer).toMatchObject({ organization_id: org.id, role: "write", superuser: false });
    expect((await ledger.apiKeys.list(superuser, org.id)).map((k) => k.id)).toEqual([writeKey.id]);
    expect((await ledger.apiKeys.list(superuser, org.id))[0]!.last_used_at).not.toBeNull();

    // An ordinary admin manages only its own organization.
    const adminKey = await ledger.apiKeys.create(superuser, { organization_id: org.id, role: "admin" });
    const admin = await ledger.apiKeys.authenticate(adminKey.key);
    await expect(ledger.organizations.create(admin, { name: "rogue" })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(ledger.apiKeys.create(admin, { organization_id: first!.organization.id })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(ledger.apiKeys.create(writer, { role: "read" })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(ledger.apiKeys.revoke(admin, first!.key.id)).rejects.toMatchObject({ code: "NOT_FOUND" });

    // Revocation takes effect at once.
    await ledger.apiKeys.revoke(admin, writeKey.id);
    await expect(ledger.apiKeys.authenticate(writeKey.key)).rejects.toMatchObject({ code: "UNAUTHENTICATED", message: expect.stringContaining("revoked") });
    await expect(ledger.apiKeys.authenticate(`${writeKey.prefix}_wrongwrongwrongwrongwrong`)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(ledger.apiKeys.authenticate("Bearer nonsense")).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });
});

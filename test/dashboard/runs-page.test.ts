/**
 * Signing in, the runs page and the stats page in a real browser, and how the dashboard
 * itself is served (compression, cache lifetimes, Content-Security-Policy).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { chromiumProblem, launchBrowser, openTab, PHONE, screenshot, unnamedControls } from "../support/browser.js";
import { apiCaller, writeDemoRun } from "../support/demo-runs.js";
import { forEachServer, type HttpTenant } from "../support/server.js";


// A browser test drives a page through many states; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
const withBrowser = chromiumProblem === undefined;

/** The ids of the rows the runs table shows, top to bottom. */
const rowIds = (page: Page) => page.locator("table.runs tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run-id")));

forEachServer("dashboard: signing in, runs and stats", (world) => {
  let browser: Browser;
  let t: HttpTenant;
  let support: string;
  let triage: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    t = await world().tenant();
    support = await t.agent("support bot");
    triage = await t.agent("triage");
    const call = apiCaller(world().baseUrl, t.writeKey);
    for (const end of ["completed", "failed", "cancelled"] as const) {
      await writeDemoRun(call, { agentId: support, end, tags: ["prod"] });
      await writeDemoRun(call, { agentId: triage, end, tags: ["eval"] });
    }
  });
  afterAll(async () => {
    await browser?.close();
  });
  const name = (what: string) => `${world().backend}-${what}`;
  const api = (key = t.writeKey) => apiCaller(world().baseUrl, key);

  it.runIf(withBrowser)("signs in with a key kept in the tab only, and refuses a wrong one with a reason", async () => {
    const { page, problems, context } = await openTab(browser);
    await page.goto(`${world().baseUrl}/`);
    await screenshot(page, name("sign-in-desktop"));
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByLabel("API key").fill("rlk_000000000000_not-a-real-key-at-all-000");
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await page.getByRole("alert").textContent()).toContain("That key was not accepted");
    await page.getByLabel("API key").fill(t.readKey);
    await page.getByLabel("API key").press("Enter");
    await expect.poll(async () => (await rowIds(page)).length).toBe(6);
    expect(page.url()).not.toContain(t.readKey);
    const stored = await page.evaluate(() => {
      const g = globalThis as unknown as { sessionStorage: { getItem(k: string): string | null }; localStorage: { length: number }; document: { cookie: string } };
      return { session: g.sessionStorage.getItem("runledger.api-key"), local: g.localStorage.length, cookie: g.document.cookie };
    });
    expect(stored).toEqual({ session: t.readKey, local: 0, cookie: "" });
    // A read key gets no bulk action.
    expect(await page.getByRole("button", { name: "Cancel matching runs…" }).count()).toBe(0);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.runIf(withBrowser)("stays signed in across a reload, and a revoked key signs the tab out", async () => {
    const created = (await api(t.adminKey)("POST", "/v1/api-keys", { role: "read", name: "dashboard tab" })) as { id: string; key: string };
    const { page, context } = await openTab(browser);
    await page.goto(`${world().baseUrl}/`);
    await page.getByLabel("API key").fill(created.key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("table.runs tbody tr").first().waitFor();
    await page.reload();
    await page.locator("table.runs tbody tr").first().waitFor();
    expect(await page.getByText("read only").count()).toBe(1);
    await api(t.adminKey)("DELETE", `/v1/api-keys/${created.id}`);
    await page.reload();
    await page.getByLabel("API key").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("Signed out");
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
    await context.close();
  });

  it.runIf(withBrowser)("filters runs into the URL, and the URL restores the same view", async () => {
    const { page, problems, context } = await openTab(browser, { key: t.readKey });
    await page.goto(`${world().baseUrl}/`);
    await page.getByLabel("Agent").selectOption({ label: "triage" });
    await page.getByRole("checkbox", { name: "failed" }).check();
    await page.getByRole("checkbox", { name: "cancelled" }).check();
    await expect.poll(() => new URL(page.url()).searchParams.getAll("statuses")).toEqual(["failed", "cancelled"]);
    expect(new URL(page.url()).searchParams.get("agent_id")).toBe(triage);
    const expected = ((await api(t.readKey)("GET", `/v1/runs/?agent_id=${triage}&statuses=failed&statuses=cancelled`)) as { id: string }[]).map((r) => r.id);
    expect(expected).toHaveLength(2);
    await expect.poll(() => rowIds(page)).toEqual(expected);
    await page.getByLabel("Tags (all of)").fill("eval");
    await page.getByLabel("Tags (all of)").press("Enter");
    await expect.poll(() => new URL(page.url()).searchParams.get("tags")).toBe("eval");

    const bookmarked = page.url();
    const fresh = await openTab(browser, { key: t.readKey });
    await fresh.page.goto(bookmarked);
    await expect.poll(() => rowIds(fresh.page)).toEqual(expected);
    expect(await fresh.page.getByRole("checkbox", { name: "failed" }).isChecked()).toBe(true);
    expect(await fresh.page.getByRole("checkbox", { name: "completed" }).isChecked()).toBe(false);
    expect(await fresh.page.getByLabel("Agent").inputValue()).toBe(triage);
    expect(await fresh.page.getByLabel("Tags (all of)").inputValue()).toBe("eval");
    await screenshot(fresh.page, name("runs-filtered-desktop"));
    expect(await unnamedControls(fresh.page)).toEqual([]);
    await fresh.context.close();

    await page.goBack();
    await expect.poll(() => new URL(page.url()).searchParams.get("tags")).toBe(null);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.runIf(withBrowser)("pages through runs with cursors both ways", async () => {
    const pager = await t.agent("pager");
    for (let i = 0; i < 52; i++) await api()("POST", "/v1/runs", { agent_id: pager });
    const all = ((await api()("GET", `/v1/runs/?agent_id=${pager}&limit=100`)) as { id: string }[]).map((r) => r.id);
    const { page, context } = await openTab(browser, { key: t.readKey });
    await page.goto(`${world().baseUrl}/?agent_id=${pager}`);
    await expect.poll(() => rowIds(page)).toEqual(all.slice(0, 50));
    await page.getByRole("button", { name: "Older →" }).click();
    await expect.poll(() => rowIds(page)).toEqual(all.slice(50));
    expect(new URL(page.url()).searchParams.get("after")).toBe(all[49]);
    expect(await page.getByRole("button", { name: "Older →" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "← Newer" }).click();
    await expect.poll(() => rowIds(page)).toEqual(all.slice(0, 50));
    // Back at the top the cursor is gone, so new runs appear live again.
    await expect.poll(() => new URL(page.url()).search).toBe(`?agent_id=${pager}`);
    await context.close();
  });

  it.runIf(withBrowser)("shows a run created, stepped and completed through the API live, without a reload", async () => {
    const live = await t.agent("live one");
    const { page, problems, context } = await openTab(browser, { key: t.readKey });
    await page.goto(`${world().baseUrl}/?agent_id=${live}`);
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
    const run = (await api()("POST", "/v1/runs", { agent_id: live, tags: ["fresh"] })) as { id: string };
    const row = page.locator(`tr[data-run-id="${run.id}"]`);
    await expect.poll(() => row.count(), { timeout: 5_000 }).toBe(1);
    expect(await row.locator(".badge").textContent()).toBe("created");
    await api()("PATCH", `/v1/runs/${run.id}`, { status: "running" });
    await expect.poll(() => row.locator(".badge").textContent(), { timeout: 5_000 }).toBe("running");
    await api()("POST", `/v1/runs/${run.id}/steps`, { model: "m", prompt_tokens: 100, completion_tokens: 23 });
    await expect.poll(() => row.locator('td[data-label="Tokens"]').textContent(), { timeout: 5_000 }).toBe("123");
    await api()("PATCH", `/v1/runs/${run.id}`, { status: "completed", stop_reason: "end_turn" });
    await expect.poll(() => row.locator(".badge").textContent(), { timeout: 5_000 }).toBe("completed");
    expect(await row.locator('td[data-label="Stop reason"]').textContent()).toBe("end_turn");
    expect(await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.runIf(withBrowser)("bulk-cancels the filtered set after showing the dry run's count", async () => {
    const bulk = await t.agent("bulk");
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(((await api()("POST", "/v1/runs", { agent_id: bulk })) as { id: string }).id);
    await api()("POST", `/v1/runs/${ids[0]}/cancel`, {});
    const { page, context } = await openTab(browser, { key: t.writeKey });
    await page.goto(`${world().baseUrl}/?agent_id=${bulk}`);
    await page.getByRole("button", { name: "Cancel matching runs…" }).click();
    const dialog = page.getByRole("dialog", { name: "Cancel 2 active runs?" });
    await dialog.waitFor();
    await screenshot(page, name("runs-bulk-cancel-desktop"));
    await dialog.getByRole("button", { name: "Cancel 2 runs" }).click();
    await page.getByText("Cancelled 2 runs.").waitFor();
    const statuses = ((await api(t.readKey)("GET", `/v1/runs/?agent_id=${bulk}`)) as { status: string }[]).map((r) => r.status);
    expect(statuses).toEqual(["cancelled", "cancelled", "cancelled"]);
    await context.close();
  });

  it.runIf(withBrowser)("works by keyboard alone: tab to a run, open it, switch tabs with the arrow keys", async () => {
    const { page, context } = await openTab(browser, { key: t.readKey });
    await page.goto(`${world().baseUrl}/?agent_id=${support}`);
    const first = page.locator("table.runs tbody tr a").first();
    await first.waitFor();
    const runId = (await first.getAttribute("title"))!;
    for (let i = 0; i < 60 && !(await first.evaluate((a) => a === a.ownerDocument.activeElement)); i++) await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/runs/${runId}`);
    await page.getByRole("tab", { name: /Steps/ }).focus();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => new URL(page.url()).searchParams.get("tab")).toBe("messages");
    expect(await page.getByRole("tab", { name: /Messages/ }).getAttribute("aria-selected")).toBe("true");
    await context.close();
  });

  it.runIf(withBrowser)("charts the same figures GET /v1/runs/stats gives for the request each chart shows", async () => {
    const { page, problems, context } = await openTab(browser, { key: t.readKey });
    await page.goto(`${world().baseUrl}/stats?agent_id=${triage}`);
    const card = page.getByRole("article", { name: /^Runs per (minute|hour) by status$/ });
    await card.waitFor();
    const shown = (await card.locator(".api-request code").textContent())!.replace(/^GET /, "");
    expect(shown).toMatch(/^\/v1\/runs\/stats\?/);
    expect(new URL(shown, world().baseUrl).searchParams.get("agent_id")).toBe(triage);
    const report = (await api(t.readKey)("GET", shown)) as { summary: { runs: number; error_rate: number } };
    expect(report.summary.runs).toBe(3);
    const summary = page.getByRole("definition").first();
    expect(await summary.textContent()).toBe(String(report.summary.runs));
    // The figures table under the chart adds up to the same count.
    const counts = await card.locator("tbody tr").evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll("td.num")].reduce((sum, td) => sum + Number(td.textContent!.replace(/,/g, "")), 0)),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(await page.getByRole("article", { name: "Top agents" }).textContent()).toContain("triage");
    expect(await page.getByRole("article", { name: "Top tools" }).textContent()).toContain("get_weather");
    await screenshot(page, name("stats-desktop"));
    expect(await unnamedControls(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.runIf(withBrowser)("reads at a phone's width", async () => {
    const signIn = await openTab(browser, { viewport: PHONE });
    await signIn.page.goto(`${world().baseUrl}/`);
    await signIn.page.getByLabel("API key").waitFor();
    await screenshot(signIn.page, name("sign-in-phone"));
    await signIn.context.close();
    const { page, context } = await openTab(browser, { key: t.readKey, viewport: PHONE });
    await page.goto(`${world().baseUrl}/`);
    await page.locator("table.runs tbody tr").first().waitFor();
    // Nothing wider than the screen: no sideways scrolling of the page.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, name("runs-phone"));
    await page.goto(`${world().baseUrl}/stats`);
    await page.getByRole("article", { name: /Runs per/ }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, name("stats-phone"));
    await context.close();
  });

  it("serves the dashboard compressed, cached by content hash, with a CSP that forbids inline scripts and other origins", async () => {
    const html = await fetch(`${world().baseUrl}/runs/run-00000000-0000-4000-8000-000000000000`, { headers: { "accept-encoding": "br" } });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-encoding")).toBe("br");
    expect(html.headers.get("cache-control")).toBe("no-cache");
    const csp = html.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const body = await html.text();
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(body).not.toMatch(/https?:\/\//);
    const script = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(body)![1]!;
    const gzip = await fetch(`${world().baseUrl}${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(gzip.headers.get("content-encoding")).toBe("gzip");
    expect(gzip.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(gzip.headers.get("content-type")).toContain("text/javascript");
    expect((await fetch(`${world().baseUrl}/assets/main-0000000000.js`)).status).toBe(404);
    // The API is untouched: its routes still want a key, and the dashboard is not in its description.
    expect((await fetch(`${world().baseUrl}/v1/runs/`)).status).toBe(401);
    const spec = (await (await fetch(`${world().baseUrl}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths).filter((p) => !p.startsWith("/v1/") && !["/healthz", "/readyz", "/metrics"].includes(p))).toEqual([]);
  });
});

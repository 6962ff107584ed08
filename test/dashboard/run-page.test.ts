/**
 * The run page in a real browser: steps, messages and webhook attempts; following an active
 * run live; cancelling it; what a read key may do; and a run too big to render whole.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { launchBrowser, openTab, PHONE, screenshot, unnamedControls } from "../support/browser.js";
import { apiCaller, writeDemoRun } from "../support/demo-runs.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { forEachServer, type HttpTenant } from "../support/server.js";
import { chromiumProblem } from "../support/browser.js";
import { waitFor } from "../support/wait.js";


// A browser test drives a page through many states; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
const describeIfBrowser = chromiumProblem === undefined;

forEachServer(
  "dashboard: the run page",
  (world) => {
    let browser: Browser;
    let receiver: Receiver;
    let t: HttpTenant;
    let agentId: string;
    beforeAll(async () => {
      browser = await launchBrowser();
      receiver = await startReceiver();
      // The first attempt fails, the retry is delivered: the page shows both.
      receiver.respond = (_request, index) => ({ status: index === 0 ? 500 : 200 });
      t = await world().tenant();
      agentId = await t.agent("support bot");
    });
    afterAll(async () => {
      await browser?.close();
      await receiver?.close();
    });
    const call = () => apiCaller(world().baseUrl, t.writeKey);
    const name = (what: string) => `${world().backend}-${what}`;

    it.runIf(describeIfBrowser)("shows a run's steps, messages by type and webhook attempts", async () => {
      const runId = await writeDemoRun(call(), { agentId, steps: 5, failStep: 2, end: "failed", callbackUrl: receiver.url });
      const { page, problems, context } = await openTab(browser, { key: t.readKey });
      await page.goto(`${world().baseUrl}/runs/${runId}`);
      await expect.poll(() => page.locator(".step-row:not(.axis-row)").count()).toBe(5);
      await expect.poll(() => page.locator(".run-head .badge").textContent()).toBe("failed");
      expect(await page.getByRole("note", { name: "Run error" }).textContent()).toContain("the provider answered 529");
      await page.getByRole("button", { name: "Jump to first error (step 3)" }).click();
      await expect.poll(() => page.getByRole("region", { name: "Step 3 details" }).textContent()).toContain("llm_api_error");
      await screenshot(page, name("run-steps-desktop"));
      expect(await unnamedControls(page)).toEqual([]);

      await page.getByRole("tab", { name: /Messages/ }).click();
      expect(page.url()).toContain("tab=messages");
      await expect.poll(() => page.locator("article.message").count()).toBe(9);
      const text = await page.locator(".message-list").textContent();
      for (const expected of ["User", "Assistant", "Reasoning", "Tool call", "Tool return", "Approval request", "Approval response", "System", "Hidden reasoning"]) {
        expect(text).toContain(expected);
      }
      // Tool arguments are pretty-printed, not shown as the escaped string they were sent as.
      expect(await page.locator("article.message", { hasText: "get_weather" }).locator("pre").textContent()).toContain('"city": "Lisbon"');
      expect(text).not.toContain("raw JSON");
      await screenshot(page, name("run-messages-desktop"));

      await page.getByRole("tab", { name: /Webhooks/ }).click();
      await expect.poll(() => page.locator("table.attempts tbody tr").count(), { timeout: 15_000 }).toBe(2);
      const codes = await page.locator("table.attempts tbody tr td:nth-child(4)").allTextContents();
      expect(codes).toEqual(["500", "200"]);
      expect(await page.locator(".delivery .badge").textContent()).toBe("delivered");
      // A read key gets no redeliver control.
      expect(await page.getByRole("button", { name: "Redeliver" }).count()).toBe(0);
      await screenshot(page, name("run-webhooks-desktop"));
      expect(await unnamedControls(page)).toEqual([]);
      expect(problems).toEqual([]);
      await context.close();

      const phone = await openTab(browser, { key: t.readKey, viewport: PHONE });
      await phone.page.goto(`${world().baseUrl}/runs/${runId}`);
      await phone.page.locator(".step-row:not(.axis-row)").first().waitFor();
      await screenshot(phone.page, name("run-steps-phone"));
      await phone.page.goto(`${world().baseUrl}/runs/${runId}?tab=messages`);
      await phone.page.locator("article.message").first().waitFor();
      await screenshot(phone.page, name("run-messages-phone"));
      await phone.page.goto(`${world().baseUrl}/runs/${runId}?tab=webhooks`);
      await phone.page.locator("table.attempts").waitFor();
      await screenshot(phone.page, name("run-webhooks-phone"));
      await phone.context.close();
    });

    it.runIf(describeIfBrowser)("shows a message it cannot render by type as its raw JSON, never blank", async () => {
      const runId = await writeDemoRun(call(), { agentId, steps: 1, end: "running" });
      // Accepted by the API (a tool call is an object, tool_calls an array) but not renderable as calls.
      await call()("POST", `/v1/runs/${runId}/messages`, { messages: [{ message_type: "tool_call_message", tool_call: { name: "lookup" }, tool_calls: [42], otid: "odd-one" }] });
      const { page, problems, context } = await openTab(browser, { key: t.readKey });
      await page.goto(`${world().baseUrl}/runs/${runId}?tab=messages`);
      const odd = page.locator("article.message", { hasText: "odd-one" });
      await odd.waitFor();
      expect(await odd.textContent()).toContain("(shown as raw JSON)");
      expect(await odd.locator("pre").textContent()).toContain('"tool_calls": [\n    42\n  ]');
      expect(await page.locator("article.message").count()).toBe(10);
      expect(problems).toEqual([]);
      await context.close();
    });

    it.runIf(describeIfBrowser)("follows an active run live: steps, messages and the end appear without a reload", async () => {
      const runId = await writeDemoRun(call(), { agentId, steps: 1, end: "running" });
      const { page, problems, context } = await openTab(browser, { key: t.readKey });
      await page.goto(`${world().baseUrl}/runs/${runId}`);
      await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
      await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));

      const step = (await call()("POST", `/v1/runs/${runId}/steps`, { model: "gpt-4o-live", prompt_tokens: 10 })) as { id: string };
      await expect.poll(() => page.locator(".step-row:not(.axis-row)").count()).toBe(2);
      expect(await page.locator(".step-row", { hasText: "gpt-4o-live" }).count()).toBe(1);
      await call()("PATCH", `/v1/runs/${runId}/steps/${step.id}`, { status: "success", completion_tokens: 5 });
      await expect.poll(() => page.locator(".step-row", { hasText: "gpt-4o-live" }).textContent()).toContain("success");

      await page.getByRole("tab", { name: /Messages/ }).click();
      await page.locator("article.message").first().waitFor();
      await call()("POST", `/v1/runs/${runId}/messages`, { messages: [{ message_type: "assistant_message", content: "written while you watched" }] });
      await expect.poll(() => page.locator(".message-list").textContent()).toContain("written while you watched");
      await call()("POST", `/v1/runs/${runId}/events`, { chunks: [{ message_type: "assistant_message", content: "streaming tok" }, { message_type: "assistant_message", content: "ens" }] });
      await expect.poll(() => page.getByRole("log", { name: "Streaming output" }).textContent()).toContain("streaming tokens");

      await call()("PATCH", `/v1/runs/${runId}`, { status: "completed", stop_reason: "end_turn" });
      await expect.poll(() => page.locator(".run-head .badge").textContent()).toBe("completed");
      await page.getByRole("status").filter({ hasText: "Ended" }).waitFor();
      expect(await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
      expect(problems).toEqual([]);
      await context.close();
    });

    it.runIf(describeIfBrowser)("cancels a run from its page, and the API reports it cancelled", async () => {
      const runId = await writeDemoRun(call(), { agentId, steps: 1, end: "running" });
      const { page, context } = await openTab(browser, { key: t.writeKey });
      await page.goto(`${world().baseUrl}/runs/${runId}`);
      await page.getByRole("button", { name: "Cancel run" }).click();
      const dialog = page.getByRole("dialog", { name: "Cancel this run?" });
      await dialog.getByRole("button", { name: "Cancel run" }).click();
      await expect.poll(() => page.locator(".run-head .badge").textContent()).toBe("cancelled");
      const run = (await apiCaller(world().baseUrl, t.readKey)("GET", `/v1/runs/${runId}`)) as { status: string; stop_reason: string };
      expect(run).toMatchObject({ status: "cancelled", stop_reason: "cancelled" });
      expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
      await context.close();
    });

    it.runIf(describeIfBrowser)("gives a read key no cancel or delete control, and the server refuses a forged cancel from its tab", async () => {
      const runId = await writeDemoRun(call(), { agentId, steps: 1, end: "running" });
      const { page, context } = await openTab(browser, { key: t.readKey });
      await page.goto(`${world().baseUrl}/runs/${runId}`);
      await page.locator(".run-head .badge").waitFor();
      expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
      expect(await page.getByRole("button", { name: "Delete run" }).count()).toBe(0);
      expect(await page.getByText("read only").count()).toBe(1);
      const forged = await page.evaluate(async (id) => {
        const key = (globalThis as unknown as { sessionStorage: { getItem(name: string): string | null } }).sessionStorage.getItem("runledger.api-key");
        const response = await fetch(`/v1/runs/${id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${key}` } });
        return { status: response.status, body: (await response.json()) as { code: string } };
      }, runId);
      expect(forged).toMatchObject({ status: 403, body: { code: "PERMISSION_DENIED" } });
      expect(((await call()("GET", `/v1/runs/${runId}`)) as { status: string }).status).toBe("running");
      await context.close();
    });

    it.runIf(describeIfBrowser)("opens a run with 10,000 messages, renders only what is on screen, and scrolls to the last", async () => {
      const runId = await writeDemoRun(call(), { agentId, steps: 2, extraMessages: 10_000 - 9, end: "completed" });
      const { page, problems, context } = await openTab(browser, { key: t.readKey });
      await page.goto(`${world().baseUrl}/runs/${runId}?tab=messages`);
      await page.locator("article.message").first().waitFor();
      expect(await page.locator("article.message").count()).toBeLessThan(100);
      const list = page.getByRole("region", { name: "Messages" });
      // Scroll to the end until every page has been read.
      await waitFor("every message to load", async () => {
        await list.evaluate((element) => (element.scrollTop = element.scrollHeight));
        return (await page.locator(".messages > [role=status]").textContent())?.trim() === "10,000 messages";
      }, 20_000, 100);
      await list.evaluate((element) => (element.scrollTop = element.scrollHeight));
      await expect.poll(() => page.locator(".message-list").textContent()).toContain("Message 9990 of the conversation");
      expect(await page.locator("article.message").count()).toBeLessThan(100);
      await screenshot(page, name("run-10k-messages-desktop"), { fullPage: false });
      expect(problems).toEqual([]);
      await context.close();
    });
  },
  { ledger: { webhookAllowlist: ["127.0.0.1"] }, webhookRetryScheduleMs: [200, 200] },
);

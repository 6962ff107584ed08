/**
 * A real headless Chromium (Debian's package) driven by playwright-core, for the dashboard
 * tests. Under CI=true a missing browser fails the run instead of skipping it.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.RUNLEDGER_CHROMIUM ?? "/usr/bin/chromium";
const INSTALL = "apt-get update && apt-get install -y chromium";

export const chromiumProblem = existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH}`;
if (chromiumProblem !== undefined && process.env.CI === "true") throw new Error(`${chromiumProblem}; the dashboard tests need it in CI: ${INSTALL}`);
if (chromiumProblem !== undefined) console.warn(`Dashboard browser tests skipped: ${chromiumProblem}; install it with: ${INSTALL}`);

export const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts", "dashboard");

export const DESKTOP = { width: 1400, height: 900 };
export const PHONE = { width: 390, height: 844 };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // As root Chromium needs --no-sandbox; the rest keep it from reaching for the network.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface DashboardPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and CSP violations seen by the page. */
  problems: string[];
}

/** A fresh tab (its own sessionStorage); signed in with `key` already when given. */
export async function openTab(browser: Browser, options: { key?: string; viewport?: { width: number; height: number } } = {}): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, reducedMotion: "reduce" });
  if (options.key !== undefined) await context.addInitScript((key) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem("runledger.api-key", key), options.key);
  const page = await context.newPage();
  const problems: string[] = [];
  // Answers are checked by each test; what counts here is the page's own errors and any 5xx.
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) problems.push(message.text());
  });
  page.on("response", (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} from ${response.url()}`);
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return { context, page, problems };
}

/**
 * A picture of the page, whole by default. A page with a scrolling list is taken at its
 * viewport (`fullPage: false`): a whole-page picture resizes the viewport, and the list
 * would be drawn before it re-measured itself.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: options.fullPage ?? true });
}

/**
 * Controls on the page without an accessible name (aria-label, aria-labelledby, a label,
 * text or title), described by tag and class; empty when every control can be named.
 */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document;
    type El = { tagName: string; className: string; textContent: string | null; getAttribute(n: string): string | null; labels?: ArrayLike<{ textContent: string | null }> | null; ownerDocument: { getElementById(id: string): { textContent: string | null } | null } };
    const named = (el: El) =>
      [el.getAttribute("aria-label"), ...(el.getAttribute("aria-labelledby") ?? "").split(" ").filter(Boolean).map((id) => el.ownerDocument.getElementById(id)?.textContent ?? ""), ...Array.from(el.labels ?? []).map((l) => l.textContent), el.getAttribute("type") === "hidden" ? "hidden" : null, el.textContent, el.getAttribute("title")]
        .some((text) => (text ?? "").trim() !== "");
    return Array.from(doc.querySelectorAll("a[href], button, input, select, textarea, [role=tab], [tabindex='0']") as ArrayLike<El>)
      .filter((el) => !named(el))
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
  });
}

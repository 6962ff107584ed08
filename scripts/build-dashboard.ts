/**
 * Builds the dashboard (src/dashboard/app) into dist/dashboard/public: one JavaScript and
 * one CSS bundle with content hashes in their names, each also stored brotli- and
 * gzip-compressed, and index.html pointing at them. Run by `npm run build` (so `npm start`)
 * and before the tests.
 *
 *   npx tsx scripts/build-dashboard.ts
 */
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import { DASHBOARD_ASSETS_DIR } from "../src/dashboard/assets.js";

const APP_DIR = fileURLToPath(new URL("../src/dashboard/app/", import.meta.url));

export interface BuiltAsset {
  name: string;
  bytes: number;
  gzipBytes: number;
  brotliBytes: number;
}

function compressed(content: Buffer): { gzip: Buffer; brotli: Buffer } {
  return {
    gzip: gzipSync(content, { level: 9 }),
    brotli: brotliCompressSync(content, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: content.length } }),
  };
}

function hashedName(name: string, content: Buffer): string {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 10);
  const dot = name.lastIndexOf(".");
  return `${name.slice(0, dot)}-${hash}${name.slice(dot)}`;
}

/** Builds into `outDir` (default: where the server looks) and returns what it wrote. */
export async function buildDashboard(outDir = DASHBOARD_ASSETS_DIR): Promise<BuiltAsset[]> {
  const result = await build({
    entryPoints: [join(APP_DIR, "main.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome110", "firefox115", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: "out",
    // Pages that need more code (the stats page's charts) load it when first opened.
    splitting: true,
    entryNames: "[name]-[hash]",
    chunkNames: "[name]-[hash]",
    metafile: true,
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  const files = new Map<string, Buffer>();
  for (const file of result.outputFiles) files.set(basename(file.path), Buffer.from(file.contents));
  // esbuild names what it emits by content hash already; the entry's names go into index.html.
  const names = new Map<string, string>();
  const preloads: string[] = [];
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    // The stats page is an entry point too (it is imported dynamically); main.tsx is the page's.
    if (output.entryPoint === undefined || !output.entryPoint.endsWith("/main.tsx")) continue;
    names.set("main.js", basename(path));
    if (output.cssBundle !== undefined) names.set("main.css", basename(output.cssBundle));
    // What main.js imports statically is fetched at once, not after main.js has been parsed.
    preloads.push(...output.imports.filter((i) => i.kind === "import-statement").map((i) => basename(i.path)));
  }
  const favicon = await readFile(join(APP_DIR, "favicon.svg"));
  const faviconName = hashedName("favicon.svg", favicon);
  files.set(faviconName, favicon);
  names.set("favicon.svg", faviconName);

  // Written beside the final folder, then swapped in, so a running server never reads half a build.
  const staging = `${outDir}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, "assets"), { recursive: true });
  const built: BuiltAsset[] = [];
  for (const [name, content] of files) {
    const { gzip, brotli } = compressed(content);
    const path = join(staging, "assets", name);
    await writeFile(path, content);
    await writeFile(`${path}.gz`, gzip);
    await writeFile(`${path}.br`, brotli);
    built.push({ name, bytes: content.length, gzipBytes: gzip.length, brotliBytes: brotli.length });
  }
  const template = await readFile(join(APP_DIR, "index.html"), "utf8");
  const html = Buffer.from(
    template
      .replace("{{preloads}}", preloads.map((name) => `<link rel="modulepreload" href="/assets/${name}">`).join("\n"))
      .replace(/\{\{(main\.js|main\.css|favicon\.svg)\}\}/g, (_, name: string) => {
        const hashed = names.get(name);
        if (hashed === undefined) throw new Error(`the dashboard build produced no ${name}`);
        return `/assets/${hashed}`;
      }),
  );
  const { gzip, brotli } = compressed(html);
  await writeFile(join(staging, "index.html"), html);
  await writeFile(join(staging, "index.html.gz"), gzip);
  await writeFile(join(staging, "index.html.br"), brotli);
  await writeFile(join(staging, "manifest.json"), JSON.stringify({ assets: built }, null, 2));

  await mkdir(dirname(outDir), { recursive: true });
  const old = `${outDir}.old-${process.pid}`;
  await rename(outDir, old).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  await rename(staging, outDir);
  await rm(old, { recursive: true, force: true });
  return built;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildDashboard();
  const scripts = built.filter((a) => /\.(js|css)$/.test(a.name));
  const total = scripts.reduce((sum, a) => sum + a.gzipBytes, 0);
  console.log(`dashboard: ${scripts.map((a) => a.name).join(", ")} (${(total / 1024).toFixed(1)} KiB gzip)`);
}

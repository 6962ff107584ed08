/**
 * Forces a full GC in another Node process and reads its V8 heap usage, over the inspector
 * protocol (the process must run with --inspect=127.0.0.1:0). Node 20 has WebSocket only
 * behind --experimental-websocket, so the call runs in a short-lived child with that flag.
 */
import { execFile } from "node:child_process";

const SCRIPT = `
const ws = new WebSocket(process.argv[1]);
let id = 0;
const pending = new Map();
const call = (method, params = {}) => new Promise((resolve, reject) => {
  const n = ++id;
  pending.set(n, { resolve, reject });
  ws.send(JSON.stringify({ id: n, method, params }));
});
ws.onmessage = (event) => {
  const message = JSON.parse(event.data);
  const p = pending.get(message.id);
  if (!p) return;
  pending.delete(message.id);
  message.error ? p.reject(new Error(message.error.message)) : p.resolve(message.result);
};
ws.onerror = () => { console.error("inspector connection failed"); process.exit(1); };
ws.onopen = async () => {
  await call("HeapProfiler.enable");
  await call("HeapProfiler.collectGarbage");
  await call("HeapProfiler.collectGarbage");
  const usage = await call("Runtime.getHeapUsage");
  await call("HeapProfiler.disable");
  console.log(JSON.stringify(usage));
  ws.close();
  process.exit(0);
};
`;

export interface HeapUsage {
  usedSize: number;
  totalSize: number;
}

/** The inspector URL a `--inspect=127.0.0.1:0` process printed on stderr. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(output)?.[1];
}

/** Two full GCs in the target, then its V8 heap usage (bytes). */
export function gcAndHeapUsage(url: string): Promise<HeapUsage> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--experimental-websocket", "--no-warnings", "-e", SCRIPT, url], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}: ${stderr}`));
      resolve(JSON.parse(stdout.trim()) as HeapUsage);
    });
  });
}

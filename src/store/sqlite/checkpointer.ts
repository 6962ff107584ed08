/**
 * WAL checkpoints off the event loop. better-sqlite3 is synchronous, so SQLite's automatic
 * checkpoint (run by whichever COMMIT pushes the WAL past 1,000 pages) copies pages and
 * fsyncs the WAL and the database file on the event loop, stalling every request in flight
 * for a few milliseconds. Instead the server's own connection never checkpoints
 * (`wal_autocheckpoint = 0`) and a worker thread with its own connection does:
 *
 * - every `intervalMs` a PASSIVE checkpoint, which never waits for anyone and copies what
 *   the WAL holds by then. When the writer finds a checkpoint has copied everything (any
 *   pause in writing), SQLite starts the WAL over from its beginning.
 * - under writes that never pause the WAL would grow without end, so once it passes
 *   `restartFrames` pages the worker asks for a RESTART. The driver lets the transactions
 *   of the moment commit, holds back new ones (they wait, the event loop does not), and
 *   answers; the worker copies the few pages the last PASSIVE left and starts the WAL over;
 *   then the held transactions run. Nothing on the event loop waits for a lock or a disk.
 *
 * If the worker cannot start or fails, the connection goes back to SQLite's automatic
 * checkpoints, so the WAL stays bounded whatever happens.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

export interface CheckpointOptions {
  /** How often the worker runs a PASSIVE checkpoint. */
  intervalMs?: number;
  /** WAL pages past which the worker starts the WAL over (4 KiB pages: 64 MiB by default). */
  restartFrames?: number;
}

export const DEFAULT_CHECKPOINTS: Required<CheckpointOptions> = { intervalMs: 100, restartFrames: 16_384 };

/** The worker, as CommonJS source (eval'd, so it runs the same from src/ under tsx and from dist/). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
let restarting = false;
let restartedAt = -1;
function passive() {
  if (restarting) return;
  const [result] = db.pragma("wal_checkpoint(PASSIVE)");
  // After a RESTART the WAL starts over at the next write; until one comes it still reports
  // the frames it had, which need no second restart.
  if (result.log >= workerData.restartFrames && result.log !== restartedAt) {
    restarting = true;
    parentPort.postMessage({ type: "restart-wanted", frames: result.log });
  }
}
parentPort.on("message", (message) => {
  if (message.type === "restart") {
    let outcome;
    try {
      const [result] = db.pragma("wal_checkpoint(RESTART)");
      if (result.busy === 0) restartedAt = result.log;
      outcome = { type: "restarted", busy: result.busy === 1 };
    } catch (error) {
      outcome = { type: "restarted", busy: true, error: String(error) };
    }
    restarting = false;
    parentPort.postMessage(outcome);
  } else if (message.type === "close") {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
const timer = setInterval(() => {
  try {
    passive();
  } catch (error) {
    parentPort.postMessage({ type: "failed", error: String(error) });
  }
}, workerData.intervalMs);
`;

type FromWorker = { type: "restart-wanted"; frames: number } | { type: "restarted"; busy: boolean; error?: string } | { type: "failed"; error: string };

export interface CheckpointHost {
  /**
   * Runs `restart` once no transaction is open and holds new ones back until the promise
   * it returns settles.
   */
  whileNoTransaction(restart: () => Promise<void>): void;
  /** The worker is gone: checkpoint automatically again. */
  fallBack(): void;
}

export class Checkpointer {
  private readonly worker: Worker;
  private restarted: (() => void) | undefined;
  private closed = false;

  constructor(file: string, host: CheckpointHost, options: CheckpointOptions = {}) {
    const settings = { ...DEFAULT_CHECKPOINTS, ...options };
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver: createRequire(import.meta.url).resolve("better-sqlite3"), ...settings },
    });
    this.worker.unref();
    const fail = () => {
      if (this.closed) return;
      this.closed = true;
      this.restarted?.();
      host.fallBack();
      void this.worker.terminate();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", fail);
    this.worker.on("message", (message: FromWorker) => {
      if (message.type === "restart-wanted") {
        host.whileNoTransaction(
          () =>
            new Promise<void>((resolve) => {
              // Asked for before close() but reached after it: the worker is gone, nothing to wait for.
              if (this.closed) {
                resolve();
                return;
              }
              this.restarted = resolve;
              this.worker.postMessage({ type: "restart" });
            }),
        );
      } else if (message.type === "restarted") {
        const done = this.restarted;
        this.restarted = undefined;
        done?.();
      } else {
        fail();
      }
    });
  }

  /** Stops the worker and closes its connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.restarted?.();
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.postMessage({ type: "close" });
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Carries notices between server processes on PostgreSQL: one dedicated connection LISTENs
 * on the notice channel and publishes what arrives to this process's bus. When the
 * connection drops it reconnects with backoff and then asks every subscriber to re-read
 * from its cursor, so nothing written meanwhile is missed (the tables are the truth).
 */
import pg from "pg";
import type { EventBus } from "./bus.js";
import { decodeNotice, NOTIFY_CHANNEL } from "../core/run-notice.js";

export interface ListenerOptions {
  connectionString: string;
  onError?: (error: unknown) => void;
  /** Longest wait between reconnection attempts. */
  maxBackoffMs?: number;
}

export class PostgresListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;

  constructor(private readonly bus: EventBus, private readonly options: ListenerOptions) {}

  /** Resolves once the first LISTEN is in place. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** True while the LISTEN connection is up (for readiness and tests). */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Drops the connection as a network fault would (tests use it to prove recovery). */
  simulateDisconnect(): void {
    this.client?.emit("error", new Error("simulated disconnect"));
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on("notification", (message) => {
      if (message.channel !== NOTIFY_CHANNEL || message.payload === undefined) return;
      const notice = decodeNotice(message.payload);
      if (notice !== undefined) this.bus.publish([notice]);
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("LISTEN connection ended")));
    await client.connect();
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
    this.attempt = 0;
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.options.onError?.(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(this.options.maxBackoffMs ?? 5_000, 50 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        // Anything committed while we were away was announced to nobody: everyone re-reads.
        () => this.bus.resync(),
        (error: unknown) => {
          this.options.onError?.(error);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }
}

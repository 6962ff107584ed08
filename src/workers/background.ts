/**
 * The background work a server does beside its requests: the liveness reaper, the webhook
 * dispatcher and the retention sweeper, started and stopped together.
 */
import type { Telemetry } from "../core/telemetry.js";
import type { EventBus } from "../events/bus.js";
import type { Store } from "../store/store.js";
import type { AddressGuard } from "../webhooks/address-guard.js";
import { LivenessReaper, type LivenessReaperOptions } from "./reaper.js";
import { RetentionSweeper, type RetentionOptions } from "./retention-sweeper.js";
import { type DispatcherOptions, WebhookDispatcher } from "../webhooks/dispatcher.js";

export interface BackgroundOptions {
  reaper: Omit<LivenessReaperOptions, "telemetry" | "instance">;
  webhooks: Omit<DispatcherOptions, "guard" | "telemetry">;
  retention: Omit<RetentionOptions, "telemetry" | "instance">;
  /** Names this process in the workers' audit entries (default: host and pid). */
  instance?: string;
}

export class BackgroundWorkers {
  private readonly reaper: LivenessReaper;
  private readonly dispatcher: WebhookDispatcher;
  private readonly retention: RetentionSweeper;

  constructor(store: Store, bus: EventBus, guard: AddressGuard, telemetry: Telemetry, options: BackgroundOptions) {
    this.reaper = new LivenessReaper(store, { ...options.reaper, telemetry, instance: options.instance });
    this.dispatcher = new WebhookDispatcher(store, bus, { ...options.webhooks, guard, telemetry });
    this.retention = new RetentionSweeper(store, { ...options.retention, telemetry, instance: options.instance });
  }

  start(): void {
    this.reaper.start();
    this.dispatcher.start();
    this.retention.start();
  }

  /** Stops all three, waiting for work in flight. */
  async stop(): Promise<void> {
    await this.retention.stop();
    await this.dispatcher.stop();
    await this.reaper.stop();
  }
}

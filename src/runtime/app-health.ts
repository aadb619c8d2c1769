/**
 * The app's health as daprd tracks it: unhealthy until the first successful probe, unhealthy
 * again after `threshold` consecutive failures, healthy again on a single success.
 */
import type { AppChannel } from "../channels/contract.js";
import type { Logger } from "../observability/logger.js";

export interface AppHealthOptions {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly threshold: number;
}

export class AppHealth {
  private healthy: boolean;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((healthy: boolean) => void)[] = [];

  constructor(
    private readonly channel: AppChannel,
    private readonly opts: AppHealthOptions | undefined,
    private readonly logger: Logger,
  ) {
    // Without health checks the app counts as healthy as soon as its port accepts connections.
    this.healthy = opts === undefined;
  }

  isHealthy(): boolean {
    return this.healthy;
  }

  onChange(fn: (healthy: boolean) => void): void {
    this.listeners.push(fn);
  }

  start(): void {
    if (!this.opts) return;
    const tick = async () => {
      const opts = this.opts as AppHealthOptions;
      const ok = await this.channel.probe(opts.path, opts.timeoutMs);
      if (ok) {
        this.failures = 0;
        this.set(true);
      } else if (++this.failures >= opts.threshold) {
        this.set(false);
      }
      if (this.timer !== undefined) this.timer = setTimeout(() => void tick(), opts.intervalMs);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private set(healthy: boolean): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.logger.info(healthy ? "app entered healthy status" : "app entered unhealthy status");
    for (const fn of this.listeners) fn(healthy);
  }
}

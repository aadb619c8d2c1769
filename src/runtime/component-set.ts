/**
 * The running components: built from resources at start-up, then reconciled on hot reload (added,
 * rebuilt when their spec changed, removed). At start-up a failure is fatal unless the component
 * says `ignoreErrors`; on reload a failure is reported and the running component kept.
 */
import type { ComponentMetadata } from "../blocks/metadata/metadata.js";
import type { PubSubBlock } from "../blocks/pubsub/pubsub.js";
import type { OutboxSettings, StateBlock } from "../blocks/state/state.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { loadResources } from "../resources/load-resources.js";
import { watchResources } from "../resources/watch.js";
import { formatProblem, type ComponentResource, type ConfigurationResource, type LoadContext } from "../resources/types.js";
import { buildComponent, componentDigest, ComponentInitError, type BuiltComponent } from "./components.js";
import { StartupError } from "./startup-error.js";

export interface ComponentSetOptions {
  readonly appId: string;
  readonly namespace: string;
  readonly logger: Logger;
  readonly state: StateBlock;
  readonly pubsub: PubSubBlock;
  readonly metrics: Metrics | undefined;
  /** Configuration `components.deny`: `type` or `type/version`. */
  readonly deny: readonly string[];
}

export class ComponentSet {
  private readonly running = new Map<string, BuiltComponent>();

  constructor(private readonly opts: ComponentSetOptions) {}

  /** The running state stores configured as outboxes. */
  outboxStores(): { name: string; outbox: OutboxSettings }[] {
    return [...this.running.values()].flatMap((c) => (c.state?.outbox ? [{ name: c.state.name, outbox: c.state.outbox }] : []));
  }

  describe(): ComponentMetadata[] {
    return [...this.running.values()].map((c) => ({
      name: c.resource.name,
      type: c.type,
      version: c.version,
      capabilities: c.state ? this.opts.state.features(c.resource.name) : c.pubsub ? [...c.pubsub.features] : [],
    }));
  }

  async apply(resources: readonly ComponentResource[], mode: { startup: boolean }): Promise<void> {
    const wanted = new Map(resources.map((r) => [r.name, r]));
    for (const [name, built] of this.running) {
      if (!wanted.has(name)) {
        await this.remove(name, built);
        this.opts.logger.info(`component ${name} removed`);
      }
    }
    for (const r of resources) {
      const current = this.running.get(r.name);
      if (current && current.digest === componentDigest(r)) continue;
      try {
        this.checkAllowed(r, current);
        const built = await buildComponent(r, this.opts);
        if (current) await this.remove(r.name, current);
        await this.install(built);
        this.opts.metrics?.componentInitialised(built.type, r.name, true);
        this.opts.logger.info(`component loaded: ${r.name} (${built.type}/${built.version})`);
      } catch (err) {
        this.opts.metrics?.componentInitialised(r.type, r.name, false);
        const message = err instanceof Error ? err.message : String(err);
        if (r.ignoreErrors) {
          this.opts.logger.warn(`component ${r.name} failed and is skipped (ignoreErrors): ${message}`);
        } else if (mode.startup) {
          await this.closeAll();
          throw new StartupError(message, { cause: err });
        } else {
          this.opts.logger.error(`component ${r.name} not reloaded, the running one is kept: ${message}`);
        }
      }
    }
  }

  /** Watch the resource paths and reconcile components on change (Configuration feature HotReload). */
  watch(paths: readonly string[], configuration: ConfigurationResource, ctx: LoadContext): () => void {
    if (paths.length === 0 || configuration.features.HotReload === false) return () => {};
    let reloading = Promise.resolve();
    const watcher = watchResources(paths, () => {
      reloading = reloading.then(() => this.reload(paths, ctx)).catch((err: unknown) => this.opts.logger.error({ err }, "hot reload failed"));
    });
    return () => watcher.close();
  }

  async closeAll(): Promise<void> {
    for (const [name, built] of [...this.running]) await this.remove(name, built);
  }

  private async reload(paths: readonly string[], ctx: LoadContext): Promise<void> {
    const { resources, problems } = await loadResources(paths, ctx);
    const fatal = problems.filter((p) => !p.ignorable);
    if (fatal.length > 0) {
      this.opts.logger.error(`resources changed but are invalid; the running configuration is kept:\n${fatal.map(formatProblem).join("\n")}`);
      return;
    }
    await this.apply(resources.components, { startup: false });
  }

  private checkAllowed(r: ComponentResource, replacing: BuiltComponent | undefined): void {
    const denied = this.opts.deny.some((d) => d === r.type || d === `${r.type}/${r.version || "v1"}`);
    if (denied) throw new ComponentInitError(r, `type ${r.type} is denied by the Configuration (components.deny)`);
    const isActorStore = r.metadata.some((m) => m.name.toLowerCase() === "actorstatestore" && (m.value ?? "").toLowerCase() === "true");
    if (!isActorStore) return;
    for (const [name, c] of this.running) {
      if (c !== replacing && c.state?.actorStateStore) throw new ComponentInitError(r, `only one state store may set actorStateStore; ${name} already does`);
    }
  }

  private async install(built: BuiltComponent): Promise<void> {
    this.running.set(built.resource.name, built);
    if (built.state) this.opts.state.register(built.state);
    if (built.pubsub) await this.opts.pubsub.register(built.pubsub);
  }

  private async remove(name: string, built: BuiltComponent): Promise<void> {
    this.running.delete(name);
    if (built.state) this.opts.state.unregister(name);
    if (built.pubsub) await this.opts.pubsub.unregister(name);
    this.opts.metrics?.componentRemoved();
    try {
      await built.close();
    } catch (err) {
      this.opts.logger.warn({ err }, `closing component ${name} failed`);
    }
  }
}

/**
 * The pub/sub block: the registered components, publishing (single and bulk), and the running
 * subscriptions. Subscriptions start once the runtime hands over the app's sink and the merged
 * subscription list, follow components as they are added or replaced (hot reload), and stop —
 * draining in-flight deliveries within a grace period — on shutdown.
 */
import { pubsubErrors } from "../../errors/index.js";
import type { Logger } from "../../observability/logger.js";
import { NO_POLICIES, componentPolicy, type ResiliencyPolicies } from "../../resiliency/policies.js";
import { BulkSubscriber } from "./bulk-subscriber.js";
import type { ActiveSubscription, MessageHandler } from "./contract.js";
import { isRawPayload, Publisher, type PubSubMetrics, type RegisteredPubSub } from "./publisher.js";
import { createRouter } from "./routing.js";
import { canSubscribe } from "./scopes.js";
import { Subscriber } from "./subscriber.js";
import type { BulkPublishEventRequest, BulkPublishEventResponse, EventSink, PublishEventRequest, SubscriptionSpec } from "./types.js";

export type { RegisteredPubSub } from "./publisher.js";

interface Running {
  readonly spec: SubscriptionSpec;
  readonly active: ActiveSubscription;
}

export class PubSubBlock {
  private readonly components = new Map<string, RegisteredPubSub>();
  private readonly running = new Map<string, Running[]>();
  private readonly publisher: Publisher;
  private specs: readonly SubscriptionSpec[] = [];
  private sink: EventSink | undefined;
  private policies: ResiliencyPolicies = NO_POLICIES;
  private stopped = false;
  /** Aborted when the shutdown grace period ends: deliveries still running give up and stay on the broker. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly appId: string,
    private readonly logger: Logger,
    private readonly metrics?: PubSubMetrics,
  ) {
    this.publisher = new Publisher(appId, (name) => componentPolicy(this.policies, name, "Pubsub", "outbound"), metrics);
  }

  setPolicies(policies: ResiliencyPolicies): void {
    this.policies = policies;
  }

  names(): string[] {
    return [...this.components.keys()];
  }

  get(name: string): RegisteredPubSub | undefined {
    return this.components.get(name);
  }

  async register(ps: RegisteredPubSub): Promise<void> {
    this.components.set(ps.name, ps);
    if (this.sink && !this.stopped) await this.startFor(ps);
  }

  async unregister(name: string): Promise<void> {
    this.components.delete(name);
    await this.stopFor(name);
  }

  private lookup(name: string): RegisteredPubSub {
    if (name === "") throw pubsubErrors.nameEmpty();
    if (this.components.size === 0) throw pubsubErrors.notConfigured(name);
    const ps = this.components.get(name);
    if (!ps) throw pubsubErrors.notFound(name);
    return ps;
  }

  /** Checks the pubsub name and topic as publishing does, before a body is read. */
  validate(pubsubname: string, topic: string): void {
    const ps = this.lookup(pubsubname);
    if (topic === "") throw pubsubErrors.topicEmpty(ps.name, ps.type);
  }

  publish(req: PublishEventRequest): Promise<void> {
    return this.publisher.publish(this.lookup(req.pubsubname), req);
  }

  bulkPublish(req: BulkPublishEventRequest): Promise<BulkPublishEventResponse> {
    return this.publisher.bulkPublish(this.lookup(req.pubsubname), req);
  }

  /** Publishes ready bytes on a component, bypassing scopes and envelopes: for the sidecar's own topics (outbox). */
  async publishInternal(pubsubname: string, topic: string, data: Buffer, contentType: string): Promise<void> {
    const ps = this.lookup(pubsubname);
    await ps.component.publish({ topic: ps.topicPrefix + topic, data, contentType, metadata: {} });
  }

  /** Subscribes the sidecar itself (not the app) to one of its own topics; the caller closes it. */
  subscribeInternal(pubsubname: string, topic: string, handler: MessageHandler): Promise<ActiveSubscription> {
    const ps = this.lookup(pubsubname);
    return ps.component.subscribe({ topic: ps.topicPrefix + topic, metadata: {} }, handler);
  }

  /** The subscriptions the app runs now (for the metadata API). */
  subscriptions(): readonly SubscriptionSpec[] {
    return [...this.running.values()].flat().map((r) => r.spec);
  }

  /** Starts every subscription whose component is loaded; later registrations start theirs. */
  async start(specs: readonly SubscriptionSpec[], sink: EventSink): Promise<void> {
    this.specs = specs;
    this.sink = sink;
    for (const ps of this.components.values()) await this.startFor(ps);
  }

  /** Stops pulling and waits for in-flight deliveries up to `graceMs`; what is unfinished stays on the broker. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    const all = [...this.running.keys()];
    const closed = Promise.all(all.map((name) => this.stopFor(name)));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([closed, graceOver]);
    clearTimeout(timer);
    this.stopping.abort(new Error("shutdown grace period over"));
    await closed;
  }

  private async startFor(ps: RegisteredPubSub): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    const list: Running[] = [];
    this.running.set(ps.name, list);
    for (const spec of this.specs.filter((s) => s.pubsubname === ps.name)) {
      if (!canSubscribe(ps.scopes, this.appId, spec.topic)) {
        this.logger.error(`subscription to topic ${spec.topic} on pubsub ${ps.name} is not allowed for app id ${this.appId} (subscriptionScopes / allowedTopics); not subscribed`);
        continue;
      }
      try {
        const handler = await this.handlerFor(ps, spec, sink);
        const bulk = spec.bulkSubscribe?.enabled ? { minConcurrency: spec.bulkSubscribe.maxMessagesCount } : {};
        const active = await ps.component.subscribe({ topic: ps.topicPrefix + spec.topic, metadata: spec.metadata, ...bulk }, handler);
        list.push({ spec, active });
        this.logger.info(`subscribed to topic ${spec.topic} on pubsub ${ps.name} (${spec.type.toLowerCase()})`);
      } catch (err) {
        this.logger.error({ err }, `subscribing to topic ${spec.topic} on pubsub ${ps.name} failed`);
      }
    }
  }

  private async handlerFor(ps: RegisteredPubSub, spec: SubscriptionSpec, sink: EventSink): Promise<MessageHandler> {
    const router = await createRouter(spec.rules);
    const subscriber = new Subscriber({
      ps,
      spec,
      router,
      sink,
      policy: componentPolicy(this.policies, ps.name, "Pubsub", "inbound"),
      rawPayload: isRawPayload(ps, spec.metadata),
      logger: this.logger,
      stopSignal: this.stopping.signal,
      ...(this.metrics ? { metrics: this.metrics } : {}),
    });
    return spec.bulkSubscribe?.enabled ? new BulkSubscriber(subscriber, spec.bulkSubscribe).handle : subscriber.handle;
  }

  private async stopFor(name: string): Promise<void> {
    const list = this.running.get(name) ?? [];
    this.running.delete(name);
    await Promise.all(
      list.map((r) =>
        r.active.close().catch((err: unknown) => this.logger.warn({ err }, `closing the subscription to ${r.spec.topic} on ${name} failed`)),
      ),
    );
  }
}

/**
 * pubsub.in-memory: in-process delivery to the subscribers of this sidecar, nothing persisted.
 * Each subscription handles one message at a time in publish order. A topic ending in `*` matches
 * every longer topic starting with the part before it. Unlike Dapr's, a failed message is not just
 * logged: it is handed to the handler again after `redeliverInterval` while the process lives.
 */
import type {
  ActiveSubscription,
  Message,
  MessageHandler,
  PublishRequest,
  PubSub,
  PubSubFeature,
  SubscribeRequest,
} from "../../blocks/pubsub/contract.js";
import { delay } from "../../kit/deferred.js";
import { defineSchema, type OptionsOf } from "../../kit/metadata-schema.js";
import type { ComponentContext } from "../shared/context.js";

export const metadataSchema = defineSchema({
  consumerID: { type: "string", default: "", description: "Set by the sidecar to the app id; unused (every subscriber of this process gets every message)." },
  redeliverInterval: { type: "duration", default: 1000, bareUnitMs: 1, description: "Delay before a message whose delivery failed is handed to its subscriber again." },
});
export type InMemoryPubSubOptions = OptionsOf<typeof metadataSchema>;

const FEATURES: readonly PubSubFeature[] = ["SUBSCRIBE_WILDCARDS"];

function matches(pattern: string, topic: string): boolean {
  if (pattern.endsWith("*")) {
    const stem = pattern.slice(0, -1);
    return topic.length > stem.length && topic.startsWith(stem);
  }
  return pattern === topic;
}

class MemorySubscription implements ActiveSubscription {
  private readonly queue: Message[] = [];
  private readonly workers = new Set<Promise<void>>();
  /** Workers that may still take a message (decremented synchronously as one finds the queue empty). */
  private active = 0;
  private closed = false;
  private readonly abort = new AbortController();
  /** Ends a redelivery wait early when the subscription closes. */
  private readonly stopWaiting = new AbortController();

  constructor(
    readonly pattern: string,
    private readonly handler: MessageHandler,
    private readonly redeliverMs: number,
    /** Messages handled at once: 1 keeps publish order (a failed message is retried before the next). */
    private readonly lanes: number,
    private readonly onClose: (s: MemorySubscription) => void,
  ) {}

  push(message: Message): void {
    if (this.closed) return;
    this.queue.push(message);
    if (this.active < this.lanes) {
      this.active += 1;
      const w: Promise<void> = this.work().finally(() => this.workers.delete(w));
      this.workers.add(w);
    }
  }

  private async work(): Promise<void> {
    for (;;) {
      const next = this.closed ? undefined : this.queue.shift();
      if (next === undefined) {
        this.active -= 1;
        return;
      }
      for (;;) {
        try {
          await this.handler(next, this.abort.signal);
          break;
        } catch {
          if (this.closed) break;
          await delay(this.redeliverMs, this.stopWaiting.signal);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopWaiting.abort();
    this.onClose(this);
    await Promise.all([...this.workers]);
  }
}

export class InMemoryPubSub implements PubSub {
  private readonly subscriptions = new Set<MemorySubscription>();

  constructor(private readonly options: InMemoryPubSubOptions) {}

  features(): readonly PubSubFeature[] {
    return FEATURES;
  }

  publish(req: PublishRequest): Promise<void> {
    const message: Message = { topic: req.topic, data: req.data, contentType: req.contentType, metadata: req.metadata };
    for (const s of this.subscriptions) if (matches(s.pattern, req.topic)) s.push(message);
    return Promise.resolve();
  }

  subscribe(req: SubscribeRequest, handler: MessageHandler): Promise<ActiveSubscription> {
    const s = new MemorySubscription(req.topic, handler, this.options.redeliverInterval, Math.max(1, req.minConcurrency ?? 1), (x) => this.subscriptions.delete(x));
    this.subscriptions.add(s);
    return Promise.resolve(s);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }
}

export function create(options: InMemoryPubSubOptions, _ctx: ComponentContext): Promise<PubSub> {
  return Promise.resolve(new InMemoryPubSub(options));
}

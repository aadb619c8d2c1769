/**
 * One pubsub.mqtt3 subscription: runs the handler for each message routed to it, retries a message
 * whose handler rejected after `retryInterval` (the broker would only redeliver it on the next
 * session), and asks the component to acknowledge a message once its handler resolved.
 */
import type { IPublishPacket } from "mqtt";
import type { ActiveSubscription, Message, MessageHandler } from "../../blocks/pubsub/contract.js";
import type { Logger } from "../../observability/logger.js";
import type { TopicFilter } from "./mqtt3-connection.js";

/** A message received and not yet acknowledged. */
export interface Delivery {
  readonly packet: IPublishPacket;
  readonly message: Message;
  /** The connection (count of CONNACKs) on which the broker last sent it: an ack goes only there. */
  generation: number;
  /** Its handler resolved while the connection it came on was gone: ack the redelivery at once. */
  done: boolean;
}

export interface SubscriptionOwner {
  /** The handler resolved: acknowledge to the broker (resolves once written, or at once if not due). */
  settle(d: Delivery): Promise<void>;
  /** The subscription closed before the message was handled: keep it unacknowledged for a later one. */
  park(d: Delivery): void;
  /** Stop routing to this subscription and send UNSUBSCRIBE when due. */
  detach(s: Mqtt3Subscription): Promise<void>;
}

export class Mqtt3Subscription implements ActiveSubscription {
  private readonly running = new Set<Promise<void>>();
  private readonly waiting = new Map<Delivery, NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;

  private readonly retryMs: number;
  /** Send UNSUBSCRIBE on close (`cleanSession`, or the subscription's `unsubscribeOnClose`). */
  readonly unsubscribeOnClose: boolean;

  constructor(
    readonly topic: TopicFilter,
    private readonly handler: MessageHandler,
    options: { readonly retryMs: number; readonly unsubscribeOnClose: boolean },
    private readonly owner: SubscriptionOwner,
    private readonly logger: Logger,
  ) {
    this.retryMs = options.retryMs;
    this.unsubscribeOnClose = options.unsubscribeOnClose;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  deliver(d: Delivery): void {
    if (this.closed) {
      this.owner.park(d);
      return;
    }
    let handled: Promise<void>;
    try {
      handled = this.handler(d.message, this.abort.signal);
    } catch (err) {
      handled = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const run: Promise<void> = handled.then(
      () => this.owner.settle(d),
      (err: unknown) => this.failed(d, err),
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private failed(d: Delivery, err: unknown): void {
    if (this.closed) {
      this.owner.park(d);
      return;
    }
    this.logger.debug({ err, topic: d.message.topic, retryInMs: this.retryMs }, "mqtt3 message handler failed; retrying it");
    const timer = setTimeout(() => {
      this.waiting.delete(d);
      this.deliver(d);
    }, this.retryMs);
    this.waiting.set(d, timer);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const detached = this.owner.detach(this);
    for (const [d, timer] of this.waiting) {
      clearTimeout(timer);
      this.owner.park(d);
    }
    this.waiting.clear();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await detached;
    this.abort.abort();
  }
}

/**
 * Delivery of one subscription's messages to the app (app-callback.md §5.2): decode the CloudEvent
 * (or wrap a raw payload), drop expired events, route, deliver under the inbound policy, and
 * dead-letter what cannot be delivered. The handler resolves only when the message is done (the
 * component then acks it); it rejects to leave the message on the broker for redelivery — a failed
 * message is never dropped unless it went to the dead letter topic.
 */
import type { Logger } from "../../observability/logger.js";
import type { ResolvedPolicy } from "../../resiliency/policies.js";
import { sleep, withTimeout } from "../../kit/deferred.js";
import { retryDelay, type RetrySpec } from "../../resiliency/retry.js";
import { CLOUDEVENT_CONTENT_TYPE, CloudEventError, isExpired, parseCloudEvent, wrapRawPayload, type CloudEvent } from "./cloudevent.js";
import type { Message, MessageHandler } from "./contract.js";
import type { PubSubMetrics, RegisteredPubSub } from "./publisher.js";
import { RoutingError, type RouteSelector } from "./routing.js";
import type { DeliveryStatus, EventSink, SubscriptionSpec } from "./types.js";

/**
 * Tandem's inbound retry when no Resiliency policy targets the component (Dapr has none): a few
 * quick exponential retries in the sidecar, then the message goes back to the broker.
 */
export const DEFAULT_INBOUND_RETRY: RetrySpec = { policy: "exponential", durationMs: 0, maxIntervalMs: 5_000, maxRetries: 3 };

export interface SubscriberDeps {
  readonly ps: RegisteredPubSub;
  readonly spec: SubscriptionSpec;
  readonly router: RouteSelector;
  readonly sink: EventSink;
  readonly policy: ResolvedPolicy;
  readonly rawPayload: boolean;
  readonly logger: Logger;
  /** Aborts every delivery when the sidecar's shutdown grace period is over. */
  readonly stopSignal: AbortSignal;
  readonly metrics?: PubSubMetrics;
}

export class MessageRejected extends Error {}

export interface DecodedMessage {
  readonly topic: string;
  readonly event: CloudEvent;
  readonly body: Buffer;
}

export class Subscriber {
  readonly retry: RetrySpec;

  constructor(readonly deps: SubscriberDeps) {
    this.retry = deps.policy.retry ?? DEFAULT_INBOUND_RETRY;
  }

  readonly handle: MessageHandler = async (message, componentSignal) => {
    const signal = AbortSignal.any([componentSignal, this.deps.stopSignal]);
    const decoded = this.decode(message);
    if (decoded === undefined) return this.deadLetterOrReject(message, "the message is not a CloudEvent");
    if (isExpired(decoded.event, Date.now())) {
      this.deps.logger.warn(`dropping expired event ${String(decoded.event["id"])} on topic ${decoded.topic}`);
      return this.deadLetter(message);
    }
    const path = this.route(decoded.event);
    if (path === undefined) {
      this.deps.logger.warn(`no route matches event ${String(decoded.event["id"])} on topic ${decoded.topic}; acknowledged without delivery`);
      return this.deadLetter(message);
    }
    if (path instanceof RoutingError) return this.deadLetterOrReject(message, path.message);
    const event = { pubsubname: this.deps.ps.name, topic: decoded.topic, path, event: decoded.event, body: decoded.body, metadata: message.metadata };
    for (let retry = 1; ; retry++) {
      let status: DeliveryStatus;
      let failure = "";
      const started = performance.now();
      try {
        status = await withTimeout(this.deps.sink.deliver(event, signal), this.deps.policy.timeoutMs);
      } catch (err) {
        status = "RETRY";
        failure = err instanceof Error ? err.message : String(err);
      }
      this.deps.metrics?.pubsubIngress(this.deps.ps.name, decoded.topic, status === "SUCCESS" ? "success" : status === "DROP" ? "drop" : "retry", performance.now() - started);
      if (status === "SUCCESS") return;
      if (status === "DROP") {
        this.deps.logger.warn(`app dropped event ${String(decoded.event["id"])} on topic ${decoded.topic}`);
        return this.deadLetter(message);
      }
      if (signal.aborted) throw new MessageRejected("shutting down");
      const delay = retryDelay(this.retry, retry);
      if (delay === undefined) return this.deadLetterOrReject(message, `delivery to /${path} failed: ${failure || "the app asked to retry"}`);
      await sleep(delay, signal);
    }
  };

  decode(message: Message): DecodedMessage | undefined {
    const topic = this.appTopic(message.topic);
    if (this.deps.rawPayload) {
      const event = wrapRawPayload(message.data, topic, this.deps.ps.name, message.metadata);
      return { topic, event, body: Buffer.from(JSON.stringify(event)) };
    }
    try {
      return { topic, event: parseCloudEvent(message.data), body: message.data };
    } catch (err) {
      if (err instanceof CloudEventError) return undefined;
      throw err;
    }
  }

  route(event: CloudEvent): string | RoutingError | undefined {
    try {
      return this.deps.router.route(event);
    } catch (err) {
      if (err instanceof RoutingError) return err;
      throw err;
    }
  }

  private appTopic(brokerTopic: string): string {
    const prefix = this.deps.ps.topicPrefix;
    return prefix !== "" && brokerTopic.startsWith(prefix) ? brokerTopic.slice(prefix.length) : brokerTopic;
  }

  /** Republishes the message as-is to the dead letter topic, if there is one; resolves either way. */
  async deadLetter(message: Message): Promise<void> {
    const dlq = this.deps.spec.deadLetterTopic;
    if (dlq === undefined || dlq === "") return;
    await this.deps.ps.component.publish({
      topic: this.deps.ps.topicPrefix + dlq,
      data: message.data,
      contentType: message.contentType ?? CLOUDEVENT_CONTENT_TYPE,
      metadata: message.metadata,
    });
  }

  /** Dead-letters the message when a topic is configured; otherwise leaves it to the broker (rejects). */
  async deadLetterOrReject(message: Message, reason: string): Promise<void> {
    const dlq = this.deps.spec.deadLetterTopic;
    if (dlq === undefined || dlq === "") {
      this.deps.logger.error(`message on topic ${message.topic} not delivered, left on the broker for redelivery: ${reason}`);
      throw new MessageRejected(reason);
    }
    this.deps.logger.warn(`message on topic ${message.topic} sent to dead letter topic ${dlq}: ${reason}`);
    await this.deadLetter(message);
  }
}

/**
 * The pub/sub component contract. A component moves bytes between the sidecar and a broker; the
 * block owns everything Dapr adds on top (CloudEvent envelopes, scopes, routing, retries, dead
 * letters, bulk batching). Components stay small: publish, subscribe with a handler, close.
 *
 * Delivery rule every component keeps ("nothing lost"): a message is acknowledged to the broker
 * only after its handler resolved. A handler that rejects, or whose signal was aborted (shutdown),
 * leaves the message unacknowledged so the broker redelivers it (nack/requeue, left pending, NAK,
 * PUBACK withheld). A component never drops a message on its own.
 */

export type PubSubFeature = "MESSAGE_TTL" | "SUBSCRIBE_WILDCARDS" | "BULK_PUBLISH" | "BULK_SUBSCRIBE";

export type Metadata = Readonly<Record<string, string>>;

export interface PublishRequest {
  /** The broker topic (already namespace-prefixed by the block when the component is namespaced). */
  readonly topic: string;
  /** The message bytes: a CloudEvent JSON text, or the raw payload with `rawPayload`. */
  readonly data: Buffer;
  /** Content type of `data` (`application/cloudevents+json` for envelopes). */
  readonly contentType: string;
  /** Request metadata (`ttlInSeconds`, `rawPayload`, broker-specific keys such as `routingKey`). */
  readonly metadata: Metadata;
}

export interface BulkPublishEntry {
  readonly entryId: string;
  readonly data: Buffer;
  readonly contentType: string;
  readonly metadata: Metadata;
}

export interface BulkPublishRequest {
  readonly topic: string;
  readonly entries: readonly BulkPublishEntry[];
  readonly metadata: Metadata;
}

/** Entries that failed; an empty list means every entry was published. */
export interface BulkPublishResponse {
  readonly failedEntries: readonly { readonly entryId: string; readonly error: string }[];
}

/** A message as the broker delivered it. */
export interface Message {
  /** The concrete topic the message was published to (differs from the subscribed one with wildcards). */
  readonly topic: string;
  readonly data: Buffer;
  /** Content type when the broker carries one. */
  readonly contentType?: string;
  /** Broker metadata delivered with the message (e.g. Redis `metadata` field, AMQP headers, `retained`). */
  readonly metadata: Metadata;
}

/**
 * Called once per delivered message. Resolving means "done, acknowledge it"; rejecting means "not
 * done, let the broker redeliver it". `signal` aborts when the subscription is closing and its
 * grace period ran out: an aborted message must not be acknowledged.
 */
export type MessageHandler = (message: Message, signal: AbortSignal) => Promise<void>;

export interface SubscribeRequest {
  /** The broker topic (may hold wildcards on components with SUBSCRIBE_WILDCARDS). */
  readonly topic: string;
  /** Subscription metadata (from the Subscription or `/dapr/subscribe`), e.g. `queueName`, `consumerID`. */
  readonly metadata: Metadata;
  /**
   * Let at least this many handlers run at once, above the component's own concurrency setting: a
   * bulk subscription asks for its batch size, since a batch only fills with messages in flight.
   */
  readonly minConcurrency?: number;
}

export interface ActiveSubscription {
  /**
   * Stops taking new messages, waits for handlers already running to settle and their acks to be
   * sent, then releases the broker resources of this subscription. Messages not handled stay on
   * the broker for the next consumer.
   */
  close(): Promise<void>;
}

export interface PubSub {
  features(): readonly PubSubFeature[];
  /** Resolves once the broker accepted the message (durably, where the broker offers it). */
  publish(req: PublishRequest): Promise<void>;
  /** Native bulk publish; the block falls back to single publishes when absent. */
  bulkPublish?(req: BulkPublishRequest): Promise<BulkPublishResponse>;
  /** Starts consuming; resolves once the subscription is established on the broker. */
  subscribe(req: SubscribeRequest, handler: MessageHandler): Promise<ActiveSubscription>;
  /** Closes every subscription (as ActiveSubscription.close does) and the connections. */
  close(): Promise<void>;
}

/** A broker rejected or failed a publish; the block maps it to ERR_PUBSUB_PUBLISH_MESSAGE. */
export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PublishError";
  }
}

/** The pub/sub block's request, subscription and app-delivery types (shared by HTTP and gRPC). */
import type { CloudEvent } from "./cloudevent.js";

export interface PublishEventRequest {
  readonly pubsubname: string;
  readonly topic: string;
  readonly data: Buffer;
  /** The publisher's Content-Type ("" when absent). */
  readonly contentType: string;
  /** Request metadata (`rawPayload`, `ttlInSeconds`, `cloudevent.*`, broker keys). */
  readonly metadata: Readonly<Record<string, string>>;
  /** W3C trace context of the caller, when it sent one. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface BulkEventEntry {
  readonly entryId: string;
  readonly data: Buffer;
  readonly contentType: string;
  /** Undefined when the entry had no `metadata` object (request metadata is then not merged in). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface BulkPublishEventRequest {
  readonly pubsubname: string;
  readonly topic: string;
  readonly entries: readonly BulkEventEntry[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface BulkPublishEventResponse {
  readonly failedEntries: readonly { readonly entryId: string; readonly error: string }[];
}

export interface RouteRule {
  /** CEL over `event`; absent = always matches. */
  readonly match?: string;
  readonly path: string;
}

export interface BulkSubscribeOptions {
  readonly enabled: boolean;
  readonly maxMessagesCount: number;
  readonly maxAwaitDurationMs: number;
}

/** One subscription, from any source, in the shape the block runs it. */
export interface SubscriptionSpec {
  readonly pubsubname: string;
  readonly topic: string;
  /** In evaluation order; the default route is a last rule without `match`. */
  readonly rules: readonly RouteRule[];
  readonly deadLetterTopic?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly bulkSubscribe?: BulkSubscribeOptions;
  readonly type: "DECLARATIVE" | "PROGRAMMATIC" | "STREAMING";
}

export type DeliveryStatus = "SUCCESS" | "RETRY" | "DROP";

/** One event for the app. */
export interface TopicEvent {
  readonly pubsubname: string;
  /** The concrete topic as the app sees it (namespace prefix removed). */
  readonly topic: string;
  /** Route path on the app, as the subscription gave it. */
  readonly path: string;
  readonly event: CloudEvent;
  /** The HTTP body: the CloudEvent bytes as published (or the synthesised envelope for raw payloads). */
  readonly body: Buffer;
  /** Broker metadata delivered with the message. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface BulkTopicEvent {
  readonly pubsubname: string;
  readonly topic: string;
  readonly path: string;
  readonly entries: readonly { readonly entryId: string; readonly event: CloudEvent; readonly body: Buffer; readonly rawPayload: boolean; readonly metadata: Readonly<Record<string, string>> }[];
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Where events go: the app over HTTP or gRPC. `deliver` resolves with the app's verdict and
 * rejects on a transport error (retried like RETRY). `deliverBulk` answers a status per entryId;
 * a missing one means RETRY.
 */
export interface EventSink {
  deliver(event: TopicEvent, signal: AbortSignal): Promise<DeliveryStatus>;
  deliverBulk(event: BulkTopicEvent, signal: AbortSignal): Promise<ReadonlyMap<string, DeliveryStatus>>;
}

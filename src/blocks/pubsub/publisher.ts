/**
 * Publishing: validation, scopes, the CloudEvent envelope, TTL, the outbound resiliency policy and
 * the bulk fallback. Written once for HTTP and gRPC.
 */
import { pubsubErrors } from "../../errors/index.js";
import { TandemError } from "../../errors/tandem-error.js";
import { sleep, withTimeout } from "../../kit/deferred.js";
import { retryDelay } from "../../resiliency/retry.js";
import type { ResolvedPolicy } from "../../resiliency/policies.js";
import { buildEnvelope, CLOUDEVENT_CONTENT_TYPE, CloudEventError, completeCloudEvent, isCloudEventContentType, rfc3339 } from "./cloudevent.js";
import type { BulkPublishEntry, PubSub, PubSubFeature } from "./contract.js";
import { canPublish, type TopicScopes } from "./scopes.js";
import type { BulkPublishEventRequest, BulkPublishEventResponse, PublishEventRequest } from "./types.js";

/** Dapr's pub/sub metrics (dapr_component_pubsub_egress_* / ingress_*), when metrics are on. */
export interface PubSubMetrics {
  pubsubEgress(component: string, topic: string, success: boolean, ms: number): void;
  pubsubIngress(component: string, topic: string, status: "success" | "retry" | "drop", ms: number): void;
}

/** A pub/sub component as the block holds it. */
export interface RegisteredPubSub {
  readonly name: string;
  readonly type: string;
  readonly component: PubSub;
  readonly scopes: TopicScopes;
  /** Broker topic prefix (`<namespace>` for namespace-scoped components, else ""). */
  readonly topicPrefix: string;
  readonly features: readonly PubSubFeature[];
}

/** Go's strconv.ParseBool. */
export function parseBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

function metadataValue(metadata: Readonly<Record<string, string>>, key: string): string | undefined {
  const direct = metadata[key];
  if (direct !== undefined) return direct;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(metadata)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function isEmpty(metadata: Readonly<Record<string, string>>): boolean {
  for (const _ in metadata) return false;
  return true;
}

export function isRawPayload(ps: RegisteredPubSub, metadata: Readonly<Record<string, string>>): boolean {
  const raw = metadataValue(metadata, "rawPayload");
  if (raw === undefined || raw === "") return false;
  const b = parseBool(raw);
  if (b === undefined) throw pubsubErrors.requestMetadata(ps.name, ps.type, new Error(`rawPayload value must be a valid boolean: actual is '${raw}'`));
  return b;
}

function expiration(ps: RegisteredPubSub, metadata: Readonly<Record<string, string>>, now: Date): string | undefined {
  const ttl = metadataValue(metadata, "ttlInSeconds");
  if (ttl === undefined || ttl === "") return undefined;
  if (!/^-?\d+$/.test(ttl)) throw pubsubErrors.requestMetadata(ps.name, ps.type, new Error(`ttlInSeconds value must be a valid integer: actual is '${ttl}'`));
  const seconds = Number(ttl);
  if (seconds <= 0 || ps.features.includes("MESSAGE_TTL")) return undefined;
  return rfc3339(new Date(now.getTime() + seconds * 1000));
}

export class Publisher {
  constructor(
    private readonly appId: string,
    private readonly outboundPolicy: (pubsubname: string) => ResolvedPolicy,
    private readonly metrics: PubSubMetrics | undefined,
  ) {}

  /** The bytes to hand to the broker for one event. */
  envelope(ps: RegisteredPubSub, topic: string, data: Buffer, contentType: string, metadata: Readonly<Record<string, string>>, trace: { traceparent?: string; tracestate?: string }): { data: Buffer; contentType: string } {
    const now = new Date();
    const traceparent = trace.traceparent ?? "";
    // The common case, no request metadata: no raw payload, TTL or cloudevent.* override to look up.
    if (isEmpty(metadata) && !isCloudEventContentType(contentType)) {
      const tracestate = trace.tracestate ?? "";
      const envelope = buildEnvelope({ source: this.appId, topic, pubsubname: ps.name, traceid: traceparent, traceparent, tracestate, now, contentType, data });
      return { data: envelope, contentType: CLOUDEVENT_CONTENT_TYPE };
    }
    if (isRawPayload(ps, metadata)) return { data, contentType: contentType === "" ? "application/octet-stream" : contentType };
    const exp = expiration(ps, metadata, now);
    const common = { source: this.appId, topic, pubsubname: ps.name, traceid: traceparent, traceparent, tracestate: trace.tracestate ?? "", now, ...(exp !== undefined ? { expiration: exp } : {}) };
    if (isCloudEventContentType(contentType)) {
      try {
        return { data: completeCloudEvent(data, common), contentType: CLOUDEVENT_CONTENT_TYPE };
      } catch (err) {
        if (err instanceof CloudEventError) throw pubsubErrors.cloudEvent(ps.name, ps.type, err);
        throw err;
      }
    }
    const ce = (k: string) => metadataValue(metadata, `cloudevent.${k}`);
    const traceOverride = ce("traceparent") ?? ce("traceid");
    const envelope = buildEnvelope({
      ...common,
      contentType,
      data,
      ...(ce("id") !== undefined ? { id: ce("id") as string } : {}),
      ...(ce("source") !== undefined ? { source: ce("source") as string } : {}),
      ...(ce("type") !== undefined ? { type: ce("type") as string } : {}),
      ...(ce("subject") !== undefined ? { subject: ce("subject") as string } : {}),
      ...(traceOverride !== undefined ? { traceid: traceOverride, traceparent: traceOverride } : {}),
      ...(ce("tracestate") !== undefined ? { tracestate: ce("tracestate") as string } : {}),
    });
    return { data: envelope, contentType: CLOUDEVENT_CONTENT_TYPE };
  }

  checkTopic(ps: RegisteredPubSub, topic: string): void {
    if (topic === "") throw pubsubErrors.topicEmpty(ps.name, ps.type);
    if (!canPublish(ps.scopes, this.appId, topic)) throw pubsubErrors.forbidden(ps.name, ps.type, topic, this.appId);
  }

  async publish(ps: RegisteredPubSub, req: PublishEventRequest): Promise<void> {
    this.checkTopic(ps, req.topic);
    const { data, contentType } = this.envelope(ps, req.topic, req.data, req.contentType, req.metadata, req);
    const topic = ps.topicPrefix + req.topic;
    const started = performance.now();
    try {
      await this.withPolicy(ps.name, () => ps.component.publish({ topic, data, contentType, metadata: req.metadata }));
      this.metrics?.pubsubEgress(ps.name, req.topic, true, performance.now() - started);
    } catch (err) {
      this.metrics?.pubsubEgress(ps.name, req.topic, false, performance.now() - started);
      if (err instanceof TandemError) throw err;
      throw pubsubErrors.publish(ps.name, ps.type, req.topic, err);
    }
  }

  async bulkPublish(ps: RegisteredPubSub, req: BulkPublishEventRequest): Promise<BulkPublishEventResponse> {
    this.checkTopic(ps, req.topic);
    const seen = new Set<string>();
    const entries: BulkPublishEntry[] = [];
    for (const e of req.entries) {
      if (e.entryId === "") throw pubsubErrors.bulkEvents(ps.name, ps.type, req.topic, "entryId is duplicated or not present for entry");
      if (seen.has(e.entryId)) throw pubsubErrors.bulkEvents(ps.name, ps.type, req.topic, `entryId ${e.entryId} is duplicated`);
      seen.add(e.entryId);
      const metadata = e.metadata === undefined ? req.metadata : { ...req.metadata, ...e.metadata };
      const { data, contentType } = this.envelope(ps, req.topic, e.data, e.contentType, metadata, req);
      entries.push({ entryId: e.entryId, data, contentType, metadata });
    }
    const topic = ps.topicPrefix + req.topic;
    const bulk = ps.component.bulkPublish?.bind(ps.component);
    if (bulk) {
      try {
        return await this.withPolicy(ps.name, () => bulk({ topic, entries, metadata: req.metadata }));
      } catch (err) {
        return { failedEntries: entries.map((e) => ({ entryId: e.entryId, error: err instanceof Error ? err.message : String(err) })) };
      }
    }
    const results = await Promise.allSettled(
      entries.map((e) => this.withPolicy(ps.name, () => ps.component.publish({ topic, data: e.data, contentType: e.contentType, metadata: e.metadata }))),
    );
    const failedEntries: { entryId: string; error: string }[] = [];
    results.forEach((r, i) => {
      if (r.status === "rejected") failedEntries.push({ entryId: entries[i]?.entryId ?? "", error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
    });
    return { failedEntries };
  }

  /** Runs a broker call under the component's outbound timeout and retry policy. */
  private async withPolicy<T>(pubsubname: string, call: () => Promise<T>): Promise<T> {
    const policy = this.outboundPolicy(pubsubname);
    for (let retry = 1; ; retry++) {
      try {
        return await withTimeout(call(), policy.timeoutMs);
      } catch (err) {
        const delay = policy.retry ? retryDelay(policy.retry, retry) : undefined;
        if (delay === undefined) throw err;
        await sleep(delay);
      }
    }
  }
}

/**
 * The transactional outbox (semantics.md §7), as daprd does it: a transaction on a store with
 * `outboxPublishPubsub` + `outboxPublishTopic` publishes one CloudEvent per upsert to an internal
 * topic before the commit and adds a marker key per event to the same transaction. The sidecar's
 * own subscriber forwards an event to the user's topic only once its marker exists (the transaction
 * committed), then deletes the marker. The user topic gets exactly the committed writes, at least once.
 */
import { randomUUID } from "node:crypto";
import { pubsubErrors } from "../../errors/index.js";
import type { Logger } from "../../observability/logger.js";
import { sleep } from "../../kit/deferred.js";
import { CLOUDEVENT_CONTENT_TYPE, isBinaryContentType, isJsonContentType, parseCloudEvent, rfc3339, type CloudEvent } from "../pubsub/cloudevent.js";
import type { ActiveSubscription, MessageHandler } from "../pubsub/contract.js";
import type { PubSubBlock } from "../pubsub/pubsub.js";
import type { Metadata } from "../state/contract.js";
import type { OutboxSettings, SaveItem, StateBlock, TransactionItem } from "../state/state.js";

const PROJECTION = "outbox.projection";
/** daprd waits this long before the first look for the marker, then backs off up to the deadline. */
const FIRST_LOOK_MS = 1000;
const POLL_DELAYS_MS = [500, 1500, 3000, 3000, 3000];

function metadataValue(m: Metadata, key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(m)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function eventData(item: SaveItem, contentType: string): unknown {
  if (item.isBinary || isBinaryContentType(contentType)) return undefined;
  const text = item.value.toString("utf8");
  if (isJsonContentType(contentType)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  // A value saved as JSON text: a string value is its decoded string, anything else its JSON text.
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "string" ? v : text;
  } catch {
    return text;
  }
}

export class Outbox {
  private readonly subscriptions: ActiveSubscription[] = [];

  constructor(
    private readonly appId: string,
    private readonly namespace: string,
    private readonly state: StateBlock,
    private readonly pubsub: PubSubBlock,
    private readonly logger: Logger,
  ) {}

  internalTopic(settings: OutboxSettings): string {
    return `${this.namespace}${this.appId}${settings.publishTopic}outbox`;
  }

  /** The transaction interceptor: publish one internal event per upsert, return the operations plus markers. */
  readonly intercept = async (store: string, settings: OutboxSettings, operations: readonly TransactionItem[], metadata: Metadata): Promise<readonly TransactionItem[]> => {
    const upserts = operations.filter((o): o is { operation: "upsert"; item: SaveItem } => o.operation === "upsert");
    const projections = new Map<string, SaveItem>();
    for (const o of upserts) if (metadataValue(o.item.metadata, PROJECTION) === "true") projections.set(o.item.key, o.item);
    const kept = operations.filter((o) => !(o.operation === "upsert" && metadataValue((o.item as SaveItem).metadata, PROJECTION) === "true"));
    const markers: TransactionItem[] = [];
    for (const o of upserts) {
      if (metadataValue(o.item.metadata, PROJECTION) === "true") continue;
      const source = projections.get(o.item.key) ?? o.item;
      const id = `outbox-${randomUUID()}`;
      const event = this.cloudEvent(id, settings, source, metadataValue(metadata, "traceid") ?? "");
      try {
        await this.pubsub.publishInternal(settings.internalPubsub, this.internalTopic(settings), Buffer.from(JSON.stringify(event)), CLOUDEVENT_CONTENT_TYPE);
      } catch (err) {
        throw pubsubErrors.outbox(this.appId, err);
      }
      markers.push({ operation: "upsert", item: { key: id, value: Buffer.from('"0"'), isBinary: false, metadata: {}, options: {} } });
    }
    this.logger.debug(`outbox: ${markers.length} event(s) staged for store ${store}`);
    return [...kept, ...markers];
  };

  private cloudEvent(id: string, settings: OutboxSettings, item: SaveItem, traceid: string): CloudEvent {
    const contentType = metadataValue(item.metadata, "contentType") ?? (item.isBinary ? "application/octet-stream" : "application/json");
    const ce: CloudEvent = {};
    for (const [k, v] of Object.entries(item.metadata)) if (k !== "data" && k !== "id" && k !== PROJECTION) ce[k] = v;
    const data = eventData(item, contentType);
    if (data === undefined) ce["data_base64"] = item.value.toString("base64");
    else ce["data"] = data;
    Object.assign(ce, {
      datacontenttype: contentType,
      id,
      pubsubname: settings.internalPubsub,
      source: this.appId,
      specversion: "1.0",
      time: rfc3339(new Date()),
      topic: "",
      traceid,
      traceparent: "",
      tracestate: "",
      type: "com.dapr.event.sent",
    });
    return ce;
  }

  /** Starts the internal subscriber of every outbox store whose pubsub is loaded. */
  async start(stores: readonly { name: string; outbox: OutboxSettings }[]): Promise<void> {
    for (const s of stores) {
      try {
        const sub = await this.pubsub.subscribeInternal(s.outbox.internalPubsub, this.internalTopic(s.outbox), this.forwarder(s.name, s.outbox));
        this.subscriptions.push(sub);
      } catch (err) {
        this.logger.error({ err }, `outbox of state store ${s.name}: cannot subscribe to its internal topic on ${s.outbox.internalPubsub}`);
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
  }

  private forwarder(store: string, settings: OutboxSettings): MessageHandler {
    return async (message, signal) => {
      const event = parseCloudEvent(message.data);
      const id = String(event["id"]);
      if (!(await this.committed(store, id, signal))) {
        if (settings.discardWhenMissingState) {
          this.logger.warn(`outbox: the transaction of ${id} on store ${store} did not commit; discarded`);
          return;
        }
        throw new Error(`outbox: marker ${id} not found in store ${store} yet; retried later`);
      }
      event["topic"] = settings.publishTopic;
      event["pubsubname"] = settings.publishPubsub;
      await this.pubsub.publishInternal(settings.publishPubsub, settings.publishTopic, Buffer.from(JSON.stringify(event)), CLOUDEVENT_CONTENT_TYPE);
      await this.state.delete({ storeName: store, key: id, metadata: {}, options: {} });
    };
  }

  /** Polls for the marker as daprd does: first after 1 s, then backing off, giving up after ~10 s. */
  private async committed(store: string, id: string, signal: AbortSignal): Promise<boolean> {
    await sleep(FIRST_LOOK_MS, signal);
    for (const delay of [0, ...POLL_DELAYS_MS]) {
      if (delay > 0) await sleep(delay, signal);
      const got = await this.state.get({ storeName: store, key: id, metadata: {} });
      if (got !== undefined) return true;
    }
    return false;
  }
}

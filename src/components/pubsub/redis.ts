/**
 * pubsub.redis: Redis Streams in Dapr's layout, so Tandem and daprd can share a stream. Stream key =
 * topic; each entry holds the fields `data` (the message bytes) and `metadata` (a JSON object of
 * strings); subscribers read through the consumer group `consumerID` (also the consumer name, as in
 * Dapr), created from the start of the stream. Tandem choice: an entry whose handler rejected is
 * never XACKed; it stays pending and the pending scan redelivers it after `processingTimeout`.
 */
import { PublishError, type ActiveSubscription, type BulkPublishRequest, type BulkPublishResponse, type MessageHandler, type PublishRequest, type PubSub, type PubSubFeature, type SubscribeRequest } from "../../blocks/pubsub/contract.js";
import { defineSchema, lookup, MetadataError, type OptionsOf } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import type { ComponentContext } from "../shared/context.js";
import { createRedisClient, redisConnectionFields, type RedisClient } from "../shared/redis/connection.js";
import { StreamSubscription } from "./redis-subscription.js";

export const metadataSchema = defineSchema({
  ...redisConnectionFields,
  consumerID: {
    type: "string",
    default: "",
    description: "Consumer group name, also used as the consumer name inside the group (the sidecar sets it to the app id when absent). Subscription metadata `consumerID` overrides it.",
  },
  processingTimeout: {
    type: "duration",
    default: 60_000,
    bareUnitMs: 1,
    description: "A message left unacknowledged this long is redelivered; also the deadline of each handler call. `0` disables redelivery. A bare integer counts milliseconds.",
  },
  redeliverInterval: {
    type: "duration",
    default: 15_000,
    bareUnitMs: 1,
    description: "How often the pending list is scanned for messages to redeliver; `0` disables redelivery. A bare integer counts milliseconds (Dapr reads only that form).",
  },
  queueDepth: { type: "integer", default: 100, min: 1, description: "Entries read per XREADGROUP / scanned per XPENDING call." },
  concurrency: { type: "integer", default: 10, min: 1, description: "Handlers running in parallel per subscription." },
  maxLenApprox: { type: "integer", min: 0, description: "Trim each stream to about this many entries on publish (`XADD MAXLEN ~`). Exclusive with `streamTTL`." },
  streamTTL: {
    type: "duration",
    bareUnitMs: 1,
    description: "Trim entries older than this on publish (`XADD MINID ~`). Exclusive with `maxLenApprox`. A bare integer counts milliseconds.",
  },
});
export type RedisPubSubOptions = OptionsOf<typeof metadataSchema>;

/** Dapr's Features() is empty; Tandem adds BULK_PUBLISH: the entries' XADDs go in one pipeline. */
const FEATURES: readonly PubSubFeature[] = ["BULK_PUBLISH"];

/** The entry's `metadata` field: the request metadata as a JSON object of strings ("{}" for none, without stringifying). */
function metadataField(metadata: Readonly<Record<string, string>>): string {
  for (const _ in metadata) return JSON.stringify(metadata);
  return "{}";
}
/** How long a blocked XREADGROUP may outlast its BLOCK time before the client gives up on it. */
const BLOCK_MARGIN_MS = 5_000;
const DEFAULT_BLOCK_MS = 3_000;

export class RedisStreamsPubSub implements PubSub {
  private readonly subscriptions = new Set<StreamSubscription>();
  private closed = false;

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisPubSubOptions,
    private readonly logger: Logger,
  ) {}

  features(): readonly PubSubFeature[] {
    return FEATURES;
  }

  async publish(req: PublishRequest): Promise<void> {
    const { topic, data } = req;
    const metadata = metadataField(req.metadata);
    const { maxLenApprox, streamTTL } = this.options;
    try {
      if (maxLenApprox !== undefined && maxLenApprox > 0) {
        await this.client.xadd(topic, "MAXLEN", "~", maxLenApprox, "*", "data", data, "metadata", metadata);
      } else if (streamTTL !== undefined && streamTTL > 0) {
        await this.client.xadd(topic, "MINID", "~", `${Date.now() - streamTTL}-1`, "*", "data", data, "metadata", metadata);
      } else {
        await this.client.xadd(topic, "*", "data", data, "metadata", metadata);
      }
    } catch (err) {
      throw new PublishError(`redis streams: error publishing to topic ${topic}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /**
   * The entries' XADDs (the same commands as publish) in one pipeline: one write and one round
   * trip for the batch instead of one promise chain per entry. A failed XADD fails its entry only.
   */
  async bulkPublish(req: BulkPublishRequest): Promise<BulkPublishResponse> {
    const { topic, entries } = req;
    const { maxLenApprox, streamTTL } = this.options;
    const trim: (string | number)[] =
      maxLenApprox !== undefined && maxLenApprox > 0 ? ["MAXLEN", "~", maxLenApprox] : streamTTL !== undefined && streamTTL > 0 ? ["MINID", "~", `${Date.now() - streamTTL}-1`] : [];
    const pipeline = this.client.pipeline();
    for (const e of entries) pipeline.call("XADD", topic, ...trim, "*", "data", e.data, "metadata", metadataField(e.metadata));
    const failed = (error: unknown) => `redis streams: error publishing to topic ${topic}: ${error instanceof Error ? error.message : String(error)}`;
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (err) {
      throw new PublishError(failed(err), { cause: err });
    }
    if (results === null) throw new PublishError(failed("the pipeline was not executed"));
    const failedEntries: { entryId: string; error: string }[] = [];
    results.forEach(([err], i) => {
      if (err !== null) failedEntries.push({ entryId: entries[i]?.entryId ?? "", error: failed(err) });
    });
    return { failedEntries };
  }

  async subscribe(req: SubscribeRequest, handler: MessageHandler): Promise<ActiveSubscription> {
    if (this.closed) throw new Error("pubsub.redis: the component is closed");
    const group = lookup(req.metadata, ["consumerID"]) || this.options.consumerID;
    if (group === "") throw new MetadataError("consumerID", "pubsub.redis: consumerID is required to subscribe");
    const blockMs = this.options.readTimeout > 0 ? this.options.readTimeout : DEFAULT_BLOCK_MS;
    const reader = createRedisClient(this.options, { enableAutoPipelining: false, maxRetriesPerRequest: null, commandTimeout: blockMs + BLOCK_MARGIN_MS });
    reader.on("error", (err: Error) => this.logger.debug({ err, topic: req.topic }, "pubsub.redis: subscription connection error"));
    const sub = new StreamSubscription(
      {
        topic: req.topic,
        group,
        queueDepth: this.options.queueDepth,
        concurrency: Math.max(this.options.concurrency, req.minConcurrency ?? 0),
        processingTimeout: this.options.processingTimeout,
        redeliverInterval: this.options.redeliverInterval,
        blockMs,
      },
      this.client,
      reader,
      handler,
      this.logger,
      (s) => this.subscriptions.delete(s),
    );
    try {
      await sub.start();
    } catch (err) {
      reader.disconnect();
      throw err;
    }
    if (this.closed) {
      await sub.close();
      throw new Error("pubsub.redis: the component was closed while subscribing");
    }
    this.subscriptions.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

export async function create(options: RedisPubSubOptions, ctx: ComponentContext): Promise<PubSub> {
  if ((options.maxLenApprox ?? 0) > 0 && (options.streamTTL ?? 0) > 0) {
    throw new MetadataError("streamTTL", "pubsub.redis: maxLenApprox and streamTTL cannot both be set");
  }
  const logger = ctx.logger.child({ component: ctx.name, type: "pubsub.redis" });
  if (options.processingTimeout <= 0 || options.redeliverInterval <= 0) {
    logger.warn("pubsub.redis: redelivery is disabled (processingTimeout or redeliverInterval is 0): a message whose handler failed stays pending and is not delivered again");
  }
  const client = createRedisClient(options);
  let reported = false;
  client.on("error", (err: Error) => {
    if (!reported) logger.warn({ err }, "pubsub.redis: connection error; reconnecting");
    reported = true;
  });
  client.on("ready", () => {
    if (reported) logger.info("pubsub.redis: connection ready");
    reported = false;
  });
  try {
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return new RedisStreamsPubSub(client, options, logger);
}

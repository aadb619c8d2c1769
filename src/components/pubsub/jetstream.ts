/**
 * pubsub.jetstream: NATS JetStream through the v3 client. The subject is the topic and the stream
 * must exist (Dapr's rule; `autoCreateStream` is Tandem's opt-in for local development). Publish
 * awaits the PubAck (the message is stored) and sets `Nats-Msg-Id` to the CloudEvent `id`, so a
 * publish repeated within the stream's duplicate window is stored once.
 *
 * Subscribe differs from Dapr on purpose: Dapr adds a push consumer (deliver subject = a new inbox,
 * deliver group = `queueGroupName`), ephemeral unless `durableName` is set. Tandem adds a durable
 * pull consumer (filter subject = topic) and reads it with `consume()`: pull consumers share their
 * pending messages among every client pulling from them, so replicas of one app are competing
 * consumers without a deliver group, and flow control is the client's own pull requests instead of
 * push flow control and rate limits. The durable name comes from `durableName` or the consumerID
 * and the topic (see `durableNameFor`).
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  PublishError,
  type ActiveSubscription,
  type MessageHandler,
  type PublishRequest,
  type PubSub,
  type PubSubFeature,
  type SubscribeRequest,
} from "../../blocks/pubsub/contract.js";
import { deferred, type Deferred } from "../../kit/deferred.js";
import { lookup } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import type { ComponentContext } from "../shared/context.js";
import {
  concurrencyOf,
  connectionOptions,
  consumerConfig,
  durableNameFor,
  streamNameFor,
  validate,
  type JetStreamOptions,
} from "./jetstream-options.js";
import { JetStreamSubscription, type ConsumeSettings } from "./jetstream-subscription.js";

export { metadataSchema, type JetStreamOptions } from "./jetstream-options.js";

const FEATURES: readonly PubSubFeature[] = [];
/** NAK delay after a failed handler when `ackWait` is not set. */
const DEFAULT_NAK_DELAY_MS = 1_000;
const CLOUDEVENTS_JSON = "application/cloudevents+json";
const ID_KEY = Buffer.from('"id"');
const STREAM_CHANGE_ATTEMPTS = 5;
const PUBLISH_TIMEOUT_MS = 5_000;
/** A publish whose PubAck timed out is sent once more (deduplicated by Nats-Msg-Id for CloudEvents). */
const PUBLISH_OPTIONS = { timeout: PUBLISH_TIMEOUT_MS, retries: 2 } as const;

/** The CloudEvent `id` of an envelope, read only when the bytes can hold one. */
function cloudEventId(req: PublishRequest): string | undefined {
  if (!req.contentType.startsWith(CLOUDEVENTS_JSON) || req.data.indexOf(ID_KEY) === -1) return undefined;
  try {
    const ce = JSON.parse(req.data.toString("utf8")) as unknown;
    if (typeof ce !== "object" || ce === null || Array.isArray(ce)) return undefined;
    const id = (ce as Record<string, unknown>).id;
    return typeof id === "string" && id !== "" ? id : undefined;
  } catch {
    return undefined;
  }
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

export class JetStreamPubSub implements PubSub {
  private readonly subscriptions = new Set<JetStreamSubscription>();
  private readonly settings: ConsumeSettings;
  /** Stream creation is serialised so two topics added to one stream do not overwrite each other. */
  private streamChange: Promise<unknown> = Promise.resolve();
  private closing = false;
  /** Set while the connection is down; resolved when it is back. */
  private down: Deferred<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamOptions,
    private readonly logger: Logger,
  ) {
    this.settings = {
      acks: options.ackPolicy !== "none",
      nakDelayMs: options.ackWait !== undefined && options.ackWait > 0 ? options.ackWait : DEFAULT_NAK_DELAY_MS,
      concurrency: concurrencyOf(options),
      idleHeartbeatMs: options.heartbeat !== undefined && options.heartbeat > 0 ? options.heartbeat : undefined,
    };
    void this.watchConnection();
    // Once the connection is gone for good no ack can be sent: tell running handlers.
    void nc.closed().then(() => {
      for (const s of this.subscriptions) s.abortHandlers();
    });
  }

  features(): readonly PubSubFeature[] {
    return FEATURES;
  }

  async publish(req: PublishRequest): Promise<void> {
    const msgID = cloudEventId(req);
    const opts = msgID === undefined ? PUBLISH_OPTIONS : { ...PUBLISH_OPTIONS, msgID };
    try {
      if (this.down !== undefined) await this.reconnected();
      await this.js.publish(req.topic, req.data, opts);
    } catch (err) {
      // A subject no stream captures fails fast (no responders); once a stream captures it, once more.
      if (this.options.autoCreateStream) {
        try {
          await this.createdStreamFor(req.topic);
          await this.js.publish(req.topic, req.data, opts);
          return;
        } catch (retryErr) {
          err = retryErr;
        }
      }
      throw new PublishError(`pubsub.jetstream: publish to "${req.topic}" failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * The v3 client discards what was written while it was disconnected (each reconnect starts with
   * an empty outbound buffer), so a publish made then would only time out: wait for the reconnect.
   */
  private async reconnected(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("not connected to NATS")), PUBLISH_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.down?.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") {
        this.down ??= deferred();
        this.logger.warn({ server: s.server }, "pubsub.jetstream: disconnected; reconnecting");
      } else if (s.type === "reconnect") {
        this.down?.resolve();
        this.down = undefined;
        this.logger.info({ server: s.server }, "pubsub.jetstream: reconnected");
      } else if (s.type === "error") {
        this.logger.warn({ err: s.error }, "pubsub.jetstream: connection error");
      }
    }
  }

  async subscribe(req: SubscribeRequest, handler: MessageHandler): Promise<ActiveSubscription> {
    if (this.closing) throw new Error("pubsub.jetstream: component is closed");
    const stream = await this.streamFor(req.topic);
    const consumerID = lookup(req.metadata, ["consumerID"]) || this.options.consumerID;
    const durable = this.options.durableName ?? durableNameFor(consumerID, req.topic);
    await this.checkDurableTopic(stream, durable, req.topic);
    await this.jsm.consumers.add(stream, consumerConfig(this.options, durable, req.topic));
    const consumer = await this.js.consumers.get(stream, durable);
    const log = this.logger.child({ topic: req.topic, stream, durable });
    const settings = { ...this.settings, concurrency: Math.max(this.settings.concurrency, req.minConcurrency ?? 0) };
    const sub = await JetStreamSubscription.start(this.nc, consumer, handler, settings, log, (s) => this.subscriptions.delete(s));
    if (this.closing) {
      await sub.close();
      throw new Error("pubsub.jetstream: component closed while subscribing");
    }
    this.subscriptions.add(sub);
    log.debug("pubsub.jetstream: subscribed");
    return sub;
  }

  /**
   * The server would silently move an existing durable to another filter subject, taking it away
   * from the subscription that uses it: a `durableName` shared by two topics is refused instead.
   */
  private async checkDurableTopic(stream: string, durable: string, topic: string): Promise<void> {
    let filter: string | undefined;
    try {
      filter = (await this.jsm.consumers.info(stream, durable)).config.filter_subject;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return;
      throw err;
    }
    if (filter !== undefined && filter !== "" && filter !== topic) {
      throw new Error(`pubsub.jetstream: durable consumer "${durable}" on stream "${stream}" already consumes "${filter}"; give topic "${topic}" another durableName`);
    }
  }

  /** Dapr's rule: `streamName`, else the stream capturing the topic; autoCreateStream creates it. */
  private async streamFor(topic: string): Promise<string> {
    if (!this.options.autoCreateStream) return this.options.streamName ?? (await this.jsm.streams.find(topic));
    try {
      return await this.jsm.streams.find(topic);
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
    await this.createdStreamFor(topic);
    return this.jsm.streams.find(topic);
  }

  /**
   * Creates (or extends) a stream capturing `topic` when none does (false when one already did).
   * Other instances may change the same stream at once (a stream update is not conditional), so
   * each attempt re-reads it and the loop ends only once the topic is found captured.
   */
  private createdStreamFor(topic: string): Promise<boolean> {
    const change = this.streamChange.then(async () => {
      const name = this.options.streamName ?? streamNameFor(topic);
      let lastError: unknown;
      for (let attempt = 0; attempt < STREAM_CHANGE_ATTEMPTS; attempt++) {
        try {
          await this.jsm.streams.find(topic);
          return attempt > 0;
        } catch (err) {
          if (!isStreamNotFound(err)) throw err;
        }
        try {
          const info = await this.jsm.streams.info(name);
          const subjects = [...new Set([...(info.config.subjects ?? []), topic])];
          await this.jsm.streams.update(name, { ...info.config, subjects });
          this.logger.info({ stream: name, topic }, "pubsub.jetstream: added the topic to the stream (autoCreateStream)");
        } catch (err) {
          lastError = err;
          if (!isStreamNotFound(err)) continue;
          try {
            await this.jsm.streams.add({ name, subjects: [topic] });
            this.logger.info({ stream: name, topic }, "pubsub.jetstream: created the stream (autoCreateStream)");
          } catch (addErr) {
            lastError = addErr; // created by another instance meanwhile: read it again
          }
        }
      }
      throw new Error(`pubsub.jetstream: could not create a stream capturing "${topic}" (autoCreateStream)`, { cause: lastError });
    });
    this.streamChange = change.catch(() => undefined);
    return change;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

export async function create(options: JetStreamOptions, ctx: ComponentContext): Promise<PubSub> {
  const logger = ctx.logger.child({ component: ctx.name, type: "pubsub.jetstream" });
  validate(options);
  const nc = await connect(connectionOptions(options));
  try {
    const jsOpts = { ...(options.domain !== undefined ? { domain: options.domain } : {}), ...(options.apiPrefix !== undefined ? { apiPrefix: options.apiPrefix } : {}) };
    const jsm = await jetstreamManager(nc, jsOpts);
    return new JetStreamPubSub(nc, jsm.jetstream(), jsm, options, logger);
  } catch (err) {
    await nc.close();
    throw err;
  }
}

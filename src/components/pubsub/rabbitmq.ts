/**
 * pubsub.rabbitmq: Dapr's RabbitMQ layout through amqplib, so daprd and Tandem can share a broker.
 * One exchange per topic (named after it, of type `exchangeKind`), one queue per consumer group
 * (`<consumerID>-<topic>` unless the subscription names `queueName`), optional dead-letter pair
 * `dlx-<queue>` / `dlq-<queue>`. Tandem choices: every publish waits for the broker's confirm, a
 * message is acknowledged only after its handler resolved, and a rejected one is always requeued
 * (never dropped), whatever `publisherConfirm`, `autoAck` and `requeueInFailure` say.
 */
import type { ConfirmChannel, Options } from "amqplib";
import {
  PublishError,
  type ActiveSubscription,
  type MessageHandler,
  type PublishRequest,
  type PubSub,
  type PubSubFeature,
  type SubscribeRequest,
} from "../../blocks/pubsub/contract.js";
import { MetadataError } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import type { ComponentContext } from "../shared/context.js";
import { AmqpLink } from "./rabbitmq-link.js";
import { amqpUrl, socketOptions, subscriptionPlan, type RabbitMQOptions } from "./rabbitmq-metadata.js";
import { RabbitSubscription } from "./rabbitmq-subscription.js";

export { metadataSchema, type RabbitMQOptions } from "./rabbitmq-metadata.js";

const FEATURES: readonly PubSubFeature[] = ["MESSAGE_TTL"];

/** The AMQP publish properties Dapr derives from the request metadata. */
export function publishOptions(md: Readonly<Record<string, string>>, deliveryMode: number, defaultTtlSeconds: number | undefined, logger: Logger): { routingKey: string; options: Options.Publish } {
  const options: Options.Publish = { contentType: "text/plain" };
  if (deliveryMode > 0) options.deliveryMode = deliveryMode;
  let routingKey = "";
  let ttl = defaultTtlSeconds;
  for (const key in md) {
    const value = md[key] ?? "";
    switch (key.toLowerCase()) {
      case "routingkey":
        routingKey = value;
        break;
      case "ttlinseconds":
        if (/^\d+$/.test(value.trim())) ttl = Number(value.trim());
        else if (value !== "") logger.warn({ ttlInSeconds: value }, "rabbitmq pub/sub: invalid ttlInSeconds ignored");
        break;
      case "priority":
        if (/^\d+$/.test(value.trim())) options.priority = Math.min(255, Number(value.trim()));
        else if (value !== "") logger.warn({ priority: value }, "rabbitmq pub/sub: invalid priority ignored");
        break;
      case "contenttype":
        if (value !== "") options.contentType = value;
        break;
      case "messageid":
        options.messageId = value;
        break;
      case "correlationid":
        options.correlationId = value;
        break;
      case "type":
        options.type = value;
        break;
    }
  }
  if (ttl !== undefined) options.expiration = String(ttl * 1000);
  return { routingKey, options };
}

function confirmPublish(ch: ConfirmChannel, exchange: string, routingKey: string, data: Buffer, options: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      ch.publish(exchange, routingKey, data, options, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error("message nacked by the broker")) : resolve()));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

export class RabbitMQPubSub implements PubSub {
  private readonly subscriptions = new Set<RabbitSubscription>();
  private closing = false;

  constructor(
    private readonly options: RabbitMQOptions,
    private readonly link: AmqpLink,
    private readonly logger: Logger,
  ) {}

  features(): readonly PubSubFeature[] {
    return FEATURES;
  }

  async publish(req: PublishRequest): Promise<void> {
    if (this.closing) throw new PublishError("rabbitmq pub/sub is closed");
    const o = this.options;
    const { routingKey, options } = publishOptions(req.metadata, o.deliveryMode, o.ttlInSeconds, this.logger);
    // One retry on a fresh channel: a channel-level error (an auto-deleted exchange, say) closes
    // only the publish channel, and the retry declares the exchange again.
    for (let attempt = 1; ; attempt++) {
      try {
        const ch = await this.link.publishChannel();
        await this.link.ensureExchange(ch, req.topic, o.exchangeKind, o.durable, o.deletedWhenUnused);
        await confirmPublish(ch, req.topic, routingKey, req.data, options);
        return;
      } catch (err) {
        if (attempt >= 2 || !this.link.connected || this.closing) {
          throw new PublishError(`rabbitmq pub/sub: publishing to ${req.topic} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
    }
  }

  async subscribe(req: SubscribeRequest, handler: MessageHandler): Promise<ActiveSubscription> {
    if (this.closing) throw new Error("rabbitmq pub/sub is closed");
    const plan = subscriptionPlan(this.options, req);
    const sub = new RabbitSubscription(this.link, plan, handler, this.logger, (s) => this.subscriptions.delete(s));
    await sub.start();
    this.subscriptions.add(sub);
    this.logger.info({ topic: req.topic, queue: plan.queue }, "rabbitmq pub/sub: subscribed");
    return sub;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.link.close();
  }
}

export async function create(options: RabbitMQOptions, ctx: ComponentContext): Promise<PubSub> {
  if (options.deliveryMode > 2) throw new MetadataError("deliveryMode", `metadata field "deliveryMode" must be 0, 1 or 2, got "${options.deliveryMode}"`);
  const link = await AmqpLink.open(
    { url: amqpUrl(options), socketOptions: socketOptions(options), reconnectWaitMs: Math.max(options.reconnectWaitSeconds, 10) },
    ctx.logger,
  );
  if (options.autoAck) ctx.logger.warn("rabbitmq pub/sub: autoAck is ignored; messages are acknowledged after their handler succeeded");
  return new RabbitMQPubSub(options, link, ctx.logger);
}

/** pubsub.rabbitmq metadata: the component schema, and component/subscription metadata turned into amqplib arguments, Dapr's way. */
import amqp from "amqplib";
import type { SubscribeRequest } from "../../blocks/pubsub/contract.js";
import { defineSchema, lookup, type OptionsOf } from "../../kit/metadata-schema.js";
import type { SubscriptionPlan } from "./rabbitmq-subscription.js";

export const metadataSchema = defineSchema({
  connectionString: { type: "string", aliases: ["host"], sensitive: true, description: "Broker URL, `amqp://user:pass@host:5672/vhost` (or `amqps://`). Takes precedence over `hostname`/`username`/`password`/`protocol`." },
  protocol: { type: "string", default: "amqp", oneOf: ["amqp", "amqps"], description: "Scheme used with `hostname` when no `connectionString` is given." },
  hostname: { type: "string", description: "`host[:port]` of the broker when no `connectionString` is given." },
  username: { type: "string", description: "User name, with `hostname`." },
  password: { type: "string", sensitive: true, description: "Password, with `hostname`." },
  consumerID: { type: "string", default: "", description: "Consumer group: the queue is `<consumerID>-<topic>` (set by the sidecar to the app id; a subscription may override it)." },
  durable: { type: "boolean", default: true, description: "Declare the topic exchanges and subscription queues durable." },
  deletedWhenUnused: { type: "boolean", default: true, description: "Declare exchanges and queues auto-delete (removed by the broker when their last consumer/binding goes)." },
  autoAck: { type: "boolean", default: false, description: "Accepted for compatibility; no effect: Tandem acknowledges a message only after its handler succeeded." },
  requeueInFailure: {
    type: "boolean",
    default: false,
    description: "Accepted for compatibility; no effect: a message whose handler failed is always nacked with requeue (Tandem never drops it; Dapr's default drops or dead-letters it).",
  },
  deliveryMode: { type: "integer", default: 0, min: 0, description: "AMQP delivery mode of published messages: `2` persistent, `1` transient, `0` unset (transient)." },
  enableDeadLetter: { type: "boolean", default: false, description: "Give each queue a dead-letter exchange `dlx-<queue>` (fanout) bound to the queue `dlq-<queue>`, for messages the broker expires or rejects." },
  maxLen: { type: "integer", min: 0, description: "Maximum number of messages in a queue (`x-max-length`); subscription metadata may override it." },
  maxLenBytes: { type: "integer", min: 0, description: "Maximum total bytes in a queue (`x-max-length-bytes`); subscription metadata may override it." },
  prefetchCount: { type: "integer", default: 0, min: 0, description: "Unacknowledged messages a consumer may hold (`basic.qos`); `0` is unlimited." },
  exchangeKind: { type: "string", default: "fanout", oneOf: ["fanout", "topic", "direct", "headers"], description: "Type of the exchange declared for each topic." },
  publisherConfirm: { type: "boolean", default: false, description: "Accepted for compatibility; always on: every publish waits for the broker's confirm." },
  concurrency: { type: "string", default: "parallel", oneOf: ["parallel", "single"], description: "`parallel`: messages are handled as they arrive; `single`: one at a time, in order, per subscription." },
  ttlInSeconds: { type: "integer", min: 0, description: "Default message TTL: written as the AMQP `expiration` of every publish that gives no `ttlInSeconds` of its own." },
  reconnectWaitSeconds: { type: "duration", default: 3_000, description: "Delay between reconnection attempts after the connection is lost (subscriptions are re-established on the new one)." },
  heartBeat: { type: "duration", default: 10_000, description: "AMQP heartbeat interval." },
  clientName: { type: "string", description: "Connection name shown by the broker (`connection_name` client property)." },
  saslExternal: { type: "boolean", default: false, description: "With `amqps`: authenticate with the client certificate (SASL EXTERNAL)." },
  caCert: { type: "string", description: "With `amqps`: CA certificate (PEM text) to verify the broker." },
  clientCert: { type: "string", description: "With `amqps`: client certificate (PEM text)." },
  clientKey: { type: "string", sensitive: true, description: "With `amqps`: client private key (PEM text)." },
  publishMessagePropertiesToMetadata: {
    type: "boolean",
    default: false,
    description: "Deliver the AMQP properties and headers as message metadata (`metadata.messageid`, `metadata.correlationid`, `metadata.type`, `metadata.contenttype`, `metadata.<header>`).",
  },
});
export type RabbitMQOptions = OptionsOf<typeof metadataSchema>;

const TRUTHY = new Set(["1", "t", "true", "y", "yes", "on"]);
const CONNECT_TIMEOUT_MS = 10_000;

/** The broker URL, with the heartbeat (seconds) added unless the connection string sets one. */
export function amqpUrl(o: RabbitMQOptions): string {
  let url: string;
  if (o.connectionString !== undefined) url = o.connectionString;
  else if (o.hostname !== undefined) {
    const auth = o.username !== undefined ? `${encodeURIComponent(o.username)}:${encodeURIComponent(o.password ?? "")}@` : "";
    url = `${o.protocol}://${auth}${o.hostname}`;
  } else {
    throw new Error('pubsub.rabbitmq: metadata field "connectionString" (or "hostname") is required');
  }
  if (/[?&]heartbeat=/i.test(url)) return url;
  return `${url}${url.includes("?") ? "&" : "?"}heartbeat=${Math.round(o.heartBeat / 1000)}`;
}

export function socketOptions(o: RabbitMQOptions): Record<string, unknown> {
  const s: Record<string, unknown> = { timeout: CONNECT_TIMEOUT_MS };
  if (o.clientName !== undefined) s["clientProperties"] = { connection_name: o.clientName };
  if (o.caCert !== undefined) s["ca"] = [o.caCert];
  if (o.clientCert !== undefined) s["cert"] = o.clientCert;
  if (o.clientKey !== undefined) s["key"] = o.clientKey;
  if (o.saslExternal) s["credentials"] = amqp.credentials.external();
  return s;
}

function unsigned(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new Error(`pubsub.rabbitmq: subscription metadata "${name}" must be a non-negative integer, got "${raw}"`);
  return Number(raw.trim());
}

/** Queue arguments the component-level limits add (Dapr's `formatQueueDeclareArgs`). */
function limitArgs(o: RabbitMQOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (o.maxLen !== undefined && o.maxLen > 0) args["x-max-length"] = o.maxLen;
  if (o.maxLenBytes !== undefined && o.maxLenBytes > 0) args["x-max-length-bytes"] = o.maxLenBytes;
  return args;
}

/** The broker layout of one subscription; invalid subscription metadata throws. */
export function subscriptionPlan(o: RabbitMQOptions, req: SubscribeRequest): SubscriptionPlan {
  const md = req.metadata;
  const field = (name: string): string | undefined => {
    const v = lookup(md, [name]);
    return v === undefined || v === "" ? undefined : v;
  };
  let queue = field("queueName");
  if (queue === undefined) {
    const consumerID = field("consumerID") ?? o.consumerID;
    if (consumerID === "") throw new Error("pubsub.rabbitmq: consumerID is required for subscriptions that don't specify a queue name");
    queue = `${consumerID}-${req.topic}`;
  }

  let deadLetter: SubscriptionPlan["deadLetter"];
  const args = limitArgs(o);
  if (o.enableDeadLetter) {
    deadLetter = { exchange: `dlx-${queue}`, queue: `dlq-${queue}`, args: { ...limitArgs(o), "x-queue-mode": "lazy" } };
    args["x-dead-letter-exchange"] = deadLetter.exchange;
  }
  const maxPriority = field("maxPriority");
  if (maxPriority !== undefined) args["x-max-priority"] = Math.min(255, unsigned("maxPriority", maxPriority));
  const queueType = field("queueType") ?? "classic";
  if (queueType !== "classic" && queueType !== "quorum") throw new Error(`pubsub.rabbitmq: invalid queue type ${queueType}. Valid types are classic and quorum`);
  args["x-queue-type"] = queueType;
  if (TRUTHY.has((field("singleActiveConsumer") ?? "").toLowerCase())) args["x-single-active-consumer"] = true;
  const maxLenBytes = field("maxLenBytes");
  if (maxLenBytes !== undefined) args["x-max-length-bytes"] = unsigned("maxLenBytes", maxLenBytes);
  const maxLen = field("maxLen");
  if (maxLen !== undefined) args["x-max-length"] = unsigned("maxLen", maxLen);

  return {
    topic: req.topic,
    queue,
    exchangeKind: o.exchangeKind,
    durable: o.durable,
    autoDelete: o.deletedWhenUnused,
    queueArgs: args,
    routingKeys: (field("routingKey") ?? "").split(","),
    deadLetter,
    prefetchCount: o.prefetchCount,
    single: o.concurrency === "single",
    propertiesToMetadata: o.publishMessagePropertiesToMetadata,
    reconnectWaitMs: Math.max(o.reconnectWaitSeconds, 10),
  };
}

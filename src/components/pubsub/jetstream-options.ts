/**
 * pubsub.jetstream metadata: Dapr's field names and defaults, and their mapping onto the v3 NATS
 * client (connection options) and onto the durable consumer's configuration.
 */
import { createHash } from "node:crypto";
import { AckPolicy, DeliverPolicy, ReplayPolicy, type ConsumerConfig } from "@nats-io/jetstream";
import { jwtAuthenticator, type NodeConnectionOptions } from "@nats-io/transport-node";
import { parseDuration } from "../../kit/duration.js";
import { defineSchema, MetadataError, type OptionsOf } from "../../kit/metadata-schema.js";

const PUSH_ONLY = "Accepted for compatibility; no effect: Tandem consumes with a pull consumer, and the server allows this only on push consumers.";

export const metadataSchema = defineSchema({
  natsURL: { type: "string", required: true, description: "Server URL(s), e.g. `nats://localhost:4222`; several comma-separated." },
  jwt: { type: "string", sensitive: true, description: "User JWT for decentralized auth; requires `seedKey`." },
  seedKey: { type: "string", sensitive: true, description: "User NKey seed (`SU...`) that signs the server nonce with `jwt`." },
  token: { type: "string", sensitive: true, description: "Authentication token." },
  tls_client_cert: { type: "string", description: "Client certificate for mutual TLS: a file path, or the PEM text itself." },
  tls_client_key: { type: "string", sensitive: true, description: "Client private key for mutual TLS: a file path, or the PEM text itself." },
  name: { type: "string", default: "dapr.io - pubsub.jetstream", description: "Connection name shown by the server." },
  streamName: {
    type: "string",
    description: "Stream to consume from. Unset: the stream whose subjects capture the topic is looked up. With `autoCreateStream` it is the stream created (or extended) for topics no stream captures.",
  },
  durableName: {
    type: "string",
    description:
      "Durable consumer name, used as is for every subscription (so one topic per durableName). Unset: derived from the consumerID and the topic, so replicas of one app compete and different apps each get every message.",
  },
  queueGroupName: {
    type: "string",
    description: "Accepted for compatibility; no effect: Dapr's push consumers need a deliver group for competing consumers, Tandem's pull consumers compete on the durable itself.",
  },
  deliverPolicy: { type: "string", default: "all", oneOf: ["all", "last", "new", "sequence", "time"], description: "Where a new consumer starts: `all`, `last`, `new`, `sequence` (`startSequence`), `time` (`startTime`)." },
  startSequence: { type: "integer", min: 1, description: "First stream sequence to deliver with `deliverPolicy: sequence`." },
  startTime: { type: "integer", min: 0, description: "Unix time in seconds of the first message to deliver with `deliverPolicy: time`." },
  ackPolicy: { type: "string", default: "explicit", oneOf: ["explicit", "all", "none"], description: "`explicit` (each message), `all` (an ack covers every earlier message; use with `concurrency: single`), `none` (no acks, no redelivery)." },
  ackWait: { type: "duration", description: "Time the server waits for an ack before redelivering; also the NAK delay after a failed handler (else 1s). Bare numbers are seconds." },
  maxDeliver: { type: "integer", description: "Deliveries per message before the server gives up on it (its business, not Tandem's); unset or -1: no limit." },
  backOff: { type: "string", description: "Comma-separated redelivery delays after ack timeouts, e.g. `1s,5s,30s` (the server requires `maxDeliver` greater than their count)." },
  maxAckPending: { type: "integer", description: "Unacknowledged messages the server lets out at once; with `concurrency: parallel` also the handlers run at once." },
  replicas: { type: "integer", min: 0, description: "Consumer replicas in a clustered JetStream (0: as the stream)." },
  memoryStorage: { type: "boolean", default: false, description: "Keep the consumer's state in memory instead of on disk." },
  rateLimit: { type: "integer", description: PUSH_ONLY },
  heartbeat: { type: "duration", description: "Idle heartbeat of the pull requests: missed heartbeats make the client re-check its consumer. Bare numbers are seconds." },
  flowControl: { type: "boolean", default: false, description: PUSH_ONLY },
  domain: { type: "string", description: "JetStream domain (leaf nodes)." },
  apiPrefix: { type: "string", description: "JetStream API prefix (imported JetStream of another account)." },
  concurrency: { type: "string", default: "single", oneOf: ["single", "parallel"], description: "`single`: one message at a time in stream order; `parallel`: up to `maxAckPending` (else 100) at once." },
  consumerID: { type: "string", default: "", description: "Set by the sidecar to the app id: the consumer group identity when `durableName` is unset." },
  autoCreateStream: {
    type: "boolean",
    default: false,
    description:
      "Tandem only (Dapr requires the stream to exist): when no stream captures a topic, create stream `streamName` (or one named after the topic) capturing it, or add the topic to `streamName` when that stream exists. For local development.",
  },
});
export type JetStreamOptions = OptionsOf<typeof metadataSchema>;

const DEFAULT_PARALLEL = 100;

/** The connection options Dapr's fields map onto. */
export function connectionOptions(o: JetStreamOptions): NodeConnectionOptions {
  const servers = o.natsURL.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const opts: NodeConnectionOptions = { servers, name: o.name, maxReconnectAttempts: -1, reconnectTimeWait: 1_000 };
  if ((o.jwt === undefined) !== (o.seedKey === undefined)) throw new MetadataError(o.jwt === undefined ? "jwt" : "seedKey", "jwt and seedKey must be given together");
  if (o.jwt !== undefined && o.seedKey !== undefined) opts.authenticator = jwtAuthenticator(o.jwt, new TextEncoder().encode(o.seedKey));
  if (o.token !== undefined) opts.token = o.token;
  if ((o.tls_client_cert === undefined) !== (o.tls_client_key === undefined)) {
    throw new MetadataError(o.tls_client_cert === undefined ? "tls_client_cert" : "tls_client_key", "tls_client_cert and tls_client_key must be given together");
  }
  if (o.tls_client_cert !== undefined && o.tls_client_key !== undefined) {
    const pem = (v: string) => v.includes("-----BEGIN");
    opts.tls = {
      ...(pem(o.tls_client_cert) ? { cert: o.tls_client_cert } : { certFile: o.tls_client_cert }),
      ...(pem(o.tls_client_key) ? { key: o.tls_client_key } : { keyFile: o.tls_client_key }),
    };
  }
  return opts;
}

/** Handlers run at once for a `concurrency` setting. */
export function concurrencyOf(o: JetStreamOptions): number {
  if (o.concurrency === "single") return 1;
  return o.maxAckPending !== undefined && o.maxAckPending > 0 ? o.maxAckPending : DEFAULT_PARALLEL;
}

const DELIVER: Readonly<Record<string, DeliverPolicy>> = {
  all: DeliverPolicy.All,
  last: DeliverPolicy.Last,
  new: DeliverPolicy.New,
  sequence: DeliverPolicy.StartSequence,
  time: DeliverPolicy.StartTime,
};
const ACK: Readonly<Record<string, AckPolicy>> = { explicit: AckPolicy.Explicit, all: AckPolicy.All, none: AckPolicy.None };

const NS_PER_MS = 1_000_000;

function backOffNanos(text: string): number[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const ms = /^\d+$/.test(s) ? Number(s) * 1000 : parseDuration(s);
      if (ms === undefined || ms <= 0) throw new MetadataError("backOff", `metadata field "backOff" must be comma-separated durations, got "${text}"`);
      return Math.round(ms * NS_PER_MS);
    });
}

/** Checks the fields that only make sense together; throws MetadataError naming the field. */
export function validate(o: JetStreamOptions): void {
  if (o.deliverPolicy === "sequence" && o.startSequence === undefined) throw new MetadataError("startSequence", "deliverPolicy sequence requires startSequence");
  if (o.deliverPolicy === "time" && o.startTime === undefined) throw new MetadataError("startTime", "deliverPolicy time requires startTime");
  if (o.backOff !== undefined) backOffNanos(o.backOff);
}

/** The durable pull consumer of one subscription. */
export function consumerConfig(o: JetStreamOptions, durable: string, topic: string): Partial<ConsumerConfig> {
  const deliver = DELIVER[o.deliverPolicy] ?? DeliverPolicy.All;
  const cfg: Partial<ConsumerConfig> = {
    durable_name: durable,
    filter_subject: topic,
    deliver_policy: deliver,
    ack_policy: ACK[o.ackPolicy] ?? AckPolicy.Explicit,
    replay_policy: ReplayPolicy.Instant,
  };
  if (deliver === DeliverPolicy.StartSequence && o.startSequence !== undefined) cfg.opt_start_seq = o.startSequence;
  if (deliver === DeliverPolicy.StartTime && o.startTime !== undefined) cfg.opt_start_time = new Date(o.startTime * 1000).toISOString();
  if (o.ackWait !== undefined && o.ackWait > 0) cfg.ack_wait = Math.round(o.ackWait * NS_PER_MS);
  if (o.maxDeliver !== undefined && o.maxDeliver !== 0) cfg.max_deliver = o.maxDeliver;
  if (o.backOff !== undefined) cfg.backoff = backOffNanos(o.backOff);
  if (o.maxAckPending !== undefined && o.maxAckPending !== 0) cfg.max_ack_pending = o.maxAckPending;
  if (o.replicas !== undefined && o.replicas > 0) cfg.num_replicas = o.replicas;
  if (o.memoryStorage) cfg.mem_storage = true;
  return cfg;
}

const UNSAFE = /[^A-Za-z0-9_-]+/g;

/**
 * The durable name of a subscription. Dapr uses `durableName` or else an ephemeral push consumer
 * (each replica then gets every message, and nothing is kept while the app is down), relying on a
 * push deliver group (`queueGroupName`) to split messages between replicas. Tandem derives a
 * durable from the consumer group identity and the topic instead: replicas with the same
 * consumerID pull from one durable and compete, each consumerID has its own durable and sees every
 * message, and messages wait on the stream while no replica runs. The hash keeps distinct pairs
 * distinct after replacing the characters consumer names may not hold (`.`, `*`, `>`, spaces...).
 */
export function durableNameFor(consumerID: string, topic: string): string {
  const hash = createHash("sha256").update(consumerID).update("\0").update(topic).digest("hex").slice(0, 10);
  const part = (s: string, max: number) => s.replace(UNSAFE, "_").slice(0, max);
  return `${part(consumerID, 40) || "tandem"}-${part(topic, 60)}-${hash}`;
}

/** A stream name for a topic (autoCreateStream without streamName). */
export function streamNameFor(topic: string): string {
  return topic.replace(UNSAFE, "_").slice(0, 100) || "tandem";
}

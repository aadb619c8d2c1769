/**
 * pubsub.mqtt3: MQTT 3.1.1 through mqtt.js, one client connection (client id = `consumerID` as-is)
 * for publish and subscribe, as Dapr's component does. Topic filters may hold `+`/`#` and
 * `$share/<group>/` prefixes; delivered messages carry the concrete topic and `retained`.
 *
 * Acknowledgements: a QoS 1 PUBACK (QoS 2 PUBCOMP) is sent only once the handler resolved, without
 * holding up the connection's other packets. A broker resends an unacknowledged message only on
 * the next session (reconnect with `cleanSession: false`), so a message whose handler rejected is
 * handed to it again after `retryInterval` (Tandem extension) while the subscription lives; messages
 * still unacknowledged when it closes wait, unacknowledged, for a later subscription matching them
 * on this client, and when the client disconnects the broker keeps them for the next session.
 * QoS 2: the client sends PUBREC on receipt (mqtt.js keeps the message in memory), the handler runs
 * on PUBREL, and PUBCOMP follows its success. QoS 0 messages have no acknowledgement: a failed one
 * is retried while its subscription lives, one arriving when no subscription matches is dropped.
 *
 * Not applied (as in Dapr): consumer groups. Every client gets every message of its subscriptions;
 * share the load with a `$share/<group>/<topic>` topic. A subscription's own `consumerID` cannot
 * change the client id of the shared connection and is ignored.
 */
import { connect, type IConnackPacket, type IPublishPacket, type MqttClient } from "mqtt";
import {
  PublishError,
  type ActiveSubscription,
  type Message,
  type MessageHandler,
  type PublishRequest,
  type PubSub,
  type PubSubFeature,
  type SubscribeRequest,
} from "../../blocks/pubsub/contract.js";
import { defineSchema, lookup, MetadataError, type OptionsOf } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import type { ComponentContext } from "../shared/context.js";
import { ACK_DEFERRED, compileFilter, connectionOptions, sendAck } from "./mqtt3-connection.js";
import { Mqtt3Subscription, type Delivery, type SubscriptionOwner } from "./mqtt3-subscription.js";

export const metadataSchema = defineSchema({
  url: {
    type: "string",
    required: true,
    description: "Broker address: `tcp://`, `mqtt://`, `ssl://`, `mqtts://`, `ws://` or `wss://`, with credentials as `user:password@`.",
  },
  consumerID: {
    type: "string",
    required: true,
    description: "MQTT client id, used as-is (the sidecar sets the app id when absent); must be unique per connected client, e.g. `{uuid}`.",
  },
  qos: { type: "integer", default: 1, min: 0, description: "QoS of publishes and subscriptions: 0, 1 or 2." },
  retain: { type: "boolean", default: false, description: "Publish with the retain flag; a publish's own `retain` metadata overrides it." },
  cleanSession: {
    type: "boolean",
    default: false,
    description: "Start a clean session on each connect. `false` keeps subscriptions and unacknowledged messages across reconnects and restarts.",
  },
  caCert: { type: "string", description: "With `ssl://`, `mqtts://` or `wss://`: CA certificate (PEM text) the broker's certificate is checked against." },
  clientCert: { type: "string", description: "With `ssl://`, `mqtts://` or `wss://`: client certificate (PEM text) for mutual TLS." },
  clientKey: { type: "string", sensitive: true, description: "With `ssl://`, `mqtts://` or `wss://`: client private key (PEM text) for mutual TLS." },
  backOffMaxRetries: { type: "integer", description: "Accepted for compatibility; no effect: the client reconnects without limit." },
  retryInterval: {
    type: "duration",
    default: 1000,
    bareUnitMs: 1,
    description: "Tandem extension: delay before a message whose handler failed is handed to it again (it stays unacknowledged meanwhile).",
  },
});
export type Mqtt3Options = OptionsOf<typeof metadataSchema>;

type QoS = IPublishPacket["qos"];

const FEATURES: readonly PubSubFeature[] = ["SUBSCRIBE_WILDCARDS"];
/** As Dapr's `defaultWait`: the first connect, a publish, a SUBACK or UNSUBACK may take this long. */
const WAIT_MS = 20_000;
const RECONNECT_MS = 1_000;
const RETAINED: Readonly<Record<string, string>> = Object.freeze({ retained: "true" });
const NOT_RETAINED: Readonly<Record<string, string>> = Object.freeze({ retained: "false" });
const TRUTHY = new Set(["true", "1", "yes", "y", "on"]);

function within<T>(what: string, work: Promise<T>, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`mqtt3: ${what} timed out after ${ms}ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function parseBool(field: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (TRUTHY.has(v)) return true;
  if (["false", "0", "no", "n", "off"].includes(v)) return false;
  throw new MetadataError(field, `metadata field "${field}" must be a boolean, got "${raw}"`);
}

const bytes = (payload: string | Buffer) => (typeof payload === "string" ? Buffer.from(payload) : payload);
const sameMessage = (a: IPublishPacket, b: IPublishPacket) => a.topic === b.topic && bytes(a.payload).equals(bytes(b.payload));

export class Mqtt3PubSub implements PubSub, SubscriptionOwner {
  private readonly qos: QoS;
  private readonly subscriptions = new Map<string, Mqtt3Subscription>();
  /** QoS 1/2 messages not yet acknowledged, by packet id. */
  private readonly inflight = new Map<number, Delivery>();
  /** Received messages no open subscription matches (kept unacknowledged for a later one). */
  private readonly parked = new Set<Delivery>();
  private generation = 0;
  /** Generation of the latest CONNACK without a resumed session: older messages are not redelivered. */
  private sessionStart = 0;
  private closing: Promise<void> | undefined;
  /** Rejects once the client ended: publishes the broker never acknowledged fail then. */
  private readonly ended: Promise<never>;
  private end!: (err: Error) => void;

  constructor(
    private readonly client: MqttClient,
    private readonly options: Mqtt3Options,
    private readonly logger: Logger,
  ) {
    this.qos = options.qos as QoS;
    this.ended = new Promise<never>((_, reject) => (this.end = reject));
    this.ended.catch(() => undefined);
    client.handleMessage = (packet, callback) => {
      this.receive(packet);
      if (packet.qos === 0) callback();
      else callback(ACK_DEFERRED);
    };
    client.on("connect", (connack: IConnackPacket) => this.onConnect(connack));
    client.on("offline", () => this.logger.warn("mqtt3 connection to the broker lost; reconnecting"));
    client.on("error", (err) => this.logger.warn({ err }, "mqtt3 client error"));
  }

  /** Counts the connection the client just made (the first one included). */
  private onConnect(connack: IConnackPacket): void {
    this.generation += 1;
    if (!connack.sessionPresent) {
      this.sessionStart = this.generation;
      for (const [id, d] of this.inflight) if (d.done) this.inflight.delete(id);
    }
    if (this.generation > 1) this.logger.info({ sessionPresent: connack.sessionPresent }, "mqtt3 reconnected to the broker");
  }

  features(): readonly PubSubFeature[] {
    return FEATURES;
  }

  async publish(req: PublishRequest): Promise<void> {
    if (this.closing) throw new PublishError("mqtt3: the component is closed");
    let retain = this.options.retain;
    const override = req.metadata["retain"];
    if (override !== undefined && override !== "") {
      try {
        retain = parseBool("retain", override);
      } catch (err) {
        throw new PublishError(`mqtt3: invalid retain "${override}"`, { cause: err });
      }
    }
    try {
      await within(`publish to ${req.topic}`, Promise.race([this.client.publishAsync(req.topic, req.data, { qos: this.qos, retain }), this.ended]));
    } catch (err) {
      throw new PublishError(`mqtt3: publish to ${req.topic} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  async subscribe(req: SubscribeRequest, handler: MessageHandler): Promise<ActiveSubscription> {
    if (this.closing) throw new Error("mqtt3: the component is closed");
    if (req.topic === "") throw new Error("mqtt3: topic name is empty");
    if (this.subscriptions.has(req.topic)) throw new Error(`mqtt3: already subscribed to ${req.topic}`);
    const unsubscribeOnClose = this.options.cleanSession || TRUTHY.has((lookup(req.metadata, ["unsubscribeOnClose"]) ?? "").trim().toLowerCase());
    const sub = new Mqtt3Subscription(compileFilter(req.topic), handler, { retryMs: this.options.retryInterval, unsubscribeOnClose }, this, this.logger);
    this.subscriptions.set(req.topic, sub);
    try {
      const granted = await within(`subscribe to ${req.topic}`, this.client.subscribeAsync(req.topic, { qos: this.qos }));
      if (granted.some((g) => g.qos === 128)) throw new Error(`mqtt3: the broker refused the subscription to ${req.topic}`);
    } catch (err) {
      this.subscriptions.delete(req.topic);
      throw err;
    }
    for (const d of this.parked) {
      if (this.route(d.message.topic) === sub) {
        this.parked.delete(d);
        sub.deliver(d);
      }
    }
    return sub;
  }

  /** The subscription an incoming topic goes to: the exact filter first, else the first matching one (as Dapr). */
  private route(topic: string): Mqtt3Subscription | undefined {
    const exact = this.subscriptions.get(topic);
    if (exact) return exact;
    for (const s of this.subscriptions.values()) if (s.topic.matches(topic)) return s;
    return undefined;
  }

  private receive(packet: IPublishPacket): void {
    const id = packet.messageId;
    if (packet.qos > 0 && id !== undefined) {
      const known = this.inflight.get(id);
      if (known && sameMessage(known.packet, packet)) {
        // A redelivery (new session) of a message still being handled, or handled while offline.
        known.generation = this.generation;
        if (known.done) {
          this.inflight.delete(id);
          void sendAck(this.client, packet);
        }
        return;
      }
      if (known) this.parked.delete(known);
    }
    const message: Message = { topic: packet.topic, data: bytes(packet.payload), metadata: packet.retain ? RETAINED : NOT_RETAINED };
    const d: Delivery = { packet, message, generation: this.generation, done: false };
    if (packet.qos > 0 && id !== undefined) this.inflight.set(id, d);
    const sub = this.route(packet.topic);
    if (sub) sub.deliver(d);
    else this.park(d);
  }

  settle(d: Delivery): Promise<void> {
    const id = d.packet.messageId;
    if (d.packet.qos === 0 || id === undefined || this.inflight.get(id) !== d) return Promise.resolve();
    if (d.generation === this.generation && this.client.connected) {
      this.inflight.delete(id);
      return sendAck(this.client, d.packet);
    }
    // The connection it came on is gone: the broker resends it on a resumed session, then it is acked at once.
    if (d.generation >= this.sessionStart && !this.closing) d.done = true;
    else this.inflight.delete(id);
    return Promise.resolve();
  }

  park(d: Delivery): void {
    if (d.packet.qos === 0) {
      this.logger.debug({ topic: d.message.topic }, "mqtt3 QoS 0 message without a subscription dropped");
      return;
    }
    if (this.closing) return;
    const sub = this.route(d.message.topic);
    if (sub) sub.deliver(d);
    else this.parked.add(d);
  }

  async detach(s: Mqtt3Subscription): Promise<void> {
    if (this.subscriptions.get(s.topic.filter) === s) this.subscriptions.delete(s.topic.filter);
    // Without UNSUBSCRIBE the broker keeps the subscription (and what it queues) for the session, as Dapr.
    if (this.closing || !s.unsubscribeOnClose) return;
    try {
      await within(`unsubscribe from ${s.topic.filter}`, this.client.unsubscribeAsync(s.topic.filter));
    } catch (err) {
      this.logger.warn({ err, topic: s.topic.filter }, "mqtt3 unsubscribe failed");
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions.values()].map((s) => s.close()));
      this.parked.clear();
      this.inflight.clear();
      await this.disconnect();
      this.end(new Error("the component closed before the broker acknowledged the message"));
    })();
    return this.closing;
  }

  /** A graceful end (DISCONNECT after in-flight publishes); given up when the connection drops meanwhile, which mqtt.js would wait out forever. */
  private async disconnect(): Promise<void> {
    if (!this.client.connected) {
      await this.client.endAsync(true);
      return;
    }
    let onClose: (() => void) | undefined;
    const dropped = new Promise<void>((resolve) => this.client.once("close", (onClose = resolve)));
    try {
      await within("disconnect", Promise.race([this.client.endAsync(), dropped]));
    } catch {
      this.client.stream.destroy();
    } finally {
      if (onClose) this.client.off("close", onClose);
    }
  }
}

export async function create(options: Mqtt3Options, ctx: ComponentContext): Promise<PubSub> {
  if (options.qos > 2) throw new MetadataError("qos", `metadata field "qos" must be 0, 1 or 2, got ${options.qos}`);
  const logger = ctx.logger.child({ component: ctx.name, type: "pubsub.mqtt3" });
  const { options: target, secure } = connectionOptions(options.url, options);
  if (!secure && (options.caCert ?? options.clientCert) !== undefined) logger.warn("mqtt3: caCert/clientCert/clientKey are ignored without ssl://, mqtts:// or wss://");
  const client = connect({
    ...target,
    protocolVersion: 4,
    clientId: options.consumerID,
    clean: options.cleanSession,
    reconnectPeriod: RECONNECT_MS,
    connectTimeout: WAIT_MS,
    resubscribe: true,
  });
  const pubsub = new Mqtt3PubSub(client, options, logger);
  let onConnect: (() => void) | undefined;
  let onError: ((err: Error) => void) | undefined;
  const connected = new Promise<void>((resolve, reject) => {
    onConnect = resolve;
    onError = reject;
    client.once("connect", onConnect);
    client.once("error", onError);
  });
  try {
    await within(`connect to ${target.host ?? ""}:${target.port ?? ""}`, connected);
  } catch (err) {
    client.end(true);
    throw new Error(`mqtt3: failed to establish connection to broker: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    if (onConnect) client.off("connect", onConnect);
    if (onError) client.off("error", onError);
  }
  return pubsub;
}

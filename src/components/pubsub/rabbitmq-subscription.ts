/**
 * One rabbitmq subscription: declares Dapr's layout (topic exchange, the `<consumerID>-<topic>`
 * queue with its arguments and bindings, the dead-letter pair), consumes on a channel of its own
 * and acknowledges a message only once its handler resolved. A rejected message is nacked with
 * requeue; a message whose channel died is returned to the queue by the broker. When the channel or
 * the connection drops, the subscription declares and consumes again on the next connection.
 */
import { randomUUID } from "node:crypto";
import type { Channel, ConsumeMessage } from "amqplib";
import type { ActiveSubscription, Message, MessageHandler, Metadata } from "../../blocks/pubsub/contract.js";
import type { Logger } from "../../observability/logger.js";
import type { AmqpLink } from "./rabbitmq-link.js";

/** Everything the broker layout of one subscription needs, computed once at subscribe. */
export interface SubscriptionPlan {
  readonly topic: string;
  readonly queue: string;
  readonly exchangeKind: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly queueArgs: Readonly<Record<string, unknown>>;
  readonly routingKeys: readonly string[];
  readonly deadLetter: { readonly exchange: string; readonly queue: string; readonly args: Readonly<Record<string, unknown>> } | undefined;
  readonly prefetchCount: number;
  readonly single: boolean;
  readonly propertiesToMetadata: boolean;
  readonly reconnectWaitMs: number;
}

const NO_METADATA: Metadata = Object.freeze({});

/** One consuming channel; a new one after every reconnect. */
interface Generation {
  readonly channel: Channel;
  open: boolean;
  consumerTag: string | undefined;
  /** Aborted when the channel closes: its deliveries can no longer be acknowledged. */
  readonly abort: AbortController;
  /** `concurrency: single`: deliveries waiting their turn. */
  readonly pending: ConsumeMessage[];
  draining: boolean;
  readonly ended: Promise<void>;
}

/** AMQP properties and headers as Dapr's `publishMessagePropertiesToMetadata` delivers them. */
export function propertiesMetadata(msg: ConsumeMessage): Metadata {
  const out: Record<string, string> = {};
  const p = msg.properties;
  if (typeof p.messageId === "string" && p.messageId !== "") out["metadata.messageid"] = p.messageId;
  if (typeof p.correlationId === "string" && p.correlationId !== "") out["metadata.correlationid"] = p.correlationId;
  if (typeof p.type === "string" && p.type !== "") out["metadata.type"] = p.type;
  if (typeof p.contentType === "string" && p.contentType !== "") out["metadata.contenttype"] = p.contentType;
  const headers = p.headers as Record<string, unknown> | undefined;
  if (headers) {
    for (const [k, v] of Object.entries(headers)) {
      if (v === null || v === undefined) continue;
      out[`metadata.${k}`] = typeof v === "string" ? v : Buffer.isBuffer(v) ? v.toString("utf8") : typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" ? String(v) : JSON.stringify(v);
    }
  }
  return out;
}

export class RabbitSubscription implements ActiveSubscription {
  private gen: Generation | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private running = 0;
  private idle: (() => void) | undefined;

  constructor(
    private readonly link: AmqpLink,
    private readonly plan: SubscriptionPlan,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
    private readonly onClose: (s: RabbitSubscription) => void,
  ) {}

  /** Declares and consumes once (errors reach the caller), then keeps the subscription alive. */
  async start(): Promise<void> {
    const gen = await this.establish();
    void this.supervise(gen);
  }

  private async establish(): Promise<Generation> {
    const conn = await this.link.connection(this.stop.signal);
    const channel = await conn.createChannel();
    let onEnd!: () => void;
    const ended = new Promise<void>((resolve) => (onEnd = resolve));
    const gen: Generation = { channel, open: true, consumerTag: undefined, abort: new AbortController(), pending: [], draining: false, ended };
    channel.on("error", (err: unknown) => this.logger.warn({ err, queue: this.plan.queue }, "rabbitmq pub/sub: subscription channel error"));
    channel.once("close", () => {
      gen.open = false;
      gen.abort.abort();
      onEnd();
    });
    try {
      await this.declare(channel);
      if (this.plan.prefetchCount > 0) await channel.prefetch(this.plan.prefetchCount, false);
      if (this.closing) throw new Error("subscription closed");
      const { consumerTag } = await channel.consume(this.plan.queue, (msg) => this.onDelivery(gen, msg), {
        consumerTag: `${this.plan.queue}-${randomUUID()}`,
        noAck: false,
      });
      gen.consumerTag = consumerTag;
      if (this.closing) throw new Error("subscription closed");
    } catch (err) {
      if (gen.open) await channel.close().catch(() => undefined);
      throw err;
    }
    this.gen = gen;
    return gen;
  }

  private async declare(ch: Channel): Promise<void> {
    const p = this.plan;
    await ch.assertExchange(p.topic, p.exchangeKind, { durable: p.durable, autoDelete: p.autoDelete });
    if (p.deadLetter) {
      await ch.assertExchange(p.deadLetter.exchange, "fanout", { durable: true, autoDelete: p.autoDelete });
      await ch.assertQueue(p.deadLetter.queue, { durable: true, autoDelete: p.autoDelete, exclusive: false, arguments: p.deadLetter.args });
      await ch.bindQueue(p.deadLetter.queue, p.deadLetter.exchange, "");
    }
    await ch.assertQueue(p.queue, { durable: p.durable, autoDelete: p.autoDelete, exclusive: false, arguments: p.queueArgs });
    for (const key of p.routingKeys) await ch.bindQueue(p.queue, p.topic, key);
  }

  /** Waits for the channel to end, then declares and consumes again every `reconnectWaitMs` until it works. */
  private async supervise(first: Generation): Promise<void> {
    let gen = first;
    for (;;) {
      await gen.ended;
      if (this.closing) return;
      this.logger.warn({ queue: this.plan.queue }, "rabbitmq pub/sub: subscription channel closed; subscribing again");
      for (;;) {
        await this.pause();
        if (this.closing) return;
        try {
          gen = await this.establish();
          this.logger.info({ queue: this.plan.queue }, "rabbitmq pub/sub: subscription re-established");
          break;
        } catch (err) {
          if (this.closing) return;
          this.logger.warn({ err, queue: this.plan.queue }, "rabbitmq pub/sub: subscribing again failed; retrying");
        }
      }
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.plan.reconnectWaitMs);
      const signal = this.stop.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private onDelivery(gen: Generation, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted): close the channel and subscribe again.
      if (gen.open) gen.channel.close().catch(() => undefined);
      return;
    }
    // Not handled while closing: it stays unacknowledged and returns to the queue with the channel.
    if (this.closing) return;
    if (!this.plan.single) {
      void this.handle(gen, msg);
      return;
    }
    gen.pending.push(msg);
    if (!gen.draining) void this.drain(gen);
  }

  private async drain(gen: Generation): Promise<void> {
    gen.draining = true;
    for (let msg = gen.pending.shift(); msg !== undefined && !this.closing && gen.open; msg = gen.pending.shift()) {
      await this.handle(gen, msg);
    }
    gen.draining = false;
  }

  private async handle(gen: Generation, msg: ConsumeMessage): Promise<void> {
    this.running++;
    try {
      await this.handler(this.toMessage(msg), gen.abort.signal);
      if (gen.open) gen.channel.ack(msg);
    } catch (err) {
      this.logger.debug({ err, queue: this.plan.queue }, "rabbitmq pub/sub: handler failed; message requeued");
      // Tandem choice: always requeue (Dapr's `requeueInFailure: false` would drop or dead-letter it).
      if (gen.open) {
        try {
          gen.channel.nack(msg, false, true);
        } catch {
          // The channel closed meanwhile: the broker requeues the message itself.
        }
      }
    } finally {
      if (--this.running === 0) this.idle?.();
    }
  }

  /**
   * No content type: daprd writes `text/plain` as the AMQP content type of every publish (CloudEvents
   * included), so the property says nothing about the bytes; Dapr's component does not pass it on either.
   */
  private toMessage(msg: ConsumeMessage): Message {
    return { topic: this.plan.topic, data: msg.content, metadata: this.plan.propertiesToMetadata ? propertiesMetadata(msg) : NO_METADATA };
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.stop.abort();
    const gen = this.gen;
    if (gen?.open && gen.consumerTag !== undefined) await gen.channel.cancel(gen.consumerTag).catch(() => undefined);
    if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    // Closing the channel flushes the acks sent before it; undelivered prefetched messages return to the queue.
    if (gen?.open) await gen.channel.close().catch(() => undefined);
    this.onClose(this);
  }
}

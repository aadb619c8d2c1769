/**
 * One pubsub.jetstream subscription: a `consume()` loop on a durable pull consumer. A message is
 * acknowledged only after its handler resolved; a rejected one is NAKed (redelivered after the NAK
 * delay); with ack policy `none` nothing is sent. Redeliveries beyond the consumer's `max_deliver`
 * are dropped by the broker (it stops redelivering and emits a MAX_DELIVERIES advisory), not here.
 */
import type { Consumer, ConsumerMessages, ConsumeOptions, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ActiveSubscription, Message, MessageHandler } from "../../blocks/pubsub/contract.js";
import { Semaphore } from "../../kit/semaphore.js";
import type { Logger } from "../../observability/logger.js";

export interface ConsumeSettings {
  /** Ack on success and NAK on failure (ack policies `explicit` and `all`). */
  readonly acks: boolean;
  /** Redelivery delay of a NAK after a handler rejected. */
  readonly nakDelayMs: number;
  /** Handlers running at once: 1 keeps stream order (`single`), more runs them in parallel. */
  readonly concurrency: number;
  /** Client-side idle heartbeat of the pull requests (`heartbeat`), when set. */
  readonly idleHeartbeatMs: number | undefined;
}

/** Bound on the wait for acks to reach the server when a subscription closes. */
const FLUSH_DEADLINE_MS = 5_000;

export class JetStreamSubscription implements ActiveSubscription {
  private closing = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly slots: Semaphore | undefined;
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly messages: ConsumerMessages,
    private readonly handler: MessageHandler,
    private readonly settings: ConsumeSettings,
    private readonly logger: Logger,
    private readonly onClose: (s: JetStreamSubscription) => void,
  ) {
    this.slots = settings.concurrency > 1 ? new Semaphore(settings.concurrency) : undefined;
    this.loop = this.run();
  }

  static async start(
    nc: NatsConnection,
    consumer: Consumer,
    handler: MessageHandler,
    settings: ConsumeSettings,
    logger: Logger,
    onClose: (s: JetStreamSubscription) => void,
  ): Promise<JetStreamSubscription> {
    // The pull buffer is kept to what can run at once: a message waiting in the client buffer is
    // already counting down its ack_wait on the server, so a deep buffer behind a slow handler
    // would turn into needless redeliveries.
    const opts: ConsumeOptions = { max_messages: Math.max(settings.concurrency, 8) };
    if (settings.idleHeartbeatMs !== undefined) opts.idle_heartbeat = settings.idleHeartbeatMs;
    const messages = await consumer.consume(opts);
    return new JetStreamSubscription(nc, messages, handler, settings, logger, onClose);
  }

  private async run(): Promise<void> {
    try {
      for await (const m of this.messages) {
        if (this.closing) {
          this.giveBack(m);
          continue;
        }
        if (this.slots === undefined) {
          await this.handle(m);
          continue;
        }
        const release = await this.slots.acquire();
        if (this.closing) {
          release();
          this.giveBack(m);
          continue;
        }
        const running = this.handle(m).finally(() => {
          release();
          this.inflight.delete(running);
        });
        this.inflight.add(running);
      }
      if (!this.closing) this.logger.error("pubsub.jetstream: consumer stopped delivering (connection closed); messages stay on the stream");
    } catch (err) {
      if (!this.closing) this.logger.error({ err }, "pubsub.jetstream: consumer failed; messages stay on the stream");
    } finally {
      await Promise.all(this.inflight);
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const message: Message = {
      topic: m.subject,
      data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
      metadata: { Topic: m.subject },
    };
    try {
      await this.handler(message, this.abort.signal);
    } catch (err) {
      this.logger.debug({ err, subject: m.subject, seq: m.seq }, "pubsub.jetstream: handler failed; NAK for redelivery");
      if (this.settings.acks) m.nak(this.abort.signal.aborted ? undefined : this.settings.nakDelayMs);
      return;
    }
    if (!this.settings.acks) return;
    if (this.abort.signal.aborted) m.nak();
    else m.ack();
  }

  /** A message pulled but not started while closing goes straight back for another consumer. */
  private giveBack(m: JsMsg): void {
    if (this.settings.acks) m.nak();
  }

  /** Aborts the signal handed to running handlers (their messages are then not acknowledged). */
  abortHandlers(): void {
    this.abort.abort();
  }

  close(): Promise<void> {
    return (this.closed ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.onClose(this);
    // close() stops further pulls; messages already buffered are still yielded and given back.
    await Promise.all([this.messages.close(), this.loop]);
    await this.flushAcks();
  }

  private async flushAcks(): Promise<void> {
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_DEADLINE_MS);
    });
    try {
      await Promise.race([this.nc.flush(), deadline]);
    } catch (err) {
      this.logger.warn({ err }, "pubsub.jetstream: could not flush acks on close; unacknowledged messages will be redelivered");
    } finally {
      clearTimeout(timer);
    }
  }
}

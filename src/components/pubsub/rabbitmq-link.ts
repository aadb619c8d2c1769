/**
 * One AMQP connection that heals itself: when the broker drops it, a new one is tried every
 * `reconnectWaitMs` until it works or the link is closed. Subscriptions wait on `connection()` for
 * the next live connection; publishers take `publishChannel()`, which fails at once while the
 * broker is away (the block retries) instead of hanging.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import type { Logger } from "../../observability/logger.js";

export interface LinkOptions {
  /** `amqp://…` or `amqps://…`, heartbeat already in its query. */
  readonly url: string;
  /** amqplib socket options (TLS material, credentials, client properties, timeout). */
  readonly socketOptions: Readonly<Record<string, unknown>>;
  readonly reconnectWaitMs: number;
}

export class LinkClosedError extends Error {
  constructor() {
    super("rabbitmq pub/sub is closed");
    this.name = "LinkClosedError";
  }
}

interface Waiter {
  resolve(conn: ChannelModel): void;
  reject(err: Error): void;
}

export class AmqpLink {
  private conn: ChannelModel | undefined;
  private publisher: Promise<ConfirmChannel> | undefined;
  /** Exchanges declared on the current publish channel (dropped with it). */
  private declared = new Map<string, Promise<unknown>>();
  private readonly waiters = new Set<Waiter>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly options: LinkOptions,
    private readonly logger: Logger,
  ) {}

  /** Connects once; a broker that is not there at init fails the component's init. */
  static async open(options: LinkOptions, logger: Logger): Promise<AmqpLink> {
    const link = new AmqpLink(options, logger);
    await link.connect();
    return link;
  }

  get connected(): boolean {
    return this.conn !== undefined;
  }

  private async connect(): Promise<void> {
    const conn = await amqp.connect(this.options.url, this.options.socketOptions);
    if (this.closed) {
      await conn.close().catch(() => undefined);
      return;
    }
    conn.on("error", (err: unknown) => this.logger.warn({ err }, "rabbitmq pub/sub: connection error"));
    conn.on("close", () => this.lost(conn));
    this.conn = conn;
    for (const w of this.waiters) w.resolve(conn);
    this.waiters.clear();
  }

  private lost(conn: ChannelModel): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.publisher = undefined;
    this.declared = new Map();
    if (this.closed) return;
    this.logger.warn({ reconnectWaitMs: this.options.reconnectWaitMs }, "rabbitmq pub/sub: connection lost; reconnecting");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().then(
        () => this.logger.info("rabbitmq pub/sub: reconnected"),
        (err: unknown) => {
          this.logger.debug({ err }, "rabbitmq pub/sub: reconnect attempt failed");
          if (!this.closed) this.scheduleReconnect();
        },
      );
    }, this.options.reconnectWaitMs);
  }

  /** The live connection, or the next one once the broker is back; rejects when closed or `signal` aborts. */
  connection(signal?: AbortSignal): Promise<ChannelModel> {
    if (this.closed || signal?.aborted) return Promise.reject(new LinkClosedError());
    if (this.conn) return Promise.resolve(this.conn);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(new LinkClosedError());
      };
      const waiter: Waiter = {
        resolve: (c) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The shared confirm channel publishes go through; throws while disconnected. */
  publishChannel(): Promise<ConfirmChannel> {
    if (this.closed) return Promise.reject(new LinkClosedError());
    const conn = this.conn;
    if (!conn) return Promise.reject(new Error("rabbitmq pub/sub: not connected to the broker (reconnecting)"));
    if (this.publisher) return this.publisher;
    const opening = conn.createConfirmChannel().then((ch) => {
      // A channel-level error (e.g. publishing to an exchange deleted meanwhile) closes only this
      // channel: the next publish opens a fresh one and declares its exchanges again.
      ch.on("error", (err: unknown) => this.logger.warn({ err }, "rabbitmq pub/sub: publish channel error"));
      ch.on("close", () => {
        if (this.publisher === opening) {
          this.publisher = undefined;
          this.declared = new Map();
        }
      });
      return ch;
    });
    this.publisher = opening;
    opening.catch(() => {
      if (this.publisher === opening) this.publisher = undefined;
    });
    return opening;
  }

  /** Declares `exchange` once per publish channel. */
  ensureExchange(ch: ConfirmChannel, exchange: string, kind: string, durable: boolean, autoDelete: boolean): Promise<unknown> {
    let declared = this.declared.get(exchange);
    if (declared === undefined) {
      const map = this.declared;
      declared = ch.assertExchange(exchange, kind, { durable, autoDelete });
      map.set(exchange, declared);
      declared.catch(() => map.delete(exchange));
    }
    return declared;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const w of this.waiters) w.reject(new LinkClosedError());
    this.waiters.clear();
    const conn = this.conn;
    this.conn = undefined;
    this.publisher = undefined;
    if (conn) await conn.close().catch(() => undefined);
  }
}

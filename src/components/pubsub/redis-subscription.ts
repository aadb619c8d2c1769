/**
 * One pubsub.redis subscription: a consumer-group reader on its own blocking connection, bounded
 * handler concurrency, XACK only after the handler resolved, and the pending-list scan (XPENDING +
 * XCLAIM) that redelivers what was left unacknowledged for `processingTimeout`.
 */
import { Command } from "ioredis";
import type { ActiveSubscription, Message, MessageHandler, Metadata } from "../../blocks/pubsub/contract.js";
import { delay } from "../../kit/deferred.js";
import { Semaphore } from "../../kit/semaphore.js";
import type { Logger } from "../../observability/logger.js";
import type { RedisClient } from "../shared/redis/connection.js";

export interface StreamSettings {
  readonly topic: string;
  /** consumerID: the group name and, as in Dapr, also the consumer name inside the group. */
  readonly group: string;
  readonly queueDepth: number;
  readonly concurrency: number;
  /** Milliseconds; 0 disables the handler deadline and redelivery. */
  readonly processingTimeout: number;
  /** Milliseconds between pending-list scans; 0 disables redelivery. */
  readonly redeliverInterval: number;
  /** XREADGROUP BLOCK, milliseconds. */
  readonly blockMs: number;
}

const DATA = Buffer.from("data");
const METADATA = Buffer.from("metadata");
const EMPTY: Buffer = Buffer.alloc(0);
const NO_METADATA: Metadata = Object.freeze({});
const MAX_BACKOFF_MS = 5_000;
/** Handlers get a signal that aborts only at their processingTimeout deadline: close() lets them finish. */
const NO_DEADLINE = new AbortController().signal;

type Entry = readonly [id: Buffer, fields: readonly Buffer[] | null];

const backoff = (failures: number): number => Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(10, failures - 1));

/** Dapr writes `metadata` as a JSON object of strings; anything else is delivered without metadata. */
function readMetadata(raw: Buffer, logger: Logger): Metadata {
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return NO_METADATA;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
    return out;
  } catch (err) {
    logger.warn({ err }, "pubsub.redis: the entry's metadata field is not JSON; delivered without metadata");
    return NO_METADATA;
  }
}

function toMessage(topic: string, fields: readonly Buffer[], logger: Logger): Message {
  let data = EMPTY;
  let metadata = NO_METADATA;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as Buffer;
    const value = fields[i + 1] as Buffer;
    if (name.equals(DATA)) data = value;
    else if (name.equals(METADATA)) metadata = readMetadata(value, logger);
  }
  return { topic, data, metadata };
}

/** XREADGROUP / XCLAIM replies as Buffers: entries `[id, [field, value, ...] | null]`. */
function entriesOf(reply: unknown): readonly Entry[] {
  return Array.isArray(reply) ? (reply as Entry[]) : [];
}

/**
 * A command whose reply stays in Buffers. Sent as a Command rather than `callBuffer`, which ioredis's
 * auto-pipelining mangles (it drops the command name).
 */
function sendBuffer(client: RedisClient, name: string, args: (string | number | Buffer)[]): Promise<unknown> {
  const command = new Command(name, args, { replyEncoding: null });
  void client.sendCommand(command);
  return command.promise;
}

const isNoGroup = (err: unknown): boolean => err instanceof Error && err.message.startsWith("NOGROUP");

/** XGROUP CREATE <topic> <group> 0 MKSTREAM; an existing group is fine. */
export async function ensureGroup(client: RedisClient, topic: string, group: string): Promise<void> {
  try {
    await client.xgroup("CREATE", topic, group, "0", "MKSTREAM");
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith("BUSYGROUP"))) throw err;
  }
}

export class StreamSubscription implements ActiveSubscription {
  private readonly slots: Semaphore;
  /** IDs read or claimed here and not settled yet (queued or running): the pending scan leaves them alone. */
  private readonly held = new Set<string>();
  /** Running handlers (with their XACK): close() waits on them. */
  private readonly running = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private closing = false;
  private closed: Promise<void> | undefined;
  private reading: Promise<void> = Promise.resolve();
  private reclaiming: Promise<void> = Promise.resolve();

  constructor(
    private readonly s: StreamSettings,
    /** Shared connection: XGROUP, XACK, XPENDING, XCLAIM. */
    private readonly client: RedisClient,
    /** This subscription's own connection, blocked in XREADGROUP most of the time. */
    private readonly reader: RedisClient,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
    private readonly onClosed: (sub: StreamSubscription) => void,
  ) {
    this.slots = new Semaphore(s.concurrency);
  }

  /** Creates the group, then starts the read loop and (when enabled) the pending scan. */
  async start(): Promise<void> {
    // The PING waits for the reader's connection, so reading starts as soon as subscribe() resolves.
    await Promise.all([ensureGroup(this.client, this.s.topic, this.s.group), this.reader.ping()]);
    this.reading = this.readLoop();
    if (this.s.processingTimeout > 0 && this.s.redeliverInterval > 0) this.reclaiming = this.reclaimLoop();
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.stop.abort();
    // Unblocks the pending XREADGROUP; entries the server handed out but we never saw stay pending.
    this.reader.disconnect();
    await Promise.all([this.reading, this.reclaiming]);
    while (this.running.size > 0) await Promise.all(this.running);
    this.onClosed(this);
  }

  private async readLoop(): Promise<void> {
    const { topic, group, queueDepth, blockMs } = this.s;
    let failures = 0;
    while (!this.closing) {
      let reply: unknown;
      try {
        reply = await sendBuffer(this.reader, "XREADGROUP", ["GROUP", group, group, "COUNT", queueDepth, "BLOCK", blockMs, "STREAMS", topic, ">"]);
        if (failures > 0) this.logger.info({ topic }, "pubsub.redis: reading the stream again");
        failures = 0;
      } catch (err) {
        if (this.closing) break;
        failures++;
        if (isNoGroup(err)) {
          // The stream or group was deleted (or Redis restarted empty): create it again.
          await ensureGroup(this.client, topic, group).catch((e: unknown) => this.logger.warn({ err: e }, "pubsub.redis: cannot re-create the consumer group"));
        } else if (failures === 1) {
          this.logger.warn({ err, topic }, "pubsub.redis: reading the stream failed; retrying");
        }
        await delay(backoff(failures), this.stop.signal);
        continue;
      }
      for (const stream of entriesOf(reply)) await this.dispatchAll(entriesOf((stream as unknown as [Buffer, unknown])[1]));
    }
  }

  /** Holds the whole batch at once (it waits here for handler slots, pending), then hands each entry to a handler. */
  private async dispatchAll(entries: readonly Entry[]): Promise<void> {
    const batch: [Buffer, string, readonly Buffer[]][] = [];
    for (const [id, fields] of entries) {
      const key = id.toString("latin1");
      if (fields === null || this.held.has(key)) continue;
      this.held.add(key);
      batch.push([id, key, fields]);
    }
    for (const [id, key, fields] of batch) {
      const release = await this.slots.acquire();
      if (this.closing) {
        release(); // left pending for the next consumer
        this.held.delete(key);
        continue;
      }
      const run: Promise<void> = this.handle(id, fields).finally(() => {
        this.held.delete(key);
        this.running.delete(run);
        release();
      });
      this.running.add(run);
    }
  }

  private async handle(id: Buffer, fields: readonly Buffer[]): Promise<void> {
    const { topic, group, processingTimeout } = this.s;
    let signal = NO_DEADLINE;
    let timer: NodeJS.Timeout | undefined;
    if (processingTimeout > 0) {
      const deadline = new AbortController();
      timer = setTimeout(() => deadline.abort(new Error(`pubsub.redis: processingTimeout (${processingTimeout}ms) elapsed`)), processingTimeout);
      signal = deadline.signal;
    }
    try {
      await this.handler(toMessage(topic, fields, this.logger), signal);
    } catch (err) {
      // Tandem choice: no XACK; the entry stays pending and the scan redelivers it after processingTimeout.
      this.logger.debug({ err, topic, id: id.toString("latin1") }, "pubsub.redis: handler failed; message left pending for redelivery");
      return;
    } finally {
      clearTimeout(timer);
    }
    // Past its deadline the entry may already be reclaimed elsewhere; as in Dapr, it is not acknowledged.
    if (signal.aborted) return;
    try {
      await this.client.xack(topic, group, id);
    } catch (err) {
      this.logger.warn({ err, topic }, "pubsub.redis: XACK failed; the message will be redelivered");
    }
  }

  private async reclaimLoop(): Promise<void> {
    let failing = false;
    while (!this.closing) {
      try {
        await this.reclaim();
        failing = false;
      } catch (err) {
        // Reported once per outage (NOGROUP while the read loop re-creates the group, Redis down...).
        if (!this.closing && !failing) this.logger.warn({ err, topic: this.s.topic }, "pubsub.redis: scanning pending messages failed");
        failing = true;
      }
      await delay(this.s.redeliverInterval, this.stop.signal);
    }
  }

  /** XPENDING, keep entries idle >= processingTimeout, XCLAIM them to this consumer and handle them again. */
  private async reclaim(): Promise<void> {
    const { topic, group, queueDepth, processingTimeout } = this.s;
    const pending = (await this.client.xpending(topic, group, "-", "+", queueDepth)) as [string, string, number, number][];
    const ids: string[] = [];
    for (const [id, , idle] of pending) if (idle >= processingTimeout && !this.held.has(id)) ids.push(id);
    if (ids.length === 0 || this.closing) return;
    const claimed = entriesOf(await sendBuffer(this.client, "XCLAIM", [topic, group, group, processingTimeout, ...ids]));
    // Entries trimmed from the stream can never be handled: drop them from the pending list.
    const trimmed = claimed.filter(([, fields]) => fields === null).map(([id]) => id);
    if (trimmed.length > 0) await this.client.xack(topic, group, ...trimmed);
    await this.dispatchAll(claimed);
  }
}

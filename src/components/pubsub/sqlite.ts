/**
 * pubsub.sqlite (Tandem only): a durable broker in one SQLite file, the local default, so a
 * development setup needs no broker and loses nothing. Several sidecar processes share the file
 * (WAL mode, busy_timeout). Each subscription is a consumer of the group named by `consumerID`
 * (the app id): replicas of one app share the messages, every other app gets all of them. A new
 * group starts from the oldest message still retained, so messages published before a subscriber
 * first started are delivered too.
 *
 * Delivery: a message is leased for `visibilityTimeout` when claimed, the lease is renewed while
 * this process holds it, and deleted (acknowledged) only once the handler resolved. A rejection
 * makes it visible again after `redeliverInterval`; the leases of a process that died expire after
 * `visibilityTimeout` and go to another consumer. Wake-ups: a publish wakes the subscriptions of
 * this process on the same file at once; other processes find it at their next poll
 * (`pollInterval`), a read-only probe, so an idle poll never takes the write lock. Watching the
 * -wal file with fs.watch was measured and dropped: it cut the cross-process latency from ~27ms to
 * ~1ms (p50) but cost 2-5x the CPU per message on both sides (an inotify event per WAL frame
 * written, claims and acks included, and one small claim per message instead of batches).
 *
 * Retention: a message is deleted once every consumer group registered on its topic acknowledged
 * it (a group registered after the publish counts too, so it still gets it). Messages of a topic
 * nobody subscribed to yet, or held back by a group that never comes back, are deleted after
 * `maxRetention`. A group first registered after its topic's messages were deleted starts with
 * the messages still retained.
 */
import { resolve } from "node:path";
import Database from "better-sqlite3";
import type { ActiveSubscription, MessageHandler, PublishRequest, PubSub, PubSubFeature, SubscribeRequest } from "../../blocks/pubsub/contract.js";
import { defineSchema, lookup, MetadataError, type OptionsOf } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import type { ComponentContext } from "../shared/context.js";
import { parseConnectionString } from "../shared/sqlite/connection-string.js";
import { migrate, prepare, type Statements } from "./sqlite-schema.js";
import { SqliteSubscription } from "./sqlite-subscription.js";
import { WriteBatcher } from "./sqlite-writer.js";

export const metadataSchema = defineSchema({
  connectionString: {
    type: "string",
    default: "tandem-pubsub.db",
    aliases: ["url"],
    description: "The database file: a path or a `file:` URI (options `mode`, `cache`, `_txlock`, `_pragma`). Every sidecar sharing the file shares the broker.",
  },
  consumerID: {
    type: "string",
    default: "",
    description: "Consumer group: set by the sidecar to the app id. Subscriptions with the same one share messages; a subscription's `consumerID` metadata overrides it.",
  },
  visibilityTimeout: {
    type: "duration",
    default: 60_000,
    bareUnitMs: 1,
    aliases: ["processingTimeout"],
    description: "How long a claimed message stays leased to a consumer that stopped renewing it (it died) before another consumer gets it. A bare integer counts milliseconds.",
  },
  redeliverInterval: {
    type: "duration",
    default: 1_000,
    bareUnitMs: 1,
    description: "Delay before a message whose handler failed is delivered again. A bare integer counts milliseconds.",
  },
  pollInterval: {
    type: "duration",
    default: 50,
    bareUnitMs: 1,
    description: "How often to look for messages published by other processes (the same process wakes its subscribers at once). A bare integer counts milliseconds.",
  },
  batchSize: { type: "integer", default: 100, min: 1, aliases: ["queueDepth"], description: "Most messages a subscription holds (claims) at a time." },
  concurrency: {
    type: "integer",
    default: 100,
    min: 1,
    description: "Handlers running in parallel per subscription (100: with 10, as Redis's default, delivery fell behind publishing in bench/pubsub.ts).",
  },
  maxRetention: {
    type: "duration",
    default: 86_400_000,
    bareUnitMs: 1,
    description: "Messages older than this are deleted even if a consumer group did not acknowledge them. A bare integer counts milliseconds.",
  },
  busyTimeout: {
    type: "duration",
    default: 5_000,
    bareUnitMs: 1,
    description: "How long a write waits for the lock another process holds (`PRAGMA busy_timeout`). A bare integer counts milliseconds.",
  },
});
export type SqlitePubSubOptions = OptionsOf<typeof metadataSchema>;

const FEATURES: readonly PubSubFeature[] = [];
const SWEEP_INTERVAL_MS = 1_000;

/** Subscriptions of this process by database file and topic: a publish wakes them without waiting for a poll. */
const localSubscriptions = new Map<string, Map<string, Set<SqliteSubscription>>>();

function hasKeys(o: Readonly<Record<string, string>>): boolean {
  for (const _ in o) return true;
  return false;
}

export class SqlitePubSub implements PubSub {
  private readonly db: Database.Database;
  private readonly stmts: Statements;
  private readonly writer: WriteBatcher;
  private readonly fileKey: string;
  private readonly subscriptions = new Set<SqliteSubscription>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly sweepTx: Database.Transaction<(now: number) => void>;
  private closed = false;

  constructor(
    private readonly options: SqlitePubSubOptions,
    private readonly logger: Logger,
  ) {
    const conn = parseConnectionString(options.connectionString, "pubsub.sqlite");
    if (conn.readonly) throw new MetadataError("connectionString", "pubsub.sqlite: the database cannot be read-only");
    // An in-memory database belongs to its connection: nothing to share with other instances.
    this.fileKey = conn.memory ? `:memory:${Math.random()}` : resolve(conn.filename);
    const busy = Math.max(0, Math.floor(options.busyTimeout));
    this.db = new Database(conn.filename, { fileMustExist: conn.fileMustExist, timeout: busy });
    try {
      this.db.pragma(`busy_timeout = ${busy}`);
      this.db.pragma(conn.memory ? "journal_mode = MEMORY" : "journal_mode = WAL");
      // In WAL mode NORMAL syncs at checkpoints only: a committed publish survives a kill -9 of any
      // process (the OS holds the written pages), though not a power cut. That is the promise here.
      this.db.pragma("synchronous = NORMAL");
      for (const p of conn.pragmas) this.db.pragma(p);
      migrate(this.db);
      this.stmts = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.writer = new WriteBatcher(this.db, this.stmts, (topics) => this.wakeLocal(topics), logger);
    this.sweepTx = this.db.transaction((now: number) => {
      for (const g of this.stmts.groupLows.all()) this.stmts.deleteAcked.run(g.topic, g.low, g.topic);
      this.stmts.deleteOlderThan.run(now - options.maxRetention);
    });
    this.sweeper = setInterval(() => this.sweep(), Math.min(SWEEP_INTERVAL_MS, Math.max(10, options.maxRetention)));
    this.sweeper.unref();
  }

  features(): readonly PubSubFeature[] {
    return FEATURES;
  }

  publish(req: PublishRequest): Promise<void> {
    if (this.closed) return Promise.reject(new Error("pubsub.sqlite: the component is closed"));
    return this.writer.publish(req.topic, req.data, req.contentType, hasKeys(req.metadata) ? JSON.stringify(req.metadata) : null);
  }

  subscribe(req: SubscribeRequest, handler: MessageHandler): Promise<ActiveSubscription> {
    try {
      if (this.closed) throw new Error("pubsub.sqlite: the component is closed");
      const group = lookup(req.metadata, ["consumerID"]) || this.options.consumerID;
      if (group === "") throw new MetadataError("consumerID", "pubsub.sqlite: a subscription needs a consumerID (the sidecar sets it to the app id)");
      const link = { db: this.db, stmts: this.stmts, writer: this.writer, logger: this.logger };
      const options = { ...this.options, concurrency: Math.max(this.options.concurrency, req.minConcurrency ?? 0) };
      const sub = new SqliteSubscription(req.topic, group, options, handler, link, (s) => this.forget(s));
      this.subscriptions.add(sub);
      let byTopic = localSubscriptions.get(this.fileKey);
      if (!byTopic) localSubscriptions.set(this.fileKey, (byTopic = new Map<string, Set<SqliteSubscription>>()));
      let subs = byTopic.get(req.topic);
      if (!subs) byTopic.set(req.topic, (subs = new Set<SqliteSubscription>()));
      subs.add(sub);
      return Promise.resolve(sub);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Delete messages every group acknowledged and those older than maxRetention. Every process on
   * the file sweeps; a sweep with nothing to delete is a few index lookups.
   */
  sweep(now = Date.now()): void {
    if (this.closed) return;
    try {
      this.sweepTx.immediate(now);
    } catch (err) {
      this.logger.warn({ err }, "pubsub.sqlite: retention sweep failed; retrying later");
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.writer.flushed();
    if (this.db.open) this.db.close();
  }

  private forget(s: SqliteSubscription): void {
    this.subscriptions.delete(s);
    const byTopic = localSubscriptions.get(this.fileKey);
    const subs = byTopic?.get(s.topic);
    if (!byTopic || !subs) return;
    subs.delete(s);
    if (subs.size === 0) byTopic.delete(s.topic);
    if (byTopic.size === 0) localSubscriptions.delete(this.fileKey);
  }

  private wakeLocal(topics: ReadonlySet<string>): void {
    const byTopic = localSubscriptions.get(this.fileKey);
    if (!byTopic) return;
    for (const topic of topics) for (const s of byTopic.get(topic) ?? []) s.wake();
  }
}

export function create(options: SqlitePubSubOptions, ctx: ComponentContext): Promise<PubSub> {
  try {
    return Promise.resolve(new SqlitePubSub(options, ctx.logger.child({ component: ctx.name, type: "pubsub.sqlite" })));
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

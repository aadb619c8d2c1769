/**
 * One pubsub.sqlite subscription: a consumer in group (topic, consumerID). It claims up to
 * `batchSize` messages per transaction (leases that expired or were nacked first, then the next
 * ones after the group's cursor), runs up to `concurrency` handlers, acknowledges through the
 * write batcher, and renews the leases it holds so only a consumer that died loses them.
 */
import type Database from "better-sqlite3";
import type { ActiveSubscription, Message, MessageHandler } from "../../blocks/pubsub/contract.js";
import { deferred, type Deferred } from "../../kit/deferred.js";
import type { Logger } from "../../observability/logger.js";
import type { MessageRow, Statements } from "./sqlite-schema.js";
import type { AckList, WriteBatcher } from "./sqlite-writer.js";

export interface ClaimSettings {
  readonly visibilityTimeout: number;
  readonly redeliverInterval: number;
  readonly pollInterval: number;
  readonly batchSize: number;
  readonly concurrency: number;
}

export interface SubscriptionLink {
  readonly db: Database.Database;
  readonly stmts: Statements;
  readonly writer: WriteBatcher;
  readonly logger: Logger;
}

interface Claimed {
  readonly seq: number;
  readonly attempts: number;
  readonly message: Message;
}

const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

function toMessage(topic: string, row: MessageRow): Message {
  const metadata = row.metadata === null ? NO_METADATA : (JSON.parse(row.metadata) as Record<string, string>);
  return row.content_type === null ? { topic, data: row.data, metadata } : { topic, data: row.data, contentType: row.content_type, metadata };
}

export class SqliteSubscription implements ActiveSubscription {
  /** Claimed and not yet handed to the handler; `head` is the next one. */
  private queue: Claimed[] = [];
  private head = 0;
  /** Every lease this consumer holds (queued or running): seq -> attempts. */
  private readonly held = new Map<number, number>();
  private running = 0;
  private closing: Deferred<void> | undefined;
  private closed: Promise<void> | undefined;
  private pumpScheduled = false;
  private readonly poller: NodeJS.Timeout;
  private readonly renewer: NodeJS.Timeout;
  private readonly signal = new AbortController().signal;
  private readonly acks: AckList;
  private readonly claimTx: Database.Transaction<(limit: number) => Claimed[]>;
  private readonly renewTx: Database.Transaction<(at: number) => void>;
  private readonly releaseTx: Database.Transaction<(items: readonly Claimed[]) => void>;

  constructor(
    readonly topic: string,
    readonly group: string,
    private readonly settings: ClaimSettings,
    private readonly handler: MessageHandler,
    private readonly link: SubscriptionLink,
    private readonly onClose: (s: SqliteSubscription) => void,
  ) {
    const { db, stmts } = link;
    this.acks = { topic, group, seqs: [] };
    db.transaction(() => stmts.ensureGroup.run(topic, group, Date.now())).immediate();

    this.claimTx = db.transaction((limit: number) => {
      const now = Date.now();
      const until = now + settings.visibilityTimeout;
      const out: Claimed[] = [];
      const orphans = stmts.orphans.all(topic, group, now, limit);
      if (orphans.length > 0) stmts.ack.run(topic, group, JSON.stringify(orphans.map((o) => o.seq)));
      for (const row of stmts.expired.all(topic, group, now, limit)) {
        stmts.relLease.run(until, topic, group, row.seq);
        out.push({ seq: row.seq, attempts: row.attempts + 1, message: toMessage(topic, row) });
      }
      if (out.length < limit) {
        let cursor = stmts.cursor.get(topic, group)?.cursor;
        if (cursor === undefined) {
          stmts.ensureGroup.run(topic, group, now);
          cursor = 0;
        }
        const n = limit - out.length;
        if (stmts.leaseFresh.run(topic, group, until, topic, cursor, n).changes > 0) {
          const rows = stmts.fresh.all(topic, cursor, n);
          for (const row of rows) out.push({ seq: row.seq, attempts: 1, message: toMessage(topic, row) });
          stmts.setCursor.run((rows[rows.length - 1] as MessageRow).seq, topic, group);
        }
      }
      return out;
    });
    this.renewTx = db.transaction((at: number) => {
      for (const [seq, attempts] of this.held) stmts.setVisible.run(at, topic, group, seq, attempts);
    });
    this.releaseTx = db.transaction((items: readonly Claimed[]) => {
      const at = Date.now();
      for (const c of items) stmts.setVisible.run(at, topic, group, c.seq, c.attempts);
    });

    // Not unref'd: a live subscription keeps the process running, as a broker connection would.
    this.poller = setInterval(() => this.pump(), settings.pollInterval);
    // Renew well before expiry so a live but slow handler keeps its messages.
    this.renewer = setInterval(() => this.renew(), Math.max(10, Math.floor(settings.visibilityTimeout / 3)));
    this.renewer.unref();
    this.wake();
  }

  /** A message may be waiting: pump on the next turn (coalesces many wake-ups into one claim). */
  wake(): void {
    if (this.pumpScheduled || this.closing) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  close(): Promise<void> {
    return (this.closed ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closing = deferred();
    clearInterval(this.poller);
    clearInterval(this.renewer);
    this.onClose(this);
    if (this.running > 0) await this.closing.promise;
    await this.link.writer.flushed();
    // Leases of messages never handed to the handler are released at once for another consumer.
    const unstarted = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.held.clear();
    if (unstarted.length > 0) {
      try {
        this.releaseTx.immediate(unstarted);
      } catch (err) {
        this.link.logger.warn({ err, topic: this.topic }, "pubsub.sqlite: could not release leases; they expire after visibilityTimeout");
      }
    }
  }

  private pump(): void {
    if (this.closing) return;
    this.dispatch();
    const queued = this.queue.length - this.head;
    const room = this.settings.batchSize - this.held.size;
    if (queued >= this.settings.concurrency || room <= 0) return;
    let claimed: Claimed[];
    try {
      if (this.link.stmts.probe.get(this.topic, this.group, Date.now(), this.topic, this.topic, this.group)?.ready !== 1) return;
      claimed = this.claimTx.immediate(room);
    } catch (err) {
      this.link.logger.warn({ err, topic: this.topic }, "pubsub.sqlite: claim failed; retrying at the next poll");
      return;
    }
    if (claimed.length === 0) return;
    if (this.head > 0) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    for (const c of claimed) {
      this.held.set(c.seq, c.attempts);
      this.queue.push(c);
    }
    this.dispatch();
  }

  private dispatch(): void {
    while (this.running < this.settings.concurrency && this.head < this.queue.length) {
      const c = this.queue[this.head++] as Claimed;
      this.running++;
      void this.run(c);
    }
  }

  private async run(c: Claimed): Promise<void> {
    const { writer } = this.link;
    try {
      await this.handler(c.message, this.signal);
      writer.ack(this.acks, c.seq);
    } catch {
      writer.nack(this.topic, this.group, c.seq, c.attempts, Date.now() + this.settings.redeliverInterval);
    }
    this.held.delete(c.seq);
    this.running--;
    if (this.closing) {
      if (this.running === 0) this.closing.resolve();
    } else {
      this.dispatch();
      if (this.queue.length - this.head < this.settings.concurrency) this.wake();
    }
  }

  private renew(): void {
    if (this.held.size === 0 || this.closing) return;
    try {
      this.renewTx.immediate(Date.now() + this.settings.visibilityTimeout);
    } catch (err) {
      this.link.logger.warn({ err, topic: this.topic }, "pubsub.sqlite: could not renew leases");
    }
  }
}

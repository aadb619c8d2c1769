/**
 * Group commit for pubsub.sqlite: publishes, acks and nacks queued during one turn of the event
 * loop are written in one `BEGIN IMMEDIATE` transaction, flushed from `setImmediate` so every
 * request read in the same poll phase joins the batch. A publish resolves once that transaction
 * committed. One commit per batch instead of one per message is what keeps the write lock, shared
 * with the other processes on the file, free most of the time.
 */
import type Database from "better-sqlite3";
import { PublishError } from "../../blocks/pubsub/contract.js";
import { deferred, type Deferred } from "../../kit/deferred.js";
import type { Logger } from "../../observability/logger.js";
import type { Statements } from "./sqlite-schema.js";

interface PendingPublish {
  readonly topic: string;
  readonly data: Buffer;
  readonly contentType: string;
  readonly metadata: string | null;
}

/** The acks of one consumer group on one topic waiting for the next commit (one DELETE for all). */
export interface AckList {
  readonly topic: string;
  readonly group: string;
  seqs: number[];
}

interface PendingNack {
  readonly topic: string;
  readonly group: string;
  readonly seq: number;
  readonly attempts: number;
  readonly at: number;
}

export class WriteBatcher {
  private publishes: PendingPublish[] = [];
  private acks = new Set<AckList>();
  private nacks: PendingNack[] = [];
  /** Settles when the batch being collected has been written: resolved on commit, rejected on failure. */
  private batch: Deferred<void> | undefined;
  private readonly write: Database.Transaction<(p: PendingPublish[], a: ReadonlySet<AckList>, n: PendingNack[]) => void>;

  constructor(
    db: Database.Database,
    stmts: Statements,
    private readonly onPublished: (topics: ReadonlySet<string>) => void,
    private readonly logger: Logger,
  ) {
    this.write = db.transaction((publishes: PendingPublish[], acks: ReadonlySet<AckList>, nacks: PendingNack[]) => {
      const now = Date.now();
      for (const p of publishes) stmts.insertMessage.run(p.topic, p.data, p.contentType, p.metadata, now);
      for (const a of acks) {
        stmts.ack.run(a.topic, a.group, JSON.stringify(a.seqs));
        a.seqs = [];
      }
      for (const n of nacks) stmts.setVisible.run(n.at, n.topic, n.group, n.seq, n.attempts);
    });
  }

  publish(topic: string, data: Buffer, contentType: string, metadata: string | null): Promise<void> {
    this.publishes.push({ topic, data, contentType, metadata });
    return this.current().promise;
  }

  ack(list: AckList, seq: number): void {
    list.seqs.push(seq);
    this.acks.add(list);
    this.current();
  }

  /** Make the lease visible again at `at`, unless it was re-leased since (attempts moved on). */
  nack(topic: string, group: string, seq: number, attempts: number, at: number): void {
    this.nacks.push({ topic, group, seq, attempts, at });
    this.current();
  }

  /** Resolves once everything queued so far was written (or failed and was reported). */
  flushed(): Promise<void> {
    return this.batch === undefined ? Promise.resolve() : this.batch.promise.catch(() => undefined);
  }

  private current(): Deferred<void> {
    if (this.batch === undefined) {
      this.batch = deferred();
      // Marks a failure as handled when only acks wait on it; publishers still see the rejection.
      void this.batch.promise.catch(() => undefined);
      setImmediate(() => this.flush());
    }
    return this.batch;
  }

  private flush(): void {
    const batch = this.batch;
    if (batch === undefined) return;
    const { publishes, acks, nacks } = this;
    this.batch = undefined;
    this.publishes = [];
    this.acks = new Set();
    this.nacks = [];
    try {
      this.write.immediate(publishes, acks, nacks);
    } catch (err) {
      // Acks and nacks not written leave their leases in place: those messages come back after
      // visibilityTimeout, so nothing is lost, only delivered again.
      let acked = 0;
      for (const a of acks) {
        acked += a.seqs.length;
        a.seqs = [];
      }
      if (acked + nacks.length > 0) this.logger.error({ err, acks: acked, nacks: nacks.length }, "pubsub.sqlite: could not record acknowledgements");
      batch.reject(new PublishError(`pubsub.sqlite: could not store the message: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      return;
    }
    batch.resolve();
    if (publishes.length > 0) {
      const topics = new Set<string>();
      for (const p of publishes) topics.add(p.topic);
      this.onPublished(topics);
    }
  }
}

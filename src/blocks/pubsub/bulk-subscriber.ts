/**
 * Bulk delivery (app-callback.md §5.3): messages are collected up to `maxMessagesCount` or
 * `maxAwaitDurationMs`, decoded and routed one by one, and sent as one request per route path.
 * Per-entry statuses drive each message: SUCCESS acks, DROP dead-letters, RETRY (or a missing
 * status) retries the entry under the inbound policy, then dead-letters or leaves it to the broker.
 */
import { randomUUID } from "node:crypto";
import { sleep, withTimeout } from "../../kit/deferred.js";
import { retryDelay } from "../../resiliency/retry.js";
import { isExpired } from "./cloudevent.js";
import type { Message, MessageHandler } from "./contract.js";
import { MessageRejected, type DecodedMessage, type Subscriber } from "./subscriber.js";
import type { BulkSubscribeOptions, BulkTopicEvent, DeliveryStatus } from "./types.js";

interface Pending {
  readonly message: Message;
  readonly signal: AbortSignal;
  resolve(): void;
  reject(err: Error): void;
}

interface Routed {
  readonly pending: Pending;
  readonly decoded: DecodedMessage;
  readonly entryId: string;
}

export class BulkSubscriber {
  private batch: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly single: Subscriber,
    private readonly options: BulkSubscribeOptions,
  ) {}

  readonly handle: MessageHandler = (message, signal) =>
    new Promise<void>((resolve, reject) => {
      this.batch.push({ message, signal: AbortSignal.any([signal, this.single.deps.stopSignal]), resolve, reject });
      if (this.batch.length >= this.options.maxMessagesCount) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxAwaitDurationMs);
    });

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    this.batch = [];
    if (batch.length > 0) void this.process(batch);
  }

  private settle(p: Pending, work: Promise<void>): Promise<void> {
    return work.then(
      () => p.resolve(),
      (err: unknown) => p.reject(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private async process(batch: readonly Pending[]): Promise<void> {
    const byPath = new Map<string, Routed[]>();
    const done: Promise<void>[] = [];
    for (const p of batch) {
      const decoded = this.single.decode(p.message);
      if (decoded === undefined) {
        done.push(this.settle(p, this.single.deadLetterOrReject(p.message, "the message is not a CloudEvent")));
        continue;
      }
      if (isExpired(decoded.event, Date.now())) {
        done.push(this.settle(p, this.single.deadLetter(p.message)));
        continue;
      }
      const path = this.single.route(decoded.event);
      if (path === undefined) {
        done.push(this.settle(p, this.single.deadLetter(p.message)));
        continue;
      }
      if (typeof path !== "string") {
        done.push(this.settle(p, this.single.deadLetterOrReject(p.message, path.message)));
        continue;
      }
      const list = byPath.get(path) ?? [];
      list.push({ pending: p, decoded, entryId: randomUUID() });
      byPath.set(path, list);
    }
    for (const [path, entries] of byPath) done.push(this.deliver(path, entries));
    await Promise.all(done);
  }

  /** Delivers the entries of one path, retrying those not acknowledged. */
  private async deliver(path: string, entries: readonly Routed[]): Promise<void> {
    const { ps, sink, policy, rawPayload } = this.single.deps;
    let remaining = entries;
    const signal = remaining[0]?.pending.signal ?? new AbortController().signal;
    for (let retry = 1; remaining.length > 0; retry++) {
      const first = remaining[0] as Routed;
      const request: BulkTopicEvent = {
        pubsubname: ps.name,
        topic: first.decoded.topic,
        path,
        metadata: {},
        entries: remaining.map((r) => ({ entryId: r.entryId, event: r.decoded.event, body: r.decoded.body, rawPayload, metadata: r.pending.message.metadata })),
      };
      let statuses: ReadonlyMap<string, DeliveryStatus>;
      try {
        statuses = await withTimeout(sink.deliverBulk(request, signal), policy.timeoutMs);
      } catch {
        statuses = new Map();
      }
      const again: Routed[] = [];
      const settled: Promise<void>[] = [];
      for (const r of remaining) {
        const status = statuses.get(r.entryId) ?? "RETRY";
        if (status === "SUCCESS") r.pending.resolve();
        else if (status === "DROP") settled.push(this.settle(r.pending, this.single.deadLetter(r.pending.message)));
        else again.push(r);
      }
      await Promise.all(settled);
      remaining = again;
      if (remaining.length === 0) return;
      const delay = signal.aborted ? undefined : retryDelay(this.single.retry, retry);
      if (delay === undefined) {
        await Promise.all(remaining.map((r) => this.settle(r.pending, this.single.deadLetterOrReject(r.pending.message, `bulk delivery to /${path} failed`))));
        return;
      }
      try {
        await sleep(delay, signal);
      } catch {
        for (const r of remaining) r.pending.reject(new MessageRejected("shutting down"));
        return;
      }
    }
  }
}

/**
 * state.in-memory: process-local state with ETags (random UUID per write), TTL and atomic
 * transactions. Lost when the sidecar stops, as Dapr's.
 */
import { randomUUID } from "node:crypto";
import {
  ETagMismatchError,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  type ScanPage,
  type ScanRequest,
  type SetRequest,
  type StateFeature,
  type StateStore,
  type TransactionRequest,
} from "../../blocks/state/contract.js";
import { defineSchema, type OptionsOf } from "../../kit/metadata-schema.js";
import type { ComponentContext } from "../shared/context.js";

export const metadataSchema = defineSchema({
  cleanupInterval: {
    type: "duration",
    default: 10_000,
    description: "How often expired entries are swept from memory (they are never returned once expired). `<=0` disables the sweep.",
  },
});
export type InMemoryOptions = OptionsOf<typeof metadataSchema>;

interface Entry {
  data: Buffer;
  etag: string;
  /** Epoch ms; undefined = no expiry. */
  expiresAt: number | undefined;
}

const FEATURES: readonly StateFeature[] = ["ETAG", "TRANSACTIONAL", "TTL"];

export class InMemoryStateStore implements StateStore {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(options: InMemoryOptions) {
    if (options.cleanupInterval > 0) {
      this.sweeper = setInterval(() => this.sweep(), options.cleanupInterval);
      this.sweeper.unref();
    }
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  get(req: GetRequest): Promise<GetResponse | undefined> {
    const e = this.live(req.key);
    if (!e) return Promise.resolve(undefined);
    return Promise.resolve(
      e.expiresAt === undefined
        ? { data: e.data, etag: e.etag }
        : { data: e.data, etag: e.etag, metadata: { ttlExpireTime: new Date(e.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z") } },
    );
  }

  set(req: SetRequest): Promise<void> {
    this.check(req.key, req.etag, req.options.concurrency === "first-write");
    this.write(req);
    return Promise.resolve();
  }

  delete(req: DeleteRequest): Promise<void> {
    this.checkDelete(req.key, req.etag);
    this.entries.delete(req.key);
    return Promise.resolve();
  }

  multi(req: TransactionRequest): Promise<void> {
    // Validate every operation against the state as it would be after the earlier ones, then apply.
    const staged = new Map<string, Entry | undefined>();
    const current = (key: string) => (staged.has(key) ? staged.get(key) : this.live(key));
    for (const op of req.operations) {
      const cur = current(op.key);
      if (op.etag !== undefined && (!cur || cur.etag !== op.etag)) throw new ETagMismatchError();
      if (op.operation === "upsert") {
        if (op.etag === undefined && op.options.concurrency === "first-write" && cur) throw new ETagMismatchError();
        staged.set(op.key, this.entryFor(op));
      } else {
        staged.set(op.key, undefined);
      }
    }
    for (const [key, entry] of staged) {
      if (entry) this.entries.set(key, entry);
      else this.entries.delete(key);
    }
    return Promise.resolve();
  }

  scan(req: ScanRequest): Promise<ScanPage> {
    const keys: string[] = [];
    for (const [key, e] of this.entries) {
      if (!key.startsWith(req.prefix) || (req.after !== undefined && key <= req.after) || expired(e)) continue;
      keys.push(key);
    }
    keys.sort();
    const page = keys.slice(0, req.limit);
    return Promise.resolve({
      entries: page.map((key) => {
        const e = this.entries.get(key) as Entry;
        return { key, data: e.data, etag: e.etag };
      }),
      more: keys.length > req.limit,
    });
  }

  close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.entries.clear();
    return Promise.resolve();
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && expired(e)) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private check(key: string, etag: string | undefined, firstWrite: boolean): void {
    const cur = this.live(key);
    if (etag !== undefined) {
      if (!cur || cur.etag !== etag) throw new ETagMismatchError();
    } else if (firstWrite && cur) {
      throw new ETagMismatchError();
    }
  }

  private checkDelete(key: string, etag: string | undefined): void {
    if (etag === undefined) return;
    const cur = this.live(key);
    if (!cur || cur.etag !== etag) throw new ETagMismatchError();
  }

  private write(req: SetRequest): void {
    this.entries.set(req.key, this.entryFor(req));
  }

  /** As the SQL stores do, a write without a TTL clears any earlier expiry. */
  private entryFor(req: SetRequest): Entry {
    const ttl = req.ttlSeconds;
    return { data: req.value, etag: randomUUID(), expiresAt: ttl !== undefined && ttl > 0 ? Date.now() + ttl * 1000 : undefined };
  }

  private sweep(): void {
    for (const [key, e] of this.entries) if (expired(e)) this.entries.delete(key);
  }
}

function expired(e: Entry): boolean {
  return e.expiresAt !== undefined && e.expiresAt <= Date.now();
}

export function create(options: InMemoryOptions, _ctx: ComponentContext): Promise<StateStore> {
  return Promise.resolve(new InMemoryStateStore(options));
}

/**
 * The state building block: Dapr's state semantics written once for HTTP and gRPC — key prefixing,
 * ETag and option rules, TTL parsing, bulk fallbacks, transactions, query and the list-keys
 * extension, and the mapping of component failures onto Dapr's error catalogue.
 */
import { commonErrors, stateErrors, type StateFailureKind, TandemError } from "../../errors/index.js";
import {
  ETagInvalidError,
  ETagMismatchError,
  StateInputError,
  type BulkGetItem,
  type Concurrency,
  type Consistency,
  type GetResponse,
  type Metadata,
  type QueryResponse,
  type ScanPage,
  type ScanRequest,
  type SetRequest,
  type StateFeature,
  type StateOptions,
  type StateStore,
  type TransactionOperation,
} from "./contract.js";
import { KEY_SEPARATOR, type KeyPrefixStrategy, prefixKey, storedPrefix, unprefixKey } from "./key-prefix.js";
import { matches, parseQuery, QueryParseError, sortComparator } from "./query.js";

export interface RegisteredStore {
  readonly name: string;
  readonly store: StateStore;
  readonly keyPrefix: KeyPrefixStrategy;
  readonly actorStateStore: boolean;
  /** Transactional outbox settings from the component's metadata (semantics.md §7). */
  readonly outbox?: OutboxSettings;
}

export interface OutboxSettings {
  readonly publishPubsub: string;
  readonly publishTopic: string;
  /** The pubsub carrying the internal topic (default: publishPubsub). */
  readonly internalPubsub: string;
  readonly discardWhenMissingState: boolean;
}

/**
 * Rewrites a transaction on an outbox store before it commits (publishes the internal messages and
 * returns the operations to commit, markers included). Set by the runtime; implemented by the outbox.
 */
export type OutboxInterceptor = (store: string, settings: OutboxSettings, operations: readonly TransactionItem[], metadata: Metadata) => Promise<readonly TransactionItem[]>;

/** A state item as the API layers hand it over: the value already encoded to bytes. */
export interface SaveItem {
  readonly key: string;
  readonly value: Buffer;
  readonly isBinary: boolean;
  readonly etag?: string;
  readonly metadata: Metadata;
  readonly options: { readonly concurrency?: string; readonly consistency?: string };
}

export type TransactionItem =
  | { readonly operation: "upsert"; readonly item: SaveItem }
  | { readonly operation: "delete"; readonly item: DeleteItem }
  | { readonly operation: string; readonly item: unknown };

export interface DeleteItem {
  readonly key: string;
  readonly etag?: string;
  readonly metadata: Metadata;
  readonly options: { readonly concurrency?: string; readonly consistency?: string };
}

export interface BulkGetResult {
  readonly key: string;
  readonly data?: Buffer;
  readonly etag?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly error?: string;
}

export interface ListKeysResult {
  readonly keys: string[];
  readonly token?: string;
}

export interface StoreDescription {
  readonly name: string;
  readonly capabilities: readonly string[];
}

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 10_000;
const SCAN_PAGE = 500;

export class StateBlock {
  private readonly stores = new Map<string, RegisteredStore>();

  constructor(private readonly appId: string) {}

  register(entry: RegisteredStore): void {
    this.stores.set(entry.name, entry);
  }

  unregister(name: string): RegisteredStore | undefined {
    const entry = this.stores.get(name);
    this.stores.delete(name);
    return entry;
  }

  /** Capabilities as the metadata API lists them: what the component claims plus what the block adds. */
  describe(): StoreDescription[] {
    return [...this.stores.values()].map((s) => ({ name: s.name, capabilities: capabilities(s) }));
  }

  features(storeName: string): readonly string[] {
    return capabilities(this.lookup(storeName));
  }

  async get(req: { storeName: string; key: string; consistency?: string; metadata: Metadata }): Promise<GetResponse | undefined> {
    const s = this.lookup(req.storeName);
    const key = this.storedKey(s, req.key);
    try {
      const consistency = parseConsistency(req.consistency);
      return await s.store.get({ key, metadata: req.metadata, ...(consistency ? { consistency } : {}) });
    } catch (err) {
      throw err instanceof TandemError ? err : stateErrors.get(req.key, s.name, err);
    }
  }

  async bulkGet(req: { storeName: string; keys: readonly string[]; parallelism?: number; metadata: Metadata }): Promise<BulkGetResult[]> {
    const s = this.lookup(req.storeName);
    if (req.keys.length === 0) return [];
    const stored = req.keys.map((k) => this.storedKey(s, k));
    const reqs = stored.map((key) => ({ key, metadata: req.metadata }));
    let items: BulkGetItem[];
    if (s.store.bulkGet) {
      try {
        items = await s.store.bulkGet(reqs);
      } catch (err) {
        throw stateErrors.bulkGet(s.name, err);
      }
    } else {
      items = await mapLimited(reqs, req.parallelism ?? 0, async (r): Promise<BulkGetItem> => {
        try {
          const got = await s.store.get(r);
          return got === undefined ? { key: r.key } : { key: r.key, ...got };
        } catch (err) {
          return { key: r.key, error: err instanceof Error ? err.message : String(err) };
        }
      });
    }
    return items.map((i) => ({ ...i, key: unprefixKey(i.key) }));
  }

  /** Save one or many items (many: not atomic, as Dapr's BulkSet). */
  async save(req: { storeName: string; items: readonly SaveItem[] }): Promise<void> {
    const s = this.lookup(req.storeName);
    if (req.items.length === 0) return;
    const sets = req.items.map((i) => this.toSetRequest(s, i, (cause, kind) => stateErrors.save(s.name, cause, kind)));
    try {
      if (sets.length === 1) await s.store.set(sets[0] as SetRequest);
      else if (s.store.bulkSet) await s.store.bulkSet(sets);
      else for (const set of sets) await s.store.set(set);
    } catch (err) {
      throw err instanceof TandemError ? err : stateErrors.save(s.name, err, failureKind(err));
    }
  }

  async delete(req: { storeName: string } & DeleteItem): Promise<void> {
    const s = this.lookup(req.storeName);
    const key = this.storedKey(s, req.key);
    try {
      const options = parseOptions(req.options);
      await s.store.delete({ key, options, metadata: req.metadata, ...(req.etag ? { etag: req.etag } : {}) });
    } catch (err) {
      throw err instanceof TandemError ? err : stateErrors.delete(req.key, err, failureKind(err));
    }
  }

  /** Fails fast, before the body is read, as daprd does for stores without transactions. */
  assertTransactional(storeName: string): void {
    const s = this.lookup(storeName);
    if (!isTransactional(s)) throw stateErrors.transactionsNotSupported(s.name);
  }

  /** Set by the runtime when the outbox is available. */
  outboxInterceptor: OutboxInterceptor | undefined;

  async transaction(req: { storeName: string; operations: readonly TransactionItem[]; metadata: Metadata }): Promise<void> {
    const s = this.lookup(req.storeName);
    if (!isTransactional(s) || !s.store.multi) throw stateErrors.transactionsNotSupported(s.name);
    if (req.operations.length === 0) return;
    if (s.outbox && this.outboxInterceptor) {
      const operations = await this.outboxInterceptor(s.name, s.outbox, req.operations, req.metadata);
      return this.commit(s, operations, req.metadata);
    }
    return this.commit(s, req.operations, req.metadata);
  }

  private async commit(s: RegisteredStore, operations: readonly TransactionItem[], metadata: Metadata): Promise<void> {
    const req = { operations, metadata };
    const max = s.store.maxOperationsPerTransaction?.();
    if (max !== undefined && req.operations.length > max) throw stateErrors.tooManyTransactionalOps(s.name, req.operations.length, max);
    const ops: TransactionOperation[] = req.operations.map((op) => {
      if (op.operation === "upsert") {
        return { operation: "upsert", ...this.toSetRequest(s, op.item as SaveItem, (cause) => stateErrors.transaction(cause)) };
      }
      if (op.operation === "delete") {
        const d = op.item as DeleteItem;
        const key = this.storedKey(s, d.key);
        let options: StateOptions;
        try {
          options = parseOptions(d.options);
        } catch (err) {
          throw stateErrors.transaction(err);
        }
        return { operation: "delete", key, options, metadata: d.metadata, ...(d.etag ? { etag: d.etag } : {}) };
      }
      throw stateErrors.operationNotSupported(op.operation);
    });
    if (!s.store.multi) throw stateErrors.transactionsNotSupported(s.name);
    try {
      await s.store.multi({ operations: ops, metadata: req.metadata });
    } catch (err) {
      throw err instanceof TandemError ? err : stateErrors.transaction(err);
    }
  }

  /** The alpha1 query API on every store: native when the component queries, else evaluated over scan. */
  async query(req: { storeName: string; query: unknown; metadata: Metadata }): Promise<QueryResponse> {
    const s = this.lookup(req.storeName, true);
    if (!s.store.query && !s.store.scan) throw stateErrors.queryUnsupported(s.name);
    let parsed;
    try {
      parsed = parseQuery(req.query);
    } catch (err) {
      if (err instanceof QueryParseError) throw stateErrors.queryFailed(s.name, err.message, err);
      throw err;
    }
    const keyPrefix = storedPrefix(s.keyPrefix);
    const scan = s.store.scan?.bind(s.store);
    let resp: QueryResponse;
    try {
      if (s.store.query) resp = await s.store.query({ ...parsed, keyPrefix, metadata: req.metadata });
      else if (scan) resp = await queryByScan(scan, keyPrefix, parsed);
      else throw stateErrors.queryUnsupported(s.name);
    } catch (err) {
      if (err instanceof TandemError) throw err;
      throw stateErrors.queryFailed(s.name, err instanceof Error ? err.message : String(err), err);
    }
    return { ...resp, results: resp.results.map((r) => ({ ...r, key: unprefixKey(r.key) })) };
  }

  /** Tandem extension: list the app's keys with an optional prefix, in pages. */
  async listKeys(req: { storeName: string; prefix?: string; limit?: number; token?: string }): Promise<ListKeysResult> {
    const s = this.lookup(req.storeName);
    if (!s.store.scan) throw stateErrors.listKeysUnsupported(s.name);
    const limit = req.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw commonErrors.malformedRequest(`limit must be an integer between 1 and ${MAX_LIST_LIMIT}`);
    }
    const userPrefix = req.prefix ?? "";
    if (userPrefix.includes(KEY_SEPARATOR)) throw stateErrors.illegalKey(s.name, userPrefix);
    const prefix = storedPrefix(s.keyPrefix) + userPrefix;
    let after: string | undefined;
    if (req.token !== undefined && req.token !== "") {
      after = decodeToken(req.token);
      if (after === undefined || !after.startsWith(prefix)) throw commonErrors.malformedRequest("invalid token: pass the token of the previous page with the same prefix");
    }
    try {
      const page = await s.store.scan({ prefix, limit, keysOnly: true, ...(after !== undefined ? { after } : {}) });
      const keys = page.entries.map((e) => e.key.slice(storedPrefix(s.keyPrefix).length));
      const last = page.entries[page.entries.length - 1];
      return page.more && last ? { keys, token: encodeToken(last.key) } : { keys };
    } catch (err) {
      throw stateErrors.listKeysFailed(s.name, err);
    }
  }

  private toSetRequest(s: RegisteredStore, item: SaveItem, fail: (cause: unknown, kind: StateFailureKind) => TandemError): SetRequest {
    const key = this.storedKey(s, item.key);
    try {
      const options = parseOptions(item.options);
      const ttl = parseTtl(item.metadata);
      return {
        key,
        value: item.value,
        isBinary: item.isBinary,
        options,
        metadata: item.metadata,
        ...(item.etag ? { etag: item.etag } : {}),
        ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
      };
    } catch (err) {
      throw fail(err, "invalid-input");
    }
  }

  private storedKey(s: RegisteredStore, key: string): string {
    if (key === "") throw stateErrors.keyRequired();
    if (key.includes(KEY_SEPARATOR)) throw stateErrors.illegalKey(s.name, key);
    return prefixKey(s.keyPrefix, key);
  }

  private lookup(storeName: string, nullAppIdDetail = false): RegisteredStore {
    const s = this.stores.get(storeName);
    if (s) return s;
    if (this.stores.size === 0) throw stateErrors.notConfigured(storeName, this.appId);
    throw stateErrors.notFound(storeName, nullAppIdDetail ? null : this.appId);
  }
}

/** The query fallback: filter, sort and page over an ordered scan of the app's keys (token = offset). */
async function queryByScan(scan: (req: ScanRequest) => Promise<ScanPage>, keyPrefix: string, q: ReturnType<typeof parseQuery>): Promise<QueryResponse> {
  const rows: { key: string; value: unknown; data: Buffer; etag?: string }[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await scan({ prefix: keyPrefix, limit: SCAN_PAGE, keysOnly: false, ...(after !== undefined ? { after } : {}) });
    for (const e of page.entries) {
      let value: unknown;
      try {
        value = JSON.parse(e.data.toString("utf8"));
      } catch {
        continue; // binary values are not queryable
      }
      if (matches(q.filter, value)) rows.push({ key: e.key, value, data: e.data, ...(e.etag ? { etag: e.etag } : {}) });
    }
    const last = page.entries[page.entries.length - 1];
    if (!page.more || !last) break;
    after = last.key;
  }
  if (q.sort.length > 0) rows.sort(sortComparator(q.sort));
  const offset = q.token === undefined ? 0 : Number(q.token);
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`invalid page token "${q.token}"`);
  const end = q.limit === undefined ? rows.length : offset + q.limit;
  const results = rows.slice(offset, end).map((r) => ({ key: r.key, data: r.data, ...(r.etag ? { etag: r.etag } : {}) }));
  return q.limit !== undefined && end < rows.length ? { results, token: String(end) } : { results };
}

function isTransactional(s: RegisteredStore): boolean {
  return s.store.features().includes("TRANSACTIONAL") && typeof s.store.multi === "function";
}

function capabilities(s: RegisteredStore): string[] {
  const caps: string[] = [...s.store.features()];
  const add = (c: StateFeature | "ACTOR") => {
    if (!caps.includes(c)) caps.push(c);
  };
  if (s.store.query || s.store.scan) add("QUERY_API");
  if (s.actorStateStore) add("ACTOR");
  return caps;
}

export function failureKind(err: unknown): StateFailureKind {
  if (err instanceof ETagMismatchError) return "etag-mismatch";
  if (err instanceof ETagInvalidError) return "etag-invalid";
  if (err instanceof StateInputError) return "invalid-input";
  return "other";
}

function parseConsistency(v: string | undefined): Consistency | undefined {
  if (v === undefined || v === "") return undefined;
  if (v === "eventual" || v === "strong") return v;
  throw new StateInputError(`invalid consistency value: ${v}`);
}

function parseOptions(o: { readonly concurrency?: string; readonly consistency?: string } | undefined): StateOptions {
  const out: { concurrency?: Concurrency; consistency?: Consistency } = {};
  const c = o?.concurrency;
  if (c !== undefined && c !== "") {
    if (c !== "first-write" && c !== "last-write") throw new StateInputError(`invalid concurrency value: ${c}`);
    out.concurrency = c;
  }
  const consistency = parseConsistency(o?.consistency);
  if (consistency) out.consistency = consistency;
  return out;
}

/** components-contrib state/utils/ttl.go: an integer >= -1; -1 (or <= 0) clears the expiry. */
function parseTtl(metadata: Metadata): number | undefined {
  const raw = metadata.ttlInSeconds;
  if (raw === undefined || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw new StateInputError(`incorrect value for metadata ttlInSeconds: ${raw}`);
  const n = Number(raw.trim());
  if (n < -1) throw new StateInputError(`incorrect value for metadata ttlInSeconds: ${raw} (must be -1 or greater)`);
  return n;
}

function encodeToken(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

function decodeToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  return Buffer.from(token, "base64url").toString("utf8");
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const width = limit > 0 ? Math.min(limit, items.length) : items.length;
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

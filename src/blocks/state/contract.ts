/**
 * The state component contract: a small required core (get, set, delete) and optional capabilities
 * announced in features() or by the presence of a method. The block writes the fallbacks once
 * (bulk as single operations, list keys and query over `scan`), so components stay small.
 *
 * Keys a component sees are already prefixed by the block (`appid||key`); values are bytes.
 */

export type StateFeature =
  | "ETAG"
  | "TRANSACTIONAL"
  | "TTL"
  | "QUERY_API"
  | "DELETE_WITH_PREFIX"
  | "PARTITION_KEY"
  | "KEYS_LIKE";

export type Concurrency = "first-write" | "last-write";
export type Consistency = "eventual" | "strong";

export interface StateOptions {
  readonly concurrency?: Concurrency;
  readonly consistency?: Consistency;
}

export type Metadata = Readonly<Record<string, string>>;

export interface GetRequest {
  readonly key: string;
  readonly consistency?: Consistency;
  readonly metadata: Metadata;
}

export interface GetResponse {
  /** The stored bytes: JSON text for JSON values, the raw bytes for binary ones. */
  readonly data: Buffer;
  readonly etag?: string;
  /** Store-reported metadata such as `ttlExpireTime` (RFC3339, UTC). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface SetRequest {
  readonly key: string;
  /** JSON text (isBinary false) or raw bytes (isBinary true, e.g. gRPC saves without a JSON content type). */
  readonly value: Buffer;
  readonly isBinary: boolean;
  /** Only present when non-empty: an empty ETag means "no ETag". */
  readonly etag?: string;
  /** Parsed `ttlInSeconds`: absent = not given; <= 0 = no expiry (clears an existing one). */
  readonly ttlSeconds?: number;
  readonly options: StateOptions;
  readonly metadata: Metadata;
}

export interface DeleteRequest {
  readonly key: string;
  readonly etag?: string;
  readonly options: StateOptions;
  readonly metadata: Metadata;
}

export type TransactionOperation =
  | ({ readonly operation: "upsert" } & SetRequest)
  | ({ readonly operation: "delete" } & DeleteRequest);

export interface TransactionRequest {
  readonly operations: readonly TransactionOperation[];
  readonly metadata: Metadata;
}

export interface BulkGetItem {
  readonly key: string;
  readonly data?: Buffer;
  readonly etag?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly error?: string;
}

/** One page of stored entries whose key starts with `prefix`, in ascending key order after `after`. */
export interface ScanRequest {
  readonly prefix: string;
  /** Exclusive lower bound (the last key of the previous page): pages stay stable under concurrent writes. */
  readonly after?: string;
  readonly limit: number;
  /** The caller needs keys only: the store may leave `data` empty. */
  readonly keysOnly: boolean;
}

export interface ScanEntry {
  readonly key: string;
  readonly data: Buffer;
  readonly etag?: string;
}

export interface ScanPage {
  readonly entries: readonly ScanEntry[];
  /** True when more entries may follow the last one returned. */
  readonly more: boolean;
}

/** A parsed alpha1 query document (filters over dotted JSON paths of the value). */
export type QueryFilter =
  | { readonly EQ: Readonly<Record<string, unknown>> }
  | { readonly NEQ: Readonly<Record<string, unknown>> }
  | { readonly GT: Readonly<Record<string, unknown>> }
  | { readonly GTE: Readonly<Record<string, unknown>> }
  | { readonly LT: Readonly<Record<string, unknown>> }
  | { readonly LTE: Readonly<Record<string, unknown>> }
  | { readonly IN: Readonly<Record<string, readonly unknown[]>> }
  | { readonly AND: readonly QueryFilter[] }
  | { readonly OR: readonly QueryFilter[] };

export interface QuerySort {
  readonly key: string;
  readonly order: "ASC" | "DESC";
}

export interface QueryRequest {
  readonly filter?: QueryFilter;
  readonly sort: readonly QuerySort[];
  readonly limit?: number;
  readonly token?: string;
  /** Only keys starting with this prefix (the app's key prefix) are visible. */
  readonly keyPrefix: string;
  readonly metadata: Metadata;
}

export interface QueryResult {
  readonly key: string;
  readonly data: Buffer;
  readonly etag?: string;
}

export interface QueryResponse {
  readonly results: readonly QueryResult[];
  readonly token?: string;
}

/** A state store component. Optional methods are capabilities; the block falls back where it can. */
export interface StateStore {
  features(): readonly StateFeature[];
  get(req: GetRequest): Promise<GetResponse | undefined>;
  set(req: SetRequest): Promise<void>;
  delete(req: DeleteRequest): Promise<void>;
  /** Native bulk get; the block otherwise calls get per key with bounded parallelism. */
  bulkGet?(reqs: readonly GetRequest[]): Promise<BulkGetItem[]>;
  /** Native bulk save (not atomic); otherwise set per item. */
  bulkSet?(reqs: readonly SetRequest[]): Promise<void>;
  /** All-or-nothing; required when features() has TRANSACTIONAL. */
  multi?(req: TransactionRequest): Promise<void>;
  /** Most operations one transaction may hold (undefined = unbounded). */
  maxOperationsPerTransaction?(): number | undefined;
  /** Ordered key range scan: powers the keys extension and the query fallback. */
  scan?(req: ScanRequest): Promise<ScanPage>;
  /** Native query; otherwise the block evaluates the query over scan. */
  query?(req: QueryRequest): Promise<QueryResponse>;
  close(): Promise<void>;
}

/** Thrown by a component when a supplied ETag does not match (or first-write finds a value). */
export class ETagMismatchError extends Error {
  constructor(message = "etag mismatch") {
    super(message);
    this.name = "ETagMismatchError";
  }
}

/** Thrown by a component when an ETag is not in the store's format. */
export class ETagInvalidError extends Error {
  constructor(message = "invalid etag value") {
    super(message);
    this.name = "ETagInvalidError";
  }
}

/** Thrown by a component when a request is malformed for this store (bad option, bad TTL...). */
export class StateInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateInputError";
  }
}

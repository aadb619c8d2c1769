/**
 * What state.postgresql v1 and v2 share: the metadata schema (one schema, with the table field of
 * each version), the pool, reads (get, bulk get in one query, ordered prefix scans), transactions and
 * the sweeper. Each version supplies its table layout: columns, value encoding, ETag and writes.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import {
  type BulkGetItem,
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
import { defineSchema, MetadataError, type OptionsOf } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import { poolConfig, postgresConnectionFields, usesNamedStatements } from "../shared/postgresql/connection.js";
import { scheduleSweeper, sweepExpired, validTableName, type SweeperOptions } from "../shared/postgresql/migrations.js";
import { prefixSuccessor } from "../shared/sqlite/connection-string.js";

export const metadataSchema = defineSchema({
  ...postgresConnectionFields,
  tableName: {
    type: "string",
    default: "state",
    description: "v1: table holding the state, optionally with its schema (`public.state`). Created if missing.",
  },
  tablePrefix: {
    type: "string",
    description: "v2: prefix of the state table's name (`<tablePrefix>state`; none by default), optionally with a schema (`myschema.app1_`). The table is created if missing.",
  },
  metadataTableName: {
    type: "string",
    default: "dapr_metadata",
    description: "Table holding the migration level, the migration lock row and the last sweep time (optionally with its schema). Created if missing.",
  },
  cleanupInterval: {
    type: "duration",
    default: 3_600_000,
    aliases: ["cleanupIntervalInSeconds"],
    description: "How often expired rows are deleted (expired rows are never returned anyway); `0` or less disables the sweeper. Bare numbers are seconds.",
  },
  actorStateStore: { type: "boolean", default: false, description: "Use this store for actor state (needs ETAG and TRANSACTIONAL, which it has)." },
});
export type PostgresStateOptions = OptionsOf<typeof metadataSchema>;

const FEATURES: readonly StateFeature[] = ["ETAG", "TRANSACTIONAL", "TTL"];
const EMPTY = Buffer.alloc(0);

/** What a query runs on: the pool, or the client of an open transaction. */
export type Queryable = Pick<pg.Pool, "query">;

export interface Row {
  key: string;
  etag: string;
  expires: Date | null;
  value?: string | Buffer;
  isbinary?: boolean;
}

/** Dapr reports ttlExpireTime as RFC3339 in UTC with whole seconds. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A TTL the way the expiry SQL takes it: whole seconds, or null for none. */
export function ttlParam(req: SetRequest): number | null {
  return req.ttlSeconds !== undefined && req.ttlSeconds > 0 ? Math.floor(req.ttlSeconds) : null;
}

export function hasEtag(req: { etag?: string }): req is { etag: string } {
  return req.etag !== undefined && req.etag !== "";
}

/** Open the pool (checking it can connect) with an error handler, so a dropped idle connection never crashes the process. */
export async function openPool(options: PostgresStateOptions, component: string, logger: Logger): Promise<pg.Pool> {
  for (const field of ["tableName", "metadataTableName"] as const) {
    if (!validTableName(options[field])) throw new MetadataError(field, `${component}: ${field} "${options[field]}" must be a name or schema.name of letters, digits and _`);
  }
  if (options.tablePrefix !== undefined && !/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z0-9_]*$/.test(options.tablePrefix)) {
    throw new MetadataError("tablePrefix", `${component}: tablePrefix "${options.tablePrefix}" may hold only letters, digits, _ and one schema dot`);
  }
  if (options.timeout < 1000) throw new MetadataError("timeout", `${component}: timeout must be at least 1s`);
  const pool = new pg.Pool(poolConfig(options, component));
  pool.on("error", (err) => logger.warn({ err }, "idle PostgreSQL connection failed"));
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return pool;
}

/** Whether `key` of `table` sorts bytewise (C/POSIX collation), so a plain range on it is a prefix range the primary key index serves. */
export async function keySortsBytewise(db: Queryable, table: string): Promise<boolean> {
  const res = await db.query<{ collname: string | null; datcollate: string }>(
    `SELECT c.collname, d.datcollate FROM pg_attribute a
       LEFT JOIN pg_collation c ON c.oid = a.attcollation
       CROSS JOIN (SELECT datcollate FROM pg_database WHERE datname = current_database()) d
     WHERE a.attrelid = to_regclass($1) AND a.attname = 'key'`,
    [table],
  );
  const row = res.rows[0];
  if (!row) return false;
  const c = row.collname === null || row.collname === "default" ? row.datcollate : row.collname;
  return c === "C" || c === "POSIX";
}

export interface BaseOptions {
  readonly component: string;
  readonly table: string;
  readonly pool: pg.Pool;
  readonly named: boolean;
  /** The key as compared and ordered: `key`, or `key COLLATE "C"` on a database with a linguistic collation. */
  readonly keyExpr: string;
  readonly sweeper?: Omit<SweeperOptions, "logger" | "intervalMs">;
  readonly cleanupIntervalMs: number;
  readonly logger: Logger;
}

export abstract class PostgresStateBase implements StateStore {
  protected readonly db: pg.Pool;
  protected readonly table: string;
  private readonly statementNames = new Map<string, string>();
  private readonly stopSweeper: (() => void) | undefined;

  protected constructor(private readonly base: BaseOptions) {
    this.db = base.pool;
    this.table = base.table;
    if (base.sweeper && base.cleanupIntervalMs > 0) {
      this.stopSweeper = scheduleSweeper(this.db, { ...base.sweeper, intervalMs: base.cleanupIntervalMs, logger: base.logger });
    }
  }

  /** The columns a read selects: key, etag, expires, and (unless keys only) the value columns. */
  protected abstract columns(keysOnly: boolean): string;
  /** Row visibility: no expiry, or not yet expired. */
  protected abstract readonly live: string;
  protected abstract decode(row: Row): Buffer;
  protected abstract write(q: Queryable, req: SetRequest): Promise<void>;
  protected abstract remove(q: Queryable, req: DeleteRequest): Promise<void>;

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  /** Run a statement, named (prepared once per connection) unless the query mode forbids it. */
  protected async run<R extends pg.QueryResultRow>(q: Queryable, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!this.base.named) return q.query<R>(text, values);
    let name = this.statementNames.get(text);
    if (name === undefined) {
      name = `tandem_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
      this.statementNames.set(text, name);
    }
    return q.query<R>({ name, text, values });
  }

  async get(req: GetRequest): Promise<GetResponse | undefined> {
    const res = await this.run<Row>(this.db, `SELECT ${this.columns(false)} FROM ${this.table} WHERE key = $1 AND ${this.live}`, [req.key]);
    const row = res.rows[0];
    return row === undefined ? undefined : this.response(row);
  }

  /** One query for all keys; Dapr's order: the rows found, then the keys not found (in request order). */
  async bulkGet(reqs: readonly GetRequest[]): Promise<BulkGetItem[]> {
    if (reqs.length === 0) return [];
    const res = await this.run<Row>(this.db, `SELECT ${this.columns(false)} FROM ${this.table} WHERE key = ANY($1::text[]) AND ${this.live}`, [
      reqs.map((r) => r.key),
    ]);
    const found = new Set<string>();
    const out: BulkGetItem[] = res.rows.map((row) => {
      found.add(row.key);
      return { key: row.key, ...this.response(row) };
    });
    for (const r of reqs) if (!found.has(r.key)) out.push({ key: r.key });
    return out;
  }

  set(req: SetRequest): Promise<void> {
    return this.write(this.db, req);
  }

  /** Not atomic in Dapr; one transaction here, which is also faster. */
  bulkSet(reqs: readonly SetRequest[]): Promise<void> {
    return this.inTransaction(async (tx) => {
      for (const r of reqs) await this.write(tx, r);
    });
  }

  delete(req: DeleteRequest): Promise<void> {
    return this.remove(this.db, req);
  }

  /** All or nothing: any failure (an ETag mismatch included) rolls the whole transaction back. */
  multi(req: TransactionRequest): Promise<void> {
    return this.inTransaction(async (tx) => {
      for (const op of req.operations) {
        if (op.operation === "upsert") await this.write(tx, op);
        else await this.remove(tx, op);
      }
    });
  }

  /** A range on the primary key (`key >= prefix AND key < successor`), ordered by key, resumed after the last key returned. */
  async scan(req: ScanRequest): Promise<ScanPage> {
    const k = this.base.keyExpr;
    const hi = prefixSuccessor(req.prefix);
    // Resume after the token when it lies inside the range; compare as the C collation does (UTF-8 bytes).
    const resume = req.after !== undefined && Buffer.compare(Buffer.from(req.after, "utf8"), Buffer.from(req.prefix, "utf8")) >= 0;
    const values: unknown[] = [resume ? req.after : req.prefix, req.limit + 1];
    if (hi !== undefined) values.push(hi);
    const res = await this.run<Row>(
      this.db,
      `SELECT ${this.columns(req.keysOnly)} FROM ${this.table}
       WHERE ${k} ${resume ? ">" : ">="} $1${hi !== undefined ? ` AND ${k} < $3` : ""} AND ${this.live}
       ORDER BY ${k} LIMIT $2`,
      values,
    );
    const page = res.rows.slice(0, req.limit);
    return {
      entries: page.map((row) => ({ key: row.key, data: req.keysOnly ? EMPTY : this.decode(row), etag: row.etag })),
      more: res.rows.length > req.limit,
    };
  }

  /** Delete expired rows unless a sweep (by any sidecar) ran within `intervalMs`; the rows removed, or undefined when skipped. */
  cleanupExpired(intervalMs = 0): Promise<number | undefined> {
    if (!this.base.sweeper) return Promise.resolve(undefined);
    return sweepExpired(this.db, { ...this.base.sweeper, intervalMs }, intervalMs);
  }

  async close(): Promise<void> {
    this.stopSweeper?.();
    await this.db.end();
  }

  protected response(row: Row): GetResponse {
    const data = this.decode(row);
    return row.expires === null ? { data, etag: row.etag } : { data, etag: row.etag, metadata: { ttlExpireTime: rfc3339(row.expires) } };
  }

  private async inTransaction(fn: (tx: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.db.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      await fn(client);
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw err;
    } finally {
      // A client whose rollback failed is in an unknown state: the pool discards it.
      client.release(broken);
    }
  }
}

export { usesNamedStatements };

/**
 * state.sqlite: state in a SQLite database through better-sqlite3, laid out exactly as Dapr's
 * component lays it out (state table, metadata table with `migrations` = "1", uuid v4 ETags,
 * base64 binary values, `CURRENT_TIMESTAMP` expiry text), so a database written by either runtime
 * reads the same in the other. better-sqlite3 is synchronous: every statement is prepared once and
 * each operation runs to completion before the next one starts.
 */
import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import {
  ETagMismatchError,
  type BulkGetItem,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  type ScanPage,
  type ScanRequest,
  type SetRequest,
  type StateFeature,
  type StateStore,
  type TransactionOperation,
  type TransactionRequest,
} from "../../blocks/state/contract.js";
import { defineSchema, MetadataError, type OptionsOf } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import type { ComponentContext } from "../shared/context.js";
import { parseConnectionString, prefixSuccessor } from "../shared/sqlite/connection-string.js";

export { parseConnectionString, prefixSuccessor };

export const metadataSchema = defineSchema({
  connectionString: {
    type: "string",
    required: true,
    aliases: ["url"],
    description:
      "The database: a file path (`data.db`), a `file:` URI (`file:data.db?mode=rw`; options `mode`, `immutable`, `cache`, `_txlock`, `_pragma`), or `:memory:`.",
  },
  tableName: { type: "string", default: "state", description: "Table holding the state (letters, digits and `_`). Created if missing." },
  metadataTableName: {
    type: "string",
    default: "metadata",
    description: "Table holding the migration level and the last sweep time (letters, digits and `_`). Created if missing.",
  },
  timeout: {
    type: "duration",
    default: 20_000,
    aliases: ["timeoutInSeconds"],
    description: "Timeout for database operations (at least 1s). Accepted for compatibility: statements run in-process, so `busyTimeout` bounds the wait for locks.",
  },
  busyTimeout: { type: "duration", default: 2_000, description: "How long a statement waits for a lock held by another connection (`PRAGMA busy_timeout`); `<=0` does not wait." },
  cleanupInterval: {
    type: "duration",
    default: 0,
    aliases: ["cleanupIntervalInSeconds"],
    description: "How often expired rows are deleted (expired rows are never returned anyway). `0` or less disables the sweeper.",
  },
  disableWAL: {
    type: "boolean",
    default: false,
    description: "Use the rollback journal instead of WAL (do so on network file systems). Ignored for in-memory databases.",
  },
});
export type SqliteOptions = OptionsOf<typeof metadataSchema>;

const FEATURES: readonly StateFeature[] = ["ETAG", "TRANSACTIONAL", "TTL"];
const EMPTY = Buffer.alloc(0);
/** A row is visible while it has no expiry or its expiry (text `YYYY-MM-DD HH:MM:SS`) is later than now. */
const LIVE = "(expiration_time IS NULL OR expiration_time > CURRENT_TIMESTAMP)";
/** `@ttl` is a DATETIME modifier such as `+60 seconds`, or NULL for no expiry. */
const EXPIRY = "CASE WHEN @ttl IS NULL THEN NULL ELSE DATETIME(CURRENT_TIMESTAMP, @ttl) END";

interface Row {
  key: string;
  value: string | Buffer;
  is_binary: number | bigint | string;
  etag: string;
  expiration_time: string | null;
}

interface WriteParams {
  key: string;
  value: string;
  isBinary: 0 | 1;
  etag: string;
  ttl: string | null;
}

/** Dapr's rule for table names: ASCII letters, digits and underscore only. */
function validIdentifier(v: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(v);
}

/** `2024-05-01 10:00:00` (SQLite CURRENT_TIMESTAMP text, UTC) -> `2024-05-01T10:00:00Z`, as Dapr reports ttlExpireTime. */
function rfc3339(sqliteTime: string): string | undefined {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.\d+)?Z?$/.exec(sqliteTime);
  if (m) return `${m[1]}T${m[2]}Z`;
  const ms = Date.parse(sqliteTime);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isTrue(v: Row["is_binary"]): boolean {
  return v === 1 || v === 1n || v === "1" || v === "true" || v === "TRUE";
}

function decode(row: Pick<Row, "value" | "is_binary">): Buffer {
  if (isTrue(row.is_binary)) return Buffer.from(typeof row.value === "string" ? row.value : row.value.toString("ascii"), "base64");
  return typeof row.value === "string" ? Buffer.from(row.value, "utf8") : row.value;
}

function ttlModifier(ttlSeconds: number | undefined): string | null {
  return ttlSeconds !== undefined && ttlSeconds > 0 ? `+${Math.floor(ttlSeconds)} seconds` : null;
}

/** Run a synchronous database call as the contract's promise, turning throws into rejections. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

export class SqliteStateStore implements StateStore {
  private readonly db: Database.Database;
  private readonly table: string;
  private readonly stmt: {
    get: Database.Statement<[string], Row>;
    bulkGet: Database.Statement<[string], Row>;
    upsert: Database.Statement<[WriteParams]>;
    insertIfAbsent: Database.Statement<[WriteParams]>;
    updateIfEtag: Database.Statement<[WriteParams & { expected: string }]>;
    delete: Database.Statement<[string]>;
    deleteIfEtag: Database.Statement<[string, string]>;
    sweep: Database.Statement<[]>;
    markCleanup: Database.Statement<[number]>;
  };
  private readonly scanStatements = new Map<string, Database.Statement<[{ lo: string; hi?: string; limit: number }], Row>>();
  private readonly inTransaction: Database.Transaction<(ops: readonly TransactionOperation[]) => void>;
  private readonly sweepOnce: Database.Transaction<(interval: number) => number | undefined>;
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    options: SqliteOptions,
    private readonly logger: Logger,
  ) {
    for (const field of ["tableName", "metadataTableName"] as const) {
      if (!validIdentifier(options[field])) throw new MetadataError(field, `state.sqlite: ${field} "${options[field]}" may hold only letters, digits and _`);
    }
    if (options.timeout < 1000) throw new MetadataError("timeout", `state.sqlite: timeout must be at least 1s`);
    const conn = parseConnectionString(options.connectionString);
    const busy = Math.max(0, Math.floor(options.busyTimeout));
    this.db = new Database(conn.filename, { readonly: conn.readonly, fileMustExist: conn.fileMustExist, timeout: busy });
    try {
      this.db.pragma(`busy_timeout = ${busy}`);
      if (conn.memory) this.db.pragma("journal_mode = MEMORY");
      else if (!conn.readonly) this.db.pragma(`journal_mode = ${options.disableWAL ? "DELETE" : "WAL"}`);
      for (const p of conn.pragmas) this.db.pragma(p);
      if (conn.readonly) this.requireTable(options.tableName);
      else this.migrate(options.tableName, options.metadataTableName);
    } catch (err) {
      this.db.close();
      throw err;
    }

    const t = (this.table = options.tableName);
    const columns = "key, value, is_binary, etag, expiration_time";
    const values = `@key, @value, @isBinary, @etag, CURRENT_TIMESTAMP, ${EXPIRY}`;
    this.stmt = {
      get: this.db.prepare(`SELECT ${columns} FROM ${t} WHERE key = ? AND ${LIVE}`),
      // One statement for any number of keys: the keys come as a JSON array, the primary key index serves each.
      bulkGet: this.db.prepare(`SELECT ${columns} FROM ${t} WHERE key IN (SELECT value FROM json_each(?)) AND ${LIVE}`),
      upsert: this.db.prepare(`INSERT OR REPLACE INTO ${t} (key, value, is_binary, etag, update_time, expiration_time) VALUES (${values})`),
      // first-write: an expired row not yet swept counts as absent and is replaced.
      insertIfAbsent: this.db.prepare(
        `INSERT OR REPLACE INTO ${t} (key, value, is_binary, etag, update_time, expiration_time)
         SELECT ${values} WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE key = @key AND ${LIVE})`,
      ),
      updateIfEtag: this.db.prepare(
        `UPDATE ${t} SET value = @value, etag = @etag, is_binary = @isBinary, update_time = CURRENT_TIMESTAMP, expiration_time = ${EXPIRY}
         WHERE key = @key AND etag = @expected AND ${LIVE}`,
      ),
      delete: this.db.prepare(`DELETE FROM ${t} WHERE key = ?`),
      deleteIfEtag: this.db.prepare(`DELETE FROM ${t} WHERE key = ? AND etag = ? AND ${LIVE}`),
      sweep: this.db.prepare(`DELETE FROM ${t} WHERE expiration_time IS NOT NULL AND expiration_time < CURRENT_TIMESTAMP`),
      // Dapr's coordination between sidecars sharing a file: only sweep when the last sweep is older than the interval.
      markCleanup: this.db.prepare(
        `INSERT INTO ${options.metadataTableName} (key, value) VALUES ('last-cleanup', CURRENT_TIMESTAMP)
         ON CONFLICT (key) DO UPDATE SET value = CURRENT_TIMESTAMP
         WHERE (unixepoch(CURRENT_TIMESTAMP) - unixepoch(value)) * 1000 > ?`,
      ),
    };
    this.inTransaction = this.db.transaction((ops: readonly TransactionOperation[]) => {
      for (const op of ops) {
        if (op.operation === "upsert") this.write(op);
        else this.remove(op);
      }
    });

    this.sweepOnce = this.db.transaction((interval: number) => {
      if (this.stmt.markCleanup.run(interval - 100).changes === 0) return undefined;
      return this.stmt.sweep.run().changes;
    });

    if (options.cleanupInterval > 0) {
      const interval = options.cleanupInterval;
      this.sweeper = setInterval(() => {
        try {
          const n = this.cleanupExpired(interval);
          if (n !== undefined) this.logger.debug({ removed: n }, "removed expired state rows");
        } catch (err) {
          this.logger.error({ err }, "error removing expired state rows");
        }
      }, interval);
      this.sweeper.unref();
    }
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  get(req: GetRequest): Promise<GetResponse | undefined> {
    return settle(() => {
      const row = this.stmt.get.get(req.key);
      return row === undefined ? undefined : response(row);
    });
  }

  /** Dapr's order: the rows found, then the keys not found (in request order). */
  bulkGet(reqs: readonly GetRequest[]): Promise<BulkGetItem[]> {
    return settle(() => {
      if (reqs.length === 0) return [];
      const rows = this.stmt.bulkGet.all(JSON.stringify(reqs.map((r) => r.key)));
      const found = new Set<string>();
      const out: BulkGetItem[] = rows.map((row) => {
        found.add(row.key);
        return { key: row.key, ...response(row) };
      });
      for (const r of reqs) if (!found.has(r.key)) out.push({ key: r.key });
      return out;
    });
  }

  set(req: SetRequest): Promise<void> {
    return settle(() => this.write(req));
  }

  /** Not atomic in Dapr; one transaction here, which is also faster. */
  bulkSet(reqs: readonly SetRequest[]): Promise<void> {
    return settle(() => this.inTransaction.immediate(reqs.map((r) => ({ operation: "upsert" as const, ...r }))));
  }

  delete(req: DeleteRequest): Promise<void> {
    return settle(() => this.remove(req));
  }

  /** All or nothing: a throw (an ETag mismatch included) rolls the whole transaction back. */
  multi(req: TransactionRequest): Promise<void> {
    return settle(() => this.inTransaction.immediate(req.operations));
  }

  scan(req: ScanRequest): Promise<ScanPage> {
    return settle(() => {
      const hi = prefixSuccessor(req.prefix);
      // Resume after the token when it lies inside the range; compare as SQLite does (UTF-8 bytes).
      const resume = req.after !== undefined && Buffer.compare(Buffer.from(req.after, "utf8"), Buffer.from(req.prefix, "utf8")) >= 0;
      const stmt = this.scanStatement(resume, hi !== undefined, req.keysOnly);
      const rows = stmt.all({ lo: resume ? req.after : req.prefix, limit: req.limit + 1, ...(hi !== undefined ? { hi } : {}) });
      const page = rows.slice(0, req.limit);
      return {
        entries: page.map((row) => ({ key: row.key, data: req.keysOnly ? EMPTY : decode(row), etag: row.etag })),
        more: rows.length > req.limit,
      };
    });
  }

  /**
   * Delete expired rows, unless another sweep (this process or another sharing the file) ran within
   * `interval` ms. Returns the number of rows removed, or undefined when the sweep was skipped.
   */
  cleanupExpired(interval = 0): number | undefined {
    return this.sweepOnce.immediate(interval);
  }

  close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  private write(req: SetRequest): void {
    const params: WriteParams = {
      key: req.key,
      value: req.isBinary ? req.value.toString("base64") : req.value.toString("utf8"),
      isBinary: req.isBinary ? 1 : 0,
      etag: randomUUID(),
      ttl: ttlModifier(req.ttlSeconds),
    };
    if (req.etag !== undefined && req.etag !== "") {
      if (this.stmt.updateIfEtag.run({ ...params, expected: req.etag }).changes === 0) throw new ETagMismatchError();
    } else if (req.options.concurrency === "first-write") {
      if (this.stmt.insertIfAbsent.run(params).changes === 0) throw new ETagMismatchError();
    } else {
      this.stmt.upsert.run(params);
    }
  }

  private remove(req: DeleteRequest): void {
    if (req.etag === undefined || req.etag === "") {
      this.stmt.delete.run(req.key);
    } else if (this.stmt.deleteIfEtag.run(req.key, req.etag).changes === 0) {
      throw new ETagMismatchError();
    }
  }

  private scanStatement(exclusive: boolean, bounded: boolean, keysOnly: boolean) {
    const id = `${exclusive ? ">" : ">="}${bounded ? "<" : ""}${keysOnly ? "k" : "v"}`;
    let stmt = this.scanStatements.get(id);
    if (!stmt) {
      // Both bounds are plain ranges on the primary key, so SQLite seeks instead of scanning the table.
      stmt = this.db.prepare(
        `SELECT key, ${keysOnly ? "" : "value, is_binary, "}etag FROM ${this.table}
         WHERE key ${exclusive ? ">" : ">="} @lo${bounded ? " AND key < @hi" : ""} AND ${LIVE}
         ORDER BY key LIMIT @limit`,
      );
      this.scanStatements.set(id, stmt);
    }
    return stmt;
  }

  /** Dapr's migration 0 under an exclusive lock: metadata table, state table, `migrations` = "1". */
  private migrate(table: string, metadataTable: string): void {
    this.db
      .transaction(() => {
        this.db.exec(`CREATE TABLE IF NOT EXISTS ${metadataTable} (
          key text NOT NULL PRIMARY KEY,
          value text NOT NULL
        )`);
        const row = this.db.prepare<[], { value: string }>(`SELECT value FROM ${metadataTable} WHERE key = 'migrations'`).get();
        if (row !== undefined && !/^\d+$/.test(String(row.value))) {
          throw new Error(`state.sqlite: invalid migration level found in metadata table ${metadataTable}: ${row.value}`);
        }
        // Also when the level is already 1: another component may share the metadata table with a different state table.
        this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
          key TEXT NOT NULL PRIMARY KEY,
          value TEXT NOT NULL,
          is_binary BOOLEAN NOT NULL,
          etag TEXT NOT NULL,
          expiration_time TIMESTAMP DEFAULT NULL,
          update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
        )`);
        if (row === undefined || Number(row.value) < 1) {
          this.db.prepare(`REPLACE INTO ${metadataTable} (key, value) VALUES ('migrations', ?)`).run("1");
        }
      })
      .exclusive();
  }

  private requireTable(table: string): void {
    const found = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    if (found === undefined) throw new Error(`state.sqlite: table ${table} does not exist in the read-only database`);
  }
}

function response(row: Row): GetResponse {
  const expiry = row.expiration_time === null ? undefined : rfc3339(String(row.expiration_time));
  return expiry === undefined ? { data: decode(row), etag: row.etag } : { data: decode(row), etag: row.etag, metadata: { ttlExpireTime: expiry } };
}

export function create(options: SqliteOptions, ctx: ComponentContext): Promise<StateStore> {
  return settle(() => new SqliteStateStore(options, ctx.logger.child({ component: ctx.name, type: "state.sqlite" })));
}

/**
 * state.mysql: state in MySQL or MariaDB through mysql2, laid out exactly as Dapr's component lays
 * it out (schema `dapr_state_store`, table `state` with a JSON value column, uuid v4 ETags, binary
 * values as a JSON string of their base64 with `isbinary = 1`, `expiredate` timestamps, metadata
 * table with `last-cleanup`), so a database written by either runtime reads the same in the other.
 */
import { randomUUID } from "node:crypto";
import mysql from "mysql2/promise";
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
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
import { parseGoDsn, poolOptions, withDatabase } from "../shared/mysql/dsn.js";
import { prefixSuccessor } from "../shared/sqlite/connection-string.js";

export const metadataSchema = defineSchema({
  connectionString: {
    type: "string",
    required: true,
    sensitive: true,
    description:
      "Go MySQL driver DSN naming no database, e.g. `user:pass@tcp(host:3306)/?allowNativePasswords=true`; the schema name is inserted after the `/`. Parameters `tls`, `timeout`, `charset` are honoured; other driver options are accepted; any other parameter is set as a session variable.",
  },
  schemaName: { type: "string", default: "dapr_state_store", description: "Database (schema) holding the tables (letters, digits and `_`). Created if missing." },
  tableName: { type: "string", default: "state", description: "Table holding the state (letters, digits and `_`). Created if missing." },
  metadataTableName: {
    type: "string",
    default: "dapr_metadata",
    description: "Table recording the last sweep of expired rows (letters, digits and `_`). Created if missing.",
  },
  timeoutInSeconds: { type: "integer", default: 20, description: "Timeout of each database operation, in seconds (`0` or less: the default)." },
  pemPath: { type: "string", description: "PEM file of the CA certificate to verify the server with; enables TLS (Dapr's DSN then says `tls=custom`)." },
  cleanupInterval: {
    type: "duration",
    default: 3_600_000,
    aliases: ["cleanupIntervalInSeconds"],
    description: "How often expired rows are deleted (expired rows are never returned anyway). `0` or less disables the sweeper.",
  },
});
export type MysqlOptions = OptionsOf<typeof metadataSchema>;

const FEATURES: readonly StateFeature[] = ["ETAG", "TRANSACTIONAL", "TTL"];
const EMPTY = Buffer.alloc(0);
const LIVE = "(expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)";
const COLUMNS = "id, value, isbinary, eTag, UNIX_TIMESTAMP(expiredate) AS expires";
const ER_DUP_ENTRY = 1062;

interface Row extends RowDataPacket {
  id: string;
  value: string;
  isbinary: number;
  eTag: string;
  expires: number | string | null;
}

type Querier = Pick<Pool, "query"> | Pick<PoolConnection, "query">;

/** Dapr's rule for identifiers: ASCII letters, digits and underscore only. */
function validIdentifier(v: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(v);
}

function decode(row: Pick<Row, "value" | "isbinary">): Buffer {
  if (Number(row.isbinary) !== 0) return Buffer.from(JSON.parse(row.value) as string, "base64");
  return Buffer.from(row.value, "utf8");
}

function response(row: Row): GetResponse {
  const data = decode(row);
  if (row.expires === null) return { data, etag: row.eTag };
  const ttlExpireTime = new Date(Number(row.expires) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  return { data, etag: row.eTag, metadata: { ttlExpireTime } };
}

/** `expiredate` for a save: now + N whole seconds, or NULL (a save without TTL clears it, as Dapr's). */
function expiry(ttlSeconds: number | undefined): string {
  return ttlSeconds !== undefined && ttlSeconds > 0 ? `CURRENT_TIMESTAMP + INTERVAL ${Math.floor(ttlSeconds)} SECOND` : "NULL";
}

/** Escape LIKE wildcards with `!` (independent of NO_BACKSLASH_ESCAPES). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

function isDuplicate(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { errno?: unknown }).errno === ER_DUP_ENTRY;
}

export class MysqlStateStore implements StateStore {
  private readonly sweeper: NodeJS.Timeout | undefined;

  private constructor(
    private readonly pool: Pool,
    private readonly table: string,
    private readonly metadataTable: string,
    private readonly timeoutMs: number,
    /** The key column compares byte-wise without padding: scans can range over it and order by it directly. */
    private readonly binaryKeys: boolean,
    cleanupInterval: number,
    private readonly logger: Logger,
  ) {
    if (cleanupInterval > 0) {
      this.sweeper = setInterval(() => {
        this.cleanupExpired(cleanupInterval).then(
          (n) => {
            if (n !== undefined) this.logger.debug({ removed: n }, "removed expired state rows");
          },
          (err: unknown) => this.logger.error({ err }, "error removing expired state rows"),
        );
      }, cleanupInterval);
      this.sweeper.unref();
    }
  }

  /** Create the schema (with a connection naming no database), then the tables, as Dapr's Init does. */
  static async open(options: MysqlOptions, logger: Logger): Promise<MysqlStateStore> {
    for (const field of ["schemaName", "tableName", "metadataTableName"] as const) {
      if (!validIdentifier(options[field])) throw new MetadataError(field, `state.mysql: ${field} "${options[field]}" may hold only letters, digits and _`);
    }
    const dsn = parseGoDsn(options.connectionString);
    if (dsn.database !== "") {
      throw new MetadataError("connectionString", `state.mysql: the connectionString must name no database (found "${dsn.database}"); set schemaName instead`);
    }
    const timeoutMs = (options.timeoutInSeconds > 0 ? options.timeoutInSeconds : 20) * 1000;
    const settings = { pemPath: options.pemPath, component: "state.mysql" };
    const base = poolOptions(dsn, settings);
    const client = { jsonStrings: true, supportBigNumbers: true, flags: ["-FOUND_ROWS"], connectTimeout: base.options.connectTimeout ?? timeoutMs };

    const setup = await mysql.createConnection({ ...base.options, ...client });
    try {
      for (const [name, value] of base.sessionVariables) await setup.query({ sql: `SET SESSION ${name} = ${value}`, timeout: timeoutMs });
      await setup.query({ sql: `CREATE DATABASE IF NOT EXISTS ${options.schemaName}`, timeout: timeoutMs });
    } finally {
      await setup.end();
    }

    const { options: poolOpts, sessionVariables } = poolOptions(withDatabase(dsn, options.schemaName), settings);
    const pool = mysql.createPool({ ...poolOpts, ...client, enableKeepAlive: true });
    if (sessionVariables.length > 0) {
      // The pool emits the callback-style connection (the typings say otherwise): queue the SETs before any use of it.
      pool.on("connection", (conn) => {
        const raw = conn as unknown as { query(sql: string, cb: (err: Error | null) => void): void };
        for (const [name, value] of sessionVariables) {
          raw.query(`SET SESSION ${name} = ${value}`, (err) => {
            if (err) logger.error({ err, variable: name }, "cannot set a session variable from the connectionString");
          });
        }
      });
    }
    try {
      const q = { sql: "", timeout: timeoutMs };
      await pool.query({
        ...q,
        sql: `CREATE TABLE IF NOT EXISTS ${options.tableName} (
          id VARCHAR(255) NOT NULL PRIMARY KEY,
          value JSON NOT NULL,
          isbinary BOOLEAN NOT NULL,
          insertDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
          updateDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          eTag VARCHAR(36) NOT NULL,
          expiredate TIMESTAMP NULL,
          row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          INDEX expiredate_idx (expiredate),
          UNIQUE KEY row_id_uidx (row_id)
        )`,
      });
      await pool.query({ ...q, sql: `CREATE TABLE IF NOT EXISTS ${options.metadataTableName} (id VARCHAR(255) NOT NULL PRIMARY KEY, value TEXT NOT NULL)` });
      const [cols] = await pool.query<RowDataPacket[]>(
        { ...q, sql: "SELECT COLLATION_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = 'id'" },
        [options.schemaName, options.tableName],
      );
      const collation = (cols[0]?.["c"] as string | null | undefined) ?? null;
      const binaryKeys = collation === null || /(_nopad_bin|_0900_bin)$/i.test(collation);
      return new MysqlStateStore(pool, options.tableName, options.metadataTableName, timeoutMs, binaryKeys, options.cleanupInterval, logger);
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  async get(req: GetRequest): Promise<GetResponse | undefined> {
    const [rows] = await this.run<Row[]>(this.pool, `SELECT ${COLUMNS} FROM ${this.table} WHERE id = ? AND ${LIVE}`, [req.key]);
    const row = rows[0];
    return row === undefined ? undefined : response(row);
  }

  /** One query; Dapr's order: the rows found, then the keys not found (in request order). */
  async bulkGet(reqs: readonly GetRequest[]): Promise<BulkGetItem[]> {
    if (reqs.length === 0) return [];
    const keys = reqs.map((r) => r.key);
    const [rows] = await this.run<Row[]>(this.pool, `SELECT ${COLUMNS} FROM ${this.table} WHERE id IN (?) AND ${LIVE}`, [keys]);
    const found = new Set<string>();
    const out: BulkGetItem[] = rows.map((row) => {
      found.add(row.id);
      return { key: row.id, ...response(row) };
    });
    for (const k of keys) if (!found.has(k)) out.push({ key: k });
    return out;
  }

  set(req: SetRequest): Promise<void> {
    return this.write(this.pool, req);
  }

  /** Not atomic in Dapr; one transaction here. */
  bulkSet(reqs: readonly SetRequest[]): Promise<void> {
    return this.inTransaction(reqs.map((r) => ({ operation: "upsert" as const, ...r })));
  }

  delete(req: DeleteRequest): Promise<void> {
    return this.remove(this.pool, req);
  }

  /** All or nothing: any error (an ETag mismatch included) rolls the whole transaction back. */
  multi(req: TransactionRequest): Promise<void> {
    return this.inTransaction(req.operations);
  }

  async scan(req: ScanRequest): Promise<ScanPage> {
    const hi = prefixSuccessor(req.prefix);
    const lo = Buffer.from(req.prefix, "utf8");
    const after = req.after !== undefined ? Buffer.from(req.after, "utf8") : undefined;
    // Exact bounds compare UTF-8 bytes (code point order, no space padding), whatever the column's collation.
    const where = ["CAST(id AS BINARY) >= ?"];
    const params: unknown[] = [lo];
    if (hi !== undefined) {
      where.push("CAST(id AS BINARY) < ?");
      params.push(Buffer.from(hi, "utf8"));
    }
    if (after !== undefined) {
      where.push("CAST(id AS BINARY) > ?");
      params.push(after);
    }
    let order = "CAST(id AS BINARY)";
    if (this.binaryKeys) {
      // The column orders as bytes: plain bounds let the primary key index seek and deliver the order.
      where.push("id >= ?");
      params.push(after !== undefined && Buffer.compare(after, lo) > 0 ? req.after : req.prefix);
      if (hi !== undefined) {
        where.push("id < ?");
        params.push(hi);
      }
      order = "id";
    } else if (req.prefix !== "") {
      // A case-insensitive or space-padded collation: LIKE 'prefix%' is the index range that is sure
      // to hold every key with the prefix; the byte-wise bounds above then keep the exact ones.
      where.push("id LIKE ? ESCAPE '!'");
      params.push(likePrefix(req.prefix));
    }
    const columns = req.keysOnly ? "id, eTag" : "id, value, isbinary, eTag";
    const [rows] = await this.run<Row[]>(
      this.pool,
      `SELECT ${columns} FROM ${this.table} WHERE ${where.join(" AND ")} AND ${LIVE} ORDER BY ${order} LIMIT ?`,
      [...params, req.limit + 1],
    );
    const page = rows.slice(0, req.limit);
    return {
      entries: page.map((row) => ({ key: row.id, data: req.keysOnly ? EMPTY : decode(row), etag: row.eTag })),
      more: rows.length > req.limit,
    };
  }

  /**
   * Delete expired rows, unless another sweep (this process or another sharing the database) ran
   * within `interval` ms — Dapr's `last-cleanup` coordination. Returns the rows removed, or undefined when skipped.
   */
  async cleanupExpired(interval = 0): Promise<number | undefined> {
    const [mark] = await this.run<ResultSetHeader>(
      this.pool,
      `INSERT INTO ${this.metadataTable} (id, value) VALUES ('last-cleanup', CURRENT_TIMESTAMP)
       ON DUPLICATE KEY UPDATE value = IF(CURRENT_TIMESTAMP > DATE_ADD(value, INTERVAL ? * 1000 MICROSECOND), CURRENT_TIMESTAMP, value)`,
      [Math.max(0, interval - 100)],
    );
    if (mark.affectedRows === 0) return undefined;
    const [res] = await this.run<ResultSetHeader>(this.pool, `DELETE FROM ${this.table} WHERE expiredate IS NOT NULL AND expiredate <= CURRENT_TIMESTAMP`, []);
    return res.affectedRows;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.pool.end();
  }

  private async inTransaction(ops: readonly TransactionOperation[]): Promise<void> {
    if (ops.length === 0) return;
    const conn = await this.pool.getConnection();
    try {
      // As statements, so the operation timeout bounds them too.
      await this.run(conn, "START TRANSACTION", []);
      try {
        for (const op of ops) {
          if (op.operation === "upsert") await this.write(conn, op);
          else await this.remove(conn, op);
        }
        await this.run(conn, "COMMIT", []);
      } catch (err) {
        await this.run(conn, "ROLLBACK", []).catch((rollbackErr: unknown) => this.logger.error({ err: rollbackErr }, "error rolling back a state transaction"));
        throw err;
      }
    } finally {
      conn.release();
    }
  }

  private async write(q: Querier, req: SetRequest): Promise<void> {
    const value = req.isBinary ? JSON.stringify(req.value.toString("base64")) : req.value.toString("utf8");
    const isBinary = req.isBinary ? 1 : 0;
    const etag = randomUUID();
    const exp = expiry(req.ttlSeconds);
    if (req.etag !== undefined && req.etag !== "") {
      const [res] = await this.run<ResultSetHeader>(
        q,
        `UPDATE ${this.table} SET value = ?, eTag = ?, isbinary = ?, expiredate = ${exp} WHERE id = ? AND eTag = ? AND ${LIVE}`,
        [value, etag, isBinary, req.key, req.etag],
      );
      if (res.affectedRows === 0) throw new ETagMismatchError();
    } else if (req.options.concurrency === "first-write") {
      // An expired row the sweeper has not removed yet counts as absent; a live one makes the insert a duplicate.
      await this.run(q, `DELETE FROM ${this.table} WHERE id = ? AND expiredate IS NOT NULL AND expiredate <= CURRENT_TIMESTAMP`, [req.key]);
      try {
        await this.run(q, `INSERT INTO ${this.table} (id, value, isbinary, eTag, expiredate) VALUES (?, ?, ?, ?, ${exp})`, [req.key, value, isBinary, etag]);
      } catch (err) {
        if (isDuplicate(err)) throw new ETagMismatchError();
        throw err;
      }
    } else {
      await this.run(q, `REPLACE INTO ${this.table} (id, value, isbinary, eTag, expiredate) VALUES (?, ?, ?, ?, ${exp})`, [req.key, value, isBinary, etag]);
    }
  }

  private async remove(q: Querier, req: DeleteRequest): Promise<void> {
    if (req.etag === undefined || req.etag === "") {
      await this.run(q, `DELETE FROM ${this.table} WHERE id = ?`, [req.key]);
      return;
    }
    const [res] = await this.run<ResultSetHeader>(q, `DELETE FROM ${this.table} WHERE id = ? AND eTag = ? AND ${LIVE}`, [req.key, req.etag]);
    if (res.affectedRows === 0) throw new ETagMismatchError();
  }

  private run<T extends RowDataPacket[] | ResultSetHeader = ResultSetHeader>(q: Querier, sql: string, values: unknown[]): Promise<[T, unknown]> {
    return q.query<T>({ sql, timeout: this.timeoutMs }, values);
  }
}

export function create(options: MysqlOptions, ctx: ComponentContext): Promise<StateStore> {
  return MysqlStateStore.open(options, ctx.logger.child({ component: ctx.name, type: "state.mysql" }));
}

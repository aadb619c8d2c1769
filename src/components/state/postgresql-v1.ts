/**
 * state.postgresql v1 (alias state.postgres): Dapr's v1 layout — `value jsonb` with an `isbinary`
 * flag (raw bytes stored as a JSON string of their base64), the row's `xmin` as the ETag,
 * `insertdate`/`updatedate`/`expiredate` timestamps and a `row_id` identity with its unique index;
 * migration level `migrations` = "3" and `last-cleanup` in the metadata table.
 */
import {
  ETagInvalidError,
  ETagMismatchError,
  type DeleteRequest,
  type SetRequest,
  type StateStore,
} from "../../blocks/state/contract.js";
import type pg from "pg";
import type { ComponentContext } from "../shared/context.js";
import { performMigrations } from "../shared/postgresql/migrations.js";
import {
  hasEtag,
  keySortsBytewise,
  metadataSchema,
  openPool,
  PostgresStateBase,
  ttlParam,
  usesNamedStatements,
  type BaseOptions,
  type PostgresStateOptions,
  type Queryable,
  type Row,
} from "./postgresql-common.js";
import { addRowIdentity } from "./postgresql-row-id.js";

export { metadataSchema };

const LIVE = "(expiredate IS NULL OR expiredate >= CURRENT_TIMESTAMP)";
const EXPIRY = "CASE WHEN $4::integer IS NULL THEN NULL ELSE CURRENT_TIMESTAMP + $4::integer * interval '1 second' END";
const UINT32_MAX = 4294967295;

/** The xmin ETag as Dapr parses it: a decimal uint32, else invalid. */
function parseEtag(etag: string): string {
  if (!/^\d{1,10}$/.test(etag) || Number(etag) > UINT32_MAX) throw new ETagInvalidError(`invalid etag value: ${etag} is not a uint32`);
  return String(Number(etag));
}

/**
 * jsonb renders with a space after `:` and `,`; drop the whitespace outside strings so reads give
 * compact JSON (equivalent to what Dapr returns, the same text as Tandem's other stores).
 */
export function compactJson(text: string): string {
  // jsonb's rendering has no whitespace but the separators' spaces; strings are matched whole and kept.
  return text.includes(" ") || text.includes("\n") ? text.replace(/("(?:[^"\\]|\\.)*")|\s+/g, (_m, str: string | undefined) => str ?? "") : text;
}

export class PostgresStateV1 extends PostgresStateBase {
  protected readonly live = LIVE;
  private readonly sql: { upsert: string; firstWrite: string; update: string; del: string; delIfEtag: string };

  constructor(base: BaseOptions) {
    super(base);
    const t = this.table;
    const insert = `INSERT INTO ${t} AS t (key, value, isbinary, expiredate) VALUES ($1, $2::jsonb, $3, ${EXPIRY})
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, isbinary = EXCLUDED.isbinary, updatedate = CURRENT_TIMESTAMP, expiredate = EXCLUDED.expiredate`;
    this.sql = {
      upsert: insert,
      // first-write: the row may exist but be expired and not yet swept; then it is replaced.
      firstWrite: `${insert} WHERE t.expiredate IS NOT NULL AND t.expiredate < CURRENT_TIMESTAMP`,
      update: `UPDATE ${t} SET value = $2::jsonb, isbinary = $3, updatedate = CURRENT_TIMESTAMP, expiredate = ${EXPIRY}
        WHERE key = $1 AND xmin = $5::xid AND ${LIVE}`,
      del: `DELETE FROM ${t} WHERE key = $1`,
      delIfEtag: `DELETE FROM ${t} WHERE key = $1 AND xmin = $2::xid AND ${LIVE}`,
    };
  }

  /** Each item in its own statement (as Dapr's loop over Set): rows written in one transaction would share an xmin, hence an ETag. */
  override async bulkSet(reqs: readonly SetRequest[]): Promise<void> {
    for (const r of reqs) await this.write(this.db, r);
  }

  protected columns(keysOnly: boolean): string {
    return `key, ${keysOnly ? "" : "value::text AS value, isbinary, "}xmin::text AS etag, expiredate AS expires`;
  }

  protected decode(row: Row): Buffer {
    const text = typeof row.value === "string" ? row.value : (row.value?.toString("utf8") ?? "");
    if (row.isbinary === true) return Buffer.from(JSON.parse(text) as string, "base64");
    return Buffer.from(compactJson(text), "utf8");
  }

  protected async write(q: Queryable, req: SetRequest): Promise<void> {
    const value = req.isBinary ? JSON.stringify(req.value.toString("base64")) : req.value.toString("utf8");
    const params: unknown[] = [req.key, value, req.isBinary, ttlParam(req)];
    if (hasEtag(req)) {
      params.push(parseEtag(req.etag));
      if ((await this.run(q, this.sql.update, params)).rowCount !== 1) throw new ETagMismatchError();
    } else if (req.options.concurrency === "first-write") {
      if ((await this.run(q, this.sql.firstWrite, params)).rowCount !== 1) throw new ETagMismatchError();
    } else {
      await this.run(q, this.sql.upsert, params);
    }
  }

  protected async remove(q: Queryable, req: DeleteRequest): Promise<void> {
    if (!hasEtag(req)) {
      await this.run(q, this.sql.del, [req.key]);
    } else if ((await this.run(q, this.sql.delIfEtag, [req.key, parseEtag(req.etag)])).rowCount !== 1) {
      throw new ETagMismatchError();
    }
  }
}

/** Dapr's v1 migrations: 0 creates the table, 1 adds `expiredate`, 2 adds the `row_id` identity and its unique index. */
async function migrate(db: pg.Pool, options: PostgresStateOptions): Promise<void> {
  const t = options.tableName;
  await performMigrations(db, {
    metadataTable: options.metadataTableName,
    key: "migrations",
    missingTable: async (d) => (await d.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [t])).rows[0]?.found !== true,
    migrations: [
      async (d) => {
        await d.query(`CREATE TABLE IF NOT EXISTS ${t} (
          key text NOT NULL PRIMARY KEY,
          value jsonb NOT NULL,
          isbinary boolean NOT NULL,
          insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
          updatedate TIMESTAMP WITH TIME ZONE NULL
        )`);
      },
      async (d) => {
        await d.query(`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS expiredate TIMESTAMP WITH TIME ZONE`);
      },
      (d) => addRowIdentity(d, t, "insertdate"),
    ],
  });
}

export async function create(options: PostgresStateOptions, ctx: ComponentContext): Promise<StateStore> {
  const component = "state.postgresql";
  const logger = ctx.logger.child({ component: ctx.name, type: "state.postgresql", version: "v1" });
  const pool = await openPool(options, component, logger);
  try {
    await migrate(pool, options);
    const bytewise = await keySortsBytewise(pool, options.tableName);
    return new PostgresStateV1({
      component,
      table: options.tableName,
      pool,
      named: usesNamedStatements(options),
      keyExpr: bytewise ? "key" : 'key COLLATE "C"',
      sweeper: {
        metadataTable: options.metadataTableName,
        key: "last-cleanup",
        deleteExpired: `DELETE FROM ${options.tableName} WHERE expiredate IS NOT NULL AND expiredate < CURRENT_TIMESTAMP`,
      },
      cleanupIntervalMs: options.cleanupInterval,
      logger,
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

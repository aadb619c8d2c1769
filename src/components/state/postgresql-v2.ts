/**
 * state.postgresql v2: Dapr's v2 layout — table `<tablePrefix>state` with `value bytea` (raw bytes or
 * the JSON text, no binary flag), a random uuid ETag the server draws on every write,
 * `created_at`/`updated_at`/`expires_at` (indexed) and a `row_id` identity with its unique index;
 * migration level `migrations-state-v2-<tablePrefix>` = "2" and `last-cleanup-state-v2-<tablePrefix>`.
 */
import type pg from "pg";
import { ETagMismatchError, type DeleteRequest, type SetRequest, type StateStore } from "../../blocks/state/contract.js";
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

const LIVE = "(expires_at IS NULL OR expires_at >= now())";
const EXPIRY = "CASE WHEN $3::integer IS NULL THEN NULL ELSE now() + $3::integer * interval '1 second' END";
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export class PostgresStateV2 extends PostgresStateBase {
  protected readonly live = LIVE;
  private readonly sql: { upsert: string; firstWrite: string; update: string; del: string; delIfEtag: string };

  constructor(base: BaseOptions) {
    super(base);
    const t = this.table;
    const insert = `INSERT INTO ${t} AS t (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), ${EXPIRY})
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), etag = gen_random_uuid(), expires_at = EXCLUDED.expires_at`;
    this.sql = {
      upsert: insert,
      firstWrite: `${insert} WHERE t.expires_at IS NOT NULL AND t.expires_at < now()`,
      update: `UPDATE ${t} SET value = $2, updated_at = now(), etag = gen_random_uuid(), expires_at = ${EXPIRY}
        WHERE key = $1 AND etag = $4::uuid AND ${LIVE}`,
      del: `DELETE FROM ${t} WHERE key = $1`,
      delIfEtag: `DELETE FROM ${t} WHERE key = $1 AND etag = $2::uuid AND ${LIVE}`,
    };
  }

  protected columns(keysOnly: boolean): string {
    return `key, ${keysOnly ? "" : "value, "}etag::text AS etag, expires_at AS expires`;
  }

  protected decode(row: Row): Buffer {
    return Buffer.isBuffer(row.value) ? row.value : Buffer.from(row.value ?? "", "utf8");
  }

  protected async write(q: Queryable, req: SetRequest): Promise<void> {
    const params: unknown[] = [req.key, req.value, ttlParam(req)];
    if (hasEtag(req)) {
      // Dapr's rule: an ETag that is not a uuid cannot match.
      if (!UUID.test(req.etag)) throw new ETagMismatchError(`etag mismatch: ${req.etag} is not a uuid`);
      params.push(req.etag);
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
      return;
    }
    if (!UUID.test(req.etag)) throw new ETagMismatchError(`etag mismatch: ${req.etag} is not a uuid`);
    if ((await this.run(q, this.sql.delIfEtag, [req.key, req.etag])).rowCount !== 1) throw new ETagMismatchError();
  }
}

/** `<schema.>prefix` + `state`. */
export function stateTableName(prefix: string): string {
  return `${prefix}state`;
}

/** Dapr's v2 migrations: 1 creates the table and the expires_at index, 2 adds the `row_id` identity and its unique index. */
async function migrate(db: pg.Pool, options: PostgresStateOptions, prefix: string, table: string): Promise<void> {
  await performMigrations(db, {
    metadataTable: options.metadataTableName,
    key: `migrations-state-v2-${prefix}`,
    missingTable: async (d) => (await d.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [table])).rows[0]?.found !== true,
    migrations: [
      async (d) => {
        const exists = await d.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [table]);
        if (exists.rows[0]?.found === true) return;
        await d.query(`CREATE TABLE IF NOT EXISTS ${table} (
          key text NOT NULL PRIMARY KEY,
          value bytea NOT NULL,
          etag uuid NOT NULL DEFAULT gen_random_uuid(),
          created_at timestamp with time zone NOT NULL DEFAULT now(),
          updated_at timestamp with time zone,
          expires_at timestamp with time zone
        )`);
        await d.query(`CREATE INDEX ON ${table} (expires_at)`);
      },
      (d) => addRowIdentity(d, table, "created_at"),
    ],
  });
}

export async function create(options: PostgresStateOptions, ctx: ComponentContext): Promise<StateStore> {
  const component = "state.postgresql";
  const logger = ctx.logger.child({ component: ctx.name, type: "state.postgresql", version: "v2" });
  const prefix = options.tablePrefix ?? "";
  const table = stateTableName(prefix);
  const pool = await openPool(options, component, logger);
  try {
    await migrate(pool, options, prefix, table);
    const bytewise = await keySortsBytewise(pool, table);
    return new PostgresStateV2({
      component,
      table,
      pool,
      named: usesNamedStatements(options),
      keyExpr: bytewise ? "key" : 'key COLLATE "C"',
      sweeper: {
        metadataTable: options.metadataTableName,
        key: `last-cleanup-state-v2-${prefix}`,
        deleteExpired: `DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at < now()`,
      },
      cleanupIntervalMs: options.cleanupInterval,
      logger,
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

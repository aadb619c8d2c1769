/**
 * Dapr's migration bookkeeping on PostgreSQL: a metadata table `key text PK, value text`, a `lock`
 * row locked with `SELECT ... FOR UPDATE` inside a transaction that is always rolled back (row locks
 * work on every PostgreSQL-compatible server, unlike advisory locks), and the migration level under
 * a component-chosen key (`migrations`, `migrations-state-v2-<prefix>`...). Also the expired-row
 * sweeper that records its last run in the same table, so sidecars sharing a database sweep once.
 */
import type pg from "pg";
import type { Logger } from "../../../observability/logger.js";

/** `name` or `schema.name`, letters, digits and `_` only (names are interpolated into SQL). */
export function validTableName(v: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(v);
}

export type Migration = (db: pg.Pool) => Promise<void>;

export interface MigrateOptions {
  readonly metadataTable: string;
  /** The metadata row holding this component's migration level. */
  readonly key: string;
  /** Migration i brings the level from i to i+1. */
  readonly migrations: readonly Migration[];
  /**
   * True when the migrations must run from the start whatever the recorded level: the level is
   * per metadata table, so a second component sharing it with another table name finds it done.
   */
  readonly missingTable?: (db: pg.Pool) => Promise<boolean>;
}

/** What a CREATE ... IF NOT EXISTS racing another session can fail with: unique_violation on pg_type, duplicate_object ("type ... already exists"), duplicate_table. */
const CREATE_RACE_CODES = new Set(["23505", "42710", "42P07"]);

export async function ensureMetadataTable(db: pg.Pool, metadataTable: string): Promise<void> {
  // Concurrent CREATE TABLE IF NOT EXISTS can race on pg_type's unique index: retry.
  for (let attempt = 0; ; attempt++) {
    try {
      await db.query(`CREATE TABLE IF NOT EXISTS ${metadataTable} (
        key text NOT NULL PRIMARY KEY,
        value text NOT NULL
      )`);
      return;
    } catch (err) {
      if (!CREATE_RACE_CODES.has((err as { code?: string }).code ?? "") || attempt >= 9) throw err;
      // Another sidecar created it at the same moment: the next attempt finds it.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Run the migrations not yet applied, one sidecar at a time. */
export async function performMigrations(db: pg.Pool, opts: MigrateOptions): Promise<void> {
  await ensureMetadataTable(db, opts.metadataTable);
  await db.query(`INSERT INTO ${opts.metadataTable} (key, value) VALUES ('lock', 'lock') ON CONFLICT (key) DO NOTHING`);
  const lock = await db.connect();
  try {
    await lock.query("BEGIN");
    await lock.query(`SELECT value FROM ${opts.metadataTable} WHERE key = 'lock' FOR UPDATE`);
    // The migrations run on other connections while this transaction holds the row lock.
    const found = await db.query<{ value: string }>(`SELECT value FROM ${opts.metadataTable} WHERE key = $1`, [opts.key]);
    const raw = found.rows[0]?.value;
    if (raw !== undefined && !/^\d+$/.test(raw)) throw new Error(`invalid migration level "${raw}" in ${opts.metadataTable} (key ${opts.key})`);
    const start = raw === undefined || (opts.missingTable !== undefined && (await opts.missingTable(db))) ? 0 : Number(raw);
    for (let level = start; level < opts.migrations.length; level++) {
      await (opts.migrations[level] as Migration)(db);
      await db.query(
        `INSERT INTO ${opts.metadataTable} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`,
        [opts.key, String(level + 1)],
      );
    }
  } finally {
    await lock.query("ROLLBACK").catch(() => undefined);
    lock.release();
  }
}

export interface SweeperOptions {
  readonly metadataTable: string;
  /** The metadata row recording the last sweep (`last-cleanup`...). */
  readonly key: string;
  /** DELETE statement removing the expired rows. */
  readonly deleteExpired: string;
  readonly intervalMs: number;
  readonly logger: Logger;
}

/**
 * Delete expired rows unless any sidecar swept within `intervalMs` (checked and recorded in one
 * transaction). Returns the rows removed, or undefined when skipped.
 */
export async function sweepExpired(db: pg.Pool, opts: Omit<SweeperOptions, "logger">, intervalMs = opts.intervalMs): Promise<number | undefined> {
  const client = await db.connect();
  try {
    await client.query("BEGIN");
    const marked = await client.query(
      `INSERT INTO ${opts.metadataTable} (key, value) VALUES ($1, now()::text)
       ON CONFLICT (key) DO UPDATE SET value = now()::text
       WHERE (EXTRACT('epoch' FROM now() - ${opts.metadataTable}.value::timestamp with time zone) * 1000)::bigint > $2`,
      [opts.key, Math.max(0, intervalMs - 100)],
    );
    if (marked.rowCount === 0) {
      await client.query("ROLLBACK");
      return undefined;
    }
    const removed = await client.query(opts.deleteExpired);
    await client.query("COMMIT");
    return removed.rowCount ?? 0;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Start the periodic sweeper; returns the function that stops it. */
export function scheduleSweeper(db: pg.Pool, opts: SweeperOptions): () => void {
  const timer = setInterval(() => {
    sweepExpired(db, opts).then(
      (n) => {
        if (n !== undefined) opts.logger.debug({ removed: n }, "removed expired state rows");
      },
      (err: unknown) => opts.logger.error({ err }, "error removing expired state rows"),
    );
  }, opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

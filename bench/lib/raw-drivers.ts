/**
 * The raw-client baselines of bench/state-stores.ts, run inside the load generator's process: the
 * same storage operation a Tandem state component runs for one GET or SET, sent with the same
 * driver, the same client options and the same statements, with no sidecar in between.
 *
 * - redis: GET = `HGETALL key` + `PTTL key` (sent together, ioredis auto-pipelining, as state.redis
 *   does); SET = state.redis's own SET script (`EVALSHA`, the exact Lua Tandem registers) with
 *   etag "0", the value, first-write "1", no TTL. One ioredis connection, as the component has.
 * - postgresql v1 / v2: the component's SELECT (`... xmin::text AS etag ...` on v1) and
 *   `INSERT ... ON CONFLICT (key) DO UPDATE` texts, as named (prepared) statements, on a pg Pool.
 * - mysql: the component's SELECT and `REPLACE INTO` (text protocol, `query`), on a mysql2 pool
 *   with the component's client flags.
 *
 * A GET that finds no row counts as an error: the baseline must read what the sidecar stored.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import pg from "pg";
import { SET_SCRIPT } from "../../src/components/state/redis-scripts.js";
import type { Send } from "./load-gen.js";

export type StoreKind = "redis" | "postgresql-v1" | "postgresql-v2" | "mysql";

export interface DriverJob {
  readonly store: StoreKind;
  readonly op: "GET" | "SET";
  /** redis: host/port; postgresql: url; mysql: host/port/user/database. */
  readonly connection: { readonly host?: string; readonly port?: number; readonly url?: string; readonly user?: string; readonly database?: string };
  /** Keys cycled, as the sidecar stores them (`<app-id>||k<i>`). */
  readonly keys: readonly string[];
  /** The 1 KiB JSON value, as the bytes the sidecar stores. */
  readonly value: string;
  /** Client connections (pg and mysql pools); redis always uses one connection, as the component. */
  readonly poolSize: number;
}

export interface Driver {
  readonly send: Send;
  close(): Promise<void>;
}

type Op = () => Promise<unknown>;

function driverSend(ops: readonly Op[]): Send {
  return (i, done) => {
    (ops[i % ops.length] as Op)().then(
      () => done(200, undefined),
      (err: unknown) => done(undefined, err instanceof Error ? err : new Error(String(err))),
    );
  };
}

const notFound = (key: string) => new Error(`raw GET: no row for ${key}`);

export async function openDriver(job: DriverJob, connections: number): Promise<Driver> {
  const value = Buffer.from(job.value);
  const c = job.connection;
  switch (job.store) {
    case "redis": {
      const client = new Redis({ host: c.host ?? "127.0.0.1", port: c.port ?? 6379, enableAutoPipelining: true, lazyConnect: true });
      client.defineCommand("tandemSet", { numberOfKeys: 1, lua: SET_SCRIPT });
      await client.connect();
      const scripted = client as unknown as { tandemSet(key: string, etag: string, data: Buffer, firstWrite: string, ttl: string): Promise<number> };
      const ops = job.keys.map((key): Op =>
        job.op === "GET"
          ? async () => {
              const [hash] = await Promise.all([client.hgetallBuffer(key), client.pttl(key)]);
              if (hash.data === undefined) throw notFound(key);
            }
          : () => scripted.tandemSet(key, "0", value, "1", ""),
      );
      // Unmeasured: load the script (EVALSHA thereafter) before the first timed request.
      if (job.op === "SET" && job.keys[0] !== undefined) await scripted.tandemSet(job.keys[0], "0", value, "1", "");
      return { send: driverSend(ops), close: async () => void (await client.quit()) };
    }
    case "postgresql-v1":
    case "postgresql-v2": {
      const v1 = job.store === "postgresql-v1";
      const pool = new pg.Pool({ connectionString: c.url ?? "", max: job.poolSize });
      const select = v1
        ? "SELECT key, value::text AS value, isbinary, xmin::text AS etag, expiredate AS expires FROM state WHERE key = $1 AND (expiredate IS NULL OR expiredate >= CURRENT_TIMESTAMP)"
        : "SELECT key, value, etag::text AS etag, expires_at AS expires FROM state WHERE key = $1 AND (expires_at IS NULL OR expires_at >= now())";
      const upsert = v1
        ? `INSERT INTO state AS t (key, value, isbinary, expiredate) VALUES ($1, $2::jsonb, $3, CASE WHEN $4::integer IS NULL THEN NULL ELSE CURRENT_TIMESTAMP + $4::integer * interval '1 second' END)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, isbinary = EXCLUDED.isbinary, updatedate = CURRENT_TIMESTAMP, expiredate = EXCLUDED.expiredate`
        : `INSERT INTO state AS t (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), CASE WHEN $3::integer IS NULL THEN NULL ELSE now() + $3::integer * interval '1 second' END)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), etag = gen_random_uuid(), expires_at = EXCLUDED.expires_at`;
      const ops = job.keys.map((key): Op =>
        job.op === "GET"
          ? async () => {
              const res = await pool.query({ name: "bench_select", text: select, values: [key] });
              if (res.rows.length === 0) throw notFound(key);
            }
          : () => pool.query({ name: "bench_upsert", text: upsert, values: v1 ? [key, job.value, false, null] : [key, value, null] }),
      );
      // Unmeasured: open the pool's connections before the first timed request.
      await Promise.all(Array.from({ length: Math.min(job.poolSize, connections) }, () => pool.query("SELECT 1")));
      return { send: driverSend(ops), close: () => pool.end() };
    }
    case "mysql": {
      const pool = mysql.createPool({
        host: c.host ?? "127.0.0.1",
        port: c.port ?? 3306,
        user: c.user ?? "root",
        database: c.database ?? "dapr_state_store",
        connectionLimit: job.poolSize,
        jsonStrings: true,
        supportBigNumbers: true,
        flags: ["-FOUND_ROWS"],
        enableKeepAlive: true,
      });
      const select = "SELECT id, value, isbinary, eTag, UNIX_TIMESTAMP(expiredate) AS expires FROM state WHERE id = ? AND (expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)";
      const replace = "REPLACE INTO state (id, value, isbinary, eTag, expiredate) VALUES (?, ?, ?, ?, NULL)";
      const ops = job.keys.map((key): Op =>
        job.op === "GET"
          ? async () => {
              const [rows] = await pool.query<mysql.RowDataPacket[]>({ sql: select, timeout: 20_000 }, [key]);
              if (rows.length === 0) throw notFound(key);
            }
          : () => pool.query({ sql: replace, timeout: 20_000 }, [key, job.value, 0, randomUUID()]),
      );
      await Promise.all(Array.from({ length: Math.min(job.poolSize, connections) }, () => pool.query("SELECT 1")));
      return { send: driverSend(ops), close: () => pool.end() };
    }
  }
}

/** state.postgresql specifics: connection options, registry names, query modes, collations, metadata checks. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { poolConfig, parseConnectionString } from "../../../src/components/shared/postgresql/connection.js";
import { resolveComponentType } from "../../../src/components/registry.js";
import { compactJson } from "../../../src/components/state/postgresql-v1.js";
import { MetadataError } from "../../../src/kit/metadata-schema.js";
import { freshName, openPostgres, postgres } from "./postgres-fixture.js";

const put = (key: string, text: string) => ({ key, value: Buffer.from(text), isBinary: false, options: {}, metadata: {} });

void describe("state.postgresql component", () => {
  test("state - postgresql parses libpq key=value strings and URLs", () => {
    assert.deepEqual(parseConnectionString("host=db port=5433 user=u password='p w\\'x' dbname=d sslmode=disable"), {
      host: "db",
      port: "5433",
      user: "u",
      password: "p w'x",
      dbname: "d",
      sslmode: "disable",
    });
    assert.deepEqual(parseConnectionString("postgres://u%40x:p%3Aw@db.example:6000/my%20db?sslmode=require&pool_max_conns=7"), {
      host: "db.example",
      port: "6000",
      user: "u@x",
      password: "p:w",
      dbname: "my db",
      sslmode: "require",
      pool_max_conns: "7",
    });
    assert.throws(() => parseConnectionString("host"), MetadataError);
  });

  test("state - postgresql v1 returns jsonb's rendering as compact JSON", () => {
    for (const text of ['{"a": 1, "b": [1, 2, {"c": "x y"}]}', '"he said \\"a b\\" ok"', '"a\\\\"', '{"k \\\\": " v "}', "42", "[]"]) {
      assert.equal(compactJson(text), JSON.stringify(JSON.parse(text)), text);
    }
  });

  test("state - postgresql builds the pool from the string or the discrete fields", () => {
    const fromString = poolConfig({ connectionString: "host=h port=1 user=u dbname=d pool_max_conns=3 sslmode=require", timeout: 5000 }, "t");
    assert.equal(fromString.host, "h");
    assert.equal(fromString.port, 1);
    assert.equal(fromString.database, "d");
    assert.equal(fromString.max, 3);
    assert.equal(fromString.statement_timeout, 5000);
    assert.deepEqual(fromString.ssl, { rejectUnauthorized: false, checkServerIdentity: (fromString.ssl as { checkServerIdentity: unknown }).checkServerIdentity });
    const discrete = poolConfig({ host: "x", port: 9, user: "me", password: "pw", timeout: 1000, maxConns: 2, connectionMaxIdleTime: 60_000 }, "t");
    assert.deepEqual([discrete.host, discrete.port, discrete.user, discrete.password, discrete.database, discrete.max, discrete.idleTimeoutMillis], ["x", 9, "me", "pw", "me", 2, 60_000]);
    assert.equal(discrete.ssl, undefined, "sslmode prefer (the default) connects without TLS");
    assert.throws(() => poolConfig({ timeout: 1000 }, "t"), MetadataError);
    assert.throws(() => poolConfig({ connectionString: "host=h sslmode=sometimes", timeout: 1000 }, "t"), MetadataError);
  });

  test("state - postgresql is registered with versions v1 and v2 and the alias state.postgres", () => {
    assert.equal(resolveComponentType("state.postgresql", "").version, "v1");
    const v2 = resolveComponentType("state.postgres", "v2");
    assert.deepEqual([v2.type, v2.version], ["state.postgresql", "v2"]);
    assert.throws(() => resolveComponentType("state.postgresql", "v3"), /supported versions: v1, v2/);
  });

  test("state - postgresql works with discrete fields and the simple protocol (PgBouncer)", async () => {
    const s = await postgres();
    for (const version of ["v1", "v2"] as const) {
      const store = await openPostgres(version, {
        connectionString: "",
        host: "127.0.0.1",
        port: String(s.port),
        user: "postgres",
        database: "postgres",
        queryExecMode: "simple_protocol",
        ...(version === "v1" ? { tableName: freshName() } : { tablePrefix: `${freshName()}_` }),
      });
      try {
        await store.set(put("k", '{"a":1}'));
        assert.equal((await store.get({ key: "k", metadata: {} }))?.data.toString(), '{"a":1}');
      } finally {
        await store.close();
      }
    }
  });

  test("state - postgresql scans by byte order on a table with a linguistic collation", async () => {
    const s = await postgres();
    const t = freshName();
    const c = new pg.Client({ connectionString: s.url });
    await c.connect();
    const icu = (await c.query<{ collname: string }>("SELECT collname FROM pg_collation WHERE collname = 'und-x-icu'")).rows.length > 0;
    const collation = icu ? '"und-x-icu"' : '"en_US"';
    try {
      await c.query(`CREATE TABLE ${t} (key text COLLATE ${collation} NOT NULL PRIMARY KEY, value jsonb NOT NULL, isbinary boolean NOT NULL,
        insertdate timestamptz NOT NULL DEFAULT now(), updatedate timestamptz NULL)`);
    } catch (err) {
      await c.end();
      throw err;
    }
    await c.end();
    // Its own metadata table: the migrations run from level 0 on the table as Dapr's migration 0 left it.
    const store = await openPostgres("v1", { tableName: t, metadataTableName: `${t}_meta` });
    try {
      const keys = ["a", "B", "b", "a-b", "ab", "A", "a_", "é"];
      for (const k of keys) await store.set(put(k, "1"));
      const scan = (store.scan as NonNullable<typeof store.scan>).bind(store);
      const all = await scan({ prefix: "", limit: 100, keysOnly: true });
      assert.deepEqual(all.entries.map((e) => e.key), [...keys].sort(), "ordered by UTF-8 bytes, not the collation");
      const a = await scan({ prefix: "a", limit: 100, keysOnly: true });
      assert.deepEqual(a.entries.map((e) => e.key), ["a", "a-b", "a_", "ab"]);
    } finally {
      await store.close();
    }
  });

  test("state - postgresql refuses bad table names and metadata", async () => {
    await assert.rejects(openPostgres("v1", { tableName: "state; DROP TABLE x" }), MetadataError);
    await assert.rejects(openPostgres("v2", { tablePrefix: "a-b" }), MetadataError);
    await assert.rejects(openPostgres("v1", { metadataTableName: "x.y.z" }), MetadataError);
    await assert.rejects(openPostgres("v1", { timeout: "100ms" }), MetadataError);
  });

  test("state - postgresql recovers by itself when the server drops its connections", async () => {
    const s = await postgres();
    const store = await openPostgres("v2", { tablePrefix: `${freshName()}_`, maxConns: "2" });
    try {
      await store.set(put("k", "1"));
      await Promise.all([store.get({ key: "k", metadata: {} }), store.get({ key: "k", metadata: {} })]);
      const admin = new pg.Client({ connectionString: s.url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tandem' AND pid <> pg_backend_pid()");
      await admin.end();
      // Dropped idle connections are discarded (an event the pool handles, no crash); a query on a
      // connection dropped mid-flight fails, and the next ones run on new connections.
      let ok = 0;
      for (let i = 0; i < 5; i++) {
        try {
          if ((await store.get({ key: "k", metadata: {} }))?.data.toString() === "1") ok++;
        } catch {
          // the first attempts may still meet a dead connection
        }
      }
      assert.ok(ok >= 3, `reads succeed again (${ok}/5)`);
      assert.equal((await store.get({ key: "k", metadata: {} }))?.data.toString(), "1");
    } finally {
      await store.close();
    }
  });

  test("state - postgresql fails an operation that waits past the timeout, and carries on", async () => {
    const s = await postgres();
    const t = freshName();
    const store = await openPostgres("v1", { tableName: t, timeout: "1s" });
    const blocker = new pg.Client({ connectionString: s.url });
    await blocker.connect();
    try {
      await store.set(put("k", "1"));
      await blocker.query("BEGIN");
      await blocker.query(`SELECT * FROM ${t} WHERE key = 'k' FOR UPDATE`);
      const started = Date.now();
      await assert.rejects(store.set(put("k", "2")), /timeout|cancel/i);
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 5000, `failed after ${took}ms`);
      await blocker.query("ROLLBACK");
      await store.set(put("k", "3"));
      assert.equal((await store.get({ key: "k", metadata: {} }))?.data.toString(), "3");
    } finally {
      await blocker.end();
      await store.close();
    }
  });

  test("state - postgresql init fails within the timeout when the server is unreachable", async () => {
    const started = Date.now();
    await assert.rejects(openPostgres("v1", { connectionString: "host=127.0.0.1 port=1 user=postgres sslmode=disable", timeout: "2s" }));
    assert.ok(Date.now() - started < 10_000);
  });
});

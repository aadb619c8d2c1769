/** state.mysql specifics beyond the conformance suite: Go DSN parsing, metadata checks, key collations, session variables. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mysql from "mysql2/promise";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import { parseGoDsn, poolOptions, withDatabase } from "../../../src/components/shared/mysql/dsn.js";
import * as mysqlState from "../../../src/components/state/mysql.js";
import { MetadataError, parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { freePort } from "../../harness/ports.js";
import { startMariadb } from "../../harness/servers/mariadb.js";
import { freshSchema, mariadb, openMysql } from "./mysql-fixture.js";

const open = (metadata: Record<string, string>) =>
  mysqlState.create(parseMetadata(mysqlState.metadataSchema, metadata), { name: "statestore", logger: silentLogger(), rawMetadata: metadata });

const set = (store: StateStore, key: string, ttlSeconds?: number) =>
  store.set({ key, value: Buffer.from(JSON.stringify(key)), isBinary: false, options: {}, metadata: {}, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });

async function scanAll(store: StateStore, prefix: string, limit = 2): Promise<string[]> {
  const scan = (store.scan as NonNullable<StateStore["scan"]>).bind(store);
  const keys: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await scan({ prefix, limit, keysOnly: true, ...(after !== undefined ? { after } : {}) });
    keys.push(...page.entries.map((e) => e.key));
    if (!page.more) return keys;
    after = page.entries.at(-1)?.key;
  }
}

void describe("state.mysql component", () => {
  test("state - mysql parses Go MySQL DSNs", () => {
    const d = parseGoDsn("dapr:p@ss:w/rd@tcp(db.example:3307)/?allowNativePasswords=true&parseTime=true&tls=skip-verify&timeout=5s");
    assert.equal(d.user, "dapr");
    assert.equal(d.password, "p@ss:w/rd");
    assert.equal(d.protocol, "tcp");
    assert.equal(d.address, "db.example:3307");
    assert.equal(d.database, "");
    const { options, sessionVariables } = poolOptions(withDatabase(d, "dapr_state_store"), { component: "state.mysql" });
    assert.equal(options.host, "db.example");
    assert.equal(options.port, 3307);
    assert.equal(options.database, "dapr_state_store");
    assert.equal(options.connectTimeout, 5000);
    assert.deepEqual(options.ssl, { rejectUnauthorized: false });
    assert.deepEqual(sessionVariables, []);

    const u = parseGoDsn("root@unix(/run/mysqld/mysqld.sock)/");
    assert.equal(u.protocol, "unix");
    assert.equal(poolOptions(u, { component: "state.mysql" }).options.socketPath, "/run/mysqld/mysqld.sock");
    assert.equal(parseGoDsn("u:p@tcp(h:1)/mydb?x=1").database, "mydb");
    const v6 = poolOptions(parseGoDsn("u@tcp([::1]:3306)/"), { component: "state.mysql" }).options;
    assert.deepEqual([v6.host, v6.port], ["::1", 3306]);
    const bare = poolOptions(parseGoDsn("/"), { component: "state.mysql" }).options;
    assert.deepEqual([bare.host, bare.port, bare.user], ["127.0.0.1", 3306, ""]);
    assert.deepEqual(poolOptions(parseGoDsn("u@tcp(h)/?sql_mode=%27ANSI%27"), { component: "state.mysql" }).sessionVariables, [["sql_mode", "'ANSI'"]]);

    assert.throws(() => parseGoDsn("no-slash"), MetadataError);
    assert.throws(() => parseGoDsn("u@ftp(h:1)/"), /protocol "ftp"/);
    assert.throws(() => poolOptions(parseGoDsn("u@tcp(h:1)/?tls=custom"), { component: "state.mysql" }), /pemPath/);
    assert.throws(() => poolOptions(parseGoDsn("u@tcp(h:1)/?tls=maybe"), { component: "state.mysql" }), /tls "maybe"/);
    assert.throws(() => poolOptions(parseGoDsn("u@tcp(h:1)/?timeout=soon"), { component: "state.mysql" }), /timeout/);
    assert.throws(() => poolOptions(parseGoDsn("u@tcp(h:1)/?bad-name=1"), { component: "state.mysql" }), /system variable/);
    assert.throws(() => poolOptions(parseGoDsn("u@tcp(h:1)/"), { component: "state.mysql", pemPath: "/nonexistent/ca.pem" }), /pemPath/);
  });

  test("state - mysql refuses a DSN naming a database and invalid identifiers, before connecting", async () => {
    await assert.rejects(open({ connectionString: "root@tcp(127.0.0.1:1)/mydb" }), (err: Error) => err instanceof MetadataError && /name no database/.test(err.message));
    for (const field of ["schemaName", "tableName", "metadataTableName"]) {
      await assert.rejects(open({ connectionString: "root@tcp(127.0.0.1:1)/", [field]: "bad-name;" }), (err: Error) => err instanceof MetadataError && err.field === field);
    }
    assert.throws(() => parseMetadata(mysqlState.metadataSchema, {}), /connectionString/);
    const defaults = parseMetadata(mysqlState.metadataSchema, { connectionString: "x@tcp(h:1)/" });
    assert.deepEqual(
      [defaults.schemaName, defaults.tableName, defaults.metadataTableName, defaults.timeoutInSeconds, defaults.cleanupInterval],
      ["dapr_state_store", "state", "dapr_metadata", 20, 3_600_000],
    );
  });

  test("state - mysql init fails with the driver's error when no server listens", async () => {
    const port = await freePort();
    await assert.rejects(open({ connectionString: `root@tcp(127.0.0.1:${port})/?timeout=2s` }), /ECONNREFUSED|connect/);
  });

  test("state - mysql scans a table whose key column uses a binary collation through the index", async () => {
    const schema = freshSchema();
    const s = await mariadb();
    const conn = await mysql.createConnection(s.clientOptions);
    await conn.query(`CREATE DATABASE ${schema}`);
    await conn.query(`CREATE TABLE ${schema}.state (
      id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY, value JSON NOT NULL, isbinary BOOLEAN NOT NULL,
      insertDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, updateDate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      eTag VARCHAR(36) NOT NULL, expiredate TIMESTAMP NULL, row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      INDEX expiredate_idx (expiredate), UNIQUE KEY row_id_uidx (row_id))`);
    await conn.end();
    const store = await openMysql({ schemaName: schema, cleanupInterval: "0" });
    try {
      assert.equal((store as unknown as { binaryKeys: boolean }).binaryKeys, true, "the collation is detected");
      const keys = ["a", "A", "ab", "aB", "abc", "a b", "a\tb", "a-", "a~", "b", "p\uffff", "p\u{10ffff}", "\u{10ffff}a"];
      for (const k of keys) await set(store, k);
      const bytewise = (x: string, y: string) => Buffer.compare(Buffer.from(x), Buffer.from(y));
      assert.deepEqual(await scanAll(store, ""), [...keys].sort(bytewise));
      assert.deepEqual(await scanAll(store, "a"), keys.filter((k) => k.startsWith("a")).sort(bytewise));
      assert.deepEqual(await scanAll(store, "ab", 10), ["ab", "abc"]);
      assert.deepEqual(await scanAll(store, "p\uffff"), ["p\uffff"]);
      assert.equal((await store.get({ key: "A", metadata: {} }))?.data.toString(), '"A"', "keys differing in case are distinct rows");
    } finally {
      await store.close();
    }
  });

  test("state - mysql sets DSN parameters as session variables on every connection", async () => {
    const s = await mariadb();
    const schema = freshSchema();
    const tz = encodeURIComponent("'+05:00'");
    const store = await open({ connectionString: `${s.dsn}&time_zone=${tz}`, schemaName: schema, cleanupInterval: "0" });
    try {
      const before = Date.now();
      await set(store, "k", 120);
      const got = await store.get({ key: "k", metadata: {} });
      const expires = Date.parse(got?.metadata?.ttlExpireTime ?? "");
      assert.ok(Math.abs(expires - (before + 120_000)) < 2_500, `ttlExpireTime is an instant, whatever the session time zone: ${got?.metadata?.ttlExpireTime}`);
      const [rows] = await (store as unknown as { pool: mysql.Pool }).pool.query<mysql.RowDataPacket[]>("SELECT @@session.time_zone AS tz");
      assert.equal(rows[0]?.["tz"], "+05:00");
    } finally {
      await store.close();
    }
  });

  test("state - mysql fails fast while its server is down and recovers by itself when it returns", async () => {
    // Its own server: this test crashes it.
    const server = await startMariadb();
    const store = await open({ connectionString: server.dsn, schemaName: "faults", timeoutInSeconds: "3", cleanupInterval: "0" });
    try {
      const multi = (store.multi as NonNullable<StateStore["multi"]>).bind(store);
      await set(store, "k");
      await server.halt("SIGKILL");
      for (const op of [() => store.get({ key: "k", metadata: {} }), () => set(store, "k2"), () => multi({ operations: [{ operation: "upsert", key: "t", value: Buffer.from("1"), isBinary: false, options: {}, metadata: {} }], metadata: {} })]) {
        const started = Date.now();
        await assert.rejects(op());
        assert.ok(Date.now() - started < 5_000, "a request fails within the operation timeout, no hang");
      }
      await server.restart();
      // The pool replaces its dead connections: the first request after the restart succeeds.
      assert.equal((await store.get({ key: "k", metadata: {} }))?.data.toString(), '"k"');
      await set(store, "k2");
      assert.equal((await store.get({ key: "k2", metadata: {} }))?.data.toString(), '"k2"');
    } finally {
      await store.close();
      await server.stop();
    }
  });
});

/**
 * Data compatibility with Dapr's state.mysql (components.md, state.mysql Layout note), on a private
 * MariaDB: tables and rows laid out by Dapr read the same through Tandem, and what Tandem writes is
 * what Dapr writes.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import mysql from "mysql2/promise";
import type { Connection, RowDataPacket } from "mysql2/promise";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import { keyPrefixStrategy } from "../../../src/blocks/state/key-prefix.js";
import { StateBlock } from "../../../src/blocks/state/state.js";
import type { MysqlStateStore } from "../../../src/components/state/mysql.js";
import { item } from "./fixture.js";
import { freshSchema, mariadb, openMysql } from "./mysql-fixture.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STORE = "statestore";

/** A raw client on the schema, in UTC so TIMESTAMP columns read as UTC text. */
async function raw(schema: string, create = false): Promise<Connection> {
  const s = await mariadb();
  const conn = await mysql.createConnection({ ...s.clientOptions, jsonStrings: true, dateStrings: true });
  await conn.query("SET time_zone = '+00:00'");
  if (create) await conn.query(`CREATE DATABASE ${schema}`);
  await conn.query(`USE ${schema}`);
  return conn;
}

/** The tables exactly as Dapr's Init creates them. */
async function createDaprTables(conn: Connection): Promise<void> {
  await conn.query(`CREATE TABLE IF NOT EXISTS state (
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
  )`);
  await conn.query("CREATE TABLE IF NOT EXISTS dapr_metadata (id VARCHAR(255) NOT NULL PRIMARY KEY, value TEXT NOT NULL)");
}

function blockFor(store: StateStore, appId = "myapp"): StateBlock {
  const block = new StateBlock(appId);
  block.register({ name: STORE, store, keyPrefix: keyPrefixStrategy(undefined, { appId, storeName: STORE, namespace: "" }), actorStateStore: false });
  return block;
}

async function rows<T = RowDataPacket>(conn: Connection, sql: string, values: unknown[] = []): Promise<T[]> {
  const [r] = await conn.query<RowDataPacket[]>(sql, values);
  return r as T[];
}

void describe("state.mysql Dapr layout", () => {
  test("state - mysql reads a schema written by Dapr", async () => {
    const schema = freshSchema();
    const conn = await raw(schema, true);
    await createDaprTables(conn);
    const binary = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xff]);
    const etags = { json: randomUUID(), bin: randomUUID(), expired: randomUUID(), future: randomUUID(), string: randomUUID(), other: randomUUID() };
    // As Dapr's Set writes them: Go-encoded JSON with isbinary 0; a JSON string of base64 with isbinary 1.
    const insert = (id: string, value: string, isBinary: number, etag: string, expiry = "NULL") =>
      conn.query(`INSERT INTO state (id, value, eTag, isbinary, expiredate) VALUES (?, ?, ?, ?, ${expiry})`, [id, value, etag, isBinary]);
    await insert("myapp||json", '{"n":1,"name":"Dapr"}', 0, etags.json);
    await insert("myapp||bin", JSON.stringify(binary.toString("base64")), 1, etags.bin);
    await insert("myapp||string", '"hello"', 0, etags.string);
    await insert("otherapp||json", '{"n":2,"name":"Other"}', 0, etags.other);
    await insert("myapp||expired", '"stale"', 0, etags.expired, "CURRENT_TIMESTAMP - INTERVAL 60 SECOND");
    await insert("myapp||future", '{"ttl":true}', 0, etags.future, "'2037-12-31 23:59:59'");
    const showCreate = async () => String((await rows(conn, "SHOW CREATE TABLE state"))[0]?.["Create Table"]).replace(/ AUTO_INCREMENT=\d+/, "");
    const createBefore = await showCreate();
    const rowIds = new Map((await rows<{ id: string; row_id: string }>(conn, "SELECT id, row_id FROM state")).map((r) => [r.id, Number(r.row_id)]));

    const store = await openMysql({ schemaName: schema, cleanupInterval: "0" });
    try {
      const block = blockFor(store);
      const get = (key: string) => block.get({ storeName: STORE, key, metadata: {} });

      const json = await get("json");
      assert.deepEqual(JSON.parse(json?.data.toString() ?? ""), { n: 1, name: "Dapr" });
      assert.equal(json?.etag, etags.json);
      assert.equal(json.metadata, undefined, "no expiry, no ttlExpireTime");
      const bin = await get("bin");
      assert.deepEqual(bin?.data, binary);
      assert.equal(bin.etag, etags.bin);
      assert.equal((await get("string"))?.data.toString(), '"hello"');
      assert.equal(await get("expired"), undefined, "a row whose expiredate has passed is invisible");
      const future = await get("future");
      assert.equal(future?.etag, etags.future);
      assert.deepEqual(future.metadata, { ttlExpireTime: "2037-12-31T23:59:59Z" });

      const bulk = await block.bulkGet({ storeName: STORE, keys: ["json", "expired", "bin", "nope"], metadata: {} });
      // Dapr's MySQL order: the rows found first, then the missing keys (expired counts as missing).
      assert.deepEqual(new Map(bulk.slice(0, 2).map((b) => [b.key, b.etag])), new Map([["json", etags.json], ["bin", etags.bin]]));
      assert.deepEqual(bulk.slice(2), [{ key: "expired" }, { key: "nope" }]);
      assert.deepEqual((await block.listKeys({ storeName: STORE })).keys, ["bin", "future", "json", "string"]);
      const q = await block.query({ storeName: STORE, query: { filter: { EQ: { name: "Dapr" } } }, metadata: {} });
      assert.deepEqual(q.results.map((r) => [r.key, r.etag]), [["json", etags.json]]);

      // Dapr's ETags work for concurrency; the write gets a fresh uuid and updates the row in place.
      await block.save({ storeName: STORE, items: [item("json", { n: 2 }, { etag: etags.json })] });
      const updated = await get("json");
      assert.match(updated?.etag ?? "", UUID_V4);
      assert.notEqual(updated?.etag, etags.json);
      await assert.rejects(block.save({ storeName: STORE, items: [item("string", 1, { etag: etags.json })] }), /etag/i);
      await block.delete({ storeName: STORE, key: "bin", etag: etags.bin, metadata: {}, options: {} });
      // first-write on a key whose only row has expired: the stale row is replaced.
      await block.save({ storeName: STORE, items: [item("expired", "fresh", { concurrency: "first-write" })] });
      assert.equal((await get("expired"))?.data.toString(), '"fresh"');

      const after = new Map((await rows<{ id: string; row_id: string; eTag: string }>(conn, "SELECT id, row_id, eTag FROM state")).map((r) => [r.id, r]));
      assert.equal(Number(after.get("myapp||json")?.row_id), rowIds.get("myapp||json"), "a save with an ETag updates the row in place");
      assert.equal(after.get("myapp||json")?.eTag, updated?.etag);
      assert.ok(!after.has("myapp||bin"));
      assert.equal(after.get("otherapp||json")?.eTag, etags.other, "another app's row is untouched");
      assert.equal(await showCreate(), createBefore, "opening the schema changes no table");
      assert.deepEqual(await rows(conn, "SELECT id FROM dapr_metadata"), [], "no migration rows");
    } finally {
      await store.close();
      await conn.end();
    }
  });

  test("state - mysql writes the rows Dapr writes", async () => {
    const schema = freshSchema();
    const store = await openMysql({ schemaName: schema, cleanupInterval: "0" });
    const conn = await raw(schema);
    try {
      const block = blockFor(store);
      const binary = Buffer.from([0x00, 0xff, 0x10, 0x80]);
      await block.save({ storeName: STORE, items: [item("key", { a: 1, b: "x" })] });
      await block.save({ storeName: STORE, items: [item("bin", binary)] });
      await block.save({ storeName: STORE, items: [item("ttl", "soon", { ttl: 60 })] });
      await block.transaction({ storeName: STORE, operations: [{ operation: "upsert", item: item("tx", [1, 2]) }], metadata: {} });

      // Schema: Dapr's columns, in Dapr's order, with Dapr's types, nullability and defaults (as MariaDB reports them).
      const columns = (table: string) =>
        rows<{ c: string; t: string; n: string; d: string | null; x: string }>(
          conn,
          `SELECT COLUMN_NAME c, COLUMN_TYPE t, IS_NULLABLE n, COLUMN_DEFAULT d, EXTRA x FROM information_schema.COLUMNS
           WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
          [schema, table],
        );
      assert.deepEqual(
        (await columns("state")).map((c) => [c.c, c.t, c.n, c.d, c.x]),
        [
          ["id", "varchar(255)", "NO", null, ""],
          ["value", "longtext", "NO", null, ""],
          ["isbinary", "tinyint(1)", "NO", null, ""],
          ["insertDate", "timestamp", "NO", "current_timestamp()", ""],
          ["updateDate", "timestamp", "NO", "current_timestamp()", "on update current_timestamp()"],
          ["eTag", "varchar(36)", "NO", null, ""],
          ["expiredate", "timestamp", "YES", "NULL", ""],
          ["row_id", "bigint(20) unsigned", "NO", null, "auto_increment"],
        ],
      );
      const create = String((await rows(conn, "SHOW CREATE TABLE state"))[0]?.["Create Table"]);
      assert.match(create, /CHECK \(json_valid\(`value`\)\)/, "MariaDB's JSON column");
      const indexes = await rows<{ Key_name: string; Column_name: string; Non_unique: number }>(conn, "SHOW INDEX FROM state");
      assert.deepEqual(
        indexes.map((i) => [i.Key_name, i.Column_name, Number(i.Non_unique)]).sort(),
        [["PRIMARY", "id", 0], ["expiredate_idx", "expiredate", 1], ["row_id_uidx", "row_id", 0]].sort(),
      );
      assert.deepEqual(
        (await columns("dapr_metadata")).map((c) => [c.c, c.t, c.n]),
        [["id", "varchar(255)", "NO"], ["value", "text", "NO"]],
      );

      type StateRow = { id: string; value: string; isbinary: number; eTag: string; expiredate: string | null; left: number | null; row_id: string };
      const all = await rows<StateRow>(conn, "SELECT id, value, isbinary, eTag, expiredate, TIMESTAMPDIFF(SECOND, CURRENT_TIMESTAMP, expiredate) AS `left`, row_id FROM state ORDER BY id");
      const byId = new Map(all.map((r) => [r.id, r]));
      assert.deepEqual([...byId.keys()], ["myapp||bin", "myapp||key", "myapp||ttl", "myapp||tx"], "keys are <appId>||<key>");
      for (const r of all) assert.match(r.eTag, UUID_V4);
      assert.deepEqual(JSON.parse(byId.get("myapp||key")?.value ?? ""), { a: 1, b: "x" });
      assert.equal(byId.get("myapp||key")?.isbinary, 0);
      // What Dapr's readRow does with a binary row: unmarshal the JSON string, then base64-decode it.
      const bin = byId.get("myapp||bin");
      assert.equal(bin?.isbinary, 1);
      assert.equal(bin.value, JSON.stringify(binary.toString("base64")));
      assert.deepEqual(Buffer.from(JSON.parse(bin.value) as string, "base64"), binary);
      assert.equal(byId.get("myapp||key")?.expiredate, null);
      const left = byId.get("myapp||ttl")?.left;
      assert.ok(left !== null && left !== undefined && left >= 58 && left <= 60, `expiredate is CURRENT_TIMESTAMP + 60s (${left}s left)`);
      assert.deepEqual(JSON.parse(byId.get("myapp||tx")?.value ?? ""), [1, 2]);

      // A save without ETag is REPLACE INTO: the row is re-created (new row_id), as Dapr's.
      const before = Number(byId.get("myapp||key")?.row_id);
      await block.save({ storeName: STORE, items: [item("key", { a: 2 })] });
      const [again] = await rows<{ row_id: string }>(conn, "SELECT row_id FROM state WHERE id = 'myapp||key'");
      assert.ok(Number(again?.row_id) > before);

      // The sweeper's bookkeeping: Dapr's `last-cleanup` row, honoured across runtimes.
      await conn.query("INSERT INTO state (id, value, eTag, isbinary, expiredate) VALUES ('myapp||gone', '1', ?, 0, CURRENT_TIMESTAMP - INTERVAL 5 SECOND)", [randomUUID()]);
      const mysqlStore = store as MysqlStateStore;
      assert.equal(await mysqlStore.cleanupExpired(3_600_000), 1, "first sweep runs");
      const [mark] = await rows<{ value: string }>(conn, "SELECT value FROM dapr_metadata WHERE id = 'last-cleanup'");
      assert.match(mark?.value ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.equal(await mysqlStore.cleanupExpired(3_600_000), undefined, "a sweep within the interval of the last one is skipped");
      await conn.query("UPDATE dapr_metadata SET value = CURRENT_TIMESTAMP - INTERVAL 2 HOUR WHERE id = 'last-cleanup'");
      assert.equal(await mysqlStore.cleanupExpired(3_600_000), 0, "an older last-cleanup (as Dapr writes it) lets the sweep run");
    } finally {
      await store.close();
      await conn.end();
    }
  });
});

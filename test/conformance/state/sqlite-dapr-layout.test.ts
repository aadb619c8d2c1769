/**
 * Data compatibility with Dapr's state.sqlite (components.md, state.sqlite Layout note): a database
 * laid out by Dapr reads the same through Tandem, and rows written by Tandem are the rows Dapr writes.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import { StateBlock } from "../../../src/blocks/state/state.js";
import { keyPrefixStrategy } from "../../../src/blocks/state/key-prefix.js";
import { openSqlite, removeTempDir, tempDatabasePath } from "./components.js";
import { item } from "./fixture.js";

after(removeTempDir);

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SQLITE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const STORE = "statestore";

/** The tables exactly as Dapr's migration 0 creates them. */
function createDaprDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(`CREATE TABLE IF NOT EXISTS metadata (
    key text NOT NULL PRIMARY KEY,
    value text NOT NULL
  )`);
  db.exec(`CREATE TABLE IF NOT EXISTS state (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    is_binary BOOLEAN NOT NULL,
    etag TEXT NOT NULL,
    expiration_time TIMESTAMP DEFAULT NULL,
    update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
  )`);
  db.prepare("REPLACE INTO metadata (key, value) VALUES ('migrations', ?)").run("1");
  return db;
}

function blockFor(store: StateStore, appId = "myapp"): StateBlock {
  const block = new StateBlock(appId);
  block.register({ name: STORE, store, keyPrefix: keyPrefixStrategy(undefined, { appId, storeName: STORE, namespace: "" }), actorStateStore: false });
  return block;
}

void describe("state.sqlite Dapr layout", () => {
  test("state - sqlite reads a database written by Dapr", async () => {
    const path = tempDatabasePath();
    const dapr = createDaprDatabase(path);
    const binary = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xff]);
    const etags = { json: randomUUID(), bin: randomUUID(), expired: randomUUID(), future: randomUUID(), string: randomUUID(), other: randomUUID() };
    // As Dapr's Set writes them: JSON text with is_binary 0, bare base64 with is_binary 1, DATETIME() expiry text.
    const insert = dapr.prepare(
      `INSERT OR REPLACE INTO state (key, value, is_binary, etag, update_time, expiration_time) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, ?)`,
    );
    insert.run("myapp||json", '{"n":1,"name":"Dapr"}', 0, etags.json, null);
    insert.run("myapp||bin", binary.toString("base64"), 1, etags.bin, null);
    insert.run("myapp||string", '"hello"', 0, etags.string, null);
    insert.run("otherapp||json", '{"n":2,"name":"Other"}', 0, etags.other, null);
    dapr.prepare(
      `INSERT INTO state (key, value, is_binary, etag, update_time, expiration_time) VALUES (?, ?, 0, ?, CURRENT_TIMESTAMP, DATETIME(CURRENT_TIMESTAMP, '-60 seconds'))`,
    ).run("myapp||expired", '"stale"', etags.expired);
    insert.run("myapp||future", '{"ttl":true}', 0, etags.future, "2099-12-31 23:59:59");
    const schemaBefore = dapr.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
    dapr.close();

    const store = await openSqlite({ connectionString: path });
    const block = blockFor(store);
    const get = (key: string) => block.get({ storeName: STORE, key, metadata: {} });

    const json = await get("json");
    assert.equal(json?.data.toString(), '{"n":1,"name":"Dapr"}');
    assert.equal(json.etag, etags.json);
    assert.equal(json.metadata, undefined, "no expiry, no ttlExpireTime");
    const bin = await get("bin");
    assert.deepEqual(bin?.data, binary);
    assert.equal(bin.etag, etags.bin);
    assert.equal((await get("string"))?.data.toString(), '"hello"');
    assert.equal(await get("expired"), undefined, "a row whose expiration_time has passed is invisible");
    const future = await get("future");
    assert.equal(future?.etag, etags.future);
    assert.deepEqual(future.metadata, { ttlExpireTime: "2099-12-31T23:59:59Z" });

    const bulk = await block.bulkGet({ storeName: STORE, keys: ["json", "expired", "bin", "nope"], metadata: {} });
    // Dapr's SQLite order: the rows found first, then the missing keys (expired counts as missing).
    assert.deepEqual(new Map(bulk.slice(0, 2).map((b) => [b.key, b.etag])), new Map([["json", etags.json], ["bin", etags.bin]]));
    assert.deepEqual(bulk.slice(2), [{ key: "expired" }, { key: "nope" }]);
    assert.deepEqual((await block.listKeys({ storeName: STORE })).keys, ["bin", "future", "json", "string"]);
    const q = await block.query({ storeName: STORE, query: { filter: { EQ: { name: "Dapr" } } }, metadata: {} });
    assert.deepEqual(q.results.map((r) => [r.key, r.etag]), [["json", etags.json]]);

    // Dapr's ETags work for concurrency; the write gets a fresh uuid.
    await block.save({ storeName: STORE, items: [item("json", { n: 2 }, { etag: etags.json })] });
    const updated = await get("json");
    assert.match(updated?.etag ?? "", UUID_V4);
    assert.notEqual(updated?.etag, etags.json);
    await block.delete({ storeName: STORE, key: "bin", etag: etags.bin, metadata: {}, options: {} });
    await store.close();

    const raw = new Database(path, { readonly: true });
    assert.deepEqual(raw.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all(), schemaBefore, "opening the database changes no schema");
    assert.deepEqual(raw.prepare("SELECT key, value FROM metadata").all(), [{ key: "migrations", value: "1" }]);
    raw.close();
  });

  test("state - sqlite writes the rows Dapr writes", async () => {
    const path = tempDatabasePath();
    const store = await openSqlite({ connectionString: path });
    const block = blockFor(store);
    const binary = Buffer.from([0x00, 0xff, 0x10, 0x80]);
    await block.save({ storeName: STORE, items: [item("key", { a: 1, b: "x" })] });
    await block.save({ storeName: STORE, items: [item("bin", binary)] });
    await block.save({ storeName: STORE, items: [item("ttl", "soon", { ttl: 60 })] });
    await block.transaction({ storeName: STORE, operations: [{ operation: "upsert", item: item("tx", [1, 2]) }], metadata: {} });

    const raw = new Database(path, { readonly: true });
    try {
      // Schema: Dapr's columns, in Dapr's order, with Dapr's types, nullability and defaults.
      const columns = (table: string) =>
        raw.prepare<[], { name: string; type: string; nn: number; dflt: string | null; pk: number }>(`SELECT name, type, "notnull" AS nn, dflt_value AS dflt, pk FROM pragma_table_info('${table}') ORDER BY cid`).all();
      assert.deepEqual(columns("state"), [
        { name: "key", type: "TEXT", nn: 1, dflt: null, pk: 1 },
        { name: "value", type: "TEXT", nn: 1, dflt: null, pk: 0 },
        { name: "is_binary", type: "BOOLEAN", nn: 1, dflt: null, pk: 0 },
        { name: "etag", type: "TEXT", nn: 1, dflt: null, pk: 0 },
        { name: "expiration_time", type: "TIMESTAMP", nn: 0, dflt: "NULL", pk: 0 },
        { name: "update_time", type: "TIMESTAMP", nn: 1, dflt: "CURRENT_TIMESTAMP", pk: 0 },
      ]);
      assert.deepEqual(
        columns("metadata").map((c) => [c.name, c.type.toUpperCase(), c.nn, c.pk]),
        [["key", "TEXT", 1, 1], ["value", "TEXT", 1, 0]],
      );
      assert.deepEqual(raw.prepare("SELECT key, value FROM metadata").all(), [{ key: "migrations", value: "1" }]);

      interface RawRow {
        key: string;
        value: string;
        value_type: string;
        is_binary: number;
        bin_type: string;
        etag: string;
        expiration_time: string | null;
        update_time: string;
        ttl: number | null;
      }
      const row = (key: string) =>
        raw
          .prepare<[string], RawRow>(
            `SELECT key, value, typeof(value) AS value_type, is_binary, typeof(is_binary) AS bin_type, etag, expiration_time, update_time,
                    unixepoch(expiration_time) - unixepoch(update_time) AS ttl
             FROM state WHERE key = ?`,
          )
          .get(key);

      const json = row("myapp||key");
      assert.ok(json, "keys are stored as myapp||key");
      assert.equal(json.value, '{"a":1,"b":"x"}');
      assert.equal(json.value_type, "text");
      assert.equal(json.is_binary, 0);
      assert.equal(json.bin_type, "integer");
      assert.match(json.etag, UUID_V4);
      assert.equal(json.expiration_time, null);
      assert.match(json.update_time, SQLITE_TIME);
      assert.ok(Math.abs(Date.parse(`${json.update_time.replace(" ", "T")}Z`) - Date.now()) < 10_000, "update_time is UTC now");

      const bin = row("myapp||bin");
      assert.equal(bin?.value, binary.toString("base64"), "binary values are bare base64 text");
      assert.equal(bin.value_type, "text");
      assert.equal(bin.is_binary, 1);

      const ttl = row("myapp||ttl");
      assert.equal(ttl?.value, '"soon"');
      assert.match(ttl.expiration_time ?? "", SQLITE_TIME);
      assert.equal(ttl.ttl, 60, "expiration_time = update_time + ttlInSeconds");
      assert.equal(row("myapp||tx")?.value, "[1,2]");

      // Dapr's own read query finds the rows.
      const daprGet = raw.prepare(
        "SELECT key, value, is_binary, etag, expiration_time FROM state WHERE key = ? AND (expiration_time IS NULL OR expiration_time > CURRENT_TIMESTAMP)",
      );
      assert.ok(daprGet.get("myapp||ttl"));
    } finally {
      raw.close();
    }

    // Clearing the TTL writes NULL; a delete removes the row; every write a new uuid.
    const before = row0(path, "myapp||ttl");
    await block.save({ storeName: STORE, items: [item("ttl", "forever", { ttl: -1 })] });
    const afterClear = row0(path, "myapp||ttl");
    assert.equal(afterClear?.expiration_time, null);
    assert.notEqual(afterClear?.etag, before?.etag);
    await block.delete({ storeName: STORE, key: "key", metadata: {}, options: {} });
    assert.equal(row0(path, "myapp||key"), undefined);
    await store.close();
  });
});

function row0(path: string, key: string): { etag: string; expiration_time: string | null } | undefined {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare<[string], { etag: string; expiration_time: string | null }>("SELECT etag, expiration_time FROM state WHERE key = ?").get(key);
  } finally {
    raw.close();
  }
}

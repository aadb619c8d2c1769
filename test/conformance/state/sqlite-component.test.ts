/** state.sqlite specifics the shared suite cannot see: metadata, connection strings, journaling, locks, the sweeper. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { parseConnectionString, metadataSchema, SqliteStateStore, prefixSuccessor } from "../../../src/components/state/sqlite.js";
import { MetadataError, parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { openSqlite, removeTempDir, tempDatabasePath } from "./components.js";

after(removeTempDir);

const open = (metadata: Record<string, string>) => new SqliteStateStore(parseMetadata(metadataSchema, metadata), silentLogger());
const set = (key: string, value: string, ttlSeconds?: number) => ({
  key,
  value: Buffer.from(value),
  isBinary: false,
  options: {},
  metadata: {},
  ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
});

void describe("state.sqlite component", () => {
  test("state - sqlite metadata defaults and aliases follow Dapr's", () => {
    assert.deepEqual(
      { ...parseMetadata(metadataSchema, { connectionString: "data.db" }) },
      { connectionString: "data.db", tableName: "state", metadataTableName: "metadata", timeout: 20_000, busyTimeout: 2_000, cleanupInterval: 0, disableWAL: false },
    );
    const aliased = parseMetadata(metadataSchema, { URL: "x.db", timeoutInSeconds: "30", cleanupIntervalInSeconds: "60", DisableWal: "true" });
    assert.equal(aliased.connectionString, "x.db");
    assert.equal(aliased.timeout, 30_000);
    assert.equal(aliased.cleanupInterval, 60_000);
    assert.equal(aliased.disableWAL, true);
    assert.throws(() => parseMetadata(metadataSchema, {}), (e: unknown) => e instanceof MetadataError && e.field === "connectionString");
  });

  test("state - sqlite connection strings: paths, file: URIs and :memory:", () => {
    const base = { memory: false, readonly: false, fileMustExist: false, pragmas: [] };
    assert.deepEqual(parseConnectionString("data.db"), { ...base, filename: "data.db" });
    assert.deepEqual(parseConnectionString("/var/lib/tandem/data.db"), { ...base, filename: "/var/lib/tandem/data.db" });
    assert.deepEqual(parseConnectionString("file:data.db"), { ...base, filename: "data.db" });
    assert.deepEqual(parseConnectionString("FILE:my%20data.db?cache=shared&_txlock=immediate"), { ...base, filename: "my data.db" });
    assert.deepEqual(parseConnectionString("file:///tmp/x.db"), { ...base, filename: "/tmp/x.db" });
    assert.deepEqual(parseConnectionString("file://localhost/tmp/x.db"), { ...base, filename: "/tmp/x.db" });
    assert.deepEqual(parseConnectionString("file:data.db?mode=ro"), { ...base, filename: "data.db", readonly: true });
    assert.deepEqual(parseConnectionString("file:data.db?immutable=1"), { ...base, filename: "data.db", readonly: true });
    assert.deepEqual(parseConnectionString("file:data.db?mode=rw"), { ...base, filename: "data.db", fileMustExist: true });
    assert.deepEqual(parseConnectionString("file:data.db?mode=rwc"), { ...base, filename: "data.db" });
    assert.deepEqual(parseConnectionString("data.db?_pragma=synchronous(NORMAL)&_pragma=cache_size=-2000"), {
      ...base,
      filename: "data.db",
      pragmas: ["synchronous = NORMAL", "cache_size = -2000"],
    });
    for (const memory of [":memory:", "file::memory:", "file::memory:?cache=shared", "file:whatever?mode=memory"]) {
      assert.deepEqual(parseConnectionString(memory), { ...base, filename: ":memory:", memory: true }, memory);
    }
  });

  test("state - sqlite connection strings with unknown or forbidden options are refused", () => {
    for (const [cs, why] of [
      ["file:data.db?mode=sometimes", /mode must be/],
      ["file:data.db?vfs=unix-dotfile", /unsupported option "vfs"/],
      ["data.db?_pragma=busy_timeout(100)", /busyTimeout/],
      ["data.db?_pragma=journal_mode(WAL)", /disableWAL/],
      ["data.db?_pragma=foreign_keys(1)", /foreign_keys/],
      ["data.db?_pragma=synchronous;DROP", /not of the form/],
      ["file://remote-host/data.db", /cannot name host/],
      ["file:", /no database file/],
      ["file:%E0%A4%A.db", /percent-encoding/],
    ] as const) {
      assert.throws(() => parseConnectionString(cs), (e: unknown) => e instanceof MetadataError && e.field === "connectionString" && why.test(e.message), cs);
    }
  });

  test("state - sqlite refuses bad table names and a timeout under 1s", () => {
    for (const [field, value] of [
      ["tableName", "state; DROP TABLE x"],
      ["tableName", "my-state"],
      ["metadataTableName", "meta data"],
    ] as const) {
      assert.throws(() => open({ connectionString: ":memory:", [field]: value }), (e: unknown) => e instanceof MetadataError && e.field === field);
    }
    assert.throws(() => open({ connectionString: ":memory:", timeout: "500ms" }), (e: unknown) => e instanceof MetadataError && e.field === "timeout");
  });

  test("state - sqlite uses WAL unless disableWAL, and the rollback journal then", async () => {
    const walPath = tempDatabasePath();
    const wal = open({ connectionString: walPath });
    const delPath = tempDatabasePath();
    const del = open({ connectionString: `file:${delPath}`, disableWAL: "true" });
    const mode = (p: string) => {
      const raw = new Database(p, { readonly: true });
      try {
        return raw.pragma("journal_mode", { simple: true });
      } finally {
        raw.close();
      }
    };
    assert.equal(mode(walPath), "wal");
    assert.equal(mode(delPath), "delete");
    await wal.close();
    await del.close();
  });

  test("state - sqlite waits busyTimeout for a lock held by another connection, then fails", async () => {
    const path = tempDatabasePath();
    const store = open({ connectionString: path, busyTimeout: "200ms" });
    const other = new Database(path);
    other.exec("BEGIN EXCLUSIVE");
    try {
      const started = Date.now();
      await assert.rejects(store.set(set("k", "1")), (e: Error & { code?: string }) => e.code === "SQLITE_BUSY");
      assert.ok(Date.now() - started >= 150, "the store waited for the lock before failing");
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    await store.set(set("k", "1"));
    assert.equal((await store.get({ key: "k", metadata: {} }))?.data.toString(), "1");
    await store.close();
  });

  test("state - sqlite creates custom tables and records migration level 1", async () => {
    const path = tempDatabasePath();
    const a = open({ connectionString: path, tableName: "orders", metadataTableName: "tandem_meta" });
    // A second store in the same file with its own table but the same metadata table still gets its table.
    const b = open({ connectionString: path, tableName: "carts", metadataTableName: "tandem_meta" });
    await a.set(set("k", '"a"'));
    await b.set(set("k", '"b"'));
    assert.equal((await a.get({ key: "k", metadata: {} }))?.data.toString(), '"a"');
    assert.equal((await b.get({ key: "k", metadata: {} }))?.data.toString(), '"b"');
    await a.close();
    await b.close();
    const raw = new Database(path, { readonly: true });
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ["carts", "orders", "tandem_meta"]);
    assert.deepEqual(raw.prepare("SELECT key, value FROM tandem_meta").all(), [{ key: "migrations", value: "1" }]);
    raw.close();
  });

  test("state - sqlite refuses a database whose migration level is not a number", () => {
    const path = tempDatabasePath();
    const raw = new Database(path);
    raw.exec("CREATE TABLE metadata (key text NOT NULL PRIMARY KEY, value text NOT NULL); INSERT INTO metadata VALUES ('migrations', 'banana')");
    raw.close();
    assert.throws(() => open({ connectionString: path }), /invalid migration level/);
  });

  test("state - sqlite opens read-only with mode=ro and refuses writes", async () => {
    const path = tempDatabasePath();
    const rw = open({ connectionString: path });
    await rw.set(set("k", "1"));
    await rw.close();
    const ro = open({ connectionString: `file:${path}?mode=ro` });
    assert.equal((await ro.get({ key: "k", metadata: {} }))?.data.toString(), "1");
    await assert.rejects(ro.set(set("k", "2")), /readonly/);
    await ro.close();
    assert.throws(() => open({ connectionString: `file:${tempDatabasePath()}?mode=rw` }), /unable to open|directory does not exist|SQLITE_CANTOPEN/i);
    const empty = tempDatabasePath();
    new Database(empty).close();
    assert.throws(() => open({ connectionString: `file:${empty}?mode=ro` }), /does not exist in the read-only database/);
  });

  test("state - sqlite decodes percent-encoded file: URIs", async () => {
    const dir = dirname(tempDatabasePath());
    const store = open({ connectionString: `file:${encodeURI(join(dir, "with space.db"))}` });
    await store.set(set("k", "1"));
    await store.close();
    assert.ok(existsSync(join(dir, "with space.db")));
  });

  test("state - sqlite cleanupExpired deletes expired rows and records last-cleanup", async () => {
    const path = tempDatabasePath();
    const store = open({ connectionString: path });
    await store.set(set("live", "1"));
    await store.set(set("later", "1", 3600));
    const raw = new Database(path);
    raw.prepare("INSERT INTO state (key, value, is_binary, etag, expiration_time) VALUES ('old', '1', 0, 'e', datetime(CURRENT_TIMESTAMP, '-10 seconds'))").run();
    assert.equal(store.cleanupExpired(60_000), 1);
    assert.deepEqual(raw.prepare("SELECT key FROM state ORDER BY key").pluck().all(), ["later", "live"]);
    const last = raw.prepare("SELECT value FROM metadata WHERE key = 'last-cleanup'").pluck().get() as string;
    assert.match(last, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // Within the interval another sweep (from this or another process sharing the file) is skipped.
    raw.prepare("INSERT INTO state (key, value, is_binary, etag, expiration_time) VALUES ('old2', '1', 0, 'e', datetime(CURRENT_TIMESTAMP, '-10 seconds'))").run();
    assert.equal(store.cleanupExpired(60_000), undefined);
    raw.prepare("UPDATE metadata SET value = datetime(CURRENT_TIMESTAMP, '-2 minutes') WHERE key = 'last-cleanup'").run();
    assert.equal(store.cleanupExpired(60_000), 1);
    raw.close();
    await store.close();
  });

  test("state - sqlite runs the sweeper every cleanupInterval, and never when it is 0", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const withSweeper = tempDatabasePath();
    const without = tempDatabasePath();
    const a = open({ connectionString: withSweeper, cleanupInterval: "30s" });
    const b = open({ connectionString: without, cleanupInterval: "0" });
    const expire = (p: string) => {
      const raw = new Database(p);
      raw.prepare("INSERT INTO state (key, value, is_binary, etag, expiration_time) VALUES ('old', '1', 0, 'e', '2000-01-01 00:00:00')").run();
      raw.close();
    };
    const rows = (p: string) => {
      const raw = new Database(p, { readonly: true });
      try {
        return { keys: raw.prepare("SELECT key FROM state").pluck().all(), meta: raw.prepare("SELECT key FROM metadata ORDER BY key").pluck().all() };
      } finally {
        raw.close();
      }
    };
    expire(withSweeper);
    expire(without);
    t.mock.timers.tick(29_999);
    assert.deepEqual(rows(withSweeper), { keys: ["old"], meta: ["migrations"] });
    t.mock.timers.tick(1);
    assert.deepEqual(rows(withSweeper), { keys: [], meta: ["last-cleanup", "migrations"] });
    t.mock.timers.tick(3_600_000);
    assert.deepEqual(rows(without), { keys: ["old"], meta: ["migrations"] });
    await a.close();
    await b.close();
  });

  test("state - sqlite prefix successor follows code point order", () => {
    assert.equal(prefixSuccessor(""), undefined);
    assert.equal(prefixSuccessor("app||"), "app|}");
    assert.equal(prefixSuccessor("a\ud7ff"), "a\ue000");
    assert.equal(prefixSuccessor("a\uffff"), "a\u{10000}");
    assert.equal(prefixSuccessor("a\u{10ffff}"), "b");
    assert.equal(prefixSuccessor("\u{10ffff}\u{10ffff}"), undefined);
  });

  test("state - sqlite create() through the registry path returns a working store", async () => {
    const store = await openSqlite({ connectionString: ":memory:" });
    assert.deepEqual(store.features(), ["ETAG", "TRANSACTIONAL", "TTL"]);
    await store.set(set("k", "1"));
    assert.equal((await store.get({ key: "k", metadata: {} }))?.data.toString(), "1");
    await store.close();
    await store.close(); // idempotent
  });
});

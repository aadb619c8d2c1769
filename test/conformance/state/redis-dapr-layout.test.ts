/**
 * Data compatibility with Dapr's state.redis (components.md, state.redis Layout note): hashes written
 * the way daprd writes them (its own Lua scripts, run with raw ioredis) read and update the same
 * through Tandem, and what Tandem writes is the hash layout Dapr reads.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import { keyPrefixStrategy } from "../../../src/blocks/state/key-prefix.js";
import { StateBlock } from "../../../src/blocks/state/state.js";
import { startRedis, type RedisServer } from "../../harness/servers/redis.js";
import { item, rejectsWith, upsert } from "./fixture.js";
import { openRedisStore } from "./redis-env.js";

const STORE = "statestore";

/** components-contrib state/redis setDefaultQuery and delDefaultQuery, verbatim. */
const DAPR_SET = `
	local etag = redis.pcall("HGET", KEYS[1], "version");
	if type(etag) == "table" then
	  redis.call("DEL", KEYS[1]);
	end;
	local fwr = redis.pcall("HGET", KEYS[1], "first-write");
	if not etag or type(etag)=="table" or etag == "" or etag == ARGV[1] or (not fwr and ARGV[1] == "0") then
	  redis.call("HSET", KEYS[1], "data", ARGV[2]);
	  if ARGV[3] == "0" then
	    redis.call("HSET", KEYS[1], "first-write", 0);
	  end;
	  return redis.call("HINCRBY", KEYS[1], "version", 1)
	else
	  return error("failed to set key " .. KEYS[1])
	end`;
const DAPR_DEL = `
	local etag = redis.pcall("HGET", KEYS[1], "version");
	if not etag or type(etag)=="table" or etag == ARGV[1] or etag == "" or ARGV[1] == "0" then
	  return redis.call("DEL", KEYS[1])
	else
	  return error("failed to delete " .. KEYS[1])
	end`;

/** What daprd's Set sends: EVAL with the integer ETag (0 = none), the value, first-write 0/1; then EXPIRE. */
async function daprSet(raw: Redis, key: string, value: Buffer | string, o: { etag?: number; firstWrite?: boolean; ttl?: number } = {}): Promise<void> {
  await raw.eval(DAPR_SET, 1, key, o.etag ?? 0, value, o.firstWrite ? 0 : 1);
  if (o.ttl !== undefined) await (o.ttl > 0 ? raw.expire(key, o.ttl) : raw.persist(key));
}

function blockFor(store: StateStore, appId = "myapp"): StateBlock {
  const block = new StateBlock(appId);
  block.register({ name: STORE, store, keyPrefix: keyPrefixStrategy(undefined, { appId, storeName: STORE, namespace: "" }), actorStateStore: false });
  return block;
}

void describe("state.redis Dapr layout", () => {
  let server: RedisServer;
  let raw: Redis;
  let store: StateStore;
  let block: StateBlock;
  before(async () => {
    server = await startRedis();
    raw = new Redis({ host: server.host, port: server.port });
    store = await openRedisStore({ redisHost: server.address });
    block = blockFor(store);
  });
  after(async () => {
    await store.close();
    raw.disconnect();
    await server.stop();
  });

  test("state - redis reads and updates hashes written by Dapr", async () => {
    const binary = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xff]);
    await daprSet(raw, "myapp||json", '{"n":1,"name":"Dapr"}');
    await daprSet(raw, "myapp||json", '{"n":2,"name":"Dapr"}'); // version 2
    await daprSet(raw, "myapp||bin", binary);
    await daprSet(raw, "myapp||fw", '"first"', { firstWrite: true });
    await daprSet(raw, "myapp||ttl", '"expiring"', { ttl: 3600 });
    await daprSet(raw, "otherapp||json", '"other"');
    await raw.set("myapp||legacy", '"plain string"');

    const json = await block.get({ storeName: STORE, key: "json", metadata: {} });
    assert.equal(json?.data.toString(), '{"n":2,"name":"Dapr"}');
    assert.equal(json.etag, "2");
    assert.deepEqual((await block.get({ storeName: STORE, key: "bin", metadata: {} }))?.data, binary);
    const ttl = await block.get({ storeName: STORE, key: "ttl", metadata: {} });
    assert.equal(ttl?.data.toString(), '"expiring"');
    const expireAt = Date.parse(ttl.metadata?.ttlExpireTime ?? "");
    assert.ok(Math.abs(expireAt - (Date.now() + 3600_000)) < 2000, "ttlExpireTime reflects Dapr's EXPIRE");
    const legacy = await block.get({ storeName: STORE, key: "legacy", metadata: {} });
    assert.equal(legacy?.data.toString(), '"plain string"');
    assert.equal(legacy.etag, undefined, "a legacy string value has no etag");
    assert.equal(await block.get({ storeName: STORE, key: "missing", metadata: {} }), undefined);
    assert.deepEqual((await blockFor(store, "otherapp").get({ storeName: STORE, key: "json", metadata: {} }))?.data.toString(), '"other"');

    // Updates keep Dapr's rules: the version is the etag, stale ones fail, the first-write flag holds.
    await block.save({ storeName: STORE, items: [item("json", { n: 3 }, { etag: "2" })] });
    await rejectsWith(block.save({ storeName: STORE, items: [item("json", { n: 4 }, { etag: "2" })] }), "ERR_STATE_SAVE", 409);
    assert.deepEqual(await raw.hgetall("myapp||json"), { data: '{"n":3}', version: "3" });
    await rejectsWith(block.save({ storeName: STORE, items: [item("fw", "second")] }), "ERR_STATE_SAVE", 500);
    await block.save({ storeName: STORE, items: [item("fw", "second", { etag: "1" })] });
    assert.deepEqual(await raw.hgetall("myapp||fw"), { data: '"second"', "first-write": "0", version: "2" });
    // A save without ttlInSeconds keeps Dapr's expiry; -1 clears it.
    await block.save({ storeName: STORE, items: [item("ttl", "updated")] });
    assert.ok((await raw.ttl("myapp||ttl")) > 3500);
    await block.save({ storeName: STORE, items: [item("ttl", "kept", { ttl: -1 })] });
    assert.equal(await raw.ttl("myapp||ttl"), -1);
    // A legacy string key is replaced by a hash on write.
    await block.save({ storeName: STORE, items: [item("legacy", "now a hash")] });
    assert.equal(await raw.type("myapp||legacy"), "hash");
    assert.equal((await block.get({ storeName: STORE, key: "legacy", metadata: {} }))?.etag, "1");
    await block.delete({ storeName: STORE, key: "bin", etag: "1", metadata: {}, options: {} });
    assert.equal(await raw.exists("myapp||bin"), 0);
    assert.deepEqual((await block.listKeys({ storeName: STORE })).keys, ["fw", "json", "legacy", "ttl"]);
  });

  test("state - redis writes the hashes Dapr reads", async () => {
    const binary = Buffer.from([0x00, 0xff, 0x10, 0x80]);
    await block.save({ storeName: STORE, items: [item("t-json", { a: 1 }), item("t-bin", binary), item("t-ttl", "x", { ttl: 60 })] });
    await block.save({ storeName: STORE, items: [item("t-fw", "f", { concurrency: "first-write" })] });
    await block.save({ storeName: STORE, items: [item("t-json", { a: 2 })] });
    assert.deepEqual(await raw.hgetall("myapp||t-json"), { data: '{"a":2}', version: "2" });
    assert.deepEqual(await raw.hgetallBuffer("myapp||t-bin"), { data: binary, version: Buffer.from("1") });
    assert.deepEqual(await raw.hgetall("myapp||t-fw"), { data: '"f"', "first-write": "0", version: "1" });
    const ttl = await raw.ttl("myapp||t-ttl");
    assert.ok(ttl > 55 && ttl <= 60, `EXPIRE 60 set, TTL ${ttl}`);
    assert.equal(await raw.ttl("myapp||t-json"), -1);
    // Transactions write the same layout and never set first-write.
    await block.transaction({ storeName: STORE, operations: [upsert("t-tx", "v", { concurrency: "first-write", ttl: 30 }), upsert("t-json", { a: 3 })], metadata: {} });
    assert.deepEqual(await raw.hgetall("myapp||t-tx"), { data: '"v"', version: "1" });
    assert.ok((await raw.ttl("myapp||t-tx")) > 25);
    assert.deepEqual(await raw.hgetall("myapp||t-json"), { data: '{"a":3}', version: "3" });

    // Dapr's own scripts accept Tandem's hashes: its etag check and its first-write check.
    await assert.rejects(raw.eval(DAPR_SET, 1, "myapp||t-json", 2, '"stale"', 1), /failed to set key/);
    assert.equal(await raw.eval(DAPR_SET, 1, "myapp||t-json", 3, '"dapr"', 1), 4);
    await assert.rejects(raw.eval(DAPR_SET, 1, "myapp||t-fw", 0, '"dapr"', 1), /failed to set key/);
    await assert.rejects(raw.eval(DAPR_DEL, 1, "myapp||t-bin", "7"), /failed to delete/);
    assert.equal(await raw.eval(DAPR_DEL, 1, "myapp||t-bin", "1"), 1);
    const back = await block.get({ storeName: STORE, key: "t-json", metadata: {} });
    assert.deepEqual({ data: back?.data.toString(), etag: back?.etag }, { data: '"dapr"', etag: "4" });
  });
});

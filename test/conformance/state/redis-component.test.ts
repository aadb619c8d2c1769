/**
 * state.redis specifics the shared suite does not reach: scans with glob characters in the prefix,
 * the component-level ttlInSeconds, keys of other shapes, metadata parsing and mapping, and init
 * against a server that is not there.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Redis } from "ioredis";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import { ETagInvalidError } from "../../../src/blocks/state/contract.js";
import { createRedisClient, parseHosts, reconnectDelay } from "../../../src/components/shared/redis/connection.js";
import { escapeGlob, etagArgument, metadataSchema } from "../../../src/components/state/redis.js";
import { MetadataError, parseMetadata } from "../../../src/kit/metadata-schema.js";
import { freePort } from "../../harness/ports.js";
import { startRedis } from "../../harness/servers/redis.js";
import { openIsolatedRedis, openRedisStore } from "./redis-env.js";

const set = (store: StateStore, key: string, ttlSeconds?: number) =>
  store.set({ key, value: Buffer.from(JSON.stringify(key)), isBinary: false, options: {}, metadata: {}, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });

function rawFor(opened: Awaited<ReturnType<typeof openIsolatedRedis>>): Redis {
  return new Redis({ host: opened.server.host, port: opened.server.port, db: opened.db });
}

void describe("state.redis component", () => {
  test("state - redis scan matches glob characters in the prefix literally and pages by key", async () => {
    const opened = await openIsolatedRedis();
    try {
      const store = opened.store;
      const scan = (store.scan as NonNullable<StateStore["scan"]>).bind(store);
      const keys = ["a*[b]?\\x||1", "a*[b]?\\x||2", "a*[b]?\\x||3", "aZ[b]?\\x||1", "a*b?\\x||1", "a*[b]!\\x||1"];
      for (const k of keys) await set(store, k);
      const all = await scan({ prefix: "a*[b]?\\x||", limit: 10, keysOnly: true });
      assert.deepEqual(all.entries.map((e) => e.key), keys.slice(0, 3));
      assert.equal(all.more, false);
      const p1 = await scan({ prefix: "a*[b]?\\x||", limit: 2, keysOnly: false });
      assert.deepEqual(p1.entries.map((e) => [e.key, e.data.toString(), e.etag]), [
        [keys[0], JSON.stringify(keys[0]), "1"],
        [keys[1], JSON.stringify(keys[1]), "1"],
      ]);
      assert.equal(p1.more, true);
      const p2 = await scan({ prefix: "a*[b]?\\x||", after: keys[1] ?? "", limit: 2, keysOnly: true });
      assert.deepEqual(p2.entries.map((e) => e.key), [keys[2]]);
      assert.equal(p2.more, false);
    } finally {
      await opened.dispose();
    }
    assert.equal(escapeGlob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
  });

  test("state - redis applies the component ttlInSeconds to saves without their own", async () => {
    const opened = await openIsolatedRedis({ ttlInSeconds: "100" });
    const raw = rawFor(opened);
    try {
      await set(opened.store, "default");
      await set(opened.store, "own", 5000);
      await set(opened.store, "none", -1);
      const ttl = await raw.ttl("default");
      assert.ok(ttl > 95 && ttl <= 100, `default TTL applied: ${ttl}`);
      assert.ok((await raw.ttl("own")) > 4990);
      assert.equal(await raw.ttl("none"), -1);
      const multi = opened.store.multi?.bind(opened.store);
      assert.ok(multi);
      await multi({ operations: [{ operation: "upsert", key: "tx", value: Buffer.from("1"), isBinary: false, options: {}, metadata: {} }], metadata: {} });
      assert.ok((await raw.ttl("tx")) > 95);
    } finally {
      raw.disconnect();
      await opened.dispose();
    }
  });

  test("state - redis fails reads of keys that are not state, and scans skip them", async () => {
    const opened = await openIsolatedRedis();
    const raw = rawFor(opened);
    try {
      await raw.rpush("app||list", "x");
      await raw.hset("app||odd-hash", "field", "v");
      await set(opened.store, "app||ok");
      await assert.rejects(opened.store.get({ key: "app||list", metadata: {} }), /WRONGTYPE/);
      await assert.rejects(opened.store.get({ key: "app||odd-hash", metadata: {} }), /'data' or 'version'/);
      const page = await (opened.store.scan as NonNullable<StateStore["scan"]>).call(opened.store, { prefix: "app||", limit: 10, keysOnly: false });
      assert.deepEqual(page.entries.map((e) => e.key), ["app||ok"]);
      // A write replaces a key of another type, as Dapr's script does.
      await set(opened.store, "app||list");
      assert.equal(await raw.type("app||list"), "hash");
    } finally {
      raw.disconnect();
      await opened.dispose();
    }
  });

  test("state - redis metadata parses hosts, etags and retry intervals as Dapr's", () => {
    assert.deepEqual(parseHosts("a:1, b ,[::1]:7000", 6379), [
      { host: "a", port: 1 },
      { host: "b", port: 6379 },
      { host: "::1", port: 7000 },
    ]);
    assert.equal(etagArgument(undefined, undefined), "0");
    assert.equal(etagArgument("7", "last-write"), "0");
    assert.equal(etagArgument("+07", "first-write"), "7");
    assert.throws(() => etagArgument("7a", undefined), ETagInvalidError);
    const o = parseMetadata(metadataSchema, { redisHost: "h:1", redisMinRetryInterval: "10ms", redisMaxRetryInterval: "50ms" });
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => reconnectDelay(o, n)), [10, 20, 40, 50, 50]);
    assert.equal(o.redisMaxRetries, 3);
    assert.equal(o.dialTimeout, 5000);
    assert.equal(o.redisType, "node");
    assert.throws(() => parseMetadata(metadataSchema, { redisHost: "h", redisType: "sentinel" }), MetadataError);
    assert.throws(() => createRedisClient(parseMetadata(metadataSchema, { redisHost: "h1,h2" })), /redisType: cluster or failover/);
    assert.throws(() => createRedisClient(parseMetadata(metadataSchema, { redisHost: "h1", failover: "true" })), /sentinelMasterName is required/);
    assert.throws(() => createRedisClient(parseMetadata(metadataSchema, { redisHost: "h1", enableTLS: "true", clientCert: "x" })), /clientCert and clientKey/);
  });

  test("state - redis authenticates as an ACL user (redisUsername, redisPassword)", async () => {
    const server = await startRedis(["--user", "tandem", "on", ">s3cret", "~*", "&*", "+@all", "--user", "default", "off"]);
    try {
      const store = await openRedisStore({ redisHost: server.address, redisUsername: "tandem", redisPassword: "s3cret" });
      await set(store, "k");
      assert.equal((await store.get({ key: "k", metadata: {} }))?.data.toString(), '"k"');
      await store.close();
      await assert.rejects(openRedisStore({ redisHost: server.address, redisUsername: "tandem", redisPassword: "wrong", redisMaxRetries: "0" }), /WRONGPASS|invalid/i);
    } finally {
      await server.stop();
    }
  });

  test("state - redis init against a server that is not there fails within its retry budget", async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(openRedisStore({ redisHost: `127.0.0.1:${port}`, redisMaxRetries: "1", dialTimeout: "1s", redisMinRetryInterval: "10ms" }));
    assert.ok(Date.now() - started < 5000, "no hang");
  });
});

/** TTL (metadata ttlInSeconds): expiry hides values everywhere; -1 and 0 clear it; ttlExpireTime is reported. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { STORE, rejectsWith, stateTest, until, upsert, type Env } from "./fixture.js";

const TTL = { features: ["TTL"] } as const;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Stores keep whole seconds: allow a second either side of the expected instant. */
function assertExpiresIn(expireTime: string | undefined, seconds: number, savedAt: number): void {
  assert.ok(expireTime, "ttlExpireTime is reported");
  assert.match(expireTime, RFC3339_UTC);
  const at = Date.parse(expireTime);
  assert.ok(at >= savedAt + seconds * 1000 - 1500 && at <= Date.now() + seconds * 1000 + 1500, `ttlExpireTime ${expireTime} is about ${seconds}s from now`);
}

const secondOf = (ms: number) => Math.floor(ms / 1000);

/** Save a 1-second value and return its etag, saving again in the rare case it expired before the read. */
async function saveExpiring(env: Env, key: string): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await env.save(key, "v", { ttl: 1 });
    const etag = (await env.get(key))?.etag;
    if (etag !== undefined) return etag;
  }
  return assert.fail(`${key} expired before it could be read, five times`);
}

export function ttlTests(c: ComponentUnderTest): void {
  stateTest(c, "a value with a 1-second TTL expires", TTL, async (env) => {
    const savedAt = Date.now();
    await env.save("short", "lived", { ttl: 1 });
    await env.save("long", "lived", { ttl: 3600 });
    await env.save("forever", "lived");
    const got = await env.get("short");
    if (got === undefined) {
      // Whole-second stores (SQLite, as Dapr's) expire at the second boundary after save + N - 1 seconds.
      assert.ok(secondOf(Date.now()) > secondOf(savedAt), "a 1-second value may only be gone once a second boundary has passed");
    } else {
      assert.equal(got.data.toString(), '"lived"');
      assertExpiresIn(got.metadata?.ttlExpireTime, 1, savedAt);
    }
    assertExpiresIn((await env.get("long"))?.metadata?.ttlExpireTime, 3600, savedAt);
    // Wait on the clock, bounded: every store expires a 1-second value within 2 seconds.
    await until("the 1-second value expires", async () => (await env.get("short")) === undefined, 5_000);
    assert.equal(await env.text("long"), '"lived"');
    assert.equal(await env.text("forever"), '"lived"');
  });

  stateTest(c, "expired rows are invisible to bulk get, list keys and query, and count as absent", TTL, async (env) => {
    await env.save("p-short", 1, { ttl: 1 });
    await env.save("p-kept", 2);
    const etag = await saveExpiring(env, "e");
    await until("the 1-second values expire", async () => (await env.get("p-short")) === undefined && (await env.get("e")) === undefined, 5_000);
    const bulk = await env.block.bulkGet({ storeName: STORE, keys: ["p-short", "p-kept"], metadata: {} });
    const byKey = new Map(bulk.map((b) => [b.key, b]));
    assert.deepEqual(byKey.get("p-short"), { key: "p-short" });
    assert.equal(byKey.get("p-kept")?.data?.toString(), "2");
    if (c.scans) {
      assert.deepEqual((await env.block.listKeys({ storeName: STORE, prefix: "p-" })).keys, ["p-kept"]);
      const q = await env.block.query({ storeName: STORE, query: {}, metadata: {} });
      assert.deepEqual(q.results.map((r) => r.key), ["p-kept"]);
    }
    // An expired row counts as absent: an old etag mismatches (Redis: inserts), first-write inserts.
    if (c.redisEtagRules === true) {
      await env.del("e", { etag });
      await env.save("e", "v2", { etag });
      assert.equal(await env.etag("e"), "1", "a new key starts again at version 1");
      await env.del("e");
    } else {
      await rejectsWith(env.save("e", "v2", { etag }), "ERR_STATE_SAVE", 409);
      await rejectsWith(env.del("e", { etag }), "ERR_STATE_DELETE", 409);
    }
    await env.save("e", "v3", { concurrency: "first-write" });
    assert.equal(await env.text("e"), '"v3"');
  });

  stateTest(c, "ttlInSeconds -1 or 0 clears an expiry, as does a save without TTL", TTL, async (env) => {
    // Redis (as Dapr's): a save without ttlInSeconds leaves an existing expiry in place.
    const clears = c.redisEtagRules === true ? [{ ttl: -1 }, { ttl: 0 }] : [{ ttl: -1 }, { ttl: 0 }, {}];
    if (c.redisEtagRules === true) {
      await env.save("kept", "v", { ttl: 3600 });
      await env.save("kept", "v2");
      assert.ok((await env.get("kept"))?.metadata?.ttlExpireTime, "a save without TTL keeps the expiry");
    }
    for (const [i, clear] of clears.entries()) {
      const key = `k${i}`;
      await env.save(key, "v", { ttl: 3600 });
      assert.ok((await env.get(key))?.metadata?.ttlExpireTime, "the expiry is reported");
      await env.save(key, "v", clear);
      const got = await env.get(key);
      assert.equal(got?.data.toString(), '"v"');
      assert.equal(got.metadata?.ttlExpireTime, undefined, `expiry cleared by ${JSON.stringify(clear)}`);
    }
    await env.save("never", "v", { ttl: -1 });
    assert.equal((await env.get("never"))?.metadata?.ttlExpireTime, undefined);
  });

  stateTest(c, "ttlExpireTime is reported for the expiry set by the last write", TTL, async (env) => {
    const savedAt = Date.now();
    await env.save("k", 1, { ttl: 100 });
    assertExpiresIn((await env.get("k"))?.metadata?.ttlExpireTime, 100, savedAt);
    await env.save("k", 2, { ttl: 7200, etag: await env.etag("k") });
    assertExpiresIn((await env.get("k"))?.metadata?.ttlExpireTime, 7200, savedAt);
    const bulk = await env.block.bulkGet({ storeName: STORE, keys: ["k"], metadata: {} });
    assertExpiresIn(bulk[0]?.metadata?.ttlExpireTime, 7200, savedAt);
    if (c.features.includes("TRANSACTIONAL")) {
      await env.block.transaction({ storeName: STORE, operations: [upsert("t", 1, { ttl: 60 })], metadata: {} });
      assertExpiresIn((await env.get("t"))?.metadata?.ttlExpireTime, 60, savedAt);
    }
  });

  stateTest(c, "ttlInSeconds is accepted and ignored by a store without TTL", { lacks: ["TTL"] }, async (env) => {
    await env.save("k", "v", { ttl: 1 });
    const got = await env.get("k");
    assert.equal(got?.data.toString(), '"v"');
    assert.equal(got.metadata?.ttlExpireTime, undefined);
    assert.ok(!env.block.features(STORE).includes("TTL"));
  });
}

/** Bulk get (native or the block's per-key fallback) and bulk save. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { APP_ID, STORE, claims, item, stateTest } from "./fixture.js";

export function bulkTests(c: ComponentUnderTest): void {
  stateTest(c, "bulk get returns found and missing keys, un-prefixed", {}, async (env) => {
    await env.save("b1", { n: 1 });
    await env.save("b2", Buffer.from([9, 8, 7]));
    await env.save("b3", "three");
    const keys = ["missing-1", "b3", "b1", "missing-2", "b2"];
    const res = await env.block.bulkGet({ storeName: STORE, keys, metadata: {} });
    assert.equal(res.length, keys.length, "one entry per requested key");
    assert.deepEqual(res.map((r) => r.key).sort(), [...keys].sort(), "keys come back as the app named them");
    const byKey = new Map(res.map((r) => [r.key, r]));
    assert.equal(byKey.get("b1")?.data?.toString(), '{"n":1}');
    assert.deepEqual(byKey.get("b2")?.data, Buffer.from([9, 8, 7]));
    assert.equal(byKey.get("b3")?.data?.toString(), '"three"');
    for (const k of ["b1", "b2", "b3"]) {
      if (claims(c, "ETAG")) assert.equal(byKey.get(k)?.etag, await env.etag(k));
      assert.equal(byKey.get(k)?.error, undefined);
    }
    for (const k of ["missing-1", "missing-2"]) assert.deepEqual(byKey.get(k), { key: k }, "a missing key carries only its key");
  });

  stateTest(c, "bulk get orders results as the store documents", {}, async (env) => {
    await env.save("f1", 1);
    await env.save("f2", 2);
    const keys = ["m1", "f2", "m2", "f1"];
    const order = (await env.block.bulkGet({ storeName: STORE, keys, metadata: {} })).map((r) => r.key);
    if (c.bulkGetOrder === "request") {
      assert.deepEqual(order, keys);
    } else {
      // SQLite (Dapr's too): the rows found, in any order, then the missing keys in request order.
      assert.deepEqual(order.slice(0, 2).sort(), ["f1", "f2"]);
      assert.deepEqual(order.slice(2), ["m1", "m2"]);
    }
  });

  stateTest(c, "bulk get with parallelism and with no keys", {}, async (env) => {
    const keys = Array.from({ length: 25 }, (_, i) => `p${i}`);
    await env.block.save({ storeName: STORE, items: keys.map((k, i) => item(k, i)) });
    for (const parallelism of [1, 3, 100]) {
      const res = await env.block.bulkGet({ storeName: STORE, keys, parallelism, metadata: {} });
      assert.deepEqual(
        res.map((r) => [r.key, r.data?.toString()]).sort(),
        keys.map((k, i) => [k, String(i)]).sort(),
      );
    }
    assert.deepEqual(await env.block.bulkGet({ storeName: STORE, keys: [], metadata: {} }), []);
  });

  stateTest(c, "bulk save writes every item with its own etag", {}, async (env) => {
    const items = [item("s1", { a: 1 }), item("s2", Buffer.from([1, 2])), item("s3", "x", { ttl: 3600 }), item("s1-copy", { a: 1 })];
    await env.block.save({ storeName: STORE, items });
    assert.equal(await env.text("s1"), '{"a":1}');
    assert.deepEqual((await env.get("s2"))?.data, Buffer.from([1, 2]));
    assert.equal(await env.text("s3"), '"x"');
    if (claims(c, "TTL")) assert.ok((await env.get("s3"))?.metadata?.ttlExpireTime);
    if (claims(c, "ETAG")) {
      const etags = new Set([await env.etag("s1"), await env.etag("s2"), await env.etag("s3"), await env.etag("s1-copy")]);
      // Redis's ETag is the key's version: the first write of every key is 1.
      if (c.redisEtagRules === true) assert.deepEqual([...etags], ["1"]);
      else assert.equal(etags.size, 4, "equal values still get distinct etags");
    }
    assert.ok(await env.opened.store.get({ key: `${APP_ID}||s2`, metadata: {} }), "bulk saved keys are prefixed");
    await env.block.save({ storeName: STORE, items: [] });
  });
}

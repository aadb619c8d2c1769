/** ETags and concurrency: semantics.md §1.3, the SQL stores' table. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { STORE, item, rejectsWith, stateTest, upsert } from "./fixture.js";

const ETAG = { features: ["ETAG"] } as const;
const SQL_RULES = { features: ["ETAG"], redisEtagRules: false } as const;
const REDIS_RULES = { features: ["ETAG"], redisEtagRules: true } as const;

export function etagTests(c: ComponentUnderTest): void {
  stateTest(c, "every write returns a new etag in the store's format", ETAG, async (env) => {
    const seen = new Set<string>();
    const record = async () => {
      const etag = await env.etag("k");
      assert.match(etag, c.etagFormat);
      assert.ok(!seen.has(etag), `etag ${etag} was reused`);
      seen.add(etag);
      return etag;
    };
    await env.save("k", 1);
    const e1 = await record();
    assert.equal(await env.etag("k"), e1, "a read does not change the etag");
    await env.save("k", 1); // same value, still a write
    const e2 = await record();
    await env.save("k", 2, { etag: e2 });
    await record();
    await env.save("k", Buffer.from([1]));
    await record();
    await env.block.save({ storeName: STORE, items: [item("k", 3), item("other", 4)] });
    await record();
    if (c.features.includes("TRANSACTIONAL")) {
      await env.block.transaction({ storeName: STORE, operations: [upsert("k", 5)], metadata: {} });
      await record();
    }
  });

  stateTest(c, "save with the current etag succeeds, with a stale one fails with 409", SQL_RULES, async (env) => {
    await env.save("k", "v1");
    const e1 = await env.etag("k");
    await env.save("k", "v2", { etag: e1 });
    assert.equal(await env.text("k"), '"v2"');
    await rejectsWith(env.save("k", "v3", { etag: e1 }), "ERR_STATE_SAVE", 409);
    await rejectsWith(env.save("k", "v3", { etag: "not-an-etag-of-this-store" }), "ERR_STATE_SAVE", c.numericEtag ? 400 : 409);
    assert.equal(await env.text("k"), '"v2"', "a refused save leaves the value");
    const err = await rejectsWith(env.save("k", "v3", { etag: e1, concurrency: "last-write" }), "ERR_STATE_SAVE", 409);
    assert.match(err.message, /possible etag mismatch/);
  });

  stateTest(c, "save with an etag on a missing key fails with 409", SQL_RULES, async (env) => {
    await rejectsWith(env.save("absent", 1, { etag: c.numericEtag?.absent ?? "00000000-0000-4000-8000-000000000000" }), "ERR_STATE_SAVE", 409);
    assert.equal(await env.get("absent"), undefined);
    await env.save("gone", 1);
    const etag = await env.etag("gone");
    await env.del("gone");
    await rejectsWith(env.save("gone", 2, { etag }), "ERR_STATE_SAVE", 409);
    assert.equal(await env.get("gone"), undefined);
  });

  stateTest(c, "first-write without etag inserts a missing key and refuses an existing one", SQL_RULES, async (env) => {
    await env.save("k", "first", { concurrency: "first-write" });
    assert.equal(await env.text("k"), '"first"');
    await rejectsWith(env.save("k", "second", { concurrency: "first-write" }), "ERR_STATE_SAVE", 409);
    assert.equal(await env.text("k"), '"first"');
    // first-write with the current etag is allowed
    await env.save("k", "third", { concurrency: "first-write", etag: await env.etag("k") });
    assert.equal(await env.text("k"), '"third"');
    // and after a delete the key is free again
    await env.del("k");
    await env.save("k", "fourth", { concurrency: "first-write" });
    assert.equal(await env.text("k"), '"fourth"');
  });

  stateTest(c, "delete with a matching etag deletes, with a stale one fails with 409", ETAG, async (env) => {
    await env.save("k", 1);
    const e1 = await env.etag("k");
    await env.save("k", 2);
    await rejectsWith(env.del("k", { etag: e1 }), "ERR_STATE_DELETE", 409);
    assert.equal(await env.text("k"), "2", "a refused delete keeps the value");
    await env.del("k", { etag: await env.etag("k") });
    assert.equal(await env.get("k"), undefined);
  });

  stateTest(c, "delete with an etag on a missing key fails with 409; without one it succeeds", SQL_RULES, async (env) => {
    await rejectsWith(env.del("absent", { etag: c.numericEtag?.absent ?? "00000000-0000-4000-8000-000000000000" }), "ERR_STATE_DELETE", 409);
    await env.del("absent");
    await env.del("absent", { concurrency: "first-write" });
  });

  stateTest(c, "an empty etag counts as no etag", ETAG, async (env) => {
    await env.save("k", 1, { etag: "" });
    await env.save("k", 2, { etag: "" });
    assert.equal(await env.text("k"), "2");
    await env.block.delete({ storeName: STORE, key: "k", etag: "", metadata: {}, options: {} });
    assert.equal(await env.get("k"), undefined);
    await env.block.delete({ storeName: STORE, key: "k", etag: "", metadata: {}, options: {} });
  });

  stateTest(c, "redis rules - a stale etag fails with 409, a non-integer one is invalid (400), last-write ignores the etag", REDIS_RULES, async (env) => {
    await env.save("k", "v1");
    const e1 = await env.etag("k");
    await env.save("k", "v2", { etag: e1 });
    assert.equal(await env.text("k"), '"v2"');
    const err = await rejectsWith(env.save("k", "v3", { etag: e1 }), "ERR_STATE_SAVE", 409);
    assert.match(err.message, /possible etag mismatch/);
    await rejectsWith(env.save("k", "v3", { etag: "not-an-integer" }), "ERR_STATE_SAVE", 400);
    assert.equal(await env.text("k"), '"v2"', "a refused save leaves the value");
    await env.save("k", "v4", { etag: e1, concurrency: "last-write" });
    assert.equal(await env.text("k"), '"v4"');
    // A delete compares the etag as text: a non-integer one mismatches an existing key.
    await rejectsWith(env.del("k", { etag: "not-an-integer" }), "ERR_STATE_DELETE", 409);
    await rejectsWith(env.del("k", { etag: e1 }), "ERR_STATE_DELETE", 409);
    assert.equal(await env.text("k"), '"v4"');
  });

  stateTest(c, "redis rules - an etag on a missing key inserts on save and succeeds on delete", REDIS_RULES, async (env) => {
    await env.save("absent", 1, { etag: "42" });
    assert.equal(await env.text("absent"), "1");
    assert.equal(await env.etag("absent"), "1", "the first write of a key is version 1");
    await env.del("never-saved", { etag: "5" });
    await rejectsWith(env.del("absent", { etag: "7" }), "ERR_STATE_DELETE", 409);
    await env.del("absent", { etag: "1" });
    assert.equal(await env.get("absent"), undefined);
  });

  stateTest(c, "redis rules - first-write refuses only keys written with first-write, with a plain error", REDIS_RULES, async (env) => {
    await env.save("k", 1);
    await env.save("k", 2, { concurrency: "first-write" }); // no first-write flag yet: allowed, and now flagged
    assert.equal(await env.text("k"), "2");
    await rejectsWith(env.save("k", 3, { concurrency: "first-write" }), "ERR_STATE_SAVE", 500);
    await rejectsWith(env.save("k", 3), "ERR_STATE_SAVE", 500); // flagged: an etag-less save is refused whatever its concurrency
    assert.equal(await env.text("k"), "2");
    await env.save("k", 4, { etag: await env.etag("k") }); // with the current etag it passes
    assert.equal(await env.text("k"), "4");
    await env.del("k");
    await env.save("k", 5, { concurrency: "first-write" });
    assert.equal(await env.text("k"), "5");
  });

  stateTest(c, "bulk save checks each item's etag", ETAG, async (env) => {
    await env.save("a", 1);
    await env.save("b", 1);
    const ea = await env.etag("a");
    await env.block.save({ storeName: STORE, items: [item("a", 2, { etag: ea }), item("b", 2)] });
    assert.equal(await env.text("a"), "2");
    await rejectsWith(env.block.save({ storeName: STORE, items: [item("b", 3), item("a", 3, { etag: ea })] }), "ERR_STATE_SAVE", 409);
    assert.equal(await env.text("a"), "2", "the stale item is not written");
  });
}

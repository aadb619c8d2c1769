/** Save, get and delete: values, keys, options and the store's description. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { APP_ID, STORE, blockOver, claims, deleteItem, item, jsonText, rejectsWith, stateTest } from "./fixture.js";

export function crudTests(c: ComponentUnderTest): void {
  stateTest(c, "save, get and delete round-trip a JSON value", {}, async (env) => {
    await env.save("order-1", { id: 1, items: [{ sku: "a", qty: 2 }], paid: true });
    const got = await env.get("order-1");
    assert.ok(got);
    assert.deepEqual(JSON.parse(got.data.toString("utf8")), { id: 1, items: [{ sku: "a", qty: 2 }], paid: true });
    if (claims(c, "ETAG")) assert.ok(got.etag, "a store with ETAG returns the etag on get");
    await env.del("order-1");
    assert.equal(await env.get("order-1"), undefined);
  });

  stateTest(c, "JSON values come back byte for byte as saved", {}, async (env) => {
    const texts = ['"hello"', "42", "-3.25e-7", "true", "null", "[1,\"two\",{\"three\":3}]", '{"b":1,  "a": [ ]}', '"\\u003ctag\\u003e & \\"q\\""', '{"emoji":"😀","é":"ü"}'];
    await env.block.save({ storeName: STORE, items: texts.map((t, i) => jsonText(`v${i}`, t)) });
    for (const [i, t] of texts.entries()) assert.equal(await env.text(`v${i}`), t);
  });

  stateTest(c, "binary values round-trip byte for byte", {}, async (env) => {
    const bytes = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0xc3, 0x28, 0x0a, 0x22]);
    const looksLikeJson = Buffer.from('{"a":1}', "utf8");
    await env.save("bin", bytes);
    await env.save("bin-json", looksLikeJson);
    await env.save("bin-empty", Buffer.alloc(0));
    assert.deepEqual((await env.get("bin"))?.data, bytes);
    assert.deepEqual((await env.get("bin-json"))?.data, looksLikeJson);
    assert.deepEqual((await env.get("bin-empty"))?.data, Buffer.alloc(0));
    // The same through the component, with the stored (prefixed) key.
    assert.deepEqual((await env.opened.store.get({ key: `${APP_ID}||bin`, metadata: {} }))?.data, bytes);
  });

  stateTest(c, "a value switches between binary and JSON on overwrite", {}, async (env) => {
    await env.save("k", Buffer.from([0xff, 0x00]));
    await env.save("k", { now: "json" });
    assert.equal(await env.text("k"), '{"now":"json"}');
    await env.save("k", Buffer.from([0xff, 0x00]));
    assert.deepEqual((await env.get("k"))?.data, Buffer.from([0xff, 0x00]));
  });

  stateTest(c, "a missing key reads as undefined and deleting it succeeds", {}, async (env) => {
    assert.equal(await env.get("nothing-here"), undefined);
    await env.del("nothing-here");
    assert.equal(await env.get("nothing-here"), undefined);
  });

  stateTest(c, "a save without etag overwrites the value (last-write is the default)", {}, async (env) => {
    await env.save("k", "first");
    await env.save("k", "second");
    assert.equal(await env.text("k"), '"second"');
    await env.save("k", "third", { concurrency: "last-write" });
    assert.equal(await env.text("k"), '"third"');
  });

  stateTest(c, "keys are stored with the app id prefix", {}, async (env) => {
    await env.save("k", 1);
    assert.equal((await env.opened.store.get({ key: `${APP_ID}||k`, metadata: {} }))?.data.toString(), "1");
    assert.equal(await env.opened.store.get({ key: "k", metadata: {} }), undefined);
  });

  stateTest(c, "unicode keys and values round-trip", {}, async (env) => {
    const keys = ["ключ", "鍵-1", "emoji-😀", "space key", "a/b?c=d&e", "\u00e9\u0301"];
    for (const k of keys) await env.save(k, { k });
    for (const k of keys) assert.deepEqual(JSON.parse((await env.text(k)) ?? "null"), { k });
  });

  stateTest(c, "keys containing || and empty keys are refused", {}, async (env) => {
    await rejectsWith(env.save("a||b", 1), "ERR_MALFORMED_REQUEST", 400);
    await rejectsWith(env.get("a||b"), "ERR_MALFORMED_REQUEST", 400);
    await rejectsWith(env.del("a||b"), "ERR_MALFORMED_REQUEST", 400);
    await rejectsWith(env.save("", 1), "ERR_MALFORMED_REQUEST", 400);
    await rejectsWith(env.block.bulkGet({ storeName: STORE, keys: ["ok", "x||y"], metadata: {} }), "ERR_MALFORMED_REQUEST", 400);
  });

  stateTest(c, "invalid concurrency and consistency options are refused", {}, async (env) => {
    await rejectsWith(env.save("k", 1, { concurrency: "most-writes" }), "ERR_STATE_SAVE", 500);
    await rejectsWith(env.save("k", 1, { consistency: "sometimes" }), "ERR_STATE_SAVE", 500);
    assert.equal(await env.get("k"), undefined, "a refused save writes nothing");
    await rejectsWith(env.block.get({ storeName: STORE, key: "k", consistency: "sometimes", metadata: {} }), "ERR_STATE_GET", 500);
    await rejectsWith(env.del("k", { concurrency: "most-writes" }), "ERR_STATE_DELETE", 500);
    await rejectsWith(env.del("k", { consistency: "sometimes" }), "ERR_STATE_DELETE", 500);
    // The valid values (and empty ones) are accepted.
    await env.save("k", 1, { concurrency: "last-write", consistency: "strong" });
    await env.save("k", 2, { concurrency: "", consistency: "eventual" });
    assert.equal((await env.block.get({ storeName: STORE, key: "k", consistency: "strong", metadata: {} }))?.data.toString(), "2");
    await env.del("k", { concurrency: "first-write", consistency: "strong" });
    assert.equal(await env.get("k"), undefined);
  });

  stateTest(c, "an invalid ttlInSeconds is refused", {}, async (env) => {
    for (const ttl of ["soon", "-2", "1.5", "10s"]) await rejectsWith(env.save("k", 1, { ttl }), "ERR_STATE_SAVE", 500);
    assert.equal(await env.get("k"), undefined);
  });

  stateTest(c, "features() returns exactly the claimed features", {}, async (env) => {
    assert.deepEqual([...env.opened.store.features()].sort(), [...c.features].sort());
    assert.equal(typeof env.opened.store.scan === "function", c.scans, "scan is present iff the table says the store scans");
    if (claims(c, "TRANSACTIONAL")) assert.equal(typeof env.opened.store.multi, "function", "TRANSACTIONAL needs multi()");
    if (c.features.includes("QUERY_API")) assert.equal(typeof env.opened.store.query, "function", "QUERY_API needs query()");
    return Promise.resolve();
  });

  stateTest(c, "the metadata API lists claimed features plus what the block adds", {}, async (env) => {
    const caps = env.block.features(STORE);
    for (const f of c.features) assert.ok(caps.includes(f), `${f} is claimed and listed`);
    for (const f of ["ETAG", "TRANSACTIONAL", "TTL"] as const) if (!claims(c, f)) assert.ok(!caps.includes(f), `${f} is not claimed, so not listed`);
    assert.equal(caps.includes("QUERY_API"), c.scans, "QUERY_API is listed iff the block can query (natively or over scan)");
    assert.ok(!caps.includes("ACTOR"));
    const actorBlock = blockOver(env.opened, APP_ID, undefined, true);
    assert.ok(actorBlock.features(STORE).includes("ACTOR"));
    assert.deepEqual(env.block.describe(), [{ name: STORE, capabilities: caps }]);
    return Promise.resolve();
  });

  stateTest(c, "data survives closing and reopening the store", { durable: true }, async (env) => {
    await env.save("durable", { kept: true });
    await env.save("durable-bin", Buffer.from([1, 2, 3]));
    const etag = await env.etag("durable");
    assert.ok(env.opened.reopen);
    await env.opened.reopen();
    const again = blockOver(env.opened, APP_ID);
    const got = await again.get({ storeName: STORE, key: "durable", metadata: {} });
    assert.equal(got?.data.toString(), '{"kept":true}');
    assert.equal(got.etag, etag);
    assert.deepEqual((await again.get({ storeName: STORE, key: "durable-bin", metadata: {} }))?.data, Buffer.from([1, 2, 3]));
    await again.delete({ storeName: STORE, ...deleteItem("durable") });
    await again.save({ storeName: STORE, items: [item("after-reopen", 1)] });
  });
}

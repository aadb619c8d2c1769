/** Transactions: all or nothing on every TRANSACTIONAL store; refused on the others. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { APP_ID, STORE, rejectsWith, remove, stateTest, upsert, type Env } from "./fixture.js";
import type { TransactionItem } from "../../../src/blocks/state/state.js";

const TX = { features: ["TRANSACTIONAL"] } as const;
const run = (env: Env, operations: readonly TransactionItem[], metadata: Record<string, string> = {}) =>
  env.block.transaction({ storeName: STORE, operations, metadata });

export function transactionTests(c: ComponentUnderTest): void {
  stateTest(c, "a transaction applies upserts and deletes together", TX, async (env) => {
    env.block.assertTransactional(STORE);
    await env.save("to-delete", "old");
    await env.save("to-update", "old");
    await run(env, [upsert("to-update", "new"), upsert("created", { n: 1 }), remove("to-delete"), upsert("bin", Buffer.from([0, 255]))]);
    assert.equal(await env.text("to-update"), '"new"');
    assert.equal(await env.text("created"), '{"n":1}');
    assert.equal(await env.get("to-delete"), undefined);
    assert.deepEqual((await env.get("bin"))?.data, Buffer.from([0, 255]));
    // keys inside transactions are prefixed like any other
    assert.ok(await env.opened.store.get({ key: `${APP_ID}||created`, metadata: {} }));
  });

  stateTest(c, "later operations of a transaction see the earlier ones", TX, async (env) => {
    await env.save("x", 0);
    await run(env, [remove("x"), upsert("x", "re-created", { concurrency: "first-write" }), upsert("y", 1), remove("y")]);
    assert.equal(await env.text("x"), '"re-created"');
    assert.equal(await env.get("y"), undefined);
    await run(env, [upsert("z", 1), upsert("z", 2)]);
    assert.equal(await env.text("z"), "2");
  });

  stateTest(c, "an etag mismatch in the middle of a transaction rolls everything back", { features: ["TRANSACTIONAL", "ETAG"] }, async (env) => {
    await env.save("a", "a0");
    await env.save("b", "b0");
    await env.save("c", "c0");
    const staleB = await env.etag("b");
    await env.save("b", "b1");
    const before = { a: await env.etag("a"), c: await env.etag("c") };
    const err = await rejectsWith(
      run(env, [upsert("a", "a1"), remove("c"), upsert("new", 1), upsert("b", "b2", { etag: staleB }), upsert("after", 1)]),
      "ERR_STATE_TRANSACTION",
      500,
    );
    assert.match(err.message, /error while executing state transaction/);
    assert.equal(await env.text("a"), '"a0"');
    assert.equal(await env.text("b"), '"b1"');
    assert.equal(await env.text("c"), '"c0"');
    assert.equal(await env.get("new"), undefined);
    assert.equal(await env.get("after"), undefined);
    assert.deepEqual({ a: await env.etag("a"), c: await env.etag("c") }, before, "rolled-back rows keep their etags");
  });

  stateTest(c, "redis rules - a stale etag or a first-write-flagged key rolls the transaction back", { features: ["TRANSACTIONAL", "ETAG"], redisEtagRules: true }, async (env) => {
    await env.save("exists", 1);
    // Redis's rules: an etag on a missing key inserts or deletes nothing; first-write checks only the flag.
    await run(env, [upsert("n1", 1), remove("missing", { etag: "3" }), upsert("n2", 2, { etag: "9" }), upsert("exists", 2, { concurrency: "first-write" })]);
    assert.equal(await env.text("n1"), "1");
    assert.equal(await env.text("n2"), "2");
    assert.equal(await env.text("exists"), "2");
    await run(env, [upsert("exists", 3, { concurrency: "first-write" })]); // a transaction never sets the first-write flag
    const stale = await env.etag("exists");
    await env.save("exists", 4);
    await rejectsWith(run(env, [upsert("n3", 1), remove("exists", { etag: stale })]), "ERR_STATE_TRANSACTION", 500);
    await rejectsWith(run(env, [upsert("n3", 1), upsert("exists", 5, { etag: stale })]), "ERR_STATE_TRANSACTION", 500);
    await env.save("flagged", 1, { concurrency: "first-write" });
    await rejectsWith(run(env, [upsert("n3", 1), upsert("flagged", 2)]), "ERR_STATE_TRANSACTION", 500);
    await rejectsWith(run(env, [upsert("n3", 1), upsert("exists", 5, { etag: "not-an-integer" })]), "ERR_STATE_TRANSACTION");
    assert.equal(await env.get("n3"), undefined);
    assert.equal(await env.text("exists"), "4");
    assert.equal(await env.text("flagged"), "1");
    // Checks see earlier operations: the second upsert's etag is the version the first one produces.
    await run(env, [upsert("exists", 6, { etag: await env.etag("exists") }), upsert("exists", 7, { etag: String(Number(await env.etag("exists")) + 1) })]);
    assert.equal(await env.text("exists"), "7");
  });

  stateTest(c, "a failing delete or first-write rolls the transaction back", { features: ["TRANSACTIONAL", "ETAG"], redisEtagRules: false }, async (env) => {
    await env.save("exists", 1);
    await rejectsWith(run(env, [upsert("n1", 1), remove("missing", { etag: "00000000-0000-4000-8000-000000000000" })]), "ERR_STATE_TRANSACTION", 500);
    assert.equal(await env.get("n1"), undefined);
    await rejectsWith(run(env, [upsert("n2", 1), upsert("exists", 2, { concurrency: "first-write" })]), "ERR_STATE_TRANSACTION", 500);
    assert.equal(await env.get("n2"), undefined);
    assert.equal(await env.text("exists"), "1");
  });

  stateTest(c, "a transaction with an invalid option or operation is refused whole", TX, async (env) => {
    await rejectsWith(run(env, [upsert("k", 1), upsert("j", 1, { concurrency: "bogus" })]), "ERR_STATE_TRANSACTION", 500);
    await rejectsWith(run(env, [upsert("k", 1), remove("j", { consistency: "bogus" })]), "ERR_STATE_TRANSACTION", 500);
    await rejectsWith(run(env, [upsert("k", 1), { operation: "merge", item: {} }]), "ERR_NOT_SUPPORTED_STATE_OPERATION", 400);
    await rejectsWith(run(env, [upsert("k||x", 1)]), "ERR_MALFORMED_REQUEST", 400);
    assert.equal(await env.get("k"), undefined);
    await run(env, []); // empty: nothing to do
  });

  stateTest(c, "a transaction on a store without TRANSACTIONAL is refused", { lacks: ["TRANSACTIONAL"] }, async (env) => {
    assert.throws(() => env.block.assertTransactional(STORE), (err: Error & { code?: string }) => err.code === "ERR_STATE_STORE_NOT_SUPPORTED");
    const err = await rejectsWith(run(env, [upsert("k", 1)]), "ERR_STATE_STORE_NOT_SUPPORTED", 500);
    assert.match(err.message, /doesn't support transactions/);
    assert.equal(await env.get("k"), undefined);
    assert.ok(!env.block.features(STORE).includes("TRANSACTIONAL"));
  });
}

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

  stateTest(c, "a failing delete or first-write rolls the transaction back", { features: ["TRANSACTIONAL", "ETAG"] }, async (env) => {
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

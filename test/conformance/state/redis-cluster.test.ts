/**
 * state.redis with `redisType: cluster` on a private 3-master cluster: keys spread over every master
 * are read, bulk-read and listed (SCAN on every master); a transaction whose keys span slots is
 * refused whole with a clear error, and one whose keys share a hash tag runs all or nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import type { StateBlock } from "../../../src/blocks/state/state.js";
import { startRedisCluster, type RedisCluster } from "../../harness/servers/redis.js";
import { STORE, blockOver, item, rejectsWith, upsert } from "./fixture.js";
import { openRedisStore } from "./redis-env.js";

void describe("state.redis cluster", () => {
  let cluster: RedisCluster;
  let store: StateStore;
  let block: StateBlock;
  before(async () => {
    cluster = await startRedisCluster(3);
    store = await openRedisStore({ redisHost: cluster.addresses, redisType: "cluster", redisDB: "3" });
    block = blockOver({ store, dispose: () => store.close() }, "myapp");
  });
  after(async () => {
    await store.close();
    await cluster.stop();
  });

  test("state - redis cluster spreads keys over every master and lists them all in key order", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `spread-${String(i).padStart(2, "0")}`);
    await block.save({ storeName: STORE, items: keys.map((k) => item(k, k)) });
    const perMaster: number[] = [];
    for (const node of cluster.nodes) {
      const raw = new Redis({ host: node.host, port: node.port });
      try {
        perMaster.push((await raw.keys("myapp||spread-*")).length);
      } finally {
        raw.disconnect();
      }
    }
    assert.equal(perMaster.length, 3);
    assert.ok(perMaster.every((n) => n > 0), `every master holds some keys: ${perMaster.join(", ")}`);
    assert.equal(perMaster.reduce((a, b) => a + b, 0), keys.length);

    const bulk = await block.bulkGet({ storeName: STORE, keys, metadata: {} });
    assert.deepEqual(bulk.map((b) => b.data?.toString()), keys.map((k) => JSON.stringify(k)));
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await block.listKeys({ storeName: STORE, prefix: "spread-", limit: 25, ...(token !== undefined ? { token } : {}) });
      listed.push(...page.keys);
      token = page.token;
    } while (token !== undefined);
    assert.deepEqual(listed, keys);
  });

  test("state - redis cluster refuses a cross-slot transaction whole and runs a same-slot one", async () => {
    await block.save({ storeName: STORE, items: [item("a", 0), item("b", 0)] });
    const err = await rejectsWith(block.transaction({ storeName: STORE, operations: [upsert("a", 1), upsert("b", 1), upsert("c", 1)], metadata: {} }), "ERR_STATE_TRANSACTION");
    assert.match(err.message, /must hash to one slot/);
    assert.equal((await block.get({ storeName: STORE, key: "a", metadata: {} }))?.data.toString(), "0");
    assert.equal(await block.get({ storeName: STORE, key: "c", metadata: {} }), undefined);

    // A common hash tag puts the keys in one slot.
    await block.transaction({ storeName: STORE, operations: [upsert("{order-1}a", 1), upsert("{order-1}b", 2)], metadata: {} });
    const etag = (await block.get({ storeName: STORE, key: "{order-1}a", metadata: {} }))?.etag;
    assert.equal(etag, "1");
    await rejectsWith(
      block.transaction({ storeName: STORE, operations: [upsert("{order-1}b", 3), upsert("{order-1}a", 3, { etag: "9" })], metadata: {} }),
      "ERR_STATE_TRANSACTION",
      500,
    );
    assert.equal((await block.get({ storeName: STORE, key: "{order-1}b", metadata: {} }))?.data.toString(), "2", "nothing applied");
  });
});

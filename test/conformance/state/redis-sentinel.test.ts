/**
 * state.redis with `failover: true` through a private Sentinel (master + replica + one Sentinel):
 * the store finds the master through the Sentinel, reads and writes; strong writes wait for the
 * replica (WAIT); after the master is killed with SIGKILL and the Sentinel promotes the replica, the
 * same store keeps working on the new master with the data written before.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import type { StateBlock } from "../../../src/blocks/state/state.js";
import { pollUntil, startRedisSentinel, type RedisSentinelSet } from "../../harness/servers/redis.js";
import { STORE, blockOver, item } from "./fixture.js";
import { openRedisStore } from "./redis-env.js";

void describe("state.redis sentinel", () => {
  let set: RedisSentinelSet;
  let store: StateStore;
  let block: StateBlock;
  before(async () => {
    set = await startRedisSentinel("mymaster");
    store = await openRedisStore({
      redisHost: set.sentinel.address,
      failover: "true",
      sentinelMasterName: set.masterName,
      redisMinRetryInterval: "50ms",
      redisMaxRetryInterval: "500ms",
      redisMaxRetries: "20",
    });
    block = blockOver({ store, dispose: () => store.close() }, "myapp");
  });
  after(async () => {
    await store.close();
    await set.stop();
  });

  const text = async (key: string) => (await block.get({ storeName: STORE, key, metadata: {} }))?.data.toString();

  test("state - redis through sentinel reads and writes on the master", async () => {
    assert.equal(await set.currentMaster(), set.master.address);
    await block.save({ storeName: STORE, items: [item("k", { v: 1 })] });
    assert.equal(await text("k"), '{"v":1}');
    await block.save({ storeName: STORE, items: [item("k", { v: 2 }, { etag: "1" })] });
    assert.equal((await block.get({ storeName: STORE, key: "k", metadata: {} }))?.etag, "2");
  });

  test("state - redis through sentinel keeps working after the master is killed and the replica promoted", async () => {
    // A strong write waits until the replica has it (WAIT), so the promoted replica holds it.
    await block.save({ storeName: STORE, items: [item("before-failover", "kept", { consistency: "strong" })] });
    await set.master.kill();
    await pollUntil("the Sentinel promotes the replica", async () => (await set.currentMaster()) === set.replica.address, 30_000, 200);
    await pollUntil(
      "the store writes on the new master",
      async () => {
        await block.save({ storeName: STORE, items: [item("after-failover", "written")] });
        return true;
      },
      30_000,
      200,
    );
    assert.equal(await text("after-failover"), '"written"');
    assert.equal(await text("before-failover"), '"kept"');
  });
});

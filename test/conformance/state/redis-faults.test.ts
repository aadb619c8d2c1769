/**
 * state.redis when its server dies: requests fail with Dapr's error codes within the client's retry
 * budget (no hang, no crash), and the same store recovers by itself once the server is back on its
 * port; no restart of the component.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import { pollUntil, startRedis, type RedisServer } from "../../harness/servers/redis.js";
import { STORE, blockOver, item, rejectsWith } from "./fixture.js";
import { openRedisStore } from "./redis-env.js";

void describe("state.redis faults", () => {
  let server: RedisServer | undefined;
  let store: StateStore | undefined;
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  test("state - redis fails fast while the server is down and recovers when it returns", async () => {
    const first = await startRedis();
    server = first;
    const opened = await openRedisStore({ redisHost: first.address, readTimeout: "1s", redisMaxRetries: "2", redisMinRetryInterval: "10ms", redisMaxRetryInterval: "100ms" });
    store = opened;
    const block = blockOver({ store: opened, dispose: () => opened.close() }, "myapp");
    await block.save({ storeName: STORE, items: [item("k", 1)] });

    await first.kill();
    const started = Date.now();
    await rejectsWith(block.save({ storeName: STORE, items: [item("k", 2)] }), "ERR_STATE_SAVE", 500);
    await rejectsWith(block.get({ storeName: STORE, key: "k", metadata: {} }), "ERR_STATE_GET", 500);
    await rejectsWith(block.transaction({ storeName: STORE, operations: [{ operation: "upsert", item: item("k", 3) }], metadata: {} }), "ERR_STATE_TRANSACTION", 500);
    assert.ok(Date.now() - started < 5000, `failures came within the retry budget (${Date.now() - started}ms)`);

    server = await startRedis([], { port: first.port, dir: first.dir });
    await pollUntil("the store writes again", async () => {
      await block.save({ storeName: STORE, items: [item("k", 4)] });
      return true;
    });
    const got = await block.get({ storeName: STORE, key: "k", metadata: {} });
    assert.equal(got?.data.toString(), "4");
    assert.equal(got.etag, "1", "the restarted server kept no data (no persistence): a fresh version");
  });
});

/** keyPrefix strategies (semantics.md §1.1), applied by the block in front of every component. */
import assert from "node:assert/strict";
import { keyPrefixStrategy } from "../../../src/blocks/state/key-prefix.js";
import { StateBlock } from "../../../src/blocks/state/state.js";
import type { ComponentUnderTest } from "./components.js";
import { STORE, blockOver, item, stateTest } from "./fixture.js";

const STRATEGIES: readonly { keyPrefix: string | undefined; namespace?: string; appId?: string; stored: string }[] = [
  { keyPrefix: undefined, stored: "myapp||k" },
  { keyPrefix: "appid", stored: "myapp||k" },
  { keyPrefix: "AppID", stored: "myapp||k" },
  { keyPrefix: "appid", appId: "", stored: "k" },
  { keyPrefix: "name", stored: "statestore||k" },
  { keyPrefix: "namespace", namespace: "prod", stored: "prod.myapp||k" },
  { keyPrefix: "namespace", stored: "myapp||k" },
  { keyPrefix: "none", stored: "k" },
  { keyPrefix: "Shared-Prefix", stored: "shared-prefix||k" },
];

export function keyPrefixTests(c: ComponentUnderTest): void {
  stateTest(c, "keyPrefix appid, name, namespace, none and a literal store the documented key", {}, async (env) => {
    for (const s of STRATEGIES) {
      const appId = s.appId ?? "myapp";
      const block = new StateBlock(appId);
      block.register({
        name: STORE,
        store: env.opened.store,
        keyPrefix: keyPrefixStrategy(s.keyPrefix, { appId, storeName: STORE, namespace: s.namespace ?? "" }),
        actorStateStore: false,
      });
      const label = `keyPrefix ${String(s.keyPrefix)} (app "${appId}", namespace "${s.namespace ?? ""}")`;
      await block.save({ storeName: STORE, items: [item("k", label)] });
      assert.equal((await env.opened.store.get({ key: s.stored, metadata: {} }))?.data.toString(), JSON.stringify(label), `${label} stores ${s.stored}`);
      assert.equal((await block.get({ storeName: STORE, key: "k", metadata: {} }))?.data.toString(), JSON.stringify(label));
      const bulk = await block.bulkGet({ storeName: STORE, keys: ["k"], metadata: {} });
      assert.deepEqual(bulk.map((b) => b.key), ["k"], `${label}: bulk get returns the key un-prefixed`);
      if (c.scans && s.stored !== "k") {
        assert.deepEqual((await block.listKeys({ storeName: STORE })).keys, ["k"], `${label}: list keys is un-prefixed`);
        const q = await block.query({ storeName: STORE, query: {}, metadata: {} });
        assert.deepEqual(q.results.map((r) => r.key), ["k"], `${label}: query results are un-prefixed`);
      }
      await block.delete({ storeName: STORE, key: "k", metadata: {}, options: {} });
      assert.equal(await env.opened.store.get({ key: s.stored, metadata: {} }), undefined);
    }
  });

  stateTest(c, "a keyPrefix containing || is refused", {}, async () => {
    for (const bad of ["a||b", "||", "app||"]) {
      assert.throws(() => keyPrefixStrategy(bad, { appId: "myapp", storeName: STORE, namespace: "" }), /can't contain '\|\|'/);
    }
    return Promise.resolve();
  });

  stateTest(c, "two apps sharing a store never see each other's keys", {}, async (env) => {
    const other = env.blockFor("otherapp");
    await env.save("shared-name", "mine");
    await other.save({ storeName: STORE, items: [item("shared-name", "theirs"), item("only-theirs", 1)] });
    assert.equal(await env.text("shared-name"), '"mine"');
    assert.equal((await other.get({ storeName: STORE, key: "shared-name", metadata: {} }))?.data.toString(), '"theirs"');
    assert.equal(await env.get("only-theirs"), undefined);
    const bulk = await env.block.bulkGet({ storeName: STORE, keys: ["shared-name", "only-theirs"], metadata: {} });
    assert.deepEqual(new Map(bulk.map((b) => [b.key, b.data?.toString()])), new Map([["shared-name", '"mine"'], ["only-theirs", undefined]]));
    await env.del("shared-name");
    assert.equal((await other.get({ storeName: STORE, key: "shared-name", metadata: {} }))?.data.toString(), '"theirs"');
    // An app id that is a prefix of another's does not leak either: "myapp" vs "myapp2".
    const sibling = blockOver(env.opened, "myapp2");
    await sibling.save({ storeName: STORE, items: [item("x", 2)] });
    assert.equal(await env.get("x"), undefined);
    if (c.scans) {
      assert.deepEqual((await env.block.listKeys({ storeName: STORE })).keys, []);
      assert.deepEqual((await env.block.query({ storeName: STORE, query: {}, metadata: {} })).results, []);
    }
  });
}

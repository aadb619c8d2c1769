import { test } from "node:test";
import assert from "node:assert/strict";
import { keyPrefixStrategy, prefixKey, unprefixKey } from "./key-prefix.js";

const ctx = { appId: "myapp", storeName: "s1", namespace: "" };

test("state - keyPrefix strategies store keys as daprd does", () => {
  assert.equal(prefixKey(keyPrefixStrategy(undefined, ctx), "k"), "myapp||k");
  assert.equal(prefixKey(keyPrefixStrategy("AppID", ctx), "k"), "myapp||k");
  assert.equal(prefixKey(keyPrefixStrategy("name", ctx), "k"), "s1||k");
  assert.equal(prefixKey(keyPrefixStrategy("none", ctx), "k"), "k");
  assert.equal(prefixKey(keyPrefixStrategy("Foo", ctx), "k"), "foo||k");
  assert.equal(prefixKey(keyPrefixStrategy("namespace", ctx), "k"), "myapp||k");
  assert.equal(prefixKey(keyPrefixStrategy("namespace", { ...ctx, namespace: "prod" }), "k"), "prod.myapp||k");
  assert.equal(prefixKey(keyPrefixStrategy("appid", { ...ctx, appId: "" }), "k"), "k");
  assert.throws(() => keyPrefixStrategy("a||b", ctx), /can't contain/);
});

test("state - keys are un-prefixed by the text between the first and second separator", () => {
  assert.equal(unprefixKey("myapp||k"), "k");
  assert.equal(unprefixKey("k"), "k");
  assert.equal(unprefixKey("app||type||id||key"), "type");
});

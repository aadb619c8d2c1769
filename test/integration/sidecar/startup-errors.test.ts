/** Integration: bad flags and bad resources stop the sidecar with exit code 1 and a message naming the culprit. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { component, startSidecar } from "../../harness/sidecar.js";

test("sidecar - an unknown flag exits 1 with a clear message", async () => {
  const sc = await startSidecar({ args: ["--no-such-flag"], waitFor: "none" });
  assert.equal(await sc.exited, 1);
  assert.match(sc.output(), /unknown flag --no-such-flag/);
  assert.doesNotMatch(sc.output(), /\n\s+at /);
});

test("sidecar - a bad YAML file exits 1 naming the file", async () => {
  const sc = await startSidecar({ resources: { "broken.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x\n" }, waitFor: "none" });
  assert.equal(await sc.exited, 1);
  assert.match(sc.output(), /broken\.yaml/);
});

test("sidecar - an unknown component type exits 1 listing the known types", async () => {
  const sc = await startSidecar({ resources: { "c.yaml": component("x", "state.nosuch") }, waitFor: "none" });
  assert.equal(await sc.exited, 1);
  assert.match(sc.output(), /unknown component type "state\.nosuch"/);
  assert.match(sc.output(), /state\.in-memory/);
});

test("sidecar - bad component metadata exits 1 naming the field; ignoreErrors keeps the sidecar up", async () => {
  const bad = await startSidecar({ resources: { "c.yaml": component("s", "state.sqlite", {}) }, waitFor: "none" });
  assert.equal(await bad.exited, 1);
  assert.match(bad.output(), /connectionString/);

  const ok = await startSidecar({
    resources: {
      "c.yaml": component("s", "state.sqlite", {}).replace("  version: v1\n", "  version: v1\n  ignoreErrors: true\n"),
      "m.yaml": component("mem", "state.in-memory"),
    },
  });
  const md = (await (await fetch(ok.url + "/v1.0/metadata")).json()) as { components: { name: string }[] };
  assert.deepEqual(md.components.map((c) => c.name), ["mem"]);
  await ok.stop();
});

test("sidecar - duplicate component names exit 1", async () => {
  const sc = await startSidecar({ resources: { "a.yaml": component("dup", "state.in-memory"), "b.yaml": component("dup", "state.in-memory") }, waitFor: "none" });
  assert.equal(await sc.exited, 1);
  assert.match(sc.output(), /dup/);
});

test("sidecar - a component scoped to another app is not loaded", async () => {
  const sc = await startSidecar({ appId: "mine", resources: { "a.yaml": component("other", "state.in-memory") + "scopes: [someone-else]\n" } });
  const r = await fetch(sc.url + "/v1.0/state/other/k");
  assert.equal(r.status, 500);
  assert.equal(((await r.json()) as { errorCode: string }).errorCode, "ERR_STATE_STORE_NOT_CONFIGURED");
  await sc.stop();
});

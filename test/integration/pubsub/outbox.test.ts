/**
 * The transactional outbox through a real sidecar: a committed transaction reaches the user topic
 * (one event per upsert, projections replacing the data), and a rolled-back one never does.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort } from "../../harness/ports.js";
import { startSidecar, waitUntil, type SidecarProcess } from "../../harness/sidecar.js";
import { startSubscriberApp, type SubscriberApp } from "../../harness/subscriber-app.js";

const RESOURCES = {
  "pubsub.yaml": `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.in-memory
  version: v1
`,
  "store.yaml": `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: orders-store}
spec:
  type: state.in-memory
  version: v1
  metadata:
  - {name: outboxPublishPubsub, value: pubsub}
  - {name: outboxPublishTopic, value: order-events}
  - {name: outboxDiscardWhenMissingState, value: "true"}
`,
};

let app: SubscriberApp;
let sc: SidecarProcess;

before(async () => {
  const appPort = await freePort();
  app = await startSubscriberApp([{ pubsubname: "pubsub", topic: "order-events", route: "/events" }], { port: appPort });
  sc = await startSidecar({ appId: "outbox-it", resources: RESOURCES, args: ["--app-port", String(appPort)] });
});

after(async () => {
  await sc?.stop();
  await app?.close();
});

const transaction = (operations: unknown[]) =>
  fetch(`${sc.url}/v1.0/state/orders-store/transaction`, { method: "POST", body: JSON.stringify({ operations }), headers: { "content-type": "application/json" } });

test("outbox - each upsert of a committed transaction is published to the user topic, projections replacing the data", async () => {
  const res = await transaction([
    { operation: "upsert", request: { key: "order-1", value: { total: 10 } } },
    { operation: "upsert", request: { key: "order-2", value: { total: 20, secret: "x" } } },
    { operation: "upsert", request: { key: "order-2", value: { total: 20 }, metadata: { "outbox.projection": "true" } } },
    { operation: "delete", request: { key: "nothing" } },
  ]);
  assert.equal(res.status, 204);
  const got = await app.waitForCount((d) => d.path === "/events", 2, 20_000);
  const events = got.map((d) => d.json as Record<string, unknown>);
  assert.deepEqual(events.map((e) => e.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [{ total: 10 }, { total: 20 }]);
  for (const e of events) {
    assert.equal(e.topic, "order-events");
    assert.equal(e.pubsubname, "pubsub");
    assert.equal(e.source, "outbox-it");
    assert.match(String(e.id), /^outbox-/);
  }
  const saved = (await (await fetch(`${sc.url}/v1.0/state/orders-store/order-2`)).json()) as Record<string, unknown>;
  assert.deepEqual(saved, { total: 20, secret: "x" }, "the projection is not saved");
  await waitUntil(
    async () => {
      for (const e of events) if ((await fetch(`${sc.url}/v1.0/state/orders-store/${String(e.id)}`)).status !== 204) return false;
      return true;
    },
    sc.exited,
    10_000,
    sc.output,
  );
});

test("outbox - a transaction that does not commit never reaches the user topic", async () => {
  await transaction([{ operation: "upsert", request: { key: "guarded", value: 1 } }]);
  await app.waitFor((d) => d.path === "/events" && (d.json as { data: unknown }).data === 1, 20_000);
  const res = await transaction([{ operation: "upsert", request: { key: "guarded", value: 2, etag: "not-the-etag" } }]);
  assert.equal(res.status, 500);
  assert.equal(((await res.json()) as { errorCode: string }).errorCode, "ERR_STATE_TRANSACTION");
  await waitUntil(async () => Promise.resolve(/did not commit; discarded/.test(sc.output())), sc.exited, 20_000, sc.output);
  assert.equal(app.deliveries.filter((d) => (d.json as { data: unknown }).data === 2).length, 0);
});

/**
 * Pub/sub through a real sidecar and a real HTTP app on pubsub.in-memory: the envelope fields,
 * content types, CloudEvent pass-through and overrides, raw payloads, routing, statuses, dead
 * letters, bulk publish and subscribe, scopes and every publish error with its body.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { freePort } from "../../harness/ports.js";
import { startSidecar, type SidecarProcess } from "../../harness/sidecar.js";
import { startSubscriberApp, type Delivery, type SubscriberApp } from "../../harness/subscriber-app.js";

const PUBSUB = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
  - {name: redeliverInterval, value: "50"}
  - {name: publishingScopes, value: "ps-it=orders,routed,plain,bulk,bulkin,retry,drop,gone,raw,rawsub,exp,ce,dlq-src,dlq-dead,nomatch,badcel;other=x"}
  - {name: protectedTopics, value: "secret"}
`;

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: fast}
spec:
  policies:
    retries:
      quick: {policy: constant, duration: 20ms, maxRetries: 2}
  targets:
    components:
      pubsub:
        inbound: {retry: quick}
`;

const DECLARATIVE = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: plain-sub}
spec:
  pubsubname: pubsub
  topic: plain
  routes: {default: /plain}
scopes: [ps-it]
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: not-mine}
spec:
  pubsubname: pubsub
  topic: orders
  routes: {default: /never}
scopes: [someone-else]
`;

const programmatic = [
  { pubsubname: "pubsub", topic: "orders", routes: { default: "/orders" } },
  {
    pubsubname: "pubsub",
    topic: "routed",
    routes: { rules: [{ match: 'event.type == "big"', path: "/big" }, { match: "event.data.n > 10", path: "/many" }], default: "/routed-default" },
  },
  { pubsubname: "pubsub", topic: "nomatch", routes: { rules: [{ match: 'event.type == "x"', path: "/x" }] }, deadLetterTopic: "nomatch-dead" },
  { pubsubname: "pubsub", topic: "nomatch-dead", route: "/nomatch-dead" },
  { pubsubname: "pubsub", topic: "retry", route: "/retry" },
  { pubsubname: "pubsub", topic: "drop", route: "/drop", deadLetterTopic: "dlq-dead" },
  { pubsubname: "pubsub", topic: "gone", route: "/gone", deadLetterTopic: "dlq-dead" },
  { pubsubname: "pubsub", topic: "dlq-src", route: "/dlq-src", deadLetterTopic: "dlq-dead" },
  { pubsubname: "pubsub", topic: "dlq-dead", route: "/dlq-dead" },
  { pubsubname: "pubsub", topic: "raw", route: "/raw", metadata: { rawPayload: "true" } },
  { pubsubname: "pubsub", topic: "exp", route: "/exp" },
  { pubsubname: "pubsub", topic: "ce", route: "/ce" },
  { pubsubname: "pubsub", topic: "bulk", route: "/bulk" },
  { pubsubname: "pubsub", topic: "bulkin", route: "/bulkin", bulkSubscribe: { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 200 } },
];

let app: SubscriberApp;
let sc: SidecarProcess;

const publish = (topic: string, body: string | Buffer, contentType?: string, query = "", headers: Record<string, string> = {}) =>
  fetch(`${sc.url}/v1.0/publish/pubsub/${topic}${query}`, { method: "POST", body, headers: { ...(contentType ? { "content-type": contentType } : {}), ...headers } });

const onPath = (path: string) => (d: Delivery) => d.path === path;
const event = (d: Delivery) => d.json as Record<string, unknown>;

before(async () => {
  const appPort = await freePort();
  app = await startSubscriberApp(programmatic, { port: appPort });
  sc = await startSidecar({ appId: "ps-it", resources: { "pubsub.yaml": PUBSUB, "resiliency.yaml": RESILIENCY, "subs.yaml": DECLARATIVE }, args: ["--app-port", String(appPort)] });
});

after(async () => {
  await sc?.stop();
  await app?.close();
});

describe("pubsub - publish and deliver", () => {
  test("pubsub - a JSON publish arrives as daprd's envelope with its headers", async () => {
    const res = await publish("orders", JSON.stringify({ orderId: 7 }), "application/json");
    assert.equal(res.status, 204);
    const d = await app.waitFor(onPath("/orders"));
    assert.equal(d.headers["content-type"], "application/cloudevents+json");
    assert.equal(d.headers["pubsubname"], "pubsub");
    const ce = event(d);
    assert.deepEqual(ce.data, { orderId: 7 });
    assert.equal(ce.datacontenttype, "application/json");
    assert.match(String(ce.id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(ce.source, "ps-it");
    assert.equal(ce.type, "com.dapr.event.sent");
    assert.equal(ce.specversion, "1.0");
    assert.equal(ce.topic, "orders");
    assert.equal(ce.pubsubname, "pubsub");
    assert.equal(ce.traceid, "");
    assert.equal(ce.traceparent, "");
    assert.equal(ce.tracestate, "");
    assert.match(String(ce.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(ce.expiration, undefined);
    assert.deepEqual(Object.keys(ce), [...Object.keys(ce)].sort(), "keys in Go's map order");
  });

  test("pubsub - text, missing content type and binary bodies become data or data_base64", async () => {
    const from = app.deliveries.length;
    await publish("orders", "hello", "text/plain");
    await publish("orders", Buffer.from("no type")); // a Buffer body: fetch adds no content type
    await publish("orders", Buffer.from([0, 1, 2, 255]), "application/octet-stream");
    await publish("orders", "{not json", "application/json");
    const got = await app.waitForCount((d) => d.path === "/orders" && app.deliveries.indexOf(d) >= from, 4);
    const byData = got.map(event);
    assert.ok(byData.some((e) => e.data === "hello" && e.datacontenttype === "text/plain"));
    assert.ok(byData.some((e) => e.data === "no type" && e.datacontenttype === "text/plain"));
    assert.ok(byData.some((e) => e.data_base64 === "AAEC/w==" && e.datacontenttype === "application/octet-stream" && !("data" in e)));
    assert.ok(byData.some((e) => e.data === "{not json" && e.datacontenttype === "application/json"), "invalid JSON is wrapped as a string");
  });

  test("pubsub - cloudevent.* metadata overrides the envelope fields", async () => {
    const q = "?metadata.cloudevent.id=my-id&metadata.cloudevent.source=src&metadata.cloudevent.type=t.x&metadata.cloudevent.subject=sub&metadata.cloudevent.traceparent=00-11111111111111111111111111111111-2222222222222222-01";
    await publish("orders", "x", "text/plain", q);
    const ce = event(await app.waitFor((d) => d.path === "/orders" && event(d).id === "my-id"));
    assert.equal(ce.source, "src");
    assert.equal(ce.type, "t.x");
    assert.equal(ce.subject, "sub");
    assert.equal(ce.traceparent, "00-11111111111111111111111111111111-2222222222222222-01");
    assert.equal(ce.traceid, ce.traceparent);
  });

  test("pubsub - a whole CloudEvent is kept, with topic and pubsubname overwritten and missing fields added", async () => {
    const body = JSON.stringify({ id: "ce-1", source: "mine", type: "my.type", specversion: "1.0", data: { a: 1 }, topic: "wrong", custom: "kept" });
    assert.equal((await publish("ce", body, "application/cloudevents+json", "?metadata.cloudevent.id=ignored")).status, 204);
    const ce = event(await app.waitFor(onPath("/ce")));
    assert.equal(ce.id, "ce-1");
    assert.equal(ce.source, "mine");
    assert.equal(ce.topic, "ce");
    assert.equal(ce.pubsubname, "pubsub");
    assert.equal(ce.custom, "kept");
    assert.ok(typeof ce.time === "string");
    assert.equal(ce.tracestate, "");
    assert.equal(ce.datacontenttype, undefined, "datacontenttype is not added");
  });

  test("pubsub - ttlInSeconds adds expiration; an expired event is dropped without calling the app", async () => {
    await publish("orders", "ttl", "text/plain", "?metadata.ttlInSeconds=60");
    const ce = event(await app.waitFor((d) => d.path === "/orders" && event(d).data === "ttl"));
    assert.ok(Date.parse(String(ce.expiration)) > Date.now() + 50_000);
    const old = JSON.stringify({ id: "old", source: "s", type: "t", specversion: "1.0", data: "late", expiration: "2001-01-01T00:00:00Z" });
    await publish("exp", old, "application/cloudevents+json");
    await publish("exp", "fresh", "text/plain");
    await app.waitFor((d) => d.path === "/exp" && event(d).data === "fresh");
    assert.equal(app.deliveries.filter((d) => d.path === "/exp" && event(d).id === "old").length, 0);
  });

  test("pubsub - rawPayload publish sends the bytes unwrapped; a rawPayload subscription gets them wrapped in data_base64", async () => {
    await publish("raw", "plain bytes", "text/plain", "?metadata.rawPayload=true");
    const ce = event(await app.waitFor(onPath("/raw")));
    assert.equal(Buffer.from(String(ce.data_base64), "base64").toString(), "plain bytes");
    assert.equal(ce.datacontenttype, "application/octet-stream");
    assert.equal(ce.source, "Dapr");
    assert.equal(ce.topic, "raw");
  });

  test("pubsub - declarative subscriptions in scope are served; out of scope ones are not", async () => {
    await publish("plain", "decl", "text/plain");
    await app.waitFor(onPath("/plain"));
    const meta = (await (await fetch(`${sc.url}/v1.0/metadata`)).json()) as { subscriptions: { topic: string; type: string }[] };
    assert.ok(meta.subscriptions.some((s) => s.topic === "plain" && s.type === "DECLARATIVE"));
    assert.ok(meta.subscriptions.some((s) => s.topic === "orders" && s.type === "PROGRAMMATIC"), "the programmatic one replaces the declarative one for orders");
    assert.equal(app.deliveries.filter((d) => d.path === "/never").length, 0);
  });
});

test("pubsub - publishes and deliveries are counted under Dapr's metric names", async () => {
  await publish("orders", "counted", "text/plain");
  await app.waitFor((d) => d.path === "/orders" && event(d).data === "counted");
  const text = await (await fetch(`http://127.0.0.1:${sc.metricsPort}/metrics`)).text();
  assert.match(text, /dapr_component_pubsub_egress_count\{[^}]*component="pubsub"[^}]*success="true"[^}]*topic="orders"[^}]*\} [1-9]/);
  assert.match(text, /dapr_component_pubsub_ingress_count\{[^}]*component="pubsub"[^}]*process_status="success"[^}]*topic="orders"[^}]*\} [1-9]/);
  assert.match(text, /dapr_component_pubsub_egress_latencies_bucket\{/);
});

describe("pubsub - routing and statuses", () => {
  test("pubsub - CEL rules pick the route in order, then the default", async () => {
    await publish("routed", JSON.stringify({ n: 50 }), "application/json", "?metadata.cloudevent.type=big");
    await publish("routed", JSON.stringify({ n: 50 }), "application/json");
    await publish("routed", JSON.stringify({ n: 1 }), "application/json");
    await app.waitFor(onPath("/big"));
    await app.waitFor(onPath("/many"));
    await app.waitFor(onPath("/routed-default"));
  });

  test("pubsub - an event no rule matches is dead-lettered when a dead letter topic is set", async () => {
    await publish("nomatch", "nobody", "text/plain");
    const d = await app.waitFor(onPath("/nomatch-dead"));
    assert.equal(event(d).topic, "nomatch", "the envelope is republished as-is");
    assert.equal(app.deliveries.filter((x) => x.path === "/x").length, 0);
  });

  test("pubsub - RETRY is retried under the component's inbound policy until the app succeeds", async () => {
    app.reply("/retry", (_d, attempt) => (attempt < 3 ? { status: 200, body: '{"status":"RETRY"}' } : { status: 200, body: '{"status":"SUCCESS"}' }));
    await publish("retry", "again", "text/plain");
    const got = await app.waitForCount(onPath("/retry"), 3);
    assert.equal(got.length, 3);
  });

  test("pubsub - DROP and 404 go to the dead letter topic; an exhausted retry policy does too", async () => {
    app.reply("/drop", { status: 200, body: '{"status":"DROP"}' });
    app.reply("/gone", { status: 404 });
    app.reply("/dlq-src", { status: 500 });
    await publish("drop", "d1", "text/plain");
    await publish("gone", "g1", "text/plain");
    await publish("dlq-src", "s1", "text/plain");
    const dead = await app.waitForCount(onPath("/dlq-dead"), 3);
    assert.deepEqual(dead.map((d) => event(d).data).sort(), ["d1", "g1", "s1"]);
    assert.equal(app.deliveries.filter((d) => d.path === "/dlq-src").length, 3, "1 attempt + 2 retries (policy quick)");
  });
});

describe("pubsub - bulk", () => {
  test("pubsub - bulk publish envelopes every entry by its content type", async () => {
    const body = [
      { entryId: "1", event: "text", contentType: "text/plain" },
      { entryId: "2", event: { a: 1 }, contentType: "application/json", metadata: { k: "v" } },
      { entryId: "3", event: Buffer.from("bin").toString("base64"), contentType: "application/octet-stream" },
    ];
    const res = await fetch(`${sc.url}/v1.0-alpha1/publish/bulk/pubsub/bulk`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    assert.equal(res.status, 204);
    const got = (await app.waitForCount(onPath("/bulk"), 3)).map(event);
    assert.ok(got.some((e) => e.data === "text"));
    assert.ok(got.some((e) => JSON.stringify(e.data) === '{"a":1}'));
    assert.ok(got.some((e) => e.data_base64 === Buffer.from("bin").toString("base64")));
  });

  test("pubsub - bulk publish rejects bodies that do not match Dapr's shape", async () => {
    const cases: [string, string][] = [
      ["{}", "not an array"],
      [JSON.stringify([{ entryId: "1", event: 1, contentType: "text/plain" }]), "text event not a string"],
      [JSON.stringify([{ entryId: "1", event: "x", contentType: "image/png" }]), "unsupported content type"],
      [JSON.stringify([{ entryId: "1", event: "x", contentType: "text/plain" }, { entryId: "1", event: "y", contentType: "text/plain" }]), "duplicate entryId"],
      [JSON.stringify([{ event: "x", contentType: "text/plain" }]), "missing entryId"],
    ];
    for (const [body, why] of cases) {
      const res = await fetch(`${sc.url}/v1.0-alpha1/publish/bulk/pubsub/bulk`, { method: "POST", body });
      assert.equal(res.status, 400, why);
      assert.equal(((await res.json()) as { errorCode: string }).errorCode, "ERR_PUBSUB_EVENTS_SER", why);
    }
  });

  test("pubsub - bulk subscribe batches events into one request and honours per-entry statuses", async () => {
    app.reply("/bulkin", (d, attempt) => {
      const entries = (d.json as { entries: { entryId: string; event: { data: string } }[] }).entries;
      return { status: 200, body: JSON.stringify({ statuses: entries.map((e) => ({ entryId: e.entryId, status: e.event.data === "b" && attempt === 1 ? "RETRY" : "SUCCESS" })) }) };
    });
    for (const x of ["a", "b", "c"]) await publish("bulkin", x, "text/plain");
    const first = await app.waitFor(onPath("/bulkin"));
    const body = first.json as { type: string; topic: string; pubsubname: string; entries: { contentType: string; event: { data: string } }[] };
    assert.equal(body.type, "com.dapr.event.sent.bulk");
    assert.equal(body.topic, "bulkin");
    assert.equal(body.pubsubname, "pubsub");
    assert.equal(first.headers["content-type"], "application/json");
    assert.equal(body.entries[0]?.contentType, "application/cloudevents+json");
    const all = await app.waitFor((d) => d.path === "/bulkin" && (d.json as { entries: { event: { data: string } }[] }).entries.some((e) => e.event.data === "b") && d !== first);
    assert.ok(all, "the RETRY entry is delivered again");
  });
});

describe("pubsub - publish errors", () => {
  const errorOf = async (res: Response) => ({ status: res.status, body: (await res.json()) as { errorCode: string; message: string } });

  test("pubsub - an unknown pubsub is 404 ERR_PUBSUB_NOT_FOUND", async () => {
    const { status, body } = await errorOf(await fetch(`${sc.url}/v1.0/publish/nope/t`, { method: "POST", body: "x" }));
    assert.equal(status, 404);
    assert.equal(body.errorCode, "ERR_PUBSUB_NOT_FOUND");
    assert.equal(body.message, "pubsub nope not found");
  });

  test("pubsub - an empty topic is 404 ERR_TOPIC_NAME_EMPTY", async () => {
    const { status, body } = await errorOf(await fetch(`${sc.url}/v1.0/publish/pubsub`, { method: "POST", body: "x" }));
    assert.equal(status, 404);
    assert.equal(body.errorCode, "ERR_TOPIC_NAME_EMPTY");
  });

  test("pubsub - a topic outside the publishing scope is 403 ERR_PUBSUB_FORBIDDEN", async () => {
    for (const topic of ["elsewhere", "secret"]) {
      const { status, body } = await errorOf(await publish(topic, "x", "text/plain"));
      assert.equal(status, 403);
      assert.equal(body.errorCode, "ERR_PUBSUB_FORBIDDEN");
      assert.equal(body.message, `topic ${topic} is not allowed for app id ps-it`);
    }
  });

  test("pubsub - a non-boolean rawPayload is 400 ERR_PUBSUB_REQUEST_METADATA", async () => {
    const { status, body } = await errorOf(await publish("orders", "x", "text/plain", "?metadata.rawPayload=maybe"));
    assert.equal(status, 400);
    assert.equal(body.errorCode, "ERR_PUBSUB_REQUEST_METADATA");
  });

  test("pubsub - an invalid CloudEvent body is 500 ERR_PUBSUB_CLOUD_EVENTS_SER", async () => {
    const { status, body } = await errorOf(await publish("orders", "{oops", "application/cloudevents+json"));
    assert.equal(status, 500);
    assert.equal(body.errorCode, "ERR_PUBSUB_CLOUD_EVENTS_SER");
  });

  test("pubsub - a sidecar without any pubsub answers 400 ERR_PUBSUB_NOT_CONFIGURED", async () => {
    const bare = await startSidecar({ appId: "no-ps" });
    try {
      const { status, body } = await errorOf(await fetch(`${bare.url}/v1.0/publish/pubsub/t`, { method: "POST", body: "x" }));
      assert.equal(status, 400);
      assert.equal(body.errorCode, "ERR_PUBSUB_NOT_CONFIGURED");
    } finally {
      await bare.stop();
    }
  });
});

/** Integration: the sidecar's HTTP API core on a real process — token, health, metadata, limits, metrics, shutdown. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { component, startSidecar, type SidecarProcess } from "../../harness/sidecar.js";

let sc: SidecarProcess;
const TOKEN = "s3cret";

before(async () => {
  sc = await startSidecar({
    appId: "coreapp",
    env: { DAPR_API_TOKEN: TOKEN },
    args: ["--max-body-size", "1Ki"],
    resources: {
      "mem.yaml": component("mem", "state.in-memory", { actorStateStore: "true" }),
      "subs.yaml": `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: orders-sub}
spec:
  pubsubname: pubsub
  topic: orders
  routes:
    rules:
    - {match: 'event.type == "created"', path: /orders/created}
    default: /orders
  deadLetterTopic: orders-dead
---
apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata: {name: elsewhere}
spec: {pubsubname: pubsub, topic: other, route: /other}
scopes: [another-app]
`,
    },
  });
});
after(async () => {
  if (sc.child.exitCode === null) await sc.stop();
});

const authed = (path: string, init: RequestInit = {}) =>
  fetch(sc.url + path, { ...init, headers: { ...(init.headers as Record<string, string>), "dapr-api-token": TOKEN } });

test("sidecar - a missing or wrong API token is 401 plain text; healthz is exempt", async () => {
  let r = await fetch(sc.url + "/v1.0/metadata");
  assert.equal(r.status, 401);
  assert.equal(await r.text(), "invalid api token");
  r = await fetch(sc.url + "/v1.0/state/mem/k", { headers: { "dapr-api-token": "wrong" } });
  assert.equal(r.status, 401);
  r = await fetch(sc.url + "/v1.0/healthz");
  assert.equal(r.status, 204);
  r = await fetch(sc.url + "/v1.0/healthz/outbound");
  assert.equal(r.status, 204);
  r = await fetch(sc.url + "/v1.0/healthz?appid=other");
  assert.equal(r.status, 500);
  assert.equal(((await r.json()) as { errorCode: string }).errorCode, "ERR_HEALTH_APPID_NOT_MATCH");
});

test("sidecar - metadata lists the app, components with capabilities and extended attributes", async () => {
  let r = await authed("/v1.0/metadata/appCommand", { method: "PUT", body: "node app.js", headers: { "content-type": "text/plain" } });
  assert.equal(r.status, 204);
  r = await authed("/v1.0/metadata");
  assert.equal(r.status, 200);
  const md = (await r.json()) as Record<string, unknown>;
  assert.equal(md.id, "coreapp");
  assert.equal(typeof md.runtimeVersion, "string");
  assert.deepEqual(md.components, [{ name: "mem", type: "state.in-memory", version: "v1", capabilities: ["ETAG", "TRANSACTIONAL", "TTL", "QUERY_API", "ACTOR"] }]);
  assert.deepEqual(md.extended, { appCommand: "node app.js", daprRuntimeVersion: md.runtimeVersion });
  assert.deepEqual(md.actorRuntime, { runtimeStatus: "DISABLED", hostReady: false });
  assert.deepEqual(md.subscriptions, [
    {
      pubsubname: "pubsub",
      topic: "orders",
      rules: [{ match: 'event.type == "created"', path: "/orders/created" }, { path: "/orders" }],
      deadLetterTopic: "orders-dead",
      type: "DECLARATIVE",
    },
  ]);
  assert.ok(Array.isArray(md.enabledFeatures) && (md.enabledFeatures as string[]).includes("HotReload"));
});

test("sidecar - unknown routes without an app id answer 404 ERR_DIRECT_INVOKE", async () => {
  const r = await authed("/v1.0/nothing/here");
  assert.equal(r.status, 404);
  assert.deepEqual(await r.json(), { errorCode: "ERR_DIRECT_INVOKE", message: "failed getting app id either from the URL path or the header dapr-app-id" });
});

test("sidecar - an oversize body is 413 with a Dapr error body, and the sidecar keeps serving", async () => {
  const big = JSON.stringify([{ key: "big", value: "x".repeat(4096) }]);
  let r = await authed("/v1.0/state/mem", { method: "POST", body: big, headers: { "content-type": "application/json" } });
  assert.equal(r.status, 413);
  const body = (await r.json()) as { errorCode: string; message: string };
  assert.equal(body.errorCode, "ERR_MALFORMED_REQUEST");
  assert.match(body.message, /1024 bytes/);
  // Chunked (no content-length): the limit is enforced while reading.
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(big));
      c.close();
    },
  });
  r = await authed("/v1.0/state/mem", { method: "POST", body: stream, headers: { "content-type": "application/json" }, duplex: "half" });
  assert.equal(r.status, 413);
  r = await authed("/v1.0/state/mem", { method: "POST", body: JSON.stringify([{ key: "small", value: 1 }]), headers: { "content-type": "application/json" } });
  assert.equal(r.status, 204);
});

test("sidecar - Prometheus metrics use Dapr's names and no path label", async () => {
  await authed("/v1.0/state/mem/whatever");
  const text = await (await fetch(`http://127.0.0.1:${sc.metricsPort}/metrics`)).text();
  assert.match(text, /dapr_http_server_request_count\{app_id="coreapp",method="GET",status="204"\} \d+/);
  assert.match(text, /dapr_http_server_latency_bucket/);
  assert.match(text, /dapr_runtime_component_loaded\{app_id="coreapp"\} 1/);
  assert.doesNotMatch(text, /path="/);
});

test("sidecar - POST /v1.0/shutdown answers 204 and the process exits 0", async () => {
  const r = await authed("/v1.0/shutdown", { method: "POST" });
  assert.equal(r.status, 204);
  assert.equal(await sc.exited, 0);
});

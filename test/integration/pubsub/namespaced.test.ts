/**
 * Namespace-scoped pub/sub (semantics.md §2.3): a component whose metadata uses `{namespace}` puts the
 * namespace in front of every broker topic, while the app publishes and receives the bare topic.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { freePort } from "../../harness/ports.js";
import { startRedis } from "../../harness/servers/redis.js";
import { component, startSidecar } from "../../harness/sidecar.js";
import { startSubscriberApp } from "../../harness/subscriber-app.js";

test("pubsub - a {namespace} component publishes to <namespace><topic> and delivers the bare topic", async () => {
  const redis = await startRedis();
  const raw = new Redis({ host: redis.host, port: redis.port });
  const appPort = await freePort();
  const app = await startSubscriberApp([{ pubsubname: "pubsub", topic: "orders", route: "/orders" }], { port: appPort });
  const sc = await startSidecar({
    appId: "ns-app",
    env: { NAMESPACE: "team-a" },
    args: ["--app-port", String(appPort)],
    resources: {
      "pubsub.yaml": component("pubsub", "pubsub.redis", { redisHost: redis.address, consumerID: "{namespace}" }),
    },
  });
  try {
    assert.equal((await fetch(`${sc.url}/v1.0/publish/pubsub/orders`, { method: "POST", body: "hi", headers: { "content-type": "text/plain" } })).status, 204);
    const d = await app.waitFor((x) => x.path === "/orders");
    assert.equal((d.json as { topic: string }).topic, "orders");
    assert.equal(await raw.exists("team-aorders"), 1, "the stream carries the namespace");
    assert.equal(await raw.exists("orders"), 0);
    const groups = (await raw.xinfo("GROUPS", "team-aorders")) as unknown[][];
    assert.equal(groups[0]?.[1], "team-a.ns-app", "{namespace} renders as <namespace>.<appId>");
  } finally {
    await sc.stop();
    await app.close();
    raw.disconnect();
    await redis.stop();
  }
});

/**
 * Bulk subscribe on a component with bounded concurrency (pubsub.redis, `concurrency` 10): the
 * subscription lets as many handlers run as its batch holds, so a batch fills to
 * `maxMessagesCount` instead of waiting out `maxAwaitDurationMs` with ten messages.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort } from "../../harness/ports.js";
import { startRedis } from "../../harness/servers/redis.js";
import { component, startSidecar } from "../../harness/sidecar.js";
import { startSubscriberApp } from "../../harness/subscriber-app.js";

test("pubsub - a bulk subscription on pubsub.redis fills its batch beyond the component's concurrency", async () => {
  const redis = await startRedis();
  const appPort = await freePort();
  const app = await startSubscriberApp([{ pubsubname: "pubsub", topic: "batched", route: "/batched", bulkSubscribe: { enabled: true, maxMessagesCount: 50, maxAwaitDurationMs: 60_000 } }], { port: appPort });
  app.reply("/batched", (d) => ({
    status: 200,
    body: JSON.stringify({ statuses: (d.json as { entries: { entryId: string }[] }).entries.map((e) => ({ entryId: e.entryId, status: "SUCCESS" })) }),
  }));
  const sc = await startSidecar({
    appId: "bulk-redis",
    args: ["--app-port", String(appPort)],
    resources: {
      "pubsub.yaml": component("pubsub", "pubsub.redis", { redisHost: redis.address }),
    },
  });
  try {
    const entries = Array.from({ length: 50 }, (_, i) => ({ entryId: String(i), event: { i }, contentType: "application/json" }));
    const res = await fetch(`${sc.url}/v1.0-alpha1/publish/bulk/pubsub/batched`, { method: "POST", body: JSON.stringify(entries) });
    assert.equal(res.status, 204);
    const first = await app.waitFor((d) => d.path === "/batched", 20_000);
    assert.equal((first.json as { entries: unknown[] }).entries.length, 50, "one full batch, long before maxAwaitDurationMs");
  } finally {
    await sc.stop();
    await app.close();
    await redis.stop();
  }
});

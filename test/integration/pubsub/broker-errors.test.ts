/** A broker that is down: publishing answers 500 ERR_PUBSUB_PUBLISH_MESSAGE with Dapr's body, and the sidecar keeps serving. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startRedis } from "../../harness/servers/redis.js";
import { component, startSidecar } from "../../harness/sidecar.js";

test("pubsub - publishing while the broker is down is 500 ERR_PUBSUB_PUBLISH_MESSAGE", async () => {
  const redis = await startRedis();
  const sc = await startSidecar({
    appId: "broker-down",
    resources: {
      "pubsub.yaml": component("pubsub", "pubsub.redis", { redisHost: redis.address, redisMaxRetries: "0" }),
    },
  });
  try {
    assert.equal((await fetch(`${sc.url}/v1.0/publish/pubsub/orders`, { method: "POST", body: "up" })).status, 204);
    await redis.kill();
    const res = await fetch(`${sc.url}/v1.0/publish/pubsub/orders`, { method: "POST", body: "down" });
    assert.equal(res.status, 500);
    const body = (await res.json()) as { errorCode: string; message: string };
    assert.equal(body.errorCode, "ERR_PUBSUB_PUBLISH_MESSAGE");
    assert.match(body.message, /^error when publishing to topic orders in pubsub pubsub: /);
    assert.equal((await fetch(`${sc.url}/v1.0/healthz`)).status, 204, "the sidecar keeps running");
  } finally {
    await sc.stop();
    await redis.stop();
  }
});

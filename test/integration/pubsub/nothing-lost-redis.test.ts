/**
 * pubsub.redis - nothing lost: kill -9 of the subscriber's sidecar, and kill -9 of a private
 * redis-server (appendonly yes, appendfsync always: an acknowledged XADD/XACK is on disk before the
 * reply) restarted on the same port and data dir, both mid-stream.
 */
import { after, before, test } from "node:test";
import { component } from "../../harness/sidecar.js";
import { startRedis, type RedisServer } from "../../harness/servers/redis.js";
import { PUBSUB, runNothingLost, TEST_TIMEOUT_MS } from "./nothing-lost-scenario.js";

const DURABLE = ["--appendonly", "yes", "--appendfsync", "always"];
let redis: RedisServer;

before(async () => {
  redis = await startRedis(DURABLE);
});

after(async () => {
  await redis?.stop();
});

const yaml = () => component(PUBSUB, "pubsub.redis", { redisHost: redis.address, processingTimeout: "2000", redeliverInterval: "500" });

test("pubsub.redis - nothing lost when the subscriber's sidecar is killed mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, { topic: "nothing-lost-sidecar", component: yaml, disruption: { kind: "subscriber-sidecar" } });
});

test("pubsub.redis - nothing lost when redis-server is killed (-9) and restarted mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, {
    topic: "nothing-lost-broker",
    component: yaml,
    disruption: {
      kind: "broker",
      what: "redis-server kill -9 + restart",
      restart: async () => {
        await redis.kill();
        redis = await startRedis(DURABLE, { port: redis.port, dir: redis.dir });
      },
    },
  });
});

/**
 * SIGTERM with deliveries in flight, on pubsub.redis against a private redis-server: a delivery that
 * finishes within the graceful shutdown period is acknowledged before the sidecar exits; one that
 * does not stays pending on the broker and reaches the app again after a restart.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { freePort } from "../../harness/ports.js";
import { startRedis, type RedisServer } from "../../harness/servers/redis.js";
import { component, startSidecar, waitUntil } from "../../harness/sidecar.js";

let redis: RedisServer;
let raw: Redis;

before(async () => {
  redis = await startRedis();
  raw = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  await raw.connect();
});

after(async () => {
  raw?.disconnect();
  await redis?.stop();
});

const pubsubYaml = (topic: string) => `${component("pubsub", "pubsub.redis", { redisHost: redis.address, processingTimeout: "1000", redeliverInterval: "200" })}
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: sub}
spec:
  pubsubname: pubsub
  topic: ${topic}
  routes: {default: /events}
`;

/** An app whose /events handler holds each response until the test releases it. */
async function holdingApp(port: number): Promise<{ server: Server; arrived: Promise<void>; held: ServerResponse[]; count: () => number }> {
  const held: ServerResponse[] = [];
  let count = 0;
  let signal: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (signal = resolve));
  const server = createServer((req, res) => {
    if (req.url === "/dapr/subscribe") {
      res.writeHead(200, { "content-type": "application/json" }).end("[]");
      return;
    }
    req.resume();
    count += 1;
    held.push(res);
    signal();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { server, arrived, held, count: () => count };
}

async function pending(topic: string): Promise<number> {
  const summary = (await raw.xpending(topic, "shutdown-it")) as [number, ...unknown[]];
  return summary[0];
}

test("pubsub - on SIGTERM an in-flight delivery that finishes within the grace period is acknowledged before exit", async () => {
  const topic = `graceful-${process.pid}-1`;
  const appPort = await freePort();
  const app = await holdingApp(appPort);
  const sc = await startSidecar({ appId: "shutdown-it", resources: { "pubsub.yaml": pubsubYaml(topic) }, args: ["--app-port", String(appPort), "--dapr-graceful-shutdown-seconds", "10"] });
  try {
    assert.equal((await fetch(`${sc.url}/v1.0/publish/pubsub/${topic}`, { method: "POST", body: "one", headers: { "content-type": "text/plain" } })).status, 204);
    await app.arrived;
    sc.child.kill("SIGTERM");
    await waitUntil(async () => Promise.resolve(/graceful shutdown/.test(sc.output())), sc.exited, 10_000, sc.output);
    for (const res of app.held) res.writeHead(200).end();
    assert.equal(await sc.exited, 0);
    assert.equal(await pending(topic), 0, "the message was acknowledged");
  } finally {
    await new Promise<void>((resolve) => app.server.close(() => resolve()));
  }
});

test("pubsub - a delivery still running when the grace period ends stays on the broker and is delivered after a restart", async () => {
  const topic = `graceful-${process.pid}-2`;
  const appPort = await freePort();
  const app = await holdingApp(appPort);
  const args = ["--app-port", String(appPort), "--dapr-graceful-shutdown-seconds", "1"];
  const first = await startSidecar({ appId: "shutdown-it", resources: { "pubsub.yaml": pubsubYaml(topic) }, args });
  try {
    assert.equal((await fetch(`${first.url}/v1.0/publish/pubsub/${topic}`, { method: "POST", body: "two", headers: { "content-type": "text/plain" } })).status, 204);
    await app.arrived;
    assert.equal(await first.stop(), 0);
    assert.equal(await pending(topic), 1, "not acknowledged: still pending in the group");
    for (const res of app.held.splice(0)) res.destroy();
    const second = await startSidecar({ appId: "shutdown-it", resources: { "pubsub.yaml": pubsubYaml(topic) }, args });
    try {
      await waitUntil(async () => Promise.resolve(app.count() >= 2), second.exited, 15_000, second.output);
      for (const res of app.held) res.writeHead(200).end();
      await waitUntil(async () => (await pending(topic)) === 0, second.exited, 15_000, second.output);
    } finally {
      await second.stop();
    }
  } finally {
    await new Promise<void>((resolve) => {
      app.server.closeAllConnections();
      app.server.close(() => resolve());
    });
  }
});

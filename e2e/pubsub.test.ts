/**
 * End to end: the official `@dapr/dapr` DaprServer subscribing (single, with routes, with a dead
 * letter topic, and bulk) and DaprClient publishing (single and bulk), unchanged, over HTTP,
 * through a real Tandem sidecar.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer, type DaprClient } from "@dapr/dapr";
import { freePort } from "../test/harness/ports.js";
import { component, startSidecar, waitUntil, type SidecarProcess } from "../test/harness/sidecar.js";
import { quietLogger, sdkClient } from "./support/sdk.js";

const APP_ID = "e2e-pubsub";

let sc: SidecarProcess;
let server: DaprServer;
let client: DaprClient;

const received = new Map<string, unknown[]>();
const waiters = new Set<() => void>();
function record(topic: string, data: unknown): void {
  const list = received.get(topic) ?? [];
  list.push(data);
  received.set(topic, list);
  for (const w of [...waiters]) w();
}
function waitFor(topic: string, count: number, timeoutMs = 15_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const list = received.get(topic) ?? [];
      if (list.length >= count) {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(list);
      }
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`expected ${count} events on ${topic}, got ${JSON.stringify(received.get(topic) ?? [])}`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

let retryAttempts = 0;

before(async () => {
  const appPort = await freePort();
  sc = await startSidecar({
    appId: APP_ID,
    args: ["--app-port", String(appPort)],
    resources: { "pubsub.yaml": component("pubsub", "pubsub.in-memory", { redeliverInterval: "50" }) },
    waitFor: "outbound",
  });
  const logger = quietLogger();
  server = new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost: "127.0.0.1", daprPort: String(sc.httpPort), communicationProtocol: CommunicationProtocolEnum.HTTP, logger },
    logger,
  });
  await server.pubsub.subscribe("pubsub", "orders", (data: unknown) => {
    record("orders", data);
    return Promise.resolve();
  });
  await server.pubsub.subscribe("pubsub", "flaky", () => {
    retryAttempts += 1;
    record("flaky", retryAttempts);
    return Promise.resolve(retryAttempts < 2 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS);
  });
  await server.pubsub.subscribeWithOptions("pubsub", "doomed", { deadLetterTopic: "doomed-dead", callback: () => Promise.resolve(DaprPubSubStatusEnum.DROP) });
  // The SDK's deadLetterCallback is a route on the source topic, which daprd never calls: dead
  // letters reach an app through a subscription to the dead letter topic (e2e/EXCLUSIONS.md).
  await server.pubsub.subscribe("pubsub", "doomed-dead", (data: unknown) => {
    record("doomed-dead", data);
    return Promise.resolve();
  });
  await server.pubsub.subscribe(
    "pubsub",
    "routed",
    (data: unknown) => {
      record("routed-big", data);
      return Promise.resolve();
    },
    { rules: [{ match: "event.data.size > 100", path: "big" }], default: "small" },
  );
  server.pubsub.subscribeToRoute("pubsub", "routed", "small", (data: unknown) => {
    record("routed-small", data);
    return Promise.resolve();
  });
  await server.pubsub.subscribeBulk(
    "pubsub",
    "bulk-orders",
    (data: unknown) => {
      record("bulk-orders", data);
      return Promise.resolve();
    },
    { maxMessagesCount: 5, maxAwaitDurationMs: 100 },
  );
  await server.start();
  await waitUntil(async () => (await fetch(`${sc.url}/v1.0/healthz`)).status === 204, sc.exited, 15_000, sc.output);
  client = sdkClient(sc.httpPort);
});

after(async () => {
  await server.stop();
  await client.stop();
  await sc.stop();
});

test("pubsub - DaprClient publishes and a DaprServer subscriber receives the data", async () => {
  const res = await client.pubsub.publish("pubsub", "orders", { orderId: 1 });
  assert.equal(res.error, undefined);
  await client.pubsub.publish("pubsub", "orders", "plain text");
  const got = await waitFor("orders", 2);
  assert.deepEqual(got, [{ orderId: 1 }, "plain text"]);
});

test("pubsub - a RETRY answer is delivered again until the subscriber succeeds", async () => {
  await client.pubsub.publish("pubsub", "flaky", { n: 1 });
  await waitFor("flaky", 2);
  assert.equal(retryAttempts, 2);
});

test("pubsub - a DROP answer sends the event to the dead letter topic's subscriber", async () => {
  await client.pubsub.publish("pubsub", "doomed", { bad: true });
  const got = await waitFor("doomed-dead", 1);
  assert.deepEqual(got[0], { bad: true });
});

test("pubsub - routing rules pick the subscriber's route", async () => {
  await client.pubsub.publish("pubsub", "routed", { size: 500 });
  await client.pubsub.publish("pubsub", "routed", { size: 5 });
  assert.deepEqual(await waitFor("routed-big", 1), [{ size: 500 }]);
  assert.deepEqual(await waitFor("routed-small", 1), [{ size: 5 }]);
});

test("pubsub - publishBulk publishes every message; a bulk subscriber receives them all", async () => {
  const res = await client.pubsub.publishBulk("pubsub", "bulk-orders", [{ id: 1 }, { id: 2 }, "three", { entryID: "four", event: { id: 4 }, contentType: "application/json" }]);
  assert.deepEqual(res.failedMessages, []);
  const got = await waitFor("bulk-orders", 4);
  assert.equal(got.length, 4);
  assert.ok(got.some((d) => JSON.stringify(d) === '{"id":4}'));
  assert.ok(got.includes("three"));
});

/**
 * Stream compatibility with Dapr's pubsub.redis (components.md §2, pubsub.redis Layout note): entries
 * written the way daprd writes them (raw XADD with `data` and `metadata`) reach Tandem's handler, what
 * Tandem publishes has exactly that layout, the consumer group and consumer are both named
 * consumerID, and a rejected message stays in the pending list until the scan reclaims it. Also the
 * faults the read loop must survive: the stream deleted under it, and a Redis restart.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { Message, PubSub } from "../../../src/blocks/pubsub/contract.js";
import { deferred } from "../../../src/kit/deferred.js";
import { pollUntil, startRedis, startRedisCluster, type RedisCluster, type RedisServer } from "../../harness/servers/redis.js";
import { DEADLINE_MS, Inbox, REDELIVERY_DEADLINE_MS, within } from "./fixture.js";
import { FAST_REDELIVERY, openRedisPubSub } from "./redis-env.js";

const CLOUD_EVENT = JSON.stringify({
  specversion: "1.0",
  id: "0b6a3f54-7d3e-4c37-9a39-3c1f7f4b5d11",
  source: "daprapp",
  type: "com.dapr.event.sent",
  datacontenttype: "application/json",
  data: { orderId: 7 },
  topic: "orders",
  pubsubname: "pubsub",
  traceid: "",
  traceparent: "",
  tracestate: "",
  time: "2026-01-01T00:00:00Z",
});

let topicCounter = 0;
const newTopic = (name: string) => `layout-${++topicCounter}-${name}`;

type PendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

void describe("pubsub.redis Dapr layout", () => {
  let server: RedisServer;
  let raw: Redis;
  const opened: PubSub[] = [];
  const open = async (consumerID: string, extra: Record<string, string> = {}) => {
    const ps = await openRedisPubSub({ redisHost: server.address, consumerID, ...FAST_REDELIVERY, ...extra });
    opened.push(ps);
    return ps;
  };
  before(async () => {
    server = await startRedis();
    raw = new Redis({ host: server.host, port: server.port });
  });
  after(async () => {
    for (const ps of opened) await ps.close().catch(() => undefined);
    raw.disconnect();
    await server.stop();
  });

  test("pubsub - redis delivers entries written by daprd with their data and metadata", async () => {
    const topic = newTopic("from-dapr");
    const ps = await open("daprapp");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await raw.xadd(topic, "*", "data", CLOUD_EVENT, "metadata", '{"k":"v","traceparent":"00-abc-def-01"}');
    await raw.xadd(topic, "*", "data", "no-metadata"); // metadata is absent when daprd's request map was nil
    await inbox.untilAll([CLOUD_EVENT, "no-metadata"]);
    const [event, bare] = inbox.calls as [Message, Message];
    assert.equal(event.topic, topic);
    assert.deepEqual(event.data, Buffer.from(CLOUD_EVENT));
    assert.deepEqual(event.metadata, { k: "v", traceparent: "00-abc-def-01" });
    assert.deepEqual(bare.metadata, {});
  });

  test("pubsub - redis publishes entries with exactly the data and metadata fields", async () => {
    const topic = newTopic("to-dapr");
    const ps = await open("publisher");
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x7f, 0x80, 0x0a, 0xc3, 0x28]);
    await ps.publish({ topic, data: Buffer.from(CLOUD_EVENT), contentType: "application/cloudevents+json", metadata: { k: "v" } });
    await ps.publish({ topic, data: binary, contentType: "application/octet-stream", metadata: {} });
    const entries = await raw.xrangeBuffer(topic, "-", "+");
    assert.equal(entries.length, 2);
    const [[, first], [, second]] = entries as [[Buffer, Buffer[]], [Buffer, Buffer[]]];
    assert.deepEqual(
      first.map((b) => b.toString()),
      ["data", CLOUD_EVENT, "metadata", '{"k":"v"}'],
    );
    assert.equal(second.length, 4);
    assert.equal(second[0]?.toString(), "data");
    assert.deepEqual(second[1], binary);
    assert.equal(second[2]?.toString(), "metadata");
    assert.equal(second[3]?.toString(), "{}");
  });

  test("pubsub - redis trims with MAXLEN ~ when maxLenApprox is set", async () => {
    const topic = newTopic("trimmed");
    const ps = await open("publisher", { maxLenApprox: "10" });
    for (let i = 0; i < 300; i++) await ps.publish({ topic, data: Buffer.from(`m${i}`), contentType: "text/plain", metadata: {} });
    // Approximate trimming drops whole stream nodes (100 entries each by default), never below 10.
    const length = await raw.xlen(topic);
    assert.ok(length >= 10 && length < 300, `XLEN ${length}`);
  });

  test("pubsub - redis trims by age with MINID ~ when streamTTL is set, and refuses it with maxLenApprox", async () => {
    const topic = newTopic("aged");
    const ps = await open("publisher", { streamTTL: "1" }); // 1ms: every earlier entry is past its age
    for (let i = 0; i < 300; i++) await ps.publish({ topic, data: Buffer.from(`m${i}`), contentType: "text/plain", metadata: {} });
    const length = await raw.xlen(topic);
    assert.ok(length >= 1 && length < 300, `XLEN ${length}`);
    await assert.rejects(open("publisher", { streamTTL: "1m", maxLenApprox: "10" }), { name: "MetadataError" });
  });

  test("pubsub - redis names the group and the consumer consumerID; a rejected entry stays pending until reclaimed", async () => {
    const topic = newTopic("pending");
    const ps = await open("myapp");
    const firstCallRejected = deferred();
    const inbox = new Inbox((_m, _s, attempt) => {
      if (attempt === 1) {
        firstCallRejected.resolve();
        return Promise.reject(new Error("not now"));
      }
      return Promise.resolve();
    });
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    const groups = (await raw.xinfo("GROUPS", topic)) as unknown[][];
    assert.equal(groups.length, 1);
    assert.equal(groups[0]?.[1], "myapp");

    const id = await raw.xadd(topic, "*", "data", "retry-me", "metadata", "{}");
    await within("the first, rejected delivery", firstCallRejected.promise);
    await pollUntil("the rejected entry is in XPENDING", async () => {
      const rows = (await raw.xpending(topic, "myapp", "-", "+", 10)) as PendingRow[];
      return rows.length === 1 && rows[0]?.[0] === id && rows[0][1] === "myapp";
    }, DEADLINE_MS, 20);

    await inbox.until("the redelivery after processingTimeout", () => inbox.handled("retry-me"), REDELIVERY_DEADLINE_MS);
    assert.equal(inbox.count("retry-me"), 2);
    await pollUntil("the redelivered entry is acknowledged", async () => ((await raw.xpending(topic, "myapp", "-", "+", 10)) as PendingRow[]).length === 0, DEADLINE_MS, 20);
  });

  test("pubsub - redis reclaims entries a stopped daprd left pending in the group", async () => {
    const topic = newTopic("orphaned");
    await raw.xgroup("CREATE", topic, "shared", "0", "MKSTREAM");
    await raw.xadd(topic, "*", "data", "orphan", "metadata", "{}");
    // A daprd replica read it (consumer name = consumerID) and died before acknowledging it.
    await raw.xreadgroup("GROUP", "shared", "shared", "COUNT", 10, "STREAMS", topic, ">");
    const ps = await open("shared");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await inbox.untilAll(["orphan"], REDELIVERY_DEADLINE_MS);
    await pollUntil("the orphan is acknowledged", async () => ((await raw.xpending(topic, "shared", "-", "+", 10)) as PendingRow[]).length === 0, DEADLINE_MS, 20);
  });

  test("pubsub - redis subscription metadata consumerID overrides the component's", async () => {
    const topic = newTopic("override");
    const ps = await open("component-id");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: { consumerID: "per-subscription" } }, inbox.handler);
    const groups = (await raw.xinfo("GROUPS", topic)) as unknown[][];
    assert.deepEqual(groups.map((g) => g[1]), ["per-subscription"]);
  });

  test("pubsub - redis re-creates the group when the stream is deleted under a subscription", async () => {
    const topic = newTopic("deleted");
    const ps = await open("app");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await raw.xadd(topic, "*", "data", "before", "metadata", "{}");
    await inbox.untilAll(["before"]);
    await raw.del(topic);
    await pollUntil("the group exists again", async () => ((await raw.xinfo("GROUPS", topic)) as unknown[]).length === 1, DEADLINE_MS, 20);
    await raw.xadd(topic, "*", "data", "after", "metadata", "{}");
    await inbox.untilAll(["after"]);
  });

  test("pubsub - redis close() ends the blocking read and releases every connection", async () => {
    const topic = newTopic("close");
    const clientCount = async () => String(await raw.client("LIST")).trim().split("\n").length;
    const baseline = await clientCount();
    const ps = await openRedisPubSub({ redisHost: server.address, consumerID: "closing", ...FAST_REDELIVERY });
    await ps.subscribe({ topic: `${topic}-a`, metadata: {} }, new Inbox().handler);
    await ps.subscribe({ topic: `${topic}-b`, metadata: {} }, new Inbox().handler);
    assert.equal(await clientCount(), baseline + 3, "one shared connection and one blocking reader per subscription");
    await within("close()", ps.close());
    await pollUntil("every connection is closed", async () => (await clientCount()) === baseline, DEADLINE_MS, 20);
  });
});

void describe("pubsub.redis across a Redis restart", () => {
  let server: RedisServer;
  let ps: PubSub | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await ps?.close().catch(() => undefined);
    await server.stop();
  });

  test("pubsub - redis keeps its subscription and publishes again after Redis restarts", async () => {
    const topic = newTopic("restart");
    ps = await openRedisPubSub({ redisHost: server.address, consumerID: "survivor", redisMaxRetries: "1", ...FAST_REDELIVERY });
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    const send = (text: string) => (ps as PubSub).publish({ topic, data: Buffer.from(text), contentType: "text/plain", metadata: {} });
    await send("before-restart");
    await inbox.untilAll(["before-restart"]);

    const { port, dir } = server;
    await server.kill();
    await assert.rejects(send("while-down"), { name: "PublishError" });
    server = await startRedis([], { port, dir }); // empty: the stream and its group are gone (no persistence)

    // The publish connection reconnects on its own; the reader meets NOGROUP and re-creates the group.
    await pollUntil("a publish succeeds again", () => send("after-restart").then(() => true), DEADLINE_MS, 50);
    await inbox.until("a message published after the restart", () => inbox.has("after-restart"), REDELIVERY_DEADLINE_MS);
  });
});

void describe("pubsub.redis on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let ps: PubSub | undefined;
  before(async () => {
    cluster = await startRedisCluster(3);
  });
  after(async () => {
    await ps?.close().catch(() => undefined);
    await cluster.stop();
  });

  test("pubsub - redis delivers and redelivers on streams spread over the cluster's masters", async () => {
    ps = await openRedisPubSub({ redisHost: cluster.addresses, redisType: "cluster", consumerID: "clustered", ...FAST_REDELIVERY });
    const topics = ["c-alpha", "c-bravo", "c-charlie", "c-delta", "c-echo"].map(newTopic);
    const inbox = new Inbox((_m, _s, attempt) => (attempt === 1 ? Promise.reject(new Error("once more")) : Promise.resolve()));
    for (const topic of topics) await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    for (const topic of topics) await ps.publish({ topic, data: Buffer.from(`on-${topic}`), contentType: "text/plain", metadata: {} });
    await inbox.until("every message redelivered and handled", () => topics.every((t) => inbox.handled(`on-${t}`)), REDELIVERY_DEADLINE_MS);
  });
});

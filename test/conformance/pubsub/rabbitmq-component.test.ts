/**
 * pubsub.rabbitmq beyond the shared suite: Dapr's broker layout (checked with a raw amqplib channel
 * and rabbitmqctl), the wire format both ways with daprd, requeue on rejection, dead-letter
 * declarations, `concurrency: single`, and recovery across broker restarts (graceful and kill -9).
 * One private rabbitmq-server for the file; the restart tests come last.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import amqp, { type ChannelModel } from "amqplib";
import { PublishError, type Message, type MessageHandler, type PubSub } from "../../../src/blocks/pubsub/contract.js";
import { deferred } from "../../../src/kit/deferred.js";
import { pollUntil } from "../../harness/servers/redis.js";
import { Inbox, send } from "./fixture.js";
import { openRabbitMQ, rabbitmqServer } from "./rabbitmq-env.js";

const opened: PubSub[] = [];
const raws: ChannelModel[] = [];
after(async () => {
  for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
  for (const c of raws.splice(0)) await c.close().catch(() => undefined);
});

async function open(metadata: Record<string, string>): Promise<PubSub> {
  const server = await rabbitmqServer();
  const ps = await openRabbitMQ({ connectionString: server.url, ...metadata });
  opened.push(ps);
  return ps;
}

async function rawChannel() {
  const conn = await amqp.connect((await rabbitmqServer()).url);
  conn.on("error", () => undefined);
  raws.push(conn);
  return conn.createChannel();
}

type Row = Record<string, unknown>;
async function list(what: "queues" | "exchanges" | "bindings", ...columns: string[]): Promise<Row[]> {
  const out = await (await rabbitmqServer()).ctl(`list_${what}`, ...columns, "--formatter", "json");
  return JSON.parse(out) as Row[];
}
const byName = (rows: Row[], name: string): Row | undefined => rows.find((r) => r["name"] === name);
/** rabbitmqctl lists arguments as [name, type, value] triples. */
const argsOf = (row: Row | undefined): Record<string, unknown> =>
  Object.fromEntries(((row?.["arguments"] as [string, string, unknown][] | undefined) ?? []).map(([k, , v]) => [k, v]));

test("rabbitmq - layout: an exchange per topic and the queue <consumerID>-<topic>, with Dapr's flags and arguments", async () => {
  const plain = await open({ consumerID: "lay-app" });
  await plain.subscribe({ topic: "lay-orders", metadata: {} }, () => Promise.resolve());
  await plain.subscribe({ topic: "lay-orders", metadata: { consumerID: "lay-other" } }, () => Promise.resolve());

  const tuned = await open({ consumerID: "lay-app", exchangeKind: "topic", durable: "false", deletedWhenUnused: "false", maxLen: "100", enableDeadLetter: "true" });
  const md = { queueName: "lay-custom", routingKey: "a.*,b.#", maxPriority: "7", singleActiveConsumer: "true", maxLenBytes: "4096" };
  await tuned.subscribe({ topic: "lay-events", metadata: md }, () => Promise.resolve());

  const ch = await rawChannel();
  await ch.checkExchange("lay-orders");
  assert.equal((await ch.checkQueue("lay-app-lay-orders")).consumerCount, 1);
  assert.equal((await ch.checkQueue("lay-other-lay-orders")).consumerCount, 1);
  await ch.checkExchange("lay-events");
  await ch.checkQueue("lay-custom");
  await ch.checkExchange("dlx-lay-custom");
  await ch.checkQueue("dlq-lay-custom");

  const exchanges = await list("exchanges", "name", "type", "durable", "auto_delete");
  assert.deepEqual(byName(exchanges, "lay-orders"), { name: "lay-orders", type: "fanout", durable: true, auto_delete: true });
  assert.deepEqual(byName(exchanges, "lay-events"), { name: "lay-events", type: "topic", durable: false, auto_delete: false });
  assert.deepEqual(byName(exchanges, "dlx-lay-custom"), { name: "dlx-lay-custom", type: "fanout", durable: true, auto_delete: false });

  const queues = await list("queues", "name", "durable", "auto_delete", "arguments");
  const app = byName(queues, "lay-app-lay-orders");
  assert.equal(app?.["durable"], true);
  assert.equal(app?.["auto_delete"], true);
  assert.deepEqual(argsOf(app), { "x-queue-type": "classic" });
  const custom = byName(queues, "lay-custom");
  assert.equal(custom?.["durable"], false);
  assert.equal(custom?.["auto_delete"], false);
  assert.deepEqual(argsOf(custom), {
    "x-max-length": 100,
    "x-max-length-bytes": 4096,
    "x-dead-letter-exchange": "dlx-lay-custom",
    "x-max-priority": 7,
    "x-queue-type": "classic",
    "x-single-active-consumer": true,
  });
  const dlq = byName(queues, "dlq-lay-custom");
  assert.equal(dlq?.["durable"], true);
  assert.deepEqual(argsOf(dlq), { "x-max-length": 100, "x-queue-mode": "lazy" });

  const bindings = (await list("bindings", "source_name", "destination_name", "routing_key")).filter((b) => b["source_name"] !== "");
  const keys = (source: string, dest: string) => bindings.filter((b) => b["source_name"] === source && b["destination_name"] === dest).map((b) => b["routing_key"]).sort();
  assert.deepEqual(keys("lay-orders", "lay-app-lay-orders"), [""]);
  assert.deepEqual(keys("lay-events", "lay-custom"), ["a.*", "b.#"]);
  assert.deepEqual(keys("dlx-lay-custom", "dlq-lay-custom"), [""]);
});

test("rabbitmq - a subscription with an invalid queueType or no consumerID is refused", async () => {
  const ps = await open({ consumerID: "bad-app" });
  await assert.rejects(ps.subscribe({ topic: "bad-t", metadata: { queueType: "stream" } }, () => Promise.resolve()), /invalid queue type/);
  const anonymous = await open({});
  await assert.rejects(anonymous.subscribe({ topic: "bad-t", metadata: {} }, () => Promise.resolve()), /consumerID is required/);
  await anonymous.subscribe({ topic: "bad-t", metadata: { queueName: "bad-named" } }, () => Promise.resolve());
});

test("rabbitmq - hostname, username, password and protocol connect as connectionString does", async () => {
  const server = await rabbitmqServer();
  const ps = await openRabbitMQ({ hostname: `127.0.0.1:${server.port}`, username: "guest", password: "guest", protocol: "amqp", consumerID: "host-app", clientName: "tandem-test" });
  opened.push(ps);
  const inbox = new Inbox();
  await ps.subscribe({ topic: "host-t", metadata: {} }, inbox.handler);
  await send(ps, "host-t", "via-hostname");
  await inbox.untilAll(["via-hostname"]);
  await assert.rejects(openRabbitMQ({ hostname: `127.0.0.1:${server.port}`, username: "guest", password: "wrong" }));
});

test("rabbitmq - a message published raw to the exchange as daprd does is delivered, AMQP properties as metadata", async () => {
  const ps = await open({ consumerID: "raw-app", publishMessagePropertiesToMetadata: "true" });
  const inbox = new Inbox();
  await ps.subscribe({ topic: "raw-t", metadata: {} }, inbox.handler);
  const ch = await rawChannel();
  const event = JSON.stringify({ specversion: "1.0", id: "e1", source: "daprd", type: "com.dapr.event.sent", data: "hi" });
  ch.publish("raw-t", "", Buffer.from(event), { contentType: "text/plain", deliveryMode: 2, messageId: "m1", correlationId: "c1", type: "t1", headers: { tenant: "acme" } });
  await inbox.untilAll([event]);
  const [got] = inbox.calls;
  assert.equal(got?.topic, "raw-t");
  assert.deepEqual(got?.metadata, {
    "metadata.messageid": "m1",
    "metadata.correlationid": "c1",
    "metadata.type": "t1",
    "metadata.contenttype": "text/plain",
    "metadata.tenant": "acme",
  });

  const bare = await open({ consumerID: "raw-bare" });
  const plain = new Inbox();
  await bare.subscribe({ topic: "raw-t", metadata: {} }, plain.handler);
  ch.publish("raw-t", "", Buffer.from("second"), { messageId: "m2" });
  await plain.untilAll(["second"]);
  assert.deepEqual(plain.calls[0]?.metadata, {}, "without publishMessagePropertiesToMetadata no metadata is added");
});

test("rabbitmq - publish writes Dapr's AMQP properties and routing key, and waits for the confirm", async () => {
  const ch = await rawChannel();
  await ch.assertExchange("props-t", "fanout", { durable: true, autoDelete: true });
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "props-t", "");
  const received: amqp.ConsumeMessage[] = [];
  const two = deferred<void>();
  await ch.consume(queue, (m) => {
    if (m) received.push(m);
    if (received.length === 2) two.resolve();
  }, { noAck: true });

  const ps = await open({ consumerID: "props-app", deliveryMode: "2", ttlInSeconds: "60" });
  await send(ps, "props-t", "one", { contentType: "application/cloudevents+json", metadata: { routingKey: "rk", messageID: "m", correlationID: "c", type: "ty", priority: "3" } });
  await send(ps, "props-t", "two", { metadata: { ttlInSeconds: "5", contentType: "application/json" } });
  await two.promise;
  const [one, second] = received;
  assert.equal(one?.fields.routingKey, "rk");
  assert.equal(one?.properties.contentType, "text/plain", "daprd's content type unless metadata contentType");
  assert.equal(one?.properties.deliveryMode, 2);
  assert.equal(one?.properties.expiration, "60000", "the component ttlInSeconds as AMQP expiration (ms)");
  assert.equal(one?.properties.messageId, "m");
  assert.equal(one?.properties.correlationId, "c");
  assert.equal(one?.properties.type, "ty");
  assert.equal(one?.properties.priority, 3);
  assert.equal(second?.fields.routingKey, "");
  assert.equal(second?.properties.expiration, "5000", "the request ttlInSeconds wins");
  assert.equal(second?.properties.contentType, "application/json");
});

test("rabbitmq - a rejection requeues the message, never dead-letters it, even with requeueInFailure false", async () => {
  const ps = await open({ consumerID: "rej-app", enableDeadLetter: "true", requeueInFailure: "false", deletedWhenUnused: "false" });
  const inbox = new Inbox((_m, _s, attempt) => (attempt === 1 ? Promise.reject(new Error("first attempt fails")) : Promise.resolve()));
  await ps.subscribe({ topic: "rej-t", metadata: {} }, inbox.handler);
  await send(ps, "rej-t", "retry-me");
  await inbox.until("the second delivery resolved", () => inbox.handled("retry-me"));
  assert.equal(inbox.count("retry-me"), 2);
  const ch = await rawChannel();
  await pollUntil("the queue is empty (acknowledged)", async () => (await ch.checkQueue("rej-app-rej-t")).messageCount === 0);
  assert.equal((await ch.checkQueue("dlq-rej-app-rej-t")).messageCount, 0, "a rejected message reached the dead-letter queue");
});

test("rabbitmq - concurrency single hands messages over one at a time, in order", async () => {
  const ps = await open({ consumerID: "single-app", concurrency: "single", prefetchCount: "10" });
  let running = 0;
  let most = 0;
  const order: string[] = [];
  const all = deferred<void>();
  const handler: MessageHandler = async (m: Message) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setImmediate(r));
    order.push(m.data.toString());
    running--;
    if (order.length === 20) all.resolve();
  };
  await ps.subscribe({ topic: "single-t", metadata: {} }, handler);
  const expected = Array.from({ length: 20 }, (_, i) => `s-${i}`);
  for (const p of expected) await send(ps, "single-t", p);
  await all.promise;
  assert.equal(most, 1);
  assert.deepEqual(order, expected);
});

/** Publishes numbered probes (failures ignored: the block would retry) until `inbox` got one. */
async function probeUntilDelivered(ps: PubSub, topic: string, inbox: Inbox): Promise<void> {
  let n = 0;
  await pollUntil(
    "a probe published after the restart is delivered",
    async () => {
      await send(ps, topic, `probe-${n++}`).catch(() => undefined);
      return inbox.calls.some((m) => m.data.toString().startsWith("probe-"));
    },
    60_000,
    250,
  );
}

test("rabbitmq - a graceful broker restart while subscribed: the subscription recovers and later messages are delivered", async () => {
  const server = await rabbitmqServer();
  const ps = await open({ consumerID: "gr-app", reconnectWaitSeconds: "1" });
  const inbox = new Inbox();
  await ps.subscribe({ topic: "gr-t", metadata: {} }, inbox.handler);
  await send(ps, "gr-t", "before");
  await inbox.untilAll(["before"]);
  await server.stop(true);
  await assert.rejects(send(ps, "gr-t", "during"), PublishError);
  await server.restart();
  await probeUntilDelivered(ps, "gr-t", inbox);
  await send(ps, "gr-t", "after");
  await inbox.untilAll(["after"]);
});

test("rabbitmq - kill -9 of the broker: publishes fail with PublishError, the unacked message comes back, the subscription recovers", async () => {
  const server = await rabbitmqServer();
  const ps = await open({ consumerID: "kill-app", deletedWhenUnused: "false", deliveryMode: "2", reconnectWaitSeconds: "1" });
  const inFlight = deferred<AbortSignal>();
  const inbox = new Inbox((m, signal, attempt) => {
    if (m.data.toString() !== "in-flight" || attempt > 1) return Promise.resolve();
    inFlight.resolve(signal);
    // Never settles before the broker is gone: its ack cannot be sent, and the signal says so.
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  });
  await ps.subscribe({ topic: "kill-t", metadata: {} }, inbox.handler);
  await send(ps, "kill-t", "in-flight");
  const signal = await inFlight.promise;
  await server.kill();
  await assert.rejects(send(ps, "kill-t", "during"), PublishError);
  await pollUntil("the in-flight handler's signal aborted", () => Promise.resolve(signal.aborted));
  await server.restart();
  await probeUntilDelivered(ps, "kill-t", inbox);
  await inbox.until("the unacknowledged message delivered again", () => inbox.handled("in-flight") && inbox.count("in-flight") === 2, 30_000);
});

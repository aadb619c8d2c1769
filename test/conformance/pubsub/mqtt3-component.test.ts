/**
 * pubsub.mqtt3 specifics the shared suite does not reach: messages published by a plain MQTT client,
 * the `retained` metadata and the retain flag, `+`/`#` wildcards and `$share/` groups, QoS 0 and 2,
 * acknowledgements withheld from rejected messages until the next session, messages kept for a
 * later subscription of the same client, unsubscribeOnClose, a broker restart, and metadata parsing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect, type MqttClient } from "mqtt";
import type { PubSub } from "../../../src/blocks/pubsub/contract.js";
import { compileFilter, connectionOptions } from "../../../src/components/pubsub/mqtt3-connection.js";
import { metadataSchema } from "../../../src/components/pubsub/mqtt3.js";
import { MetadataError, parseMetadata } from "../../../src/kit/metadata-schema.js";
import { deferred } from "../../../src/kit/deferred.js";
import { startMosquitto } from "../../harness/servers/mosquitto.js";
import { Inbox, payloads, send, untilAcross, within } from "./fixture.js";
import { discardSession, FAST_RETRY, mosquittoServer, openMqtt3 } from "./mqtt3-env.js";

let counter = 0;
const unique = (name: string) => `mq${process.pid}x${++counter}-${name}`;

/** Opens instances on the suite's broker and closes them (and discards their sessions) at the end. */
async function scope<T>(fn: (s: { readonly url: string; readonly open: (clientId: string, extra?: Record<string, string>) => Promise<PubSub> }) => Promise<T>): Promise<T> {
  const server = await mosquittoServer();
  const opened: PubSub[] = [];
  const ids = new Set<string>();
  try {
    return await fn({
      url: server.url,
      open: async (clientId, extra = {}) => {
        ids.add(clientId);
        const ps = await openMqtt3({ url: server.url, ...FAST_RETRY, ...extra, consumerID: clientId });
        opened.push(ps);
        return ps;
      },
    });
  } finally {
    for (const ps of opened) await ps.close().catch(() => undefined);
    for (const id of ids) await discardSession(server.url, id).catch(() => undefined);
  }
}

async function rawClient(url: string): Promise<MqttClient> {
  const client = connect(url, { protocolVersion: 4, clientId: unique("raw"), clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

void describe("pubsub.mqtt3 component", { concurrency: true }, () => {
  test("pubsub - mqtt3 delivers a message published by a plain MQTT client with retained=false and its topic", () =>
    scope(async ({ url, open }) => {
      const topic = unique("raw");
      const ps = await open(unique("sub"));
      const inbox = new Inbox();
      await ps.subscribe({ topic, metadata: {} }, inbox.handler);
      const raw = await rawClient(url);
      try {
        await raw.publishAsync(topic, Buffer.from("from-raw"), { qos: 1 });
      } finally {
        await raw.endAsync();
      }
      await inbox.untilAll(["from-raw"]);
      const [got] = inbox.calls;
      assert.equal(got?.topic, topic);
      assert.deepEqual(got?.metadata, { retained: "false" });
    }));

  test("pubsub - mqtt3 hands a rejected message to the handler again and acknowledges it once resolved", () =>
    scope(async ({ open }) => {
      const topic = unique("retry");
      const id = unique("sub");
      const ps = await open(id);
      const inbox = new Inbox((_m, _s, attempt) => (attempt < 3 ? Promise.reject(new Error("not yet")) : Promise.resolve()));
      const sub = await ps.subscribe({ topic, metadata: {} }, inbox.handler);
      await send(ps, topic, "again");
      await inbox.until("the third attempt resolved", () => inbox.handled("again"));
      assert.equal(inbox.count("again"), 3);
      await sub.close();
      await ps.close();
      // Acknowledged: the resumed session has nothing to redeliver before the marker.
      const resumed = new Inbox();
      const again = await open(id);
      await again.subscribe({ topic, metadata: {} }, resumed.handler);
      await send(again, topic, "marker");
      await resumed.untilAll(["marker"]);
      assert.equal(resumed.count("again"), 0);
    }));

  test("pubsub - mqtt3 leaves a rejected message unacknowledged: the next session of the client gets it again", () =>
    scope(async ({ open }) => {
      const topic = unique("unacked");
      const id = unique("sub");
      const ps = await open(id, { retryInterval: "1h" });
      const failing = new Inbox(() => Promise.reject(new Error("always")));
      await ps.subscribe({ topic, metadata: {} }, failing.handler);
      await send(ps, topic, "kept");
      await failing.until("the first attempt", () => failing.count("kept") === 1);
      await ps.close();
      const resumed = new Inbox();
      await (await open(id)).subscribe({ topic, metadata: {} }, resumed.handler);
      await resumed.until("the redelivery by the broker", () => resumed.handled("kept"));
      assert.equal(failing.count("kept"), 1);
    }));

  test("pubsub - mqtt3 keeps messages arriving after a subscription closed for the next subscription of the client", () =>
    scope(async ({ open }) => {
      const topic = unique("gap");
      const ps = await open(unique("sub"));
      const first = new Inbox();
      const sub = await ps.subscribe({ topic, metadata: {} }, first.handler);
      await send(ps, topic, "before");
      await first.untilAll(["before"]);
      await sub.close();
      await send(ps, topic, "between");
      const second = new Inbox();
      await ps.subscribe({ topic, metadata: {} }, second.handler);
      await second.untilAll(["between"]);
      assert.equal(first.count("between"), 0);
      assert.equal(second.count("before"), 0);
    }));

  test("pubsub - mqtt3 sends UNSUBSCRIBE on close with unsubscribeOnClose", () =>
    scope(async ({ open }) => {
      const topic = unique("unsub");
      const ps = await open(unique("sub"));
      const first = new Inbox();
      const sub = await ps.subscribe({ topic, metadata: { unsubscribeOnClose: "true" } }, first.handler);
      await sub.close();
      await send(ps, topic, "nobody-listens");
      const second = new Inbox();
      await ps.subscribe({ topic, metadata: {} }, second.handler);
      await send(ps, topic, "marker");
      await second.untilAll(["marker"]);
      assert.equal(second.count("nobody-listens"), 0, "the broker kept the subscription");
    }));

  test("pubsub - mqtt3 honours retain (component default and per-publish override) and a late subscriber gets retained=true", () =>
    scope(async ({ open }) => {
      const topic = unique("retained");
      const publisher = await open(unique("pub"), { retain: "true" });
      await send(publisher, topic, "kept-by-broker");
      await send(publisher, topic, "not-retained", { metadata: { retain: "false" } });
      const late = new Inbox();
      await (await open(unique("late"))).subscribe({ topic, metadata: {} }, late.handler);
      await late.untilAll(["kept-by-broker"]);
      assert.deepEqual(late.calls[0]?.metadata, { retained: "true" });
      await send(publisher, topic, "live", { metadata: { retain: "false" } });
      await late.untilAll(["live"]);
      assert.equal(late.count("not-retained"), 0, "a publish with retain=false replaced the retained message");
      assert.deepEqual(late.calls.find((m) => m.data.toString() === "live")?.metadata, { retained: "false" });
      await send(publisher, topic, "", { metadata: { retain: "true" } }); // clears the retained message
      await assert.rejects(send(publisher, topic, "x", { metadata: { retain: "maybe" } }), { name: "PublishError" });
    }));

  test("pubsub - mqtt3 routes + and # wildcards with the concrete topic", () =>
    scope(async ({ open }) => {
      const base = unique("wild");
      const ps = await open(unique("sub"));
      const plus = new Inbox();
      const hash = new Inbox();
      await ps.subscribe({ topic: `${base}/+/temp`, metadata: {} }, plus.handler);
      await ps.subscribe({ topic: `${base}/deep/#`, metadata: {} }, hash.handler);
      await send(ps, `${base}/room1/temp`, "plus-1");
      await send(ps, `${base}/room1/humidity`, "neither");
      await send(ps, `${base}/deep/a/b/c`, "hash-1");
      await send(ps, `${base}/deep`, "hash-parent");
      await send(ps, `${base}/room2/temp`, "plus-2");
      await plus.untilAll(["plus-1", "plus-2"]);
      await hash.untilAll(["hash-1", "hash-parent"]);
      assert.deepEqual(plus.calls.map((m) => m.topic), [`${base}/room1/temp`, `${base}/room2/temp`]);
      assert.deepEqual(hash.calls.map((m) => m.topic), [`${base}/deep/a/b/c`, `${base}/deep`]);
      assert.equal(plus.count("neither") + hash.count("neither"), 0);
    }));

  test("pubsub - mqtt3 $share/<group>/ subscriptions split the messages between the clients of the group", () =>
    scope(async ({ open }) => {
      const topic = unique("shared");
      const group = unique("group");
      const [a, b, publisher] = [await open(unique("a")), await open(unique("b")), await open(unique("pub"))];
      const inboxA = new Inbox();
      const inboxB = new Inbox();
      await a.subscribe({ topic: `$share/${group}/${topic}`, metadata: {} }, inboxA.handler);
      await b.subscribe({ topic: `$share/${group}/${topic}`, metadata: {} }, inboxB.handler);
      const texts = payloads("shared", 40);
      await Promise.all(texts.map((t) => send(publisher, topic, t)));
      const seen = () => texts.filter((t) => inboxA.has(t) || inboxB.has(t)).length;
      await untilAcross([inboxA, inboxB], "all messages across the group", () => seen() === texts.length);
      assert.equal(inboxA.distinct + inboxB.distinct, texts.length, "a message went to both members of the group");
      assert.ok(inboxA.distinct > 0 && inboxB.distinct > 0, "both members got a share");
      assert.ok([...inboxA.calls, ...inboxB.calls].every((m) => m.topic === topic));
    }));

  for (const qos of ["0", "2"]) {
    test(`pubsub - mqtt3 delivers with qos ${qos}`, () =>
      scope(async ({ open }) => {
        const topic = unique(`qos${qos}`);
        const ps = await open(unique("sub"), { qos });
        const inbox = new Inbox((_m, _s, attempt) => (attempt === 1 ? Promise.reject(new Error("once")) : Promise.resolve()));
        await ps.subscribe({ topic, metadata: {} }, inbox.handler);
        const texts = payloads("q", 20);
        await Promise.all(texts.map((t) => send(ps, topic, t)));
        await inbox.until("every message handled", () => texts.every((t) => inbox.handled(t)));
      }));
  }

  test("pubsub - mqtt3 persistent session survives a broker restart: a message published while the subscriber was away is delivered", async () => {
    let broker = await startMosquitto();
    const opened: PubSub[] = [];
    const open = async (id: string) => {
      const ps = await openMqtt3({ url: broker.url, ...FAST_RETRY, consumerID: id });
      opened.push(ps);
      return ps;
    };
    try {
      const topic = unique("restart");
      const subId = unique("sub");
      const live = new Inbox();
      const subscriber = await open(subId);
      await subscriber.subscribe({ topic, metadata: {} }, live.handler);
      // Stays connected through the restart, its handler failing on "held" until the broker is back.
      const stayTopic = unique("stay");
      const stayId = unique("stay");
      const released = deferred();
      const stay = new Inbox((m) => (m.data.toString() === "held" && !released.settled ? Promise.reject(new Error("not yet")) : Promise.resolve()));
      const stayer = await open(stayId);
      await stayer.subscribe({ topic: stayTopic, metadata: {} }, stay.handler);
      const publisher = await open(unique("pub"));
      await send(publisher, topic, "before-restart");
      await send(publisher, stayTopic, "held");
      await live.untilAll(["before-restart"]);
      await stay.until("a failed attempt on held", () => stay.count("held") >= 2);
      await subscriber.close();
      await send(publisher, topic, "while-away");

      await broker.stop(true);
      broker = await broker.restart();
      // The publisher reconnects by itself; its publish waits for the connection.
      await within("a publish after the restart", send(publisher, topic, "after-restart"), 15_000);
      await send(publisher, stayTopic, "stay-after");
      await stay.untilAll(["stay-after"], 15_000);
      released.resolve();
      await stay.until("held handled", () => stay.handled("held"));

      const resumed = new Inbox();
      await (await open(subId)).subscribe({ topic, metadata: {} }, resumed.handler);
      await resumed.untilAll(["while-away", "after-restart"]);
      assert.equal(resumed.count("before-restart"), 0, "an acknowledged message came back");

      // "held" was acknowledged on the new connection: a new session of the stayer's client has nothing left.
      await stayer.close();
      const stayAgain = new Inbox();
      const reopened = await open(stayId);
      await reopened.subscribe({ topic: stayTopic, metadata: {} }, stayAgain.handler);
      await send(publisher, stayTopic, "marker");
      await stayAgain.untilAll(["marker"]);
      assert.equal(stayAgain.count("held"), 0, "held was not acknowledged after the restart");

      // The broker crashes with a publish in flight: close() still returns, and the publish fails.
      await broker.kill();
      const pending = send(publisher, stayTopic, "lost-broker");
      pending.catch(() => undefined); // asserted below; not an unhandled rejection if close() fails first
      await within("close() with the broker gone", publisher.close(), 5_000);
      await assert.rejects(within("the pending publish to fail", pending, 5_000), { name: "PublishError" });
    } finally {
      for (const ps of opened) await ps.close().catch(() => undefined);
      await broker.stop();
    }
  });

  test("pubsub - mqtt3 connection metadata: schemes, credentials, TLS fields, qos range", async () => {
    const tls = { caCert: "CA", clientCert: "CERT", clientKey: "KEY" };
    const plain = connectionOptions("tcp://user%40x:p%3Ass@broker:1884", tls);
    assert.equal(plain.secure, false);
    assert.deepEqual(plain.options, { protocol: "mqtt", host: "broker", port: 1884, username: "user@x", password: "p:ss" });
    const ssl = connectionOptions("ssl://broker", tls);
    assert.deepEqual(ssl.options, { protocol: "mqtts", host: "broker", port: 8883, ca: "CA", cert: "CERT", key: "KEY" });
    assert.equal(connectionOptions("mqtts://b", tls).options.protocol, "mqtts");
    assert.deepEqual(connectionOptions("wss://b/ws?x=1", tls).options, { protocol: "wss", host: "b", port: 443, path: "/ws?x=1", ca: "CA", cert: "CERT", key: "KEY" });
    assert.equal(connectionOptions("ws://b:9001", tls).options.path, "/");
    assert.throws(() => connectionOptions("http://b", tls), MetadataError);
    assert.throws(() => connectionOptions("not a url", tls), MetadataError);
    assert.throws(() => connectionOptions("ssl://b", { caCert: undefined, clientCert: "C", clientKey: undefined }), MetadataError);
    assert.throws(() => parseMetadata(metadataSchema, { consumerID: "x" }), /"url" is required/);
    const o = parseMetadata(metadataSchema, { url: "tcp://b", consumerID: "x" });
    assert.deepEqual([o.qos, o.retain, o.cleanSession, o.retryInterval], [1, false, false, 1000]);
    const server = await mosquittoServer();
    await assert.rejects(openMqtt3({ url: server.url, consumerID: unique("q"), qos: "3" }), MetadataError);
  });

  test("pubsub - mqtt3 topic filters follow MQTT matching", () => {
    const cases: [string, string, boolean][] = [
      ["a/b", "a/b", true],
      ["a/+", "a/b", true],
      ["a/+", "a/b/c", false],
      ["a/+", "a", false],
      ["a/#", "a", true],
      ["a/#", "a/b/c", true],
      ["+/+", "a/b", true],
      ["#", "$SYS/x", false],
      ["+/x", "$SYS/x", false],
      ["$share/g/a/+", "a/b", true],
      ["$share/g/a/+", "b/b", false],
      ["a/+/c", "a//c", true],
    ];
    for (const [filter, topic, expected] of cases) assert.equal(compileFilter(filter).matches(topic), expected, `${filter} vs ${topic}`);
  });
});

/** Publish and subscribe: bytes, topic, content type and metadata as published; none lost under load. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { Inbox, payloads, pubsubTest, send } from "./fixture.js";

const CLOUD_EVENT = JSON.stringify({
  specversion: "1.0",
  id: "4b8f5c1e-0000-4000-8000-000000000001",
  source: "conformance",
  type: "com.dapr.event.sent",
  datacontenttype: "application/json",
  data: { orderId: 42, note: "ünïcødé 😀" },
});

export function deliveryTests(c: ComponentUnderTest): void {
  pubsubTest(c, "a subscriber receives the published bytes, topic and content type", {}, async (env, t) => {
    const ps = await env.open();
    const topic = env.topic("orders");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await send(ps, topic, CLOUD_EVENT, { contentType: "application/cloudevents+json", metadata: { "x-conformance": "carried" } });
    await inbox.untilAll([CLOUD_EVENT]);
    const [got] = inbox.calls;
    assert.ok(got);
    assert.equal(got.topic, topic);
    assert.deepEqual(got.data, Buffer.from(CLOUD_EVENT, "utf8"));
    if (got.contentType !== undefined) assert.equal(got.contentType, "application/cloudevents+json");
    else t.diagnostic(`${c.name} carries no content type`);
    const carried = got.metadata["x-conformance"];
    if (carried !== undefined) assert.equal(carried, "carried", "publish metadata arrives unchanged when carried");
    else t.diagnostic(`${c.name} does not carry publish metadata to the handler`);
  });

  pubsubTest(c, "binary payloads arrive byte for byte", {}, async (env) => {
    const ps = await env.open();
    const topic = env.topic("bin");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    const bytes = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0xc3, 0x28, 0x0a, 0x22, 0x00]);
    await ps.publish({ topic, data: bytes, contentType: "application/octet-stream", metadata: {} });
    await send(ps, topic, "after-binary");
    await inbox.until("the binary message and the one after it", () => inbox.calls.length >= 2 && inbox.has("after-binary"));
    assert.ok(
      inbox.calls.some((m) => m.data.equals(bytes)),
      "the binary payload arrived altered",
    );
  });

  pubsubTest(c, "a subscriber gets only the topic it subscribed", {}, async (env) => {
    const ps = await env.open();
    const [a, b] = [env.topic("a"), env.topic("b")];
    const inboxA = new Inbox();
    const inboxB = new Inbox();
    await ps.subscribe({ topic: a, metadata: {} }, inboxA.handler);
    await ps.subscribe({ topic: b, metadata: {} }, inboxB.handler);
    await send(ps, a, "for-a");
    await send(ps, b, "for-b");
    await inboxA.untilAll(["for-a"]);
    await inboxB.untilAll(["for-b"]);
    assert.deepEqual(inboxA.texts(), ["for-a"]);
    assert.deepEqual(inboxB.texts(), ["for-b"]);
    assert.ok(inboxA.calls.every((m) => m.topic === a) && inboxB.calls.every((m) => m.topic === b));
  });

  pubsubTest(c, "500 messages published concurrently are all delivered", {}, async (env, t) => {
    const ps = await env.open();
    const topic = env.topic("burst");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    const texts = payloads("burst", 500);
    await Promise.all(texts.map((text) => send(ps, topic, text)));
    await inbox.untilAll(texts, 30_000);
    assert.equal(inbox.distinct, texts.length, "a message nobody published was delivered");
    t.diagnostic(`${inbox.calls.length} deliveries for ${texts.length} messages: ${inbox.duplicates} duplicates`);
  });

  pubsubTest(c, "a message published before the first subscribe is delivered", { deliversEarlierMessages: true }, async (env) => {
    const ps = await env.open();
    const topic = env.topic("early");
    await send(ps, topic, "early");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await send(ps, topic, "late");
    await inbox.untilAll(["early", "late"]);
  });
}

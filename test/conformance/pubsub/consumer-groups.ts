/** Consumer identity: durable groups resume, one group shares messages, separate groups each get all. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { Inbox, payloads, pubsubTest, send, untilAcross } from "./fixture.js";

export function consumerGroupTests(c: ComponentUnderTest): void {
  pubsubTest(c, "messages published while a consumerID is stopped reach it when it subscribes again", { durable: true }, async (env) => {
    const topic = env.topic("resume");
    const first = await env.open("app");
    const before = new Inbox();
    await first.subscribe({ topic, metadata: {} }, before.handler);
    await first.close();
    const publisher = await env.open("publisher");
    const texts = payloads("meanwhile", 5);
    for (const text of texts) await send(publisher, topic, text);
    const after = new Inbox();
    await (await env.open("app")).subscribe({ topic, metadata: {} }, after.handler);
    await after.untilAll(texts);
    assert.equal(before.calls.length, 0, "the stopped instance was called");
  });

  pubsubTest(c, "instances with the same consumerID share the messages", { consumerGroups: true }, async (env, t) => {
    const topic = env.topic("shared");
    const [a, b, publisher] = [await env.open("group"), await env.open("group"), await env.open("publisher")];
    const inboxA = new Inbox();
    const inboxB = new Inbox();
    await a.subscribe({ topic, metadata: {} }, inboxA.handler);
    await b.subscribe({ topic, metadata: {} }, inboxB.handler);
    const texts = payloads("shared", 200);
    await Promise.all(texts.map((text) => send(publisher, topic, text)));
    const seen = () => texts.filter((text) => inboxA.has(text) || inboxB.has(text)).length;
    await untilAcross([inboxA, inboxB], "all messages across the group", () => seen() === texts.length, 30_000);
    const both = texts.filter((text) => inboxA.has(text) && inboxB.has(text)).length;
    t.diagnostic(`A handled ${inboxA.distinct}, B ${inboxB.distinct}; ${both} seen by both; duplicates A ${inboxA.duplicates}, B ${inboxB.duplicates}`);
    assert.equal(inboxA.distinct + inboxB.distinct - both, texts.length, "a message nobody published was delivered");
    if (c.sharesLoad === true) assert.ok(inboxA.distinct > 0 && inboxB.distinct > 0, "both instances of the group got a share");
  });

  pubsubTest(c, "subscribers with different consumerIDs each get every message", {}, async (env) => {
    const topic = env.topic("fanout");
    const [a, b] = [await env.open("app-a"), await env.open("app-b")];
    const inboxA = new Inbox();
    const inboxB = new Inbox();
    await a.subscribe({ topic, metadata: {} }, inboxA.handler);
    await b.subscribe({ topic, metadata: {} }, inboxB.handler);
    const texts = payloads("fanout", 50);
    await Promise.all(texts.map((text) => send(a, topic, text)));
    await inboxA.untilAll(texts);
    await inboxB.untilAll(texts);
    assert.equal(inboxA.distinct, texts.length);
    assert.equal(inboxB.distinct, texts.length);
  });
}

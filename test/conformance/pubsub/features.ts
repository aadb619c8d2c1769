/** Claims checked both ways: features() lists exactly the table's claims, and each claim holds. */
import assert from "node:assert/strict";
import { delay } from "../../../src/kit/deferred.js";
import type { ComponentUnderTest } from "./components.js";
import { Inbox, claims, pubsubTest, send } from "./fixture.js";

export function featureTests(c: ComponentUnderTest): void {
  pubsubTest(c, "features() returns exactly the claimed features", {}, async (env) => {
    const ps = await env.open();
    assert.deepEqual([...ps.features()].sort(), [...c.features].sort());
    assert.equal(typeof ps.bulkPublish === "function", claims(c, "BULK_PUBLISH"), "bulkPublish is present iff BULK_PUBLISH is claimed");
    assert.equal(c.wildcard !== undefined, claims(c, "SUBSCRIBE_WILDCARDS"), "the table gives a wildcard case iff SUBSCRIBE_WILDCARDS is claimed");
    if (!c.consumerGroups) assert.notEqual(c.sharesLoad, true, "sharesLoad needs consumerGroups");
  });

  pubsubTest(c, "a message whose ttlInSeconds ran out before delivery is not delivered", { features: ["MESSAGE_TTL"], durable: true }, async (env) => {
    const topic = env.topic("ttl");
    const first = await env.open("app");
    await first.subscribe({ topic, metadata: {} }, new Inbox().handler);
    await first.close();
    const publisher = await env.open("publisher");
    await send(publisher, topic, "expiring", { metadata: { ttlInSeconds: "1" } });
    // Waiting on the clock: expiry has no event to wait on.
    await delay(2_000);
    await send(publisher, topic, "kept");
    const inbox = new Inbox();
    await (await env.open("app")).subscribe({ topic, metadata: {} }, inbox.handler);
    await inbox.untilAll(["kept"]);
    assert.equal(inbox.count("expiring"), 0, "the expired message was delivered");
  });
}

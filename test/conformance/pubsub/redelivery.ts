/** "Nothing lost": a rejected message comes back; a resolved one is acknowledged and does not. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { Inbox, REDELIVERY_DEADLINE_MS, pubsubTest, send } from "./fixture.js";

export function redeliveryTests(c: ComponentUnderTest): void {
  pubsubTest(c, "a message whose handler rejected is delivered again", {}, async (env, t) => {
    const ps = await env.open();
    const topic = env.topic("retry");
    const inbox = new Inbox((_m, _s, attempt) => (attempt <= 2 ? Promise.reject(new Error(`not yet (attempt ${attempt})`)) : Promise.resolve()));
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await send(ps, topic, "again");
    await inbox.until("the third delivery, which resolves", () => inbox.handled("again"), REDELIVERY_DEADLINE_MS);
    assert.ok(inbox.count("again") >= 3);
    for (const m of inbox.calls) {
      assert.equal(m.topic, topic);
      assert.deepEqual(m.data, Buffer.from("again"));
    }
    t.diagnostic(`${inbox.count("again")} deliveries`);
  });

  pubsubTest(c, "a message whose handler resolved is not delivered again to the same consumerID", { durable: true }, async (env) => {
    const topic = env.topic("acked");
    const publisher = await env.open("publisher");
    const first = await env.open("app");
    const before = new Inbox();
    await first.subscribe({ topic, metadata: {} }, before.handler);
    await send(publisher, topic, "done-once");
    await before.until("the handler resolved", () => before.handled("done-once"));
    await first.close();

    // The probe is rejected once, then redelivered: by then an unacknowledged "done-once" (older,
    // pending longer) would have been redelivered as well.
    const after = new Inbox((m, _s, attempt) => (m.data.toString() === "probe" && attempt === 1 ? Promise.reject(new Error("once more")) : Promise.resolve()));
    const second = await env.open("app");
    await second.subscribe({ topic, metadata: {} }, after.handler);
    await send(publisher, topic, "probe");
    await after.until("the probe delivered twice", () => after.handled("probe"), REDELIVERY_DEADLINE_MS);
    assert.equal(after.count("done-once"), 0, "an acknowledged message was delivered again");
  });
}

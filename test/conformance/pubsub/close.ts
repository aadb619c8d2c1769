/** close(): waits for running handlers, and no handler is called once it resolved. */
import assert from "node:assert/strict";
import type { ActiveSubscription, PubSub } from "../../../src/blocks/pubsub/contract.js";
import { deferred } from "../../../src/kit/deferred.js";
import type { ComponentUnderTest } from "./components.js";
import { DEADLINE_MS, type Env, Inbox, PENDING_WINDOW_MS, REDELIVERY_DEADLINE_MS, payloads, pubsubTest, send, settlesWithin, within } from "./fixture.js";

export function closeTests(c: ComponentUnderTest): void {
  const waitsForHandler = (which: "subscription" | "component") =>
    pubsubTest(c, `${which} close() waits for the running handler to settle`, {}, async (env) => {
      const ps = await env.open();
      const topic = env.topic("inflight");
      const entered = deferred();
      const release = deferred();
      const order: string[] = [];
      const inbox = new Inbox(async () => {
        entered.resolve();
        await release.promise;
        order.push("handler settled");
      });
      const sub = await ps.subscribe({ topic, metadata: {} }, inbox.handler);
      await send(ps, topic, "slow");
      await within("the handler to start", entered.promise);
      const closing = (which === "subscription" ? sub.close() : ps.close()).then(() => order.push("close resolved"));
      assert.equal(await settlesWithin(closing, PENDING_WINDOW_MS), false, "close() resolved while the handler was still running");
      release.resolve();
      await within("close() after the handler settled", closing);
      assert.deepEqual(order, ["handler settled", "close resolved"]);
      assert.equal(inbox.count("slow"), 1);
    });
  waitsForHandler("subscription");
  waitsForHandler("component");

  pubsubTest(c, "no handler is called after subscription close() resolved", {}, async (env) => {
    const ps = await env.open();
    const topic = env.topic("closed");
    const inbox = new Inbox();
    const sub = await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await Promise.all(payloads("before", 20).map((text) => send(ps, topic, text)));
    await inbox.until("a first delivery", () => inbox.calls.length > 0);
    await within("close()", sub.close());
    await assertSilentAfterClose(env, ps, topic, inbox, inbox.calls.length);
  });

  pubsubTest(c, "close() ends a subscription whose handler keeps rejecting", {}, async (env) => {
    const ps = await env.open();
    const topic = env.topic("failing");
    const inbox = new Inbox(() => Promise.reject(new Error("always failing")));
    const sub: ActiveSubscription = await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    await send(ps, topic, "poison");
    await inbox.until("a redelivery of the rejected message", () => inbox.count("poison") >= 2, REDELIVERY_DEADLINE_MS);
    await within("close() while the message waits for redelivery", sub.close(), DEADLINE_MS);
    await assertSilentAfterClose(env, ps, topic, inbox, inbox.calls.length);
  });
}

/**
 * The closed subscription's handler stays at `callsAtClose` while the broker keeps delivering on
 * the topic: another consumerID subscribes and receives fresh messages, so there was every chance
 * for a stray call.
 */
async function assertSilentAfterClose(env: Env, publisher: PubSub, topic: string, closed: Inbox, callsAtClose: number): Promise<void> {
  const witness = new Inbox();
  await (await env.open("witness")).subscribe({ topic, metadata: {} }, witness.handler);
  const markers = payloads("after-close", 5);
  await Promise.all(markers.map((text) => send(publisher, topic, text)));
  await witness.untilAll(markers);
  assert.equal(closed.calls.length, callsAtClose, "the handler was called after close() resolved");
}

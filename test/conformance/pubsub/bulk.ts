/** Native bulk publish (BULK_PUBLISH): every entry delivered, none reported failed. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { Inbox, payloads, pubsubTest } from "./fixture.js";

export function bulkTests(c: ComponentUnderTest): void {
  pubsubTest(c, "bulkPublish delivers every entry and reports no failed entries", { features: ["BULK_PUBLISH"] }, async (env) => {
    const ps = await env.open();
    assert.ok(typeof ps.bulkPublish === "function", "BULK_PUBLISH is claimed but bulkPublish is missing");
    const topic = env.topic("bulk");
    const inbox = new Inbox();
    await ps.subscribe({ topic, metadata: {} }, inbox.handler);
    const texts = payloads("bulk", 25);
    const entries = texts.map((text, i) => ({ entryId: `e-${i}`, data: Buffer.from(text), contentType: "text/plain", metadata: {} }));
    const res = await ps.bulkPublish({ topic, entries, metadata: {} });
    assert.deepEqual(res.failedEntries, []);
    await inbox.untilAll(texts);
    assert.ok(inbox.calls.every((m) => m.topic === topic));
  });
}

/** SUBSCRIBE_WILDCARDS: a pattern subscription gets the matching topics, each with its concrete topic. */
import assert from "node:assert/strict";
import type { ComponentUnderTest } from "./components.js";
import { Inbox, pubsubTest, send } from "./fixture.js";

export function wildcardTests(c: ComponentUnderTest): void {
  pubsubTest(c, "a wildcard subscription gets matching topics only, with the concrete topic", { features: ["SUBSCRIBE_WILDCARDS"] }, async (env) => {
    assert.ok(c.wildcard, "SUBSCRIBE_WILDCARDS is claimed: the table entry must give a wildcard case");
    const { pattern, matching, nonMatching } = c.wildcard(env.prefix);
    const ps = await env.open();
    const wild = new Inbox();
    const plain = new Inbox();
    await ps.subscribe({ topic: pattern, metadata: {} }, wild.handler);
    // Shows the non-matching message was published and delivered to someone before we look.
    await ps.subscribe({ topic: nonMatching, metadata: {} }, plain.handler);
    await send(ps, nonMatching, "not-for-the-pattern");
    await send(ps, matching, "for-the-pattern");
    await wild.untilAll(["for-the-pattern"]);
    await plain.untilAll(["not-for-the-pattern"]);
    assert.equal(wild.count("not-for-the-pattern"), 0, `${pattern} matched ${nonMatching}`);
    assert.ok(wild.calls.every((m) => m.topic === matching), `the handler gets the concrete topic ${matching}, not the pattern`);
  });
}

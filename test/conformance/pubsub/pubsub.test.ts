/**
 * The one pub/sub conformance suite: every behaviour run against every component of the table, at
 * the component contract (no sidecar). Run: node scripts/run-tests.mjs conformance
 * One component only: PUBSUB_COMPONENTS=pubsub.redis (comma-separated; the "pubsub." may be left out).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { closeTests } from "./close.js";
import { bulkTests } from "./bulk.js";
import { components } from "./components.js";
import { consumerGroupTests } from "./consumer-groups.js";
import { deliveryTests } from "./delivery.js";
import { featureTests } from "./features.js";
import { checkSkipTable } from "./fixture.js";
import { redeliveryTests } from "./redelivery.js";
import { wildcardTests } from "./wildcards.js";

const wanted = (process.env.PUBSUB_COMPONENTS ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");
const named = (name: string, w: string) => name === w || name === `pubsub.${w}`;
const selected = wanted.length === 0 ? components : components.filter((c) => wanted.some((w) => named(c.name, w)));

if (wanted.length > 0) {
  test("pubsub - PUBSUB_COMPONENTS names known components", () => {
    const unknown = wanted.filter((w) => !components.some((c) => named(c.name, w)));
    assert.deepEqual(unknown, [], `unknown in PUBSUB_COMPONENTS; known: ${components.map((c) => c.name).join(", ")}`);
  });
}

for (const c of selected) {
  // Every test has its own topics and consumerIDs, so the tests of one component run concurrently.
  void describe(`pubsub conformance: ${c.name}`, { concurrency: true }, () => {
    featureTests(c);
    deliveryTests(c);
    redeliveryTests(c);
    consumerGroupTests(c);
    closeTests(c);
    bulkTests(c);
    wildcardTests(c);
    checkSkipTable(c);
  });
}

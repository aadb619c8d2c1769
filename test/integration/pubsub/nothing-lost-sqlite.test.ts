/**
 * pubsub.sqlite - nothing lost: kill -9 of the subscriber's sidecar (its leases expire after
 * `visibilityTimeout` and the restarted one takes them), and, as there is no broker process to
 * restart, kill -9 of the publisher's sidecar mid-stream: every publish it acknowledged must be in
 * the shared file and arrive; the unacknowledged ones are published again on its replacement.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { component } from "../../harness/sidecar.js";
import { PUBSUB, runNothingLost, TEST_TIMEOUT_MS } from "./nothing-lost-scenario.js";

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tandem-nothing-lost-sqlite-"));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const yaml = () => component(PUBSUB, "pubsub.sqlite", { connectionString: join(dir, "pubsub.db"), visibilityTimeout: "2000", redeliverInterval: "200" });

test("pubsub.sqlite - nothing lost when the subscriber's sidecar is killed mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, { topic: "nothing-lost-sidecar", component: yaml, disruption: { kind: "subscriber-sidecar" } });
});

test("pubsub.sqlite - nothing lost when the publisher's sidecar is killed mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, { topic: "nothing-lost-publisher", component: yaml, disruption: { kind: "publisher-sidecar" } });
});

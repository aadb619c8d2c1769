/**
 * pubsub.sqlite under the conformance suite: each test gets its own database file in a temporary
 * directory of this process (removed when the process exits); every instance a test opens shares
 * that file, as sidecars on one machine do. Redelivery and polling are short so the suite's
 * deadlines hold.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PubSub } from "../../../src/blocks/pubsub/contract.js";
import * as sqlite from "../../../src/components/pubsub/sqlite.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
// Type-only: components.ts imports this file, so a value import back would be a cycle.
import type { ComponentEnv, ComponentUnderTest } from "./components.js";

/** Quick redelivery: rejected messages again after 100ms, leases of dead consumers after 2s, polls every 20ms (bare integers = ms). */
export const FAST_SQLITE = { redeliverInterval: "100", visibilityTimeout: "2000", pollInterval: "20" } as const;

let tempDir: string | undefined;

/** A new database path in this process's temporary directory. */
export function sqliteDatabasePath(name: string): string {
  if (tempDir === undefined) {
    const dir = (tempDir = mkdtempSync(join(tmpdir(), `tandem-pubsub-sqlite-${process.pid}-`)));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(tempDir, `${name}.db`);
}

export function removeDatabaseFiles(path: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(path + suffix, { force: true });
}

/** A pubsub.sqlite instance with `metadata` (parsed by the component's own schema). */
export function openSqlitePubSub(metadata: Record<string, string>): Promise<PubSub> {
  return sqlite.create(parseMetadata(sqlite.metadataSchema, metadata), { name: "pubsub", logger: silentLogger(), rawMetadata: metadata });
}

export function sqliteEnvironment(topicPrefix: string): Promise<ComponentEnv> {
  const path = sqliteDatabasePath(topicPrefix);
  const opened: PubSub[] = [];
  return Promise.resolve({
    async open({ consumerID }) {
      const ps = await openSqlitePubSub({ connectionString: path, ...FAST_SQLITE, consumerID });
      opened.push(ps);
      return ps;
    },
    async dispose() {
      for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
      removeDatabaseFiles(path);
    },
  });
}

export const sqlitePubSub: ComponentUnderTest = {
  name: "pubsub.sqlite",
  features: [],
  durable: true,
  consumerGroups: true,
  // A new consumer group starts at the oldest retained message.
  deliversEarlierMessages: true,
  // Each instance claims at most batchSize (100) at a time, so a burst of 200 is split.
  sharesLoad: true,
  skips: {},
  environment: sqliteEnvironment,
};

/**
 * pubsub.redis under the conformance suite: one private redis-server per test file (started on the
 * first open, stopped when the file ends). Every test's streams start with its unique topic prefix
 * and are deleted on dispose. processingTimeout / redeliverInterval are short so redelivery of a
 * rejected message completes within the suite's deadlines.
 */
import { Redis } from "ioredis";
import type { PubSub } from "../../../src/blocks/pubsub/contract.js";
import * as redis from "../../../src/components/pubsub/redis.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { startRedis } from "../../harness/servers/redis.js";
import { suiteServer } from "../../harness/servers/suite-server.js";
// Type-only: components.ts imports this file, so a value import back would be a cycle.
import type { ComponentEnv, ComponentUnderTest } from "./components.js";

export const redisServer = suiteServer(() => startRedis());

/** Metadata that makes redelivery quick: pending for 500ms, scanned every 200ms (bare integers = ms). */
export const FAST_REDELIVERY = { processingTimeout: "500", redeliverInterval: "200" } as const;

/** A pubsub.redis instance on `redisHost` with `metadata` (parsed by the component's own schema). */
export function openRedisPubSub(metadata: Record<string, string>): Promise<PubSub> {
  return redis.create(parseMetadata(redis.metadataSchema, metadata), { name: "pubsub", logger: silentLogger(), rawMetadata: metadata });
}

async function deleteKeys(host: string, port: number, prefix: string): Promise<void> {
  const raw = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
  raw.on("error", () => undefined);
  try {
    await raw.connect();
    const keys = await raw.keys(`${prefix}-*`); // "t1-*", not "t1*", which would match t10...
    if (keys.length > 0) await raw.del(...keys);
  } finally {
    raw.disconnect();
  }
}

export async function redisEnvironment(topicPrefix: string): Promise<ComponentEnv> {
  const server = await redisServer();
  const opened: PubSub[] = [];
  return {
    async open({ consumerID }) {
      const ps = await openRedisPubSub({ redisHost: server.address, ...FAST_REDELIVERY, consumerID });
      opened.push(ps);
      return ps;
    },
    async dispose() {
      for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
      await deleteKeys(server.host, server.port, topicPrefix);
    },
  };
}

export const redisPubSub: ComponentUnderTest = {
  name: "pubsub.redis",
  // Dapr's Features() is empty; message TTL is the block's (CloudEvent expiration). BULK_PUBLISH: one pipeline of XADDs.
  features: ["BULK_PUBLISH"],
  durable: true,
  consumerGroups: true,
  // XGROUP CREATE ... 0: a new group starts at the beginning of the stream.
  deliversEarlierMessages: true,
  // Readers blocked in XREADGROUP on one group are served in turn, so a burst is split between them.
  sharesLoad: true,
  skips: {},
  environment: redisEnvironment,
};

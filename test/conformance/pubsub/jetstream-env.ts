/**
 * pubsub.jetstream under the conformance suite: one private nats-server with JetStream per test
 * file (started on the first open, stopped when the file ends). Each test environment creates its
 * own stream (capturing `<prefix>` and `<prefix>.>`); the suite's topics (`<prefix>-<name>`) are
 * added to it by `autoCreateStream` with `streamName` set, and the stream (with its consumers) is
 * deleted on dispose. A short ackWait (also the NAK delay) keeps redelivery within the deadlines.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { PubSub } from "../../../src/blocks/pubsub/contract.js";
import * as jetstream from "../../../src/components/pubsub/jetstream.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { startNats } from "../../harness/servers/nats.js";
import { suiteServer } from "../../harness/servers/suite-server.js";
// Type-only: components.ts imports this file, so a value import back would be a cycle.
import type { ComponentEnv, ComponentUnderTest } from "./components.js";

export const natsServer = suiteServer(() => startNats());

/** Redelivery after 1s: an unacknowledged message (ack_wait) and a NAKed one (NAK delay). */
export const FAST_REDELIVERY = { ackWait: "1s" } as const;

/** A pubsub.jetstream instance with `metadata` (parsed by the component's own schema). */
export function openJetStream(metadata: Record<string, string>): Promise<PubSub> {
  return jetstream.create(parseMetadata(jetstream.metadataSchema, metadata), { name: "pubsub", logger: silentLogger(), rawMetadata: metadata });
}

/** Runs `fn` with a JetStream manager on a short-lived connection to `url`. */
export async function withManager<T>(url: string, fn: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: url });
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

export async function jetstreamEnvironment(topicPrefix: string): Promise<ComponentEnv> {
  const server = await natsServer();
  const streamName = `S_${topicPrefix.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  await withManager(server.url, (jsm) => jsm.streams.add({ name: streamName, subjects: [topicPrefix, `${topicPrefix}.>`] }));
  const opened: PubSub[] = [];
  return {
    async open({ consumerID }) {
      const ps = await openJetStream({ natsURL: server.url, streamName, autoCreateStream: "true", ...FAST_REDELIVERY, consumerID });
      opened.push(ps);
      return ps;
    },
    async dispose() {
      for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
      await withManager(server.url, (jsm) => jsm.streams.delete(streamName)).catch(() => undefined);
    },
  };
}

export const jetstreamPubSub: ComponentUnderTest = {
  name: "pubsub.jetstream",
  // Dapr's Features() is empty.
  features: [],
  // A durable consumer keeps its position; the stream keeps messages while no subscription runs.
  durable: true,
  // One durable per consumerID and topic: its instances pull from it and compete.
  consumerGroups: true,
  sharesLoad: true,
  // deliverPolicy all (the default): a new durable starts at the beginning of the stream.
  deliversEarlierMessages: true,
  skips: {},
  environment: jetstreamEnvironment,
};

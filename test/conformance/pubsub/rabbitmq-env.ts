/**
 * pubsub.rabbitmq under the conformance suite: one private rabbitmq-server per test file (started
 * on the first open, stopped when the file ends). Queues are kept while unused
 * (`deletedWhenUnused: false`) so a consumer group outlives its subscriptions, and messages are
 * persistent (`deliveryMode: 2`). Nothing is deleted per test: every test has its own exchanges and
 * queues (named after its unique prefix) on a broker that is thrown away with the file, and AMQP
 * cannot list them without the management plugin.
 */
import type { PubSub } from "../../../src/blocks/pubsub/contract.js";
import * as rabbitmq from "../../../src/components/pubsub/rabbitmq.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { startRabbitMQ } from "../../harness/servers/rabbitmq.js";
import { suiteServer } from "../../harness/servers/suite-server.js";
// Type-only: components.ts imports this file, so a value import back would be a cycle.
import type { ComponentEnv, ComponentUnderTest } from "./components.js";

export const rabbitmqServer = suiteServer(() => startRabbitMQ());

/** The metadata the suite runs with, besides the connection string and consumerID. */
export const SUITE_METADATA = { deletedWhenUnused: "false", deliveryMode: "2", reconnectWaitSeconds: "1" } as const;

/** A pubsub.rabbitmq instance with `metadata` (parsed by the component's own schema). */
export function openRabbitMQ(metadata: Record<string, string>): Promise<PubSub> {
  return rabbitmq.create(parseMetadata(rabbitmq.metadataSchema, metadata), { name: "pubsub", logger: silentLogger(), rawMetadata: metadata });
}

export async function rabbitmqEnvironment(_topicPrefix: string, extra: Record<string, string> = {}): Promise<ComponentEnv> {
  const server = await rabbitmqServer();
  const opened: PubSub[] = [];
  return {
    async open({ consumerID }) {
      const ps = await openRabbitMQ({ connectionString: server.url, ...SUITE_METADATA, ...extra, consumerID });
      opened.push(ps);
      return ps;
    },
    async dispose() {
      for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
    },
  };
}

export const rabbitmqPubSub: ComponentUnderTest = {
  name: "pubsub.rabbitmq",
  // Per-message TTL is native: the AMQP `expiration` property.
  features: ["MESSAGE_TTL"],
  // Durable, kept-while-unused queues hold messages while no subscription runs.
  durable: true,
  // One queue per consumerID: its consumers share it, each other consumerID has its own queue.
  consumerGroups: true,
  // The broker round-robins a queue's messages over its consumers.
  sharesLoad: true,
  // A queue exists only once subscribed; a fanout exchange drops what no queue is bound to.
  deliversEarlierMessages: false,
  skips: {},
  environment: (prefix) => rabbitmqEnvironment(prefix),
};

/**
 * The pub/sub components under test: how to open each one against its real server, what it claims,
 * and what it skips (each skip with a reason the runner prints). A claimed feature must work; an
 * unclaimed one must not be advertised.
 */
import type { PubSub, PubSubFeature } from "../../../src/blocks/pubsub/contract.js";
import * as inMemory from "../../../src/components/pubsub/in-memory.js";
import { redisPubSub } from "./redis-env.js";
import { mqtt3PubSub } from "./mqtt3-env.js";
import { jetstreamPubSub } from "./jetstream-env.js";
import { rabbitmqPubSub } from "./rabbitmq-env.js";
import { sqlitePubSub } from "./sqlite-env.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";

export interface OpenOptions {
  /** Consumer group identity (`consumerID`, as the sidecar sets it from the app id). */
  readonly consumerID: string;
}

/** One environment per component per test: the same `env` opens clients sharing one broker. */
export interface ComponentEnv {
  /** A new component instance (as another sidecar process would hold) on the same broker/data. */
  open(opts: OpenOptions): Promise<PubSub>;
  /** Close every instance opened and remove what the test created (topics, streams, files). */
  dispose(): Promise<void>;
}

/** Topics built on the test's prefix: `pattern` matches `matching` and not `nonMatching`. */
export interface WildcardCase {
  readonly pattern: string;
  readonly matching: string;
  readonly nonMatching: string;
}

export interface ComponentUnderTest {
  /** Shown in every test title. */
  readonly name: string;
  /** Exactly what `features()` must return. */
  readonly features: readonly PubSubFeature[];
  /** Messages survive while no subscription is running (a consumer group created earlier gets them later). */
  readonly durable: boolean;
  /** Instances with the same consumerID share messages (each to one); different consumerIDs each get all. */
  readonly consumerGroups: boolean;
  /** A subscription receives messages published before it first subscribed (Redis Streams group from 0, a retained log). */
  readonly deliversEarlierMessages: boolean;
  /** With consumerGroups: instances of one group both get a share of a burst (not one taking all). */
  readonly sharesLoad?: boolean;
  /** With SUBSCRIBE_WILDCARDS: a pattern in this component's syntax, a topic it matches and one it does not. */
  readonly wildcard?: (topicPrefix: string) => WildcardCase;
  /** Behaviours skipped, by behaviour title, with the reason printed by the runner. */
  readonly skips: Readonly<Record<string, string>>;
  /**
   * A fresh environment; `topicPrefix` is unique per test so tests never see each other's
   * messages on a shared broker.
   */
  environment(topicPrefix: string): Promise<ComponentEnv>;
}

const ctx = (name: string, rawMetadata: Record<string, string>) => ({ name, logger: silentLogger(), rawMetadata });

/** Opens instances of a component module with fixed metadata plus the consumerID. */
export function moduleEnv(
  module: { metadataSchema: Parameters<typeof parseMetadata>[0]; create(options: never, c: ReturnType<typeof ctx>): Promise<PubSub> },
  metadata: Record<string, string>,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): ComponentEnv {
  const opened: PubSub[] = [];
  return {
    async open({ consumerID }) {
      const md = { ...metadata, consumerID };
      const ps = await module.create(parseMetadata(module.metadataSchema, md) as never, ctx("pubsub", md));
      opened.push(ps);
      return ps;
    },
    async dispose() {
      for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
      await cleanup();
    },
  };
}

export const components: readonly ComponentUnderTest[] = [
  {
    name: "pubsub.in-memory",
    features: ["SUBSCRIBE_WILDCARDS"],
    durable: false,
    consumerGroups: false,
    deliversEarlierMessages: false,
    wildcard: (p) => ({ pattern: `${p}-w-*`, matching: `${p}-w-a`, nonMatching: `${p}-x-a` }),
    skips: {},
    environment: () => {
      // In-memory delivers within one instance only: every open() in a test returns the same one.
      let shared: Promise<PubSub> | undefined;
      const env = moduleEnv(inMemory, { redeliverInterval: "50" });
      return Promise.resolve({ open: (o: OpenOptions) => (shared ??= env.open(o)), dispose: () => env.dispose() });
    },
  },
  // Each broker component adds its entry below (one line importing its env from a sibling file).
  redisPubSub,
  mqtt3PubSub,
  jetstreamPubSub,
  rabbitmqPubSub,
  sqlitePubSub,
];

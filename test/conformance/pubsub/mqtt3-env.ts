/**
 * pubsub.mqtt3 under the conformance suite: one private mosquitto per test file (started on the
 * first open, stopped when the file ends), QoS 1, persistent sessions (`cleanSession: false`).
 *
 * Client ids: MQTT allows one connection per client id (a second CONNECT with the same id takes
 * the session over and the broker drops the first), while the suite opens several instances with
 * one consumerID to model instances of one app. So each open() gets the consumerID as client id
 * when no instance of this environment holding that id is open, else `<consumerID>-<n>` (the
 * lowest n free). Opening a consumerID again after its instance closed thus reuses the client id
 * and resumes its session: what the broker queued meanwhile is delivered, as a restarted sidecar
 * with a fixed consumerID would get it. dispose() discards every session the test created.
 */
import { connect } from "mqtt";
import type { PubSub } from "../../../src/blocks/pubsub/contract.js";
import * as mqtt3 from "../../../src/components/pubsub/mqtt3.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { startMosquitto } from "../../harness/servers/mosquitto.js";
import { suiteServer } from "../../harness/servers/suite-server.js";
// Type-only: components.ts imports this file, so a value import back would be a cycle.
import type { ComponentEnv, ComponentUnderTest } from "./components.js";

export const mosquittoServer = suiteServer(() => startMosquitto());

/** A rejected message is handed to its handler again after 100ms (bare integers = ms). */
export const FAST_RETRY = { retryInterval: "100" } as const;

/** A pubsub.mqtt3 instance with `metadata` (parsed by the component's own schema). */
export function openMqtt3(metadata: Record<string, string>): Promise<PubSub> {
  return mqtt3.create(parseMetadata(mqtt3.metadataSchema, metadata), { name: "pubsub", logger: silentLogger(), rawMetadata: metadata });
}

/** Connect once with a clean session under `clientId`: the broker discards what it kept for it. */
export async function discardSession(url: string, clientId: string): Promise<void> {
  const client = connect(url, { protocolVersion: 4, clientId, clean: true, reconnectPeriod: 0 });
  client.on("error", () => undefined);
  await new Promise<void>((resolve) => {
    client.once("connect", () => resolve());
    client.once("close", () => resolve());
  });
  await client.endAsync();
}

export async function mqtt3Environment(_topicPrefix: string, extra: Record<string, string> = {}): Promise<ComponentEnv> {
  const server = await mosquittoServer();
  const opened: PubSub[] = [];
  const held = new Set<string>();
  const used = new Set<string>();
  const clientIdFor = (consumerID: string) => {
    if (!held.has(consumerID)) return consumerID;
    for (let n = 2; ; n++) if (!held.has(`${consumerID}-${n}`)) return `${consumerID}-${n}`;
  };
  return {
    async open({ consumerID }) {
      const clientId = clientIdFor(consumerID);
      held.add(clientId);
      used.add(clientId);
      let ps: PubSub;
      try {
        ps = await openMqtt3({ url: server.url, ...FAST_RETRY, ...extra, consumerID: clientId });
      } catch (err) {
        held.delete(clientId);
        throw err;
      }
      const close = ps.close.bind(ps);
      ps.close = () => close().finally(() => held.delete(clientId));
      opened.push(ps);
      return ps;
    },
    async dispose() {
      for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
      await Promise.all([...used].map((id) => discardSession(server.url, id).catch(() => undefined)));
    },
  };
}

export const mqtt3PubSub: ComponentUnderTest = {
  name: "pubsub.mqtt3",
  features: ["SUBSCRIBE_WILDCARDS"],
  // A persistent session (cleanSession false) keeps the subscription and queues QoS 1 messages while the client is away.
  durable: true,
  // As Dapr: no consumer groups; every client gets every message ($share/<group>/ topics are opt-in).
  consumerGroups: false,
  // A subscription starts at its SUBSCRIBE; retained messages aside, nothing earlier is kept.
  deliversEarlierMessages: false,
  wildcard: (p) => ({ pattern: `${p}/w/+`, matching: `${p}/w/a`, nonMatching: `${p}/x/a` }),
  skips: {},
  environment: (prefix) => mqtt3Environment(prefix),
};

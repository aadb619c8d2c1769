/**
 * pubsub.jetstream - nothing lost: kill -9 of the subscriber's sidecar (what it held unacknowledged
 * comes back after `ackWait`), and kill -9 of a private nats-server restarted on the same port and
 * store dir, both mid-stream. The stream is created here with file storage: the server acknowledges
 * a publish once it is written to the stream's file, which a process crash does not undo.
 */
import { after, before, test } from "node:test";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { component } from "../../harness/sidecar.js";
import { startNats, type NatsServer } from "../../harness/servers/nats.js";
import { PUBSUB, runNothingLost, TEST_TIMEOUT_MS } from "./nothing-lost-scenario.js";

const TOPICS = ["nothing-lost-sidecar", "nothing-lost-broker"] as const;
let nats: NatsServer;

before(async () => {
  nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "nothing-lost", subjects: [...TOPICS], storage: StorageType.File });
  } finally {
    await nc.close();
  }
});

after(async () => {
  await nats?.stop();
});

const yaml = () => component(PUBSUB, "pubsub.jetstream", { natsURL: nats.url, streamName: "nothing-lost", ackWait: "2s" });

test("pubsub.jetstream - nothing lost when the subscriber's sidecar is killed mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, { topic: TOPICS[0], component: yaml, disruption: { kind: "subscriber-sidecar" } });
});

test("pubsub.jetstream - nothing lost when nats-server is killed (-9) and restarted mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, {
    topic: TOPICS[1],
    component: yaml,
    disruption: {
      kind: "broker",
      what: "nats-server kill -9 + restart",
      restart: async () => {
        await nats.kill();
        nats = await startNats({ port: nats.port, dir: nats.dir });
      },
    },
  });
});

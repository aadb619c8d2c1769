/**
 * pubsub.rabbitmq - nothing lost: kill -9 of the subscriber's sidecar (the broker requeues what the
 * dead connection left unacknowledged), and kill -9 of a private rabbitmq-server restarted on the
 * same port, node name and data dir, both mid-stream. Durable exchange and queue that outlive their
 * consumers (`deletedWhenUnused: false`) and persistent messages (`deliveryMode: 2`): the broker
 * confirms a persistent message routed to a durable queue only once it is on disk.
 */
import { after, before, test } from "node:test";
import { component } from "../../harness/sidecar.js";
import { startRabbitMQ, type RabbitMQServer } from "../../harness/servers/rabbitmq.js";
import { PUBSUB, runNothingLost, TEST_TIMEOUT_MS } from "./nothing-lost-scenario.js";

let rabbit: RabbitMQServer;

before(async () => {
  rabbit = await startRabbitMQ();
});

after(async () => {
  await rabbit?.stop();
});

const yaml = () =>
  component(PUBSUB, "pubsub.rabbitmq", { connectionString: rabbit.url, durable: "true", deletedWhenUnused: "false", deliveryMode: "2", reconnectWaitSeconds: "1" });

test("pubsub.rabbitmq - nothing lost when the subscriber's sidecar is killed mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, { topic: "nothing-lost-sidecar", component: yaml, disruption: { kind: "subscriber-sidecar" } });
});

test("pubsub.rabbitmq - nothing lost when rabbitmq-server is killed (-9) and restarted mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, {
    topic: "nothing-lost-broker",
    component: yaml,
    disruption: {
      kind: "broker",
      what: "rabbitmq-server kill -9 + restart",
      restart: async () => {
        await rabbit.kill();
        await rabbit.restart();
      },
    },
  });
});

/**
 * pubsub.mqtt3 - nothing lost: kill -9 of the subscriber's sidecar, and a restart of a private
 * mosquitto on the same port and persistence dir, both mid-stream. QoS 1, persistent sessions
 * (`cleanSession: false`) under fixed client ids, so a restarted sidecar resumes its session and
 * gets what was queued for it or left unacknowledged.
 *
 * The broker restart is graceful (SIGTERM), not kill -9: mosquitto keeps its sessions and queued
 * messages in memory and writes them to its persistence file only every `autosave_interval` and at
 * shutdown, so a crash loses what it acknowledged since the last save by design. The queue limit is
 * lifted (`max_queued_messages 0`): by default mosquitto drops QoS 1 messages beyond 1000 queued for
 * an offline persistent session, which the subscriber's sidecar is while it restarts.
 */
import { after, before, test } from "node:test";
import { component } from "../../harness/sidecar.js";
import { startMosquitto, type MosquittoServer } from "../../harness/servers/mosquitto.js";
import { PUBSUB, runNothingLost, TEST_TIMEOUT_MS, type Role } from "./nothing-lost-scenario.js";

let mosquitto: MosquittoServer;

before(async () => {
  mosquitto = await startMosquitto(["max_queued_messages 0"]);
});

after(async () => {
  await mosquitto?.stop();
});

const yaml = (topic: string) => (role: Role) =>
  component(PUBSUB, "pubsub.mqtt3", { url: mosquitto.url, consumerID: `${role}-${topic}`, qos: "1", cleanSession: "false" });

test("pubsub.mqtt3 - nothing lost when the subscriber's sidecar is killed mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, { topic: "nothing-lost-sidecar", component: yaml("nothing-lost-sidecar"), disruption: { kind: "subscriber-sidecar" } });
});

test("pubsub.mqtt3 - nothing lost when mosquitto is restarted (gracefully) mid-stream", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  await runNothingLost(t, {
    topic: "nothing-lost-broker",
    component: yaml("nothing-lost-broker"),
    disruption: {
      kind: "broker",
      what: "mosquitto graceful stop + restart",
      restart: async () => {
        await mosquitto.stop(true);
        mosquitto = await mosquitto.restart();
      },
    },
  });
});

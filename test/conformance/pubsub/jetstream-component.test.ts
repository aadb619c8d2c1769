/**
 * pubsub.jetstream beyond the shared suite: raw NATS publishers, Nats-Msg-Id deduplication, NAK on
 * a rejected handler, the stream rule, and a broker restart (clean stop and SIGKILL) under a
 * running subscription. Each test has its own stream on the file's private nats-server; the
 * restart tests run their own server so the others are not disturbed.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { jetstream as jsClient } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { PubSub } from "../../../src/blocks/pubsub/contract.js";
import { deferred } from "../../../src/kit/deferred.js";
import { startNats, type NatsServer } from "../../harness/servers/nats.js";
import { pollUntil } from "../../harness/servers/redis.js";
import { Inbox, REDELIVERY_DEADLINE_MS, send, within } from "./fixture.js";
import { natsServer, openJetStream, withManager } from "./jetstream-env.js";

const run = randomBytes(3).toString("hex");
let n = 0;

/** A fresh stream capturing `<prefix>.>` and the instances opened on it, closed at the end. */
async function fixture(server: NatsServer, metadata: Record<string, string> = {}) {
  const prefix = `jsc${run}t${++n}`;
  const stream = `S_${prefix}`;
  await withManager(server.url, (jsm) => jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] }));
  const opened: PubSub[] = [];
  return {
    prefix,
    stream,
    topic: (name: string) => `${prefix}.${name}`,
    async open(consumerID = `${prefix}-app`, extra: Record<string, string> = {}): Promise<PubSub> {
      const ps = await openJetStream({ natsURL: server.url, consumerID, ...metadata, ...extra });
      opened.push(ps);
      return ps;
    },
    async dispose() {
      for (const ps of opened.splice(0)) await ps.close().catch(() => undefined);
      await withManager(server.url, (jsm) => jsm.streams.delete(stream)).catch(() => undefined);
    },
  };
}

const cloudEvent = (id: string, data: string) => Buffer.from(JSON.stringify({ specversion: "1.0", id, source: "test", type: "com.dapr.event.sent", data }));

describe("pubsub.jetstream component", () => {
  test("pubsub.jetstream - a message published raw with the NATS client is delivered", async () => {
    const server = await natsServer();
    const f = await fixture(server, { ackWait: "1s" });
    try {
      const ps = await f.open();
      const topic = f.topic("raw");
      const inbox = new Inbox();
      await ps.subscribe({ topic, metadata: {} }, inbox.handler);
      const nc = await connect({ servers: server.url });
      try {
        const ack = await jsClient(nc).publish(topic, "from a plain NATS publisher");
        assert.equal(ack.stream, f.stream);
      } finally {
        await nc.close();
      }
      await inbox.untilAll(["from a plain NATS publisher"]);
      const [m] = inbox.calls;
      assert.equal(m?.topic, topic);
      assert.equal(m?.metadata.Topic, topic);
    } finally {
      await f.dispose();
    }
  });

  test("pubsub.jetstream - the same CloudEvent id published twice is stored once (Nats-Msg-Id)", async () => {
    const server = await natsServer();
    const f = await fixture(server);
    try {
      const ps = await f.open();
      const topic = f.topic("dedup");
      const publish = (id: string, data: string) => ps.publish({ topic, data: cloudEvent(id, data), contentType: "application/cloudevents+json", metadata: {} });
      await publish("evt-1", "first");
      await publish("evt-1", "first again");
      await publish("evt-2", "second");
      // Not a CloudEvent content type: no id is read, both copies are kept.
      await ps.publish({ topic, data: cloudEvent("evt-3", "raw"), contentType: "application/json", metadata: {} });
      await ps.publish({ topic, data: cloudEvent("evt-3", "raw"), contentType: "application/json", metadata: {} });
      await withManager(server.url, async (jsm) => {
        const info = await jsm.streams.info(f.stream);
        assert.equal(info.state.messages, 4);
        const first = await jsm.streams.getMessage(f.stream, { seq: 1 });
        assert.equal(first?.header.get("Nats-Msg-Id"), "evt-1");
        assert.equal(JSON.parse(first?.string() ?? "{}").data, "first");
      });
    } finally {
      await f.dispose();
    }
  });

  test("pubsub.jetstream - a rejected message is NAKed and redelivered before the ack wait ran out", async () => {
    const server = await natsServer();
    // No ackWait: the server waits 30s for an ack, the NAK delay is 1s. Only a NAK brings it back in time.
    const f = await fixture(server);
    try {
      const ps = await f.open();
      const topic = f.topic("nak");
      const inbox = new Inbox((_m, _s, attempt) => (attempt === 1 ? Promise.reject(new Error("not yet")) : Promise.resolve()));
      await ps.subscribe({ topic, metadata: {} }, inbox.handler);
      await send(ps, topic, "nak-me");
      await inbox.until("the redelivery after the NAK", () => inbox.handled("nak-me"), 10_000);
      assert.equal(inbox.count("nak-me"), 2);
    } finally {
      await f.dispose();
    }
  });

  test("pubsub.jetstream - subscribe fails clearly when no stream captures the topic (autoCreateStream off)", async () => {
    const server = await natsServer();
    const f = await fixture(server);
    try {
      const ps = await f.open();
      await assert.rejects(ps.subscribe({ topic: `nostream${run}.x`, metadata: {} }, () => Promise.resolve()), /no stream matches subject/);
      await assert.rejects(send(ps, `nostream${run}.x`, "lost?"), { name: "PublishError" });
    } finally {
      await f.dispose();
    }
  });

  test("pubsub.jetstream - metadata shapes the durable consumer (deliverPolicy new, ackPolicy none, parallel, heartbeat)", async () => {
    const server = await natsServer();
    const f = await fixture(server, { deliverPolicy: "new", ackPolicy: "none", concurrency: "parallel", maxAckPending: "5", heartbeat: "2s", durableName: "configured" });
    try {
      const ps = await f.open();
      const topic = f.topic("configured");
      await send(ps, topic, "published before the consumer existed");
      const inbox = new Inbox();
      await ps.subscribe({ topic, metadata: {} }, inbox.handler);
      await send(ps, topic, "new");
      await inbox.untilAll(["new"]);
      assert.equal(inbox.has("published before the consumer existed"), false);
      await withManager(server.url, async (jsm) => {
        const info = await jsm.consumers.info(f.stream, "configured");
        assert.equal(info.config.deliver_policy, "new");
        assert.equal(info.config.ack_policy, "none");
        assert.equal(info.config.max_ack_pending, 5);
        assert.equal(info.config.filter_subject, topic);
      });
      await assert.rejects(ps.subscribe({ topic: f.topic("other"), metadata: {} }, inbox.handler), /already consumes/);
    } finally {
      await f.dispose();
    }
  });

  for (const how of ["stop", "kill"] as const) {
    test(`pubsub.jetstream - a subscription survives a broker ${how === "stop" ? "restart" : "crash (SIGKILL) and restart"}`, async () => {
      let server = await startNats();
      const f = await fixture(server, { ackWait: "1s", concurrency: "parallel" });
      try {
        const ps = await f.open();
        const topic = f.topic("restart");
        const entered = deferred();
        const brokerDown = deferred();
        const inbox = new Inbox(async (m, _s, attempt) => {
          if (m.data.toString() !== "unacked" || attempt > 1) return;
          entered.resolve();
          await brokerDown.promise;
          throw new Error("handled while the broker was down");
        });
        const sub = await ps.subscribe({ topic, metadata: {} }, inbox.handler);
        await send(ps, topic, "before");
        await inbox.untilAll(["before"]);
        // The ack of "before" is fire-and-forget: wait until the server counts it.
        await pollUntil("the server saw the ack of the first message", () =>
          withManager(server.url, async (jsm) => {
            const [consumer] = await jsm.consumers.list(f.stream).next();
            return (consumer?.ack_floor.stream_seq ?? 0) >= 1;
          }),
        );
        await send(ps, topic, "unacked");
        await within("the handler of the unacked message to start", entered.promise);

        const { port, dir } = server;
        if (how === "stop") await server.stop(true);
        else await server.kill();
        brokerDown.resolve();
        server = await startNats({ port, dir });

        await send(ps, topic, "after");
        await inbox.until("the later message and the redelivered unacked one handled", () => inbox.handled("after") && inbox.handled("unacked"), REDELIVERY_DEADLINE_MS);
        assert.ok(inbox.count("unacked") >= 2, "the unacknowledged message was redelivered");
        // A crash may lose the consumer's latest ack floor (the server writes consumer state
        // asynchronously): an acknowledged message coming back once is at-least-once, not a loss.
        if (how === "stop") assert.equal(inbox.count("before"), 1, "an acknowledged message came back after a clean restart");
        await within("close()", sub.close());
      } finally {
        await f.dispose();
        await server.stop();
      }
    });
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMetadata } from "../../kit/metadata-schema.js";
import { concurrencyOf, connectionOptions, consumerConfig, durableNameFor, metadataSchema, validate } from "./jetstream-options.js";

const parse = (md: Record<string, string>) => parseMetadata(metadataSchema, { natsURL: "nats://127.0.0.1:4222", ...md });

test("pubsub.jetstream - defaults follow Dapr", () => {
  const o = parse({});
  assert.equal(o.name, "dapr.io - pubsub.jetstream");
  assert.equal(o.deliverPolicy, "all");
  assert.equal(o.ackPolicy, "explicit");
  assert.equal(o.concurrency, "single");
  assert.equal(o.autoCreateStream, false);
  assert.equal(concurrencyOf(o), 1);
  assert.deepEqual(consumerConfig(o, "d", "orders"), { durable_name: "d", filter_subject: "orders", deliver_policy: "all", ack_policy: "explicit", replay_policy: "instant" });
});

test("pubsub.jetstream - consumer fields map onto the consumer configuration", () => {
  const o = parse({
    deliverPolicy: "time",
    startTime: "1700000000",
    ackPolicy: "none",
    ackWait: "2s",
    maxDeliver: "5",
    backOff: "1s, 500ms,2",
    maxAckPending: "7",
    replicas: "3",
    memoryStorage: "true",
    concurrency: "parallel",
  });
  validate(o);
  assert.equal(concurrencyOf(o), 7);
  assert.deepEqual(consumerConfig(o, "d", "t"), {
    durable_name: "d",
    filter_subject: "t",
    deliver_policy: "by_start_time",
    opt_start_time: "2023-11-14T22:13:20.000Z",
    ack_policy: "none",
    replay_policy: "instant",
    ack_wait: 2e9,
    max_deliver: 5,
    backoff: [1e9, 5e8, 2e9],
    max_ack_pending: 7,
    num_replicas: 3,
    mem_storage: true,
  });
  assert.equal(consumerConfig(parse({ deliverPolicy: "sequence", startSequence: "42" }), "d", "t").opt_start_seq, 42);
});

test("pubsub.jetstream - fields that only work together are checked", () => {
  assert.throws(() => validate(parse({ deliverPolicy: "sequence" })), /startSequence/);
  assert.throws(() => validate(parse({ deliverPolicy: "time" })), /startTime/);
  assert.throws(() => validate(parse({ backOff: "1s,soon" })), /backOff/);
  assert.throws(() => connectionOptions(parse({ jwt: "eyJ..." })), /seedKey/);
  assert.throws(() => connectionOptions(parse({ tls_client_cert: "/c.pem" })), /tls_client_key/);
  assert.throws(() => parse({ deliverPolicy: "sometimes" }), /deliverPolicy/);
});

test("pubsub.jetstream - connection options carry name, servers, token and TLS files or PEM", () => {
  const c = connectionOptions(parse({ natsURL: "nats://a:1, nats://b:2", token: "s3cret", tls_client_cert: "/c.pem", tls_client_key: "-----BEGIN PRIVATE KEY-----\n..." }));
  assert.deepEqual(c.servers, ["nats://a:1", "nats://b:2"]);
  assert.equal(c.name, "dapr.io - pubsub.jetstream");
  assert.equal(c.token, "s3cret");
  assert.deepEqual(c.tls, { certFile: "/c.pem", key: "-----BEGIN PRIVATE KEY-----\n..." });
  assert.equal(c.maxReconnectAttempts, -1);
});

test("pubsub.jetstream - derived durable names are valid, stable and distinct per consumerID and topic", () => {
  const a = durableNameFor("app", "orders.new");
  assert.equal(a, durableNameFor("app", "orders.new"));
  assert.match(a, /^[A-Za-z0-9_-]+$/);
  assert.ok(a.startsWith("app-orders_new-"));
  assert.notEqual(a, durableNameFor("app", "orders_new"));
  assert.notEqual(a, durableNameFor("other", "orders.new"));
  assert.ok(durableNameFor("x".repeat(300), "y".repeat(300)).length < 120);
});

/**
 * pubsub.sqlite specifics the shared suite cannot see: several processes on one file (competing
 * consumers, kill -9 while holding leases, restart), retention, lease release on close, metadata.
 * Child processes run sqlite-worker.ts; each holds its own component instance, as a sidecar would.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import type { Message, PubSub } from "../../../src/blocks/pubsub/contract.js";
import { metadataSchema, SqlitePubSub } from "../../../src/components/pubsub/sqlite.js";
import { deferred } from "../../../src/kit/deferred.js";
import { MetadataError, parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { Inbox, payloads, send } from "./fixture.js";
import { openSqlitePubSub, removeDatabaseFiles, sqliteDatabasePath } from "./sqlite-env.js";

const WORKER = fileURLToPath(new URL("./sqlite-worker.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEADLINE_MS = 30_000;
let fileCounter = 0;
const newPath = () => sqliteDatabasePath(`component-${++fileCounter}`);

/** Every instance a test opens, closed after the file even when a test failed (a live subscription keeps the process running). */
const opened: PubSub[] = [];
const track = <T extends PubSub>(ps: T): T => {
  opened.push(ps);
  return ps;
};
const open = async (metadata: Record<string, string>) => track(await openSqlitePubSub(metadata));
after(async () => {
  for (const ps of opened) await ps.close().catch(() => undefined);
});

/** Poll `check` until it holds or the deadline passes. */
async function until(what: string, check: () => boolean, deadlineMs = DEADLINE_MS): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A child process holding one pubsub.sqlite instance (see sqlite-worker.ts). */
class Worker {
  readonly received: string[] = [];
  private readonly events: Record<string, unknown>[] = [];
  private readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private stderr = "";

  constructor(
    readonly name: string,
    metadata: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(metadata)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    const exited = deferred();
    this.exited = exited.promise;
    this.child.on("exit", () => exited.resolve());
    this.child.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const ev = JSON.parse(line) as Record<string, unknown>;
      if (ev.ev === "msg") this.received.push(String(ev.text));
      else this.events.push(ev);
    });
  }

  static async start(name: string, metadata: Record<string, string>): Promise<Worker> {
    const w = new Worker(name, metadata);
    await w.until("ready", () => w.has("ready"));
    return w;
  }

  has(ev: string, topic?: string): boolean {
    return this.events.some((e) => e.ev === ev && (topic === undefined || e.topic === topic));
  }

  async until(what: string, check: () => boolean, deadlineMs = DEADLINE_MS): Promise<void> {
    const failed = () => this.events.find((e) => e.ev === "error");
    await until(`${this.name}: ${what}`, () => {
      const err = failed();
      if (err) throw new Error(`${this.name} failed: ${String(err.message)}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        if (check()) return true;
        throw new Error(`${this.name} exited: ${this.stderr}`);
      }
      return check();
    }, deadlineMs);
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
  }

  async subscribe(topic: string, hold = false): Promise<void> {
    this.send({ op: "subscribe", topic, hold });
    await this.until(`subscribed to ${topic}`, () => this.has("subscribed", topic));
  }

  async publish(topic: string, stem: string, count: number): Promise<void> {
    this.send({ op: "publish", topic, stem, count });
    await this.until(`published ${count} to ${topic}`, () => this.has("published", topic), 60_000);
  }

  async kill9(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ op: "close" });
    await this.exited;
  }
}

const intersection = (a: readonly string[], b: readonly string[]) => a.filter((x) => b.includes(x));
const duplicates = (list: readonly string[]) => list.length - new Set(list).size;

async function withWorkers(fn: (start: (name: string, md: Record<string, string>) => Promise<Worker>) => Promise<void>): Promise<void> {
  const workers: Worker[] = [];
  try {
    await fn(async (name, md) => {
      const w = await Worker.start(name, md);
      workers.push(w);
      return w;
    });
  } finally {
    await Promise.all(workers.map((w) => w.kill9()));
  }
}

void describe("pubsub.sqlite component", () => {
  test("pubsub - sqlite processes with one consumerID compete, another consumerID gets every message", async () => {
    const path = newPath();
    await withWorkers(async (start) => {
      const md = { connectionString: path, batchSize: "5", pollInterval: "20" };
      const [a, b, other] = await Promise.all([
        start("A", { ...md, consumerID: "group" }),
        start("B", { ...md, consumerID: "group" }),
        start("other", { ...md, consumerID: "other" }),
      ]);
      await Promise.all([a.subscribe("orders", true), b.subscribe("orders", true), other.subscribe("orders")]);
      const publisher = await open({ connectionString: path, consumerID: "publisher" });
      const texts = payloads("order", 20);
      await Promise.all(texts.map((text) => send(publisher, "orders", text)));
      // Each instance holds at most batchSize (5) messages while its handlers do not resolve.
      await until("A and B to hold 5 messages each", () => a.received.length === 5 && b.received.length === 5);
      assert.deepEqual(intersection(a.received, b.received), [], "a message went to both instances of the group");
      await other.until("all messages", () => other.received.length === texts.length);
      a.send({ op: "release" });
      b.send({ op: "release" });
      await until("the group to get every message", () => new Set([...a.received, ...b.received]).size === texts.length);
      assert.deepEqual(intersection(a.received, b.received), []);
      assert.equal(duplicates([...a.received, ...b.received]), 0);
      assert.deepEqual([...other.received].sort(), [...texts].sort());
      await publisher.close();
    });
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite messages leased by a process killed with SIGKILL go to the survivor after visibilityTimeout", async () => {
    const path = newPath();
    await withWorkers(async (start) => {
      const md = { connectionString: path, consumerID: "group", batchSize: "5", visibilityTimeout: "3000", pollInterval: "20" };
      const doomed = await start("doomed", md);
      await doomed.subscribe("jobs", true);
      const texts = payloads("job", 5);
      await doomed.publish("jobs", "job", 5);
      await doomed.until("holding all 5", () => doomed.received.length === 5);
      const survivor = await start("survivor", md);
      await survivor.subscribe("jobs");
      // The doomed process is alive and holds the leases: the survivor, already polling, has none.
      assert.equal(survivor.received.length, 0, "a lease held by a live process was taken");
      const killedAt = Date.now();
      await doomed.kill9();
      await survivor.until("the 5 leased messages", () => survivor.received.length === 5, 20_000);
      assert.deepEqual([...survivor.received].sort(), texts.sort());
      assert.ok(Date.now() - killedAt < 10_000, "redelivery took much longer than visibilityTimeout");
    });
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite published and leased messages survive SIGKILL and are delivered after a restart", async () => {
    const path = newPath();
    await withWorkers(async (start) => {
      const md = { connectionString: path, consumerID: "group", batchSize: "5", visibilityTimeout: "1000", pollInterval: "20" };
      // Published before any subscriber existed: a new group starts at the oldest retained message.
      const publisher = await start("publisher", { ...md, consumerID: "publisher" });
      await publisher.publish("events", "event", 100);
      await publisher.kill9();
      const consumer = await start("consumer", md);
      await consumer.subscribe("events", true);
      await consumer.until("5 messages held", () => consumer.received.length === 5);
      await consumer.kill9();
    });
    const restarted = await open({ connectionString: path, consumerID: "group", visibilityTimeout: "1000", pollInterval: "20" });
    const inbox = new Inbox();
    await restarted.subscribe({ topic: "events", metadata: {} }, inbox.handler);
    await inbox.untilAll(payloads("event", 100), 20_000);
    await restarted.close();
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite 5,000 messages published from two processes reach two groups across processes, none lost", async () => {
    const path = newPath();
    await withWorkers(async (start) => {
      const md = { connectionString: path, pollInterval: "20" };
      const [c1, c2, solo, p1, p2] = await Promise.all([
        start("c1", { ...md, consumerID: "group" }),
        start("c2", { ...md, consumerID: "group" }),
        start("solo", { ...md, consumerID: "solo" }),
        start("p1", { ...md, consumerID: "p1" }),
        start("p2", { ...md, consumerID: "p2" }),
      ]);
      await Promise.all([c1.subscribe("bulk"), c2.subscribe("bulk"), solo.subscribe("bulk")]);
      await Promise.all([p1.publish("bulk", "p1", 2500), p2.publish("bulk", "p2", 2500)]);
      const all = [...payloads("p1", 2500), ...payloads("p2", 2500)];
      await until("the group to get 5,000", () => new Set([...c1.received, ...c2.received]).size === all.length, 60_000);
      await solo.until("5,000", () => new Set(solo.received).size === all.length, 60_000);
      assert.equal(duplicates([...c1.received, ...c2.received]), 0, "a message was delivered twice within the group");
      assert.deepEqual(intersection(c1.received, c2.received), []);
      assert.equal(duplicates(solo.received), 0);
      assert.deepEqual([...new Set(solo.received)].sort(), [...all].sort());
    });
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite close() releases claimed messages never handed to the handler", async () => {
    const path = newPath();
    const md = { connectionString: path, consumerID: "group", batchSize: "10", concurrency: "1", visibilityTimeout: "60s" };
    const first = await open(md);
    const started = deferred();
    const gate = deferred();
    const seenFirst: string[] = [];
    const sub = await first.subscribe({ topic: "t", metadata: {} }, async (m) => {
      seenFirst.push(m.data.toString());
      started.resolve();
      await gate.promise;
    });
    const texts = payloads("m", 10);
    await Promise.all(texts.map((t) => send(first, "t", t)));
    await started.promise;
    const closing = sub.close();
    gate.resolve();
    await closing;
    const second = await open(md);
    const inbox = new Inbox();
    await second.subscribe({ topic: "t", metadata: {} }, inbox.handler);
    // Well before visibilityTimeout (60s): the 9 unstarted messages were released, the handled one acknowledged.
    await inbox.untilAll(texts.filter((t) => !seenFirst.includes(t)), 10_000);
    assert.equal(seenFirst.length, 1);
    assert.equal(inbox.has(seenFirst[0] as string), false, "an acknowledged message came back");
    await Promise.all([first.close(), second.close()]);
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite a live consumer renews its leases: a handler slower than visibilityTimeout keeps its message", async () => {
    const path = newPath();
    const md = { connectionString: path, consumerID: "group", visibilityTimeout: "300", pollInterval: "20" };
    const [slow, other] = [await open(md), await open(md)];
    const started = deferred();
    const gate = deferred();
    let slowCalls = 0;
    await slow.subscribe({ topic: "t", metadata: {} }, async () => {
      slowCalls++;
      started.resolve();
      await gate.promise;
    });
    await send(slow, "t", "long job");
    await started.promise;
    const inbox = new Inbox();
    await other.subscribe({ topic: "t", metadata: {} }, inbox.handler);
    // The window under test: more than three visibility timeouts pass while the handler runs.
    await new Promise((r) => setTimeout(r, 1_000));
    gate.resolve();
    await Promise.all([slow.close(), other.close()]);
    assert.equal(inbox.calls.length, 0, "the message of a live, slow handler went to another consumer");
    assert.equal(slowCalls, 1);
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite a rejected message comes back after redeliverInterval", async () => {
    const path = newPath();
    const md = { connectionString: path, consumerID: "group", redeliverInterval: "300", pollInterval: "20" };
    const a = await open(md);
    const calls: { at: number; attempt: number }[] = [];
    await a.subscribe({ topic: "t", metadata: {} }, () => {
      calls.push({ at: Date.now(), attempt: calls.length + 1 });
      return calls.length < 3 ? Promise.reject(new Error("not yet")) : Promise.resolve();
    });
    await send(a, "t", "retry-me");
    await until("3 attempts", () => calls.length === 3);
    const [c1, c2] = [calls[0], calls[1]];
    assert.ok(c1 && c2 && c2.at - c1.at >= 250, `redelivered after ${(c2?.at ?? 0) - (c1?.at ?? 0)}ms, before redeliverInterval`);
    await a.close();
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite subscription metadata consumerID overrides the component's", async () => {
    const path = newPath();
    const ps = await open({ connectionString: path, consumerID: "app" });
    const own = new Inbox();
    const other = new Inbox();
    await ps.subscribe({ topic: "t", metadata: {} }, own.handler);
    await ps.subscribe({ topic: "t", metadata: { consumerID: "audit" } }, other.handler);
    const texts = payloads("x", 20);
    for (const t of texts) await send(ps, "t", t);
    await own.untilAll(texts);
    await other.untilAll(texts);
    await ps.close();
    const groups = new Database(path, { readonly: true });
    assert.deepEqual(
      groups.prepare("SELECT consumer_group FROM pubsub_groups ORDER BY consumer_group").all(),
      [{ consumer_group: "app" }, { consumer_group: "audit" }],
    );
    groups.close();
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite retention deletes messages every group acknowledged, and any older than maxRetention", async () => {
    const path = newPath();
    const ps = track(new SqlitePubSub(parseMetadata(metadataSchema, { connectionString: path, consumerID: "app", maxRetention: "1h" }), silentLogger()));
    const inbox = new Inbox();
    await ps.subscribe({ topic: "consumed", metadata: {} }, inbox.handler);
    await ps.subscribe({ topic: "consumed", metadata: { consumerID: "slow" } }, () => Promise.reject(new Error("keeps failing")));
    const texts = payloads("c", 10);
    for (const t of texts) await send(ps, "consumed", t);
    for (const t of payloads("orphan", 3)) await send(ps, "nobody-listens", t);
    await inbox.untilAll(texts);
    const db = new Database(path, { readonly: true });
    const count = (topic: string) => (db.prepare("SELECT count(*) AS n FROM pubsub_messages WHERE topic = ?").get(topic) as { n: number }).n;
    ps.sweep();
    // "slow" holds every message (leased, nacked): nothing of that topic goes; nobody-listens is kept for later groups.
    assert.equal(count("consumed"), 10);
    assert.equal(count("nobody-listens"), 3);
    ps.sweep(Date.now() + 3_600_001);
    assert.equal(count("consumed"), 0);
    assert.equal(count("nobody-listens"), 0);
    db.close();
    await ps.close();

    const single = await open({ connectionString: path, consumerID: "solo" });
    const got = new Inbox();
    await single.subscribe({ topic: "alone", metadata: {} }, got.handler);
    for (const t of texts) await send(single, "alone", t);
    await got.untilAll(texts);
    await single.close(); // flushes the acks
    const again = track(new SqlitePubSub(parseMetadata(metadataSchema, { connectionString: path }), silentLogger()));
    again.sweep();
    const check = new Database(path, { readonly: true });
    assert.equal((check.prepare("SELECT count(*) AS n FROM pubsub_messages WHERE topic = 'alone'").get() as { n: number }).n, 0);
    check.close();
    await again.close();
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite metadata defaults, bare integers as milliseconds, and refusals", async () => {
    assert.deepEqual(
      { ...parseMetadata(metadataSchema, {}) },
      {
        connectionString: "tandem-pubsub.db",
        consumerID: "",
        visibilityTimeout: 60_000,
        redeliverInterval: 1_000,
        pollInterval: 50,
        batchSize: 100,
        concurrency: 100,
        maxRetention: 86_400_000,
        busyTimeout: 5_000,
      },
    );
    const parsed = parseMetadata(metadataSchema, { visibilityTimeout: "1500", pollInterval: "5", maxRetention: "2h" });
    assert.equal(parsed.visibilityTimeout, 1500);
    assert.equal(parsed.pollInterval, 5);
    assert.equal(parsed.maxRetention, 7_200_000);
    assert.throws(() => parseMetadata(metadataSchema, { batchSize: "0" }), MetadataError);
    assert.throws(() => new SqlitePubSub(parseMetadata(metadataSchema, { connectionString: "file:x.db?mode=ro" }), silentLogger()), MetadataError);
    const path = newPath();
    const ps = await open({ connectionString: `file:${path}?_txlock=immediate` });
    await assert.rejects(ps.subscribe({ topic: "t", metadata: {} }, () => Promise.resolve()), MetadataError);
    await send(ps, "t", "ok");
    await ps.close();
    await assert.rejects(send(ps, "t", "after close"));
    const db = new Database(path);
    assert.deepEqual(db.prepare("SELECT version FROM pubsub_schema").all(), [{ version: 1 }]);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    db.prepare("UPDATE pubsub_schema SET version = 99").run();
    db.close();
    await assert.rejects(open({ connectionString: path }), /schema version 99/);
    removeDatabaseFiles(path);
  });

  test("pubsub - sqlite delivered messages carry topic, content type and metadata", async () => {
    const path = newPath();
    const ps: PubSub = await open({ connectionString: path, consumerID: "app" });
    const got = deferred<Message>();
    await ps.subscribe({ topic: "t", metadata: {} }, (m) => {
      got.resolve(m);
      return Promise.resolve();
    });
    await ps.publish({ topic: "t", data: Buffer.from([0, 1, 2, 255]), contentType: "application/octet-stream", metadata: { rawPayload: "true" } });
    const m = await got.promise;
    assert.deepEqual(
      { topic: m.topic, data: [...m.data], contentType: m.contentType, metadata: m.metadata },
      { topic: "t", data: [0, 1, 2, 255], contentType: "application/octet-stream", metadata: { rawPayload: "true" } },
    );
    await ps.close();
    removeDatabaseFiles(path);
  });
});

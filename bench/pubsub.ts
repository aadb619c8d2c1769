/**
 * Pub/sub: publish acknowledgement latency and ceiling, bulk publish throughput, and publish-to-
 * delivery through two sidecars, on pubsub.redis (a private redis-server started here) beside raw
 * ioredis in the same run, then on the durable local default pubsub.sqlite (when registered).
 *
 *   node --import tsx bench/pubsub.ts [--quick] [--brokers redis,sqlite] [--compare <other build's main.js>]
 *     [--skip-publish | --skip-delivery] [--metadata name=value,...]
 *
 * `--metadata` adds component metadata to both sidecars' component (e.g. `concurrency=100`).
 *
 * `--compare` adds a publishing sidecar running another build (e.g. a copy of dist/bundle made
 * before a change, kept under bench/results/) to the publish scenarios, measured in the same
 * rotation: the before/after figure of a hot-path change.
 *
 * Subjects and what they send are described in bench/README.md (`pubsub.ts`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { buildEnvelope } from "../src/blocks/pubsub/cloudevent.js";
import { startRedis, type RedisServer } from "../test/harness/servers/redis.js";
import { freePort } from "../test/harness/ports.js";
import { component, ROOT } from "../test/harness/sidecar.js";
import { deliveryScenario, getCount, keepsUp, printDelivery, type DeliveryResult, type DeliverySubject } from "./lib/delivery.js";
import { LoadGenerator } from "./lib/load-client.js";
import { memory } from "./lib/proc.js";
import { spawnBareServer, spawnNode, spawnSidecar, stopAll, waitForStatus, type Started } from "./lib/processes.js";
import { COUNTING_APP, RAW_CONSUMER } from "./lib/raw-pubsub.js";
import { describeMachine, machine, QUICK, writeResults } from "./lib/results.js";
import { measure, printScenario, type Bench, type Mode, type Run, type ScenarioResult, type Subject, type Timing } from "./lib/scenario.js";
import { VALUE } from "./lib/state-requests.js";
import { medianOf, rotation } from "./lib/stats.js";
import { num, signed, table, verdict } from "./lib/table.js";

const TIMING: Timing = QUICK ? { warmupMs: 500, openMs: 1500, closedMs: 1500, repeats: 1 } : { warmupMs: 3000, openMs: 10_000, closedMs: 5000, repeats: 3 };
const RATE = 1000;
const CONNECTIONS = 16;
const BULK = 100;
const PUBSUB = "pubsub";
const TOPIC = "orders";
const DELIVER_TOPIC = "deliver";
const TARGET = { addedP50: 0.15, publishesPerSec: 20_000, bulkMsgsPerSec: 100_000 };

type Broker = "redis" | "sqlite";

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const COMPARE = argValue("--compare");
const SKIP_DELIVERY = process.argv.includes("--skip-delivery");
const SKIP_PUBLISH = process.argv.includes("--skip-publish");
const EXTRA_METADATA: Record<string, string> = Object.fromEntries(
  (argValue("--metadata") ?? "")
    .split(",")
    .filter((kv) => kv.includes("="))
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);

function chosenBrokers(): Broker[] {
  const i = process.argv.indexOf("--brokers");
  const names = i < 0 ? ["redis", "sqlite"] : (process.argv[i + 1] ?? "").split(",").filter((s) => s !== "");
  for (const n of names) if (n !== "redis" && n !== "sqlite") throw new Error(`--brokers: unknown broker "${n}" (known: redis, sqlite)`);
  return names as Broker[];
}

/** What the sidecar stores for one publish of VALUE: the envelope (same size; id and time differ per message). */
const ENVELOPE = buildEnvelope({
  source: "pub",
  topic: TOPIC,
  pubsubname: PUBSUB,
  contentType: "application/json",
  data: Buffer.from(VALUE),
  traceid: "",
  traceparent: "",
  tracestate: "",
  now: new Date(),
}).toString();

const publishRequest = (topic: string) => [{ method: "POST" as const, path: `/v1.0/publish/${PUBSUB}/${topic}`, body: VALUE }];
const bulkRequest = () => [
  {
    method: "POST" as const,
    path: `/v1.0-alpha1/publish/bulk/${PUBSUB}/${TOPIC}`,
    body: `[${Array.from({ length: BULK }, (_, i) => `{"entryId":"e${i}","event":${VALUE},"contentType":"application/json"}`).join(",")}]`,
  },
];

interface PublishRow {
  readonly result: ScenarioResult;
  /** Messages per request (1, or BULK). */
  readonly perRequest: number;
}

/** Subjects in rotation, `repeats` times, `beforeEach` (e.g. emptying the streams) ahead of every run. */
async function publishScenario(b: Bench, gen: LoadGenerator, subjects: readonly Subject[], mode: Mode, beforeEach: () => Promise<void>): Promise<ScenarioResult> {
  const runs = new Map<string, Run[]>(subjects.map((s) => [s.name, []]));
  const firstErrors = new Map<string, string>();
  for (let r = 0; r < b.timing.repeats; r++) {
    for (const s of rotation(subjects, r)) {
      await beforeEach();
      const { run, firstError } = await measure(b, gen, s, "SET", mode);
      runs.get(s.name)?.push(run);
      if (firstError !== undefined && !firstErrors.has(s.name)) firstErrors.set(s.name, firstError);
    }
  }
  return {
    op: "SET",
    mode,
    rows: subjects.map((s) => {
      const rs = runs.get(s.name) ?? [];
      const fe = firstErrors.get(s.name);
      return { subject: s.name, baseline: s.baseline, median: medianOf(rs), errorsTotal: rs.reduce((a, x) => a + x.errors, 0), runs: rs, ...(fe !== undefined ? { firstError: fe } : {}) };
    }),
  };
}

function printBulk(b: Bench, sc: ScenarioResult, what: string): void {
  const base = sc.rows.find((x) => x.baseline)?.median;
  console.log(`\n### ${what} — closed loop, ${b.connections} requests in flight, ${BULK} × 1 KiB entries per request (latency ms per request; medians of ${b.timing.repeats})\n`);
  console.log(
    table(
      ["subject", "p50", "p99", "requests/s", "messages/s", "% of raw", "CPU µs/msg", "gen CPU µs/msg", "broker CPU µs/msg", "RSS MiB", "errors"],
      sc.rows.map(({ subject, median: m, errorsTotal }) => [
        subject,
        m.p50,
        m.p99,
        m.throughput,
        m.throughput * BULK,
        `${((m.throughput / (base?.throughput ?? NaN)) * 100).toFixed(0)}%`,
        m.cpuPerReq / BULK,
        m.genCpuPerReq / BULK,
        m.serverCpuPerReq / BULK,
        m.rssPeakMiB,
        errorsTotal,
      ]),
    ),
  );
  console.log(`generator CPU, % of one core: ${sc.rows.map((x) => `${x.subject} ${num(x.median.genCpuPct)}%`).join(", ")}`);
  for (const x of sc.rows) if (x.firstError !== undefined) console.log(`  first error (${x.subject}): ${x.firstError}`);
}

interface BrokerSetup {
  readonly componentYaml: string;
  /** Root pid of the broker server (its CPU per message is reported); none for SQLite (in the sidecar). */
  readonly serverPid?: number;
  readonly redis?: RedisServer;
  stop(): Promise<void>;
}

async function setUp(broker: Broker): Promise<BrokerSetup> {
  if (broker === "redis") {
    const s = await startRedis();
    const c = new Redis({ host: s.host, port: s.port });
    const pid = Number(/process_id:(\d+)/.exec(await c.info("server"))?.[1]);
    c.disconnect();
    return { componentYaml: component(PUBSUB, "pubsub.redis", { redisHost: s.address, ...EXTRA_METADATA }), serverPid: pid, redis: s, stop: () => s.stop() };
  }
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-pubsub-"));
  return {
    componentYaml: component(PUBSUB, "pubsub.sqlite", { connectionString: join(dir, "pubsub.db"), ...EXTRA_METADATA }),
    stop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

async function startSidecarReady(appId: string, yaml: string, args: readonly string[] = [], main?: string) {
  const sc = await spawnSidecar({ appId, resources: { "pubsub.yaml": yaml }, args, ...(main !== undefined ? { main } : {}) });
  await waitForStatus(sc, "/v1.0/healthz", 204, 30_000, 20);
  return sc;
}

interface BrokerResult {
  readonly broker: Broker;
  readonly publish: PublishRow[];
  readonly delivery: DeliveryResult[];
  readonly memory: { idleRssMiB: number; hwmMiB: number };
}

async function benchBroker(broker: Broker, gen: LoadGenerator): Promise<BrokerResult> {
  const setup = await setUp(broker);
  const redis = setup.redis;
  const client = redis !== undefined ? new Redis({ host: redis.host, port: redis.port }) : undefined;
  const publish: PublishRow[] = [];
  const delivery: DeliveryResult[] = [];
  let mem = { idleRssMiB: NaN, hwmMiB: NaN };
  try {
    console.log(`\n## pubsub.${broker}${broker === "redis" ? ": broker CPU = redis-server (schedstat, every thread)" : ": the broker is a SQLite file inside the sidecars"}`);
    // 1. Publish acknowledgement: latency at RATE and the closed-loop ceiling.
    const sidecarA = await startSidecarReady("pub", setup.componentYaml);
    const bare = await spawnBareServer("bare node:http 204");
    await waitForStatus(bare, "/", 204);
    const idle = memory(sidecarA.pid).rssMiB;
    const bench: Bench = { rate: RATE, connections: CONNECTIONS, timing: TIMING, ...(setup.serverPid !== undefined ? { serverPid: setup.serverPid } : {}) };
    const raw = (batch: number): Subject => ({
      name: batch === 1 ? "raw ioredis XADD" : `raw ioredis ${batch} × XADD`,
      baseline: true,
      target: () => ({ origin: "", requests: [], driver: { host: redis?.host ?? "", port: redis?.port ?? 0, stream: `raw-${TOPIC}`, data: ENVELOPE, metadata: "{}", batch } }),
      idleRssMiB: NaN,
    });
    const floor: Subject = { name: "bare node:http 204 (floor)", baseline: redis === undefined, pid: bare.pid, target: () => ({ origin: bare.url, requests: publishRequest(TOPIC) }), idleRssMiB: NaN };
    const tandem: Subject = { name: `tandem pubsub.${broker}`, baseline: false, pid: sidecarA.pid, target: () => ({ origin: sidecarA.url, requests: publishRequest(TOPIC) }), idleRssMiB: idle };
    const other = COMPARE !== undefined ? await startSidecarReady("pub", setup.componentYaml, [], COMPARE) : undefined;
    const compared: Subject[] =
      other !== undefined ? [{ name: `tandem pubsub.${broker} [--compare build]`, baseline: false, pid: other.pid, target: () => ({ origin: other.url, requests: publishRequest(TOPIC) }), idleRssMiB: NaN }] : [];
    const subjects = redis !== undefined ? [raw(1), floor, tandem, ...compared] : [floor, tandem, ...compared];
    const empty = async () => void (await client?.unlink(TOPIC, `raw-${TOPIC}`));
    // Unmeasured: warm the generator, the driver and the sidecar's JIT.
    if (!SKIP_PUBLISH) for (const s of subjects) await measure(bench, gen, s, "SET", "closed");
    for (const mode of SKIP_PUBLISH ? [] : (["open", "closed"] as const)) {
      const sc = await publishScenario(bench, gen, subjects, mode, empty);
      printScenario(bench, sc, `${broker}: publish (POST /v1.0/publish, 1 KiB JSON) vs ${redis !== undefined ? "raw XADD of the envelope" : "the Node floor"}`, redis !== undefined ? "raw" : "bare");
      publish.push({ result: sc, perRequest: 1 });
    }
    await bare.stop();
    // 2. Bulk publish (redis: beside 100 raw XADDs).
    if (redis !== undefined && !SKIP_PUBLISH) {
      const bulkTandem: Subject = { ...tandem, target: () => ({ origin: sidecarA.url, requests: bulkRequest() }) };
      const bulkSubjects = [raw(BULK), bulkTandem, ...compared.map((c) => ({ ...c, target: () => ({ origin: other?.url ?? "", requests: bulkRequest() }) }))];
      for (const s of bulkSubjects) await measure(bench, gen, s, "SET", "closed");
      const sc = await publishScenario(bench, gen, bulkSubjects, "closed", empty);
      printBulk(bench, sc, `${broker}: bulk publish (POST /v1.0-alpha1/publish/bulk)`);
      publish.push({ result: sc, perRequest: BULK });
    }
    await other?.stop();
    await empty();
    if (SKIP_DELIVERY) return { broker, publish, delivery, memory: { idleRssMiB: idle, hwmMiB: memory(sidecarA.pid).hwmMiB } };
    // 3. Publish-to-delivery: sidecar A -> broker -> sidecar B -> the counting app.
    const appPort = await freePort();
    const app = spawnNode({
      name: "counting app",
      url: `http://127.0.0.1:${appPort}`,
      cwd: ROOT,
      args: ["-e", COUNTING_APP],
      env: { HTTP_PORT: String(appPort), SUBSCRIPTIONS: JSON.stringify([{ pubsubname: PUBSUB, topic: DELIVER_TOPIC, route: "/deliver" }]) },
    });
    await waitForStatus(app, "/count", 200);
    const sidecarB = await startSidecarReady("sub", setup.componentYaml, ["--app-port", String(appPort)]);
    const tandemDelivery: DeliverySubject = {
      name: `tandem pubsub.${broker}`,
      baseline: false,
      processes: [
        { label: "sidecar A", pid: sidecarA.pid, side: "pub" },
        { label: "sidecar B", pid: sidecarB.pid, side: "sub" },
        { label: "app", pid: app.pid, side: "sub" },
      ],
      target: { origin: sidecarA.url, requests: publishRequest(DELIVER_TOPIC) },
      delivered: () => getCount(`${app.url}/count`),
      published: 0,
      ...(client !== undefined ? { reset: async () => void (await client.xtrim(DELIVER_TOPIC, "MAXLEN", 0)) } : {}),
    };
    await probe(sidecarA.url, tandemDelivery);
    const deliverySubjects: DeliverySubject[] = [tandemDelivery];
    if (redis !== undefined) deliverySubjects.unshift(await rawDelivery(redis, client as Redis));
    for (const mode of ["open", "closed"] as const) {
      const res = await deliveryScenario(gen, deliverySubjects, mode, {
        rate: RATE,
        connections: CONNECTIONS,
        timing: { warmupMs: TIMING.warmupMs, durationMs: TIMING.openMs },
        repeats: TIMING.repeats,
        ...(setup.serverPid !== undefined ? { serverPid: setup.serverPid } : {}),
      });
      printDelivery(res, `${broker}: publish → sidecar A → ${broker} → sidecar B → app`, RATE, CONNECTIONS, TIMING.repeats);
      delivery.push(res);
    }
    mem = { idleRssMiB: idle, hwmMiB: memory(sidecarA.pid).hwmMiB };
  } finally {
    client?.disconnect();
    await stopAll();
    await setup.stop();
  }
  return { broker, publish, delivery, memory: mem };
}

/** One message through the whole path: returns once the subscription is live (counts as published). */
async function probe(sidecarUrl: string, s: DeliverySubject): Promise<void> {
  const deadline = performance.now() + 30_000;
  const res = await fetch(`${sidecarUrl}/v1.0/publish/${PUBSUB}/${DELIVER_TOPIC}`, { method: "POST", body: VALUE, headers: { "content-type": "application/json" } });
  if (res.status !== 204) throw new Error(`probe publish: HTTP ${res.status}: ${await res.text()}`);
  s.published++;
  while ((await s.delivered()) < s.published) {
    if (performance.now() > deadline) throw new Error(`${s.name}: the probe message was not delivered within 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rawDelivery(redis: RedisServer, client: Redis): Promise<DeliverySubject> {
  const port = await freePort();
  const stream = `raw-${DELIVER_TOPIC}`;
  const consumer: Started = spawnNode({
    name: "raw consumer",
    url: `http://127.0.0.1:${port}`,
    cwd: ROOT,
    args: ["-e", RAW_CONSUMER],
    env: { HOST: redis.host, PORT: String(redis.port), STREAM: stream, GROUP: "raw", HTTP_PORT: String(port) },
  });
  await waitForStatus(consumer, "/count", 200);
  return {
    name: "raw ioredis XADD → XREADGROUP/XACK",
    baseline: true,
    processes: [{ label: "raw consumer", pid: consumer.pid, side: "sub" }],
    target: { origin: "", requests: [], driver: { host: redis.host, port: redis.port, stream, data: ENVELOPE, metadata: "{}", batch: 1 } },
    delivered: () => getCount(`${consumer.url}/count`),
    published: 0,
    reset: async () => void (await client.xtrim(stream, "MAXLEN", 0)),
  };
}

function verdicts(all: readonly BrokerResult[]): { lines: string[]; pass: boolean } {
  const lines: string[] = [];
  let pass = true;
  for (const r of all) {
    const open = r.publish.find((p) => p.perRequest === 1 && p.result.mode === "open")?.result.rows;
    const closed = r.publish.find((p) => p.perRequest === 1 && p.result.mode === "closed")?.result.rows;
    const bulk = r.publish.find((p) => p.perRequest === BULK)?.result.rows;
    const t = (rows: ScenarioResult["rows"] | undefined) => rows?.find((x) => x.subject.startsWith("tandem"));
    const base = (rows: ScenarioResult["rows"] | undefined) => rows?.find((x) => x.baseline);
    const added = (t(open)?.median.p50 ?? NaN) - (base(open)?.median.p50 ?? NaN);
    const addedP99 = (t(open)?.median.p99 ?? NaN) - (base(open)?.median.p99 ?? NaN);
    const ceiling = t(closed)?.median.throughput ?? NaN;
    const errors = [...r.publish.flatMap((p) => p.result.rows.filter((x) => x.errorsTotal > 0).map((x) => `${x.subject}: ${x.errorsTotal}`))];
    const head = `${r.broker} publish`;
    const baseName = base(open)?.subject ?? "?";
    const ok1 = open === undefined || (added <= TARGET.addedP50 && errors.length === 0);
    const ok2 = closed === undefined || ceiling >= TARGET.publishesPerSec;
    if (open !== undefined) lines.push(verdict(ok1, `${head}: added ${signed(added)} ms p50 / ${signed(addedP99)} ms p99 over ${baseName} at ${RATE}/s (target ≤ +${TARGET.addedP50} ms p50), CPU ${num(t(open)?.median.cpuPerReq ?? NaN)} µs/publish${errors.length > 0 ? `; errors: ${errors.join("; ")}` : ""}`));
    if (closed !== undefined) lines.push(verdict(ok2, `${head}: ceiling ${num(ceiling)} publishes/s with ${CONNECTIONS} connections (target ≥ ${TARGET.publishesPerSec}), ${num(t(closed)?.median.cpuPerReq ?? NaN)} µs CPU/publish = ${num(1e6 / (t(closed)?.median.cpuPerReq ?? NaN))} publishes/s per sidecar core; generator at ${num(t(closed)?.median.genCpuPct ?? NaN)}% of a core`));
    let ok3 = true;
    if (bulk !== undefined) {
      const msgs = (t(bulk)?.median.throughput ?? NaN) * BULK;
      ok3 = msgs >= TARGET.bulkMsgsPerSec;
      lines.push(verdict(ok3, `${r.broker} bulk publish: ${num(msgs)} messages/s (${BULK} per request; target ≥ ${TARGET.bulkMsgsPerSec}), raw ${num((base(bulk)?.median.throughput ?? NaN) * BULK)}`));
    }
    let ok4 = true;
    for (const d of r.delivery) {
      const td = d.rows.find((x) => !x.baseline);
      if (td === undefined) continue;
      const m = td.median;
      const lostDup = td.runs.reduce((a, x) => a + x.lost + x.duplicated + x.errors, 0);
      const ok = keepsUp(m) && lostDup === 0;
      ok4 &&= ok;
      const rawRow = d.rows.find((x) => x.baseline);
      lines.push(
        verdict(
          ok,
          `${r.broker} delivery (${d.mode === "open" ? `${RATE}/s` : "closed loop"}): ${num(m.publishRate)} published/s, ${num(m.deliverRate)} delivered/s, backlog growth ${num(m.backlogSlope)}/s, ${keepsUp(m) ? "keeps up" : "does NOT keep up"}${rawRow !== undefined ? ` (raw: ${num(rawRow.median.deliverRate)} delivered/s)` : ""}; lost+dup+errors ${lostDup}`,
        ),
      );
    }
    pass &&= ok1 && ok2 && ok3 && ok4;
  }
  return { lines, pass };
}

export async function pubsubBench(): Promise<boolean> {
  const brokers = chosenBrokers();
  const m = machine();
  console.log(`\n## Pub/sub: publish latency and ceiling, bulk publish, publish-to-delivery through two sidecars`);
  console.log(`${describeMachine(m)}${QUICK ? " — QUICK smoke run, figures not meaningful" : ""}${Object.keys(EXTRA_METADATA).length > 0 ? `; extra component metadata ${JSON.stringify(EXTRA_METADATA)}` : ""}`);
  console.log(
    `Brokers: ${brokers.join(", ")}. Publish = POST /v1.0/publish/${PUBSUB}/<topic> with a 1 KiB JSON body (content-type application/json) through an undici Pool of ${CONNECTIONS} keep-alive connections; raw = XADD <stream> * data <the ${ENVELOPE.length}-byte envelope the sidecar writes> metadata {} with ioredis (one auto-pipelined connection, as pubsub.redis) from the same generator process. Open loop at ${RATE}/s from the scheduled time; closed loop = ${CONNECTIONS} callers back to back. Warm-up ${TIMING.warmupMs / 1000} s, measured ${TIMING.openMs / 1000} s (open, delivery) / ${TIMING.closedMs / 1000} s (closed); streams emptied before each publish run.`,
  );
  const gen = await LoadGenerator.start();
  const all: BrokerResult[] = [];
  try {
    for (const b of brokers) all.push(await benchBroker(b, gen));
  } finally {
    await gen.stop();
    await stopAll();
  }
  console.log(`\n### Publishing sidecar memory (MiB)\n`);
  console.log(table(["broker", "idle RSS", "high-water mark at end"], all.map((r) => [r.broker, r.memory.idleRssMiB, r.memory.hwmMiB])));
  const { lines, pass } = verdicts(all);
  console.log(`\nload average at end: ${machine().loadAvg1.toFixed(2)}\n`);
  for (const l of lines) console.log(l);
  const file = writeResults("pubsub", { machine: m, quick: QUICK, timing: TIMING, rate: RATE, connections: CONNECTIONS, bulk: BULK, brokers: all });
  console.log(`results: ${file}`);
  return pass;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await pubsubBench();
}

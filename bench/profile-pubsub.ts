/**
 * Where a pub/sub sidecar spends its time: a private redis-server (or a SQLite file), sidecar A
 * under `node --cpu-prof` driven at the closed-loop ceiling with single or bulk publishes; with
 * `--op deliver`, also sidecar B (under --cpu-prof) delivering to a counting app. Prints the
 * functions with the most self time per profiled sidecar; the .cpuprofile files are kept under
 * bench/results/profiles/. Not part of run-all.
 *
 *   node --import tsx bench/profile-pubsub.ts [--broker redis|sqlite] [--op publish|bulk|deliver] [--seconds 10] [--top 25]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { startRedis } from "../test/harness/servers/redis.js";
import { freePort } from "../test/harness/ports.js";
import { component, ROOT } from "../test/harness/sidecar.js";
import { selfTimes } from "./lib/cpu-profile.js";
import { getCount } from "./lib/delivery.js";
import { LoadGenerator } from "./lib/load-client.js";
import { spawnNode, spawnSidecar, stopAll, waitForStatus } from "./lib/processes.js";
import { COUNTING_APP } from "./lib/raw-pubsub.js";
import { VALUE } from "./lib/state-requests.js";
import { table } from "./lib/table.js";

const { values } = parseArgs({
  options: {
    broker: { type: "string", default: "redis" },
    op: { type: "string", default: "publish" },
    seconds: { type: "string", default: "10" },
    top: { type: "string", default: "25" },
  },
});
const broker = values.broker === "sqlite" ? "sqlite" : "redis";
const op = values.op === "bulk" ? "bulk" : values.op === "deliver" ? "deliver" : "publish";
const redis = broker === "redis" ? await startRedis() : undefined;
const dir = mkdtempSync(join(tmpdir(), "tandem-profile-pubsub-"));
const yaml = redis !== undefined ? component("pubsub", "pubsub.redis", { redisHost: redis.address }) : component("pubsub", "pubsub.sqlite", { connectionString: join(dir, "pubsub.db") });
const keepDir = join(ROOT, "bench", "results", "profiles");
mkdirSync(keepDir, { recursive: true });
const stamp = Date.now();
const profiled = (who: string) => {
  const name = `pubsub-${broker}-${op}-${who}-${stamp}.cpuprofile`;
  return { name, file: join(keepDir, name), nodeArgs: ["--cpu-prof", "--cpu-prof-dir", keepDir, "--cpu-prof-name", name] };
};
const a = profiled("sidecar-a");
const sidecarA = await spawnSidecar({ appId: "pub", nodeArgs: a.nodeArgs, resources: { "pubsub.yaml": yaml } });
await waitForStatus(sidecarA, "/v1.0/healthz", 204, 30_000, 20);
const b = profiled("sidecar-b");
let appUrl = "";
if (op === "deliver") {
  const port = await freePort();
  const app = spawnNode({
    name: "counting app",
    url: `http://127.0.0.1:${port}`,
    cwd: ROOT,
    args: ["-e", COUNTING_APP],
    env: { HTTP_PORT: String(port), SUBSCRIPTIONS: JSON.stringify([{ pubsubname: "pubsub", topic: "orders", route: "/deliver" }]) },
  });
  await waitForStatus(app, "/count", 200);
  appUrl = app.url;
  const sidecarB = await spawnSidecar({ appId: "sub", nodeArgs: b.nodeArgs, resources: { "pubsub.yaml": yaml }, args: ["--app-port", String(port)] });
  await waitForStatus(sidecarB, "/v1.0/healthz", 204, 30_000, 20);
}
const body =
  op === "bulk" ? `[${Array.from({ length: 100 }, (_, i) => `{"entryId":"e${i}","event":${VALUE},"contentType":"application/json"}`).join(",")}]` : VALUE;
const path = op === "bulk" ? "/v1.0-alpha1/publish/bulk/pubsub/orders" : "/v1.0/publish/pubsub/orders";
const gen = await LoadGenerator.start();
const r = await gen.run(
  { origin: sidecarA.url, requests: [{ method: "POST", path, body }], connections: 16, mode: "closed", warmupMs: 0, durationMs: Number(values.seconds) * 1000 },
  () => undefined,
);
const messages = r.ok * (op === "bulk" ? 100 : 1);
console.log(`${op}: ${r.ok} requests (${Math.round(r.throughput)} req/s, ${messages} messages), ${r.non2xx + r.failed} errors${r.firstError ? ` (${r.firstError})` : ""}`);
if (op === "deliver") {
  const deadline = performance.now() + 60_000;
  let delivered = await getCount(`${appUrl}/count`);
  while (delivered < messages && performance.now() < deadline) {
    await new Promise((res) => setTimeout(res, 100));
    delivered = await getCount(`${appUrl}/count`);
  }
  console.log(`delivered ${delivered} of ${messages}`);
}
await gen.stop();
await stopAll(); // SIGTERM: the profiles are written as the sidecars exit
await redis?.stop();
rmSync(dir, { recursive: true, force: true });
for (const p of op === "deliver" ? [a, b] : [a]) {
  if (!existsSync(p.file)) throw new Error(`no profile at ${p.file}`);
  const { busyMs, top } = selfTimes(p.file, ROOT);
  console.log(`\n${p.name}: ${Math.round(busyMs)} ms busy on the main thread, ${((busyMs * 1000) / messages).toFixed(0)} µs/message sampled; profile: ${relative(ROOT, p.file)}\n`);
  console.log(table(["function (self time)", "ms", "% of busy"], top.slice(0, Number(values.top)).map((t) => [t.fn, t.ms, t.pct])));
}

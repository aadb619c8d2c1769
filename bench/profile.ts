/**
 * Where the sidecar spends its time: starts a sidecar under `node --cpu-prof`, drives state GET
 * and SET at the closed-loop ceiling, stops it, and prints the functions with the most self time.
 * The .cpuprofile is kept under bench/results/profiles/ (open it in Chrome DevTools). Not part of
 * run-all.
 *
 *   node --import tsx bench/profile.ts [--store in-memory|sqlite|redis|postgresql-v1|postgresql-v2|mysql] [--op GET|SET|both] [--seconds 10] [--top 25]
 *
 * The real-server stores run against a private server started (and stopped) here, as in state-stores.ts.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { component, ROOT } from "../test/harness/sidecar.js";
import { selfTimes } from "./lib/cpu-profile.js";
import { LoadGenerator } from "./lib/load-client.js";
import { spawnSidecar, stopAll, waitForStatus } from "./lib/processes.js";
import type { StoreKind } from "./lib/raw-drivers.js";
import { preload, STORE, stateRequests, type Op } from "./lib/state-requests.js";
import { startServer, type Server } from "./state-stores.js";
import { table } from "./lib/table.js";

const { values } = parseArgs({
  options: {
    store: { type: "string", default: "in-memory" },
    op: { type: "string", default: "both" },
    seconds: { type: "string", default: "10" },
    top: { type: "string", default: "25" },
  },
});
const SERVER_STORES: readonly string[] = ["redis", "postgresql-v1", "postgresql-v2", "mysql"];
const store = values.store === "sqlite" || SERVER_STORES.includes(values.store) ? values.store : "in-memory";
const server: Server | undefined = SERVER_STORES.includes(store) ? await startServer(store as StoreKind) : undefined;
const ops: Op[] = values.op === "GET" ? ["GET"] : values.op === "SET" ? ["SET"] : ["GET", "SET"];
const seconds = Number(values.seconds);

const keepDir = join(ROOT, "bench", "results", "profiles");
mkdirSync(keepDir, { recursive: true });
const name = `sidecar-${store}-${ops.join("-").toLowerCase()}-${Date.now()}.cpuprofile`;
const kept = join(keepDir, name);
const sidecar = await spawnSidecar({
  appId: "bench",
  nodeArgs: ["--cpu-prof", "--cpu-prof-dir", keepDir, "--cpu-prof-name", name],
  resources: {
    "statestore.yaml": server?.componentYaml ?? component(STORE, `state.${store}`, store === "sqlite" ? { connectionString: "$DIR/state.db" } : {}),
  },
});
await waitForStatus(sidecar, "/v1.0/healthz", 204, 30_000, 20);
await preload(sidecar.url);
const gen = await LoadGenerator.start();
let requests = 0;
for (const op of ops) {
  const r = await gen.run(
    { origin: sidecar.url, requests: stateRequests(op), connections: 16, mode: "closed", warmupMs: 0, durationMs: (seconds * 1000) / ops.length },
    () => undefined,
  );
  requests += r.ok;
  console.log(`${op}: ${r.ok} requests (${Math.round(r.throughput)} req/s), ${r.non2xx + r.failed} errors`);
}
await gen.stop();

// The profile is written as the process exits (SIGTERM: graceful shutdown).
await stopAll();
await server?.stop();
if (!existsSync(kept)) throw new Error(`no profile at ${kept}:\n${sidecar.output()}`);

const { busyMs, top } = selfTimes(kept, ROOT);
console.log(`\nsidecar (state.${store}${server ? `, ${server.label}` : ""}, ${ops.join(" + ")}): ${Math.round(busyMs)} ms busy on the main thread for ${requests} requests = ${((busyMs * 1000) / requests).toFixed(0)} µs/req sampled; profile: ${relative(ROOT, kept)}\n`);
console.log(table(["function (self time)", "ms", "% of busy"], top.slice(0, Number(values.top)).map((t) => [t.fn, t.ms, t.pct])));

/**
 * Start-up: time from spawn() to the first `GET /v1.0/healthz` answering 204, and RSS after a
 * short idle, for the sidecar with no components and with one state.sqlite component, beside a
 * bare `node -e` HTTP server spawned the same way (the Node floor).
 *
 *   node --import tsx bench/startup.ts [--quick]
 */
import { pathToFileURL } from "node:url";
import { component } from "../test/harness/sidecar.js";
import { cpuMicros, memory } from "./lib/proc.js";
import { spawnBareServer, spawnSidecar, stopAll, waitForStatus, type Started } from "./lib/processes.js";
import { describeMachine, machine, QUICK, writeResults } from "./lib/results.js";
import { median, rotation, sleep } from "./lib/stats.js";
import { num, signed, table, verdict } from "./lib/table.js";

const TARGET_READY_MS = 300;
const TARGET_IDLE_RSS_MIB = 60;
const IDLE_MS = 500;

interface Subject {
  readonly name: string;
  readonly sidecar: boolean;
  spawn(): Promise<Started>;
}

const SUBJECTS: readonly Subject[] = [
  { name: "node -e http server (floor)", sidecar: false, spawn: () => spawnBareServer() },
  { name: "tandem, no components", sidecar: true, spawn: () => spawnSidecar({ appId: "bench" }) },
  {
    name: "tandem + state.sqlite",
    sidecar: true,
    spawn: () => spawnSidecar({ appId: "bench", resources: { "statestore.yaml": component("statestore", "state.sqlite", { connectionString: "$DIR/state.db" }) } }),
  },
];

interface Run {
  readonly readyMs: number;
  /** CPU (utime + stime) the process used until ready, ms. */
  readonly cpuMs: number;
  readonly idleRssMiB: number;
}

async function once(s: Subject): Promise<Run> {
  const p = await s.spawn();
  try {
    const readyAt = await waitForStatus(p, "/v1.0/healthz", 204);
    const cpuMs = cpuMicros(p.pid) / 1000;
    await sleep(IDLE_MS);
    return { readyMs: readyAt - p.spawnedAt, cpuMs, idleRssMiB: memory(p.pid).rssMiB };
  } finally {
    await p.stop();
  }
}

export async function startupBench(): Promise<boolean> {
  const runs = QUICK ? 3 : 21;
  const warmups = QUICK ? 1 : 2;
  const m = machine();
  console.log(`\n## Start-up: spawn → GET /v1.0/healthz 204 (${runs} runs each, rotating order; ${warmups} unmeasured warm-up runs each)`);
  console.log(`${describeMachine(m)}${QUICK ? " — QUICK smoke run, figures not meaningful" : ""}`);
  console.log(`Ready polled on fresh connections every ~1 ms; CPU to ready from /proc/<pid>/stat; idle RSS from /proc/<pid>/status ${IDLE_MS} ms after ready.\n`);

  for (let w = 0; w < warmups; w++) for (const s of SUBJECTS) await once(s).catch(() => undefined);

  const results = new Map<string, Run[]>(SUBJECTS.map((s) => [s.name, []]));
  const errors = new Map<string, string[]>(SUBJECTS.map((s) => [s.name, []]));
  for (let r = 0; r < runs; r++) {
    for (const s of rotation(SUBJECTS, r)) {
      try {
        results.get(s.name)?.push(await once(s));
      } catch (err) {
        errors.get(s.name)?.push(err instanceof Error ? err.message.split("\n")[0] ?? "" : String(err));
      }
    }
  }
  await stopAll();

  const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
  const floor = median((results.get(SUBJECTS[0]?.name ?? "") ?? []).map((x) => x.readyMs));
  const summary = SUBJECTS.map((s) => {
    const rs = results.get(s.name) ?? [];
    const ready = rs.map((x) => x.readyMs);
    return {
      subject: s.name,
      sidecar: s.sidecar,
      runs: rs.length,
      readyP50: median(ready),
      readyP90: pct(ready, 0.9),
      readyMin: Math.min(...ready),
      readyMax: Math.max(...ready),
      addedP50: median(ready) - floor,
      cpuMs: median(rs.map((x) => x.cpuMs)),
      idleRssMiB: median(rs.map((x) => x.idleRssMiB)),
      errors: errors.get(s.name) ?? [],
    };
  });

  console.log(
    table(
      ["subject", "runs", "ready p50 ms", "p90", "min", "max", "added p50 vs floor", "CPU to ready ms", "idle RSS MiB", "errors"],
      summary.map((x) => [x.subject, x.runs, x.readyP50, x.readyP90, x.readyMin, x.readyMax, s0(x.sidecar, signed(x.addedP50)), x.cpuMs, x.idleRssMiB, x.errors.length]),
    ),
  );
  for (const x of summary) for (const e of x.errors.slice(0, 3)) console.log(`  error (${x.subject}): ${e}`);

  const sidecars = summary.filter((x) => x.sidecar);
  const readyOk = sidecars.every((x) => x.readyP50 <= TARGET_READY_MS && x.errors.length === 0);
  const rssOk = sidecars.every((x) => x.idleRssMiB <= TARGET_IDLE_RSS_MIB);
  console.log(`\n${verdict(readyOk, `ready p50 ${sidecars.map((x) => `${num(x.readyP50)} ms (${x.subject})`).join(", ")}; target ≤ ${TARGET_READY_MS} ms`)}`);
  console.log(verdict(rssOk, `idle RSS ${sidecars.map((x) => `${num(x.idleRssMiB)} MiB (${x.subject})`).join(", ")}; target ≤ ${TARGET_IDLE_RSS_MIB} MB (read as MiB)`));

  const file = writeResults("startup", { machine: m, quick: QUICK, runs, idleMs: IDLE_MS, summary, raw: Object.fromEntries(results) });
  console.log(`results: ${file}`);
  return readyOk && rssOk;
}

/** The floor itself has no "added" figure. */
const s0 = (isSidecar: boolean, text: string) => (isSidecar ? text : "–");

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await startupBench();
}

/**
 * State GET and SET (1 KiB JSON value) through the sidecar's HTTP API, on state.in-memory and on
 * state.sqlite, beside a bare node:http server answering the same requests from a Map.
 * Open loop at 1,000 rps (latency) and closed loop (ceiling), 16 connections, the load generator
 * in its own process. Subjects rotate A B C / B C A / C A B, 3 repeats, medians reported.
 *
 *   node --import tsx bench/state-http.ts [--quick]
 */
import { pathToFileURL } from "node:url";
import { component } from "../test/harness/sidecar.js";
import { LoadGenerator } from "./lib/load-client.js";
import { memory } from "./lib/proc.js";
import { spawnBareServer, spawnSidecar, stopAll, waitForStatus } from "./lib/processes.js";
import { describeMachine, machine, QUICK, writeResults } from "./lib/results.js";
import { GENERATOR_SATURATED_PCT, measure, printScenario, scenario, type Bench, type Mode, type ScenarioResult, type Subject, type Timing } from "./lib/scenario.js";
import { KEYS, preload, STORE, stateRequests, type Op } from "./lib/state-requests.js";
import { num, signed, table, verdict } from "./lib/table.js";

const TIMING: Timing = QUICK ? { warmupMs: 500, openMs: 1500, closedMs: 1000, repeats: 1 } : { warmupMs: 3000, openMs: 10_000, closedMs: 5000, repeats: 3 };
const BENCH: Bench = { rate: 1000, connections: 16, timing: TIMING };
const RATE = BENCH.rate;
const CONNECTIONS = BENCH.connections;
const DAPR_STATE_GET = { p50: 0.58, p99: 1.36 };
const TARGET = { addedP50: 0.1, addedP99: 0.5, ceilingRatio: 0.5 };

function verdicts(results: readonly ScenarioResult[]): { lines: string[]; pass: boolean } {
  const lines: string[] = [];
  let pass = true;
  const row = (op: Op, mode: Mode, baseline: boolean, name?: string) =>
    results.find((r) => r.op === op && r.mode === mode)?.rows.find((x) => x.baseline === baseline && (name === undefined || x.subject === name));
  const bareGet = row("GET", "open", true)?.median;
  const memGet = row("GET", "open", false, "tandem state.in-memory")?.median;
  if (bareGet && memGet) {
    const ap50 = memGet.p50 - bareGet.p50;
    const ap99 = memGet.p99 - bareGet.p99;
    const ok = ap50 <= TARGET.addedP50 && ap99 <= TARGET.addedP99 && memGet.errors === 0;
    pass &&= ok;
    lines.push(
      verdict(ok, `in-memory GET at ${RATE} rps adds ${signed(ap50)} ms p50 / ${signed(ap99)} ms p99 over the bare server (target ≤ +${TARGET.addedP50} / ≤ +${TARGET.addedP99}); absolute ${num(memGet.p50)} / ${num(memGet.p99)} ms vs Dapr 1.18 published ${DAPR_STATE_GET.p50} / ${DAPR_STATE_GET.p99} ms`),
    );
  }
  for (const op of ["GET", "SET"] as const) {
    const bare = row(op, "closed", true)?.median;
    for (const x of results.find((r) => r.op === op && r.mode === "closed")?.rows.filter((r) => !r.baseline) ?? []) {
      const measured = x.median.throughput / (bare?.throughput ?? NaN);
      // When the generator saturated a core while driving the bare server, the bare ceiling is the
      // generator's: judge on capacity per core of each server (1 / CPU per request) instead.
      const genBound = (bare?.genCpuPct ?? 0) > GENERATOR_SATURATED_PCT;
      const perCore = (bare?.cpuPerReq ?? NaN) / x.median.cpuPerReq;
      const ratio = genBound ? Math.min(measured, perCore) : measured;
      const ok = ratio >= TARGET.ceilingRatio && x.errorsTotal === 0;
      pass &&= ok;
      const why = genBound ? `; the bare ceiling was generator-bound, so judged on req/s per core: ${(perCore * 100).toFixed(0)}%` : "";
      lines.push(
        verdict(ok, `${op} ceiling ${x.subject}: ${num(x.median.throughput)} req/s = ${(measured * 100).toFixed(0)}% of the bare server's ${num(bare?.throughput ?? NaN)}${why} (target ≥ ${TARGET.ceilingRatio * 100}%)`),
      );
    }
  }
  const errored = results.flatMap((r) => r.rows.filter((x) => x.errorsTotal > 0).map((x) => `${x.subject} ${r.op} ${r.mode}: ${x.errorsTotal}`));
  if (errored.length > 0) {
    pass = false;
    lines.push(verdict(false, `errors: ${errored.join("; ")}`));
  }
  return { lines, pass };
}

async function startSubjects(): Promise<Subject[]> {
  const procs = await Promise.all([
    spawnBareServer(),
    spawnSidecar({ appId: "bench", resources: { "statestore.yaml": component(STORE, "state.in-memory") } }),
    spawnSidecar({ appId: "bench", resources: { "statestore.yaml": component(STORE, "state.sqlite", { connectionString: "$DIR/state.db" }) } }),
  ]);
  const names = ["bare node:http + Map", "tandem state.in-memory", "tandem state.sqlite"];
  const subjects: Subject[] = [];
  for (const [i, proc] of procs.entries()) {
    await waitForStatus(proc, "/v1.0/healthz", 204, 30_000, 20);
    await preload(proc.url);
    subjects.push({ name: names[i] ?? "?", baseline: i === 0, pid: proc.pid, target: (op) => ({ origin: proc.url, requests: stateRequests(op) }), idleRssMiB: memory(proc.pid).rssMiB });
  }
  return subjects;
}

export async function stateHttpBench(): Promise<boolean> {
  const m = machine();
  const totalMs = (TIMING.warmupMs * 2 + TIMING.openMs + TIMING.closedMs) * 2 * 3 * TIMING.repeats + (TIMING.warmupMs + TIMING.closedMs) * 2 * 3;
  console.log(`\n## State over HTTP: GET and SET, 1 KiB JSON value (about ${Math.ceil(totalMs / 60_000)} min)`);
  console.log(`${describeMachine(m)}${QUICK ? " — QUICK smoke run, figures not meaningful" : ""}`);
  console.log(
    `Load: undici Pool (${CONNECTIONS} connections, keep-alive, no pipelining) in its own Node process; open loop schedules request i at t0 + i/${RATE} s with a sub-ms ticker thread and measures from the scheduled time (no coordinated omission); closed loop = ${CONNECTIONS} callers back to back. Latency in µs into an HDR histogram. Warm-up ${TIMING.warmupMs / 1000} s, measured ${TIMING.openMs / 1000} s (open) / ${TIMING.closedMs / 1000} s (closed). CPU = utime+stime of each process over the measured window ÷ requests; RSS = peak VmRSS sampled every 250 ms in the window. ${KEYS} keys cycled; sqlite file on local disk.`,
  );
  const subjects = await startSubjects();
  const gen = await LoadGenerator.start();
  const results: ScenarioResult[] = [];
  try {
    // Unmeasured: warm the generator and every subject's JIT before the first scenario.
    for (const s of subjects) for (const op of ["GET", "SET"] as const) await measure(BENCH, gen, s, op, "closed");
    for (const mode of ["open", "closed"] as const) {
      for (const op of ["GET", "SET"] as const) {
        const sc = await scenario(BENCH, gen, subjects, op, mode);
        printScenario(BENCH, sc, `state ${op}`, "bare");
        results.push(sc);
      }
    }
  } finally {
    const memoryRows = subjects.map((s) => {
      const now = memory(s.pid ?? -1);
      const peaks = results.flatMap((r) => r.rows.filter((x) => x.subject === s.name).flatMap((x) => x.runs.map((y) => y.rssPeakMiB)));
      return [s.name, s.idleRssMiB, peaks.length > 0 ? Math.max(...peaks) : NaN, now.hwmMiB];
    });
    console.log(`\n### Memory (MiB)\n`);
    console.log(table(["subject", "idle RSS (after start + preload)", "peak RSS under load", "high-water mark at end"], memoryRows));
    await gen.stop();
    await stopAll();
  }
  const { lines, pass } = verdicts(results);
  console.log("");
  for (const l of lines) console.log(l);
  const file = writeResults("state-http", { machine: m, quick: QUICK, timing: TIMING, rate: RATE, connections: CONNECTIONS, results });
  console.log(`results: ${file}`);
  return pass;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await stateHttpBench();
}

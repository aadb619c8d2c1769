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
import { PERCENTILES } from "./lib/histogram.js";
import { LoadGenerator } from "./lib/load-client.js";
import type { LoadJob } from "./lib/load-gen.js";
import { memory, ProcessWindow } from "./lib/proc.js";
import { spawnBareServer, spawnSidecar, stopAll, waitForStatus, type Started } from "./lib/processes.js";
import { describeMachine, machine, QUICK, writeResults } from "./lib/results.js";
import { medianOf, rotation } from "./lib/stats.js";
import { KEYS, preload, STORE, stateRequests, type Op } from "./lib/state-requests.js";
import { num, signed, table, verdict } from "./lib/table.js";

const RATE = 1000;
const CONNECTIONS = 16;
const TIMING = QUICK ? { warmupMs: 500, openMs: 1500, closedMs: 1000, repeats: 1 } : { warmupMs: 3000, openMs: 10_000, closedMs: 5000, repeats: 3 };
const DAPR_STATE_GET = { p50: 0.58, p99: 1.36 };
const TARGET = { addedP50: 0.1, addedP99: 0.5, ceilingRatio: 0.5 };
/** Generator CPU (% of one core) above which a closed-loop ceiling may be the generator's. */
const GENERATOR_SATURATED_PCT = 85;

type Mode = "open" | "closed";
interface Subject {
  readonly name: string;
  readonly baseline: boolean;
  readonly proc: Started;
  idleRssMiB: number;
}

/** One measured run, flattened for medians. */
interface Run extends Record<string, number> {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  throughput: number;
  cpuPerReq: number;
  genCpuPerReq: number;
  /** Generator CPU over the window, % of one core. */
  genCpuPct: number;
  rssPeakMiB: number;
  sendLagP99: number;
  errors: number;
}

async function measure(gen: LoadGenerator, s: Subject, op: Op, mode: Mode): Promise<{ run: Run; firstError?: string }> {
  const job: LoadJob = {
    origin: s.proc.url,
    requests: stateRequests(op),
    connections: CONNECTIONS,
    mode,
    rate: RATE,
    warmupMs: TIMING.warmupMs,
    durationMs: mode === "open" ? TIMING.openMs : TIMING.closedMs,
  };
  const window = new ProcessWindow([s.proc.pid, gen.pid]);
  let cost: ReturnType<ProcessWindow["stop"]> | undefined;
  const r = await gen.run(job, (e) => (e === "measure-start" ? window.start() : (cost = window.stop())));
  const requestsInWindow = r.ok + r.non2xx + r.failed;
  const subjectCost = cost?.get(s.proc.pid);
  const genCost = cost?.get(gen.pid);
  const run: Run = {
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    p999: r.latency.p999,
    throughput: r.throughput,
    cpuPerReq: (subjectCost?.cpuMicros ?? NaN) / requestsInWindow,
    genCpuPerReq: (genCost?.cpuMicros ?? NaN) / requestsInWindow,
    genCpuPct: ((genCost?.cpuMicros ?? NaN) / (job.durationMs * 1000)) * 100,
    rssPeakMiB: subjectCost?.rssPeakMiB ?? NaN,
    sendLagP99: r.sendLagP99,
    errors: r.non2xx + r.failed,
  };
  return { run, ...(r.firstError !== undefined ? { firstError: r.firstError } : {}) };
}

interface ScenarioResult {
  readonly op: Op;
  readonly mode: Mode;
  readonly rows: { subject: string; baseline: boolean; median: Run; errorsTotal: number; firstError?: string; runs: Run[] }[];
}

async function scenario(gen: LoadGenerator, subjects: readonly Subject[], op: Op, mode: Mode): Promise<ScenarioResult> {
  const runs = new Map<string, Run[]>(subjects.map((s) => [s.name, []]));
  const firstErrors = new Map<string, string>();
  for (let r = 0; r < TIMING.repeats; r++) {
    for (const s of rotation(subjects, r)) {
      const { run, firstError } = await measure(gen, s, op, mode);
      runs.get(s.name)?.push(run);
      if (firstError !== undefined && !firstErrors.has(s.name)) firstErrors.set(s.name, firstError);
    }
  }
  return {
    op,
    mode,
    rows: subjects.map((s) => {
      const rs = runs.get(s.name) ?? [];
      const fe = firstErrors.get(s.name);
      return { subject: s.name, baseline: s.baseline, median: medianOf(rs), errorsTotal: rs.reduce((a, x) => a + x.errors, 0), runs: rs, ...(fe !== undefined ? { firstError: fe } : {}) };
    }),
  };
}

function printScenario(sc: ScenarioResult): void {
  const base = sc.rows.find((x) => x.baseline)?.median;
  const title = sc.mode === "open" ? `open loop at ${RATE} rps` : "closed loop (ceiling)";
  console.log(`\n### state ${sc.op} — ${title}, ${CONNECTIONS} connections, 1 KiB value (latency ms; medians of ${TIMING.repeats})\n`);
  console.log(
    table(
      ["subject", ...PERCENTILES.map((p) => (p === "p999" ? "p99.9" : p)), "added p50", "added p99", "req/s", "% of bare", "CPU µs/req", "req/s per core", "gen CPU µs/req", "RSS MiB", "errors"],
      sc.rows.map(({ subject, baseline, median: m, errorsTotal }) => [
        subject,
        m.p50,
        m.p90,
        m.p99,
        m.p999,
        baseline ? "–" : signed(m.p50 - (base?.p50 ?? NaN)),
        baseline ? "–" : signed(m.p99 - (base?.p99 ?? NaN)),
        m.throughput,
        `${((m.throughput / (base?.throughput ?? NaN)) * 100).toFixed(0)}%`,
        m.cpuPerReq,
        1e6 / m.cpuPerReq,
        m.genCpuPerReq,
        m.rssPeakMiB,
        errorsTotal,
      ]),
    ),
  );
  const gen = sc.rows.map((x) => `${x.subject} ${num(sc.mode === "open" ? x.median.sendLagP99 : x.median.genCpuPct)}${sc.mode === "open" ? " ms" : "%"}`).join(", ");
  console.log(sc.mode === "open" ? `generator send lag p99 (late vs schedule): ${gen}` : `generator CPU, % of one core: ${gen}`);
  if (sc.mode === "closed" && sc.rows.some((x) => x.median.genCpuPct > GENERATOR_SATURATED_PCT)) {
    console.log("WARNING: the generator ran near a full core: a ceiling above may be the generator's, not the server's; compare `req/s per core` (1e6 ÷ CPU µs/req).");
  }
  for (const x of sc.rows) if (x.firstError !== undefined) console.log(`  first error (${x.subject}): ${x.firstError}`);
}

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
    subjects.push({ name: names[i] ?? "?", baseline: i === 0, proc, idleRssMiB: memory(proc.pid).rssMiB });
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
    for (const s of subjects) for (const op of ["GET", "SET"] as const) await measure(gen, s, op, "closed");
    for (const mode of ["open", "closed"] as const) {
      for (const op of ["GET", "SET"] as const) {
        const sc = await scenario(gen, subjects, op, mode);
        printScenario(sc);
        results.push(sc);
      }
    }
  } finally {
    const memoryRows = subjects.map((s) => {
      const now = memory(s.proc.pid);
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

/**
 * One scenario = one operation in one mode, every subject measured in rotating order over the
 * repeats, medians per subject; and its Markdown table. Shared by state-http.ts and state-stores.ts.
 */
import { PERCENTILES } from "./histogram.js";
import type { LoadGenerator } from "./load-client.js";
import type { LoadJob } from "./load-gen.js";
import { ProcessWindow, TreeWindow } from "./proc.js";
import { medianOf, rotation } from "./stats.js";
import type { Op } from "./state-requests.js";
import { num, signed, table } from "./table.js";

export type Mode = "open" | "closed";

export interface Timing {
  readonly warmupMs: number;
  readonly openMs: number;
  readonly closedMs: number;
  readonly repeats: number;
}

export interface Bench {
  readonly rate: number;
  readonly connections: number;
  readonly timing: Timing;
  /** Root pid of a server process tree (a database) whose CPU is charged per request too. */
  readonly serverPid?: number;
}

/** Generator CPU (% of one core) above which a closed-loop ceiling may be the generator's. */
export const GENERATOR_SATURATED_PCT = 85;

export interface Subject {
  readonly name: string;
  readonly baseline: boolean;
  /** The process whose cost is `CPU µs/req` (sidecar, bare server); none for a raw client running in the generator. */
  readonly pid?: number;
  /** What the generator sends for `op`. */
  readonly target: (op: Op) => Pick<LoadJob, "origin" | "requests" | "driver">;
  idleRssMiB: number;
}

/** One measured run, flattened for medians. */
export interface Run extends Record<string, number> {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  throughput: number;
  cpuPerReq: number;
  genCpuPerReq: number;
  /** Generator CPU over the window, % of one core. */
  genCpuPct: number;
  /** CPU of the server process tree (bench.serverPid) per request; NaN without one. */
  serverCpuPerReq: number;
  rssPeakMiB: number;
  sendLagP99: number;
  errors: number;
}

export interface ScenarioResult {
  readonly op: Op;
  readonly mode: Mode;
  readonly rows: { subject: string; baseline: boolean; median: Run; errorsTotal: number; firstError?: string; runs: Run[] }[];
}

export async function measure(b: Bench, gen: LoadGenerator, s: Subject, op: Op, mode: Mode): Promise<{ run: Run; firstError?: string }> {
  const job: LoadJob = {
    ...s.target(op),
    connections: b.connections,
    mode,
    rate: b.rate,
    warmupMs: b.timing.warmupMs,
    durationMs: mode === "open" ? b.timing.openMs : b.timing.closedMs,
  };
  const window = new ProcessWindow(s.pid !== undefined ? [s.pid, gen.pid] : [gen.pid]);
  const server = b.serverPid !== undefined ? new TreeWindow(b.serverPid) : undefined;
  let cost: ReturnType<ProcessWindow["stop"]> | undefined;
  let serverMicros = NaN;
  const r = await gen.run(job, (e) => {
    if (e === "measure-start") {
      window.start();
      server?.start();
    } else {
      cost = window.stop();
      serverMicros = server?.stop() ?? NaN;
    }
  });
  const requestsInWindow = r.ok + r.non2xx + r.failed;
  const subjectCost = s.pid !== undefined ? cost?.get(s.pid) : undefined;
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
    serverCpuPerReq: serverMicros / requestsInWindow,
    rssPeakMiB: subjectCost?.rssPeakMiB ?? NaN,
    sendLagP99: r.sendLagP99,
    errors: r.non2xx + r.failed,
  };
  return { run, ...(r.firstError !== undefined ? { firstError: r.firstError } : {}) };
}

export async function scenario(b: Bench, gen: LoadGenerator, subjects: readonly Subject[], op: Op, mode: Mode): Promise<ScenarioResult> {
  const runs = new Map<string, Run[]>(subjects.map((s) => [s.name, []]));
  const firstErrors = new Map<string, string>();
  for (let r = 0; r < b.timing.repeats; r++) {
    for (const s of rotation(subjects, r)) {
      const { run, firstError } = await measure(b, gen, s, op, mode);
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

/** The scenario's table: `what` names it (e.g. "state GET"), `baselineLabel` heads the ratio column ("bare", "raw"). */
export function printScenario(b: Bench, sc: ScenarioResult, what: string, baselineLabel: string): void {
  const base = sc.rows.find((x) => x.baseline)?.median;
  const title = sc.mode === "open" ? `open loop at ${b.rate} rps` : "closed loop (ceiling)";
  const withServer = b.serverPid !== undefined;
  console.log(`\n### ${what} — ${title}, ${b.connections} in flight at most, 1 KiB value (latency ms; medians of ${b.timing.repeats})\n`);
  console.log(
    table(
      [
        "subject",
        ...PERCENTILES.map((p) => (p === "p999" ? "p99.9" : p)),
        "added p50",
        "added p99",
        "req/s",
        `% of ${baselineLabel}`,
        "CPU µs/req",
        "req/s per core",
        "gen CPU µs/req",
        ...(withServer ? ["server CPU µs/req"] : []),
        "RSS MiB",
        "errors",
      ],
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
        ...(withServer ? [m.serverCpuPerReq] : []),
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

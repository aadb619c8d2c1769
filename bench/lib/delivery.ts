/**
 * Publish-to-delivery runs (bench/pubsub.ts): the load generator publishes (closed loop or a fixed
 * rate) while a consumer process counts what it received; the backlog (published − delivered) is
 * sampled every 250 ms over the measured window, then the script waits until everything published
 * was delivered (the drain time) and checks the counts: fewer delivered = lost, more = duplicated.
 */
import type { LoadGenerator } from "./load-client.js";
import type { LoadJob } from "./load-gen.js";
import { ProcessWindow, TreeWindow } from "./proc.js";
import { medianOf, rotation, sleep } from "./stats.js";
import { table } from "./table.js";

export interface DeliveryProcess {
  readonly label: string;
  readonly pid: number;
  /** Charged per message published ("pub") or per message delivered ("sub") in the window. */
  readonly side: "pub" | "sub";
}

export interface DeliverySubject {
  readonly name: string;
  readonly baseline: boolean;
  readonly processes: readonly DeliveryProcess[];
  readonly target: Pick<LoadJob, "origin" | "requests" | "driver">;
  /** The consumer's running count of messages received. */
  delivered(): Promise<number>;
  /** Messages published to this subject so far (every run and probe); kept up to date by the runs. */
  published: number;
  /** Called between runs, once everything published was delivered (e.g. XTRIM the stream). */
  reset?(): Promise<void>;
}

export interface DeliveryRun extends Record<string, number> {
  publishRate: number;
  deliverRate: number;
  backlogStart: number;
  backlogEnd: number;
  backlogMax: number;
  /** Least-squares slope of the backlog over the window, messages per second (> 0: it grows). */
  backlogSlope: number;
  drainMs: number;
  lost: number;
  duplicated: number;
  errors: number;
  /** CPU µs per message of the server tree (the broker), NaN without one. */
  serverCpuPerMsg: number;
}

export interface DeliveryResult {
  readonly mode: "open" | "closed";
  readonly rows: { subject: string; baseline: boolean; median: DeliveryRun; runs: DeliveryRun[]; cpu: Record<string, number>; firstError?: string }[];
}

const DRAIN_DEADLINE_MS = 60_000;

export async function getCount(url: string): Promise<number> {
  const res = await fetch(url);
  return Number(await res.text());
}

/** Poll until the subject delivered everything it published; the time it took, or NaN at the deadline. */
export async function drained(s: DeliverySubject, deadlineMs = DRAIN_DEADLINE_MS): Promise<{ ms: number; delivered: number }> {
  const t0 = performance.now();
  for (;;) {
    const delivered = await s.delivered();
    if (delivered >= s.published) return { ms: performance.now() - t0, delivered };
    if (performance.now() - t0 > deadlineMs) return { ms: NaN, delivered };
    await sleep(10);
  }
}

interface Timing {
  readonly warmupMs: number;
  readonly durationMs: number;
}

async function deliveryRun(gen: LoadGenerator, s: DeliverySubject, mode: "open" | "closed", rate: number, connections: number, t: Timing, serverPid: number | undefined) {
  const before = await drained(s);
  if (Number.isNaN(before.ms)) throw new Error(`${s.name}: the previous run never drained (${before.delivered} of ${s.published} delivered)`);
  await s.reset?.();
  const base = s.published;
  let okTotal = 0;
  let measuring = false;
  const samples: [number, number][] = [];
  let window: ProcessWindow | undefined;
  const server = serverPid !== undefined ? new TreeWindow(serverPid) : undefined;
  let deliveredAtStart: Promise<number> = Promise.resolve(NaN);
  let publishedAtStart = 0;
  let cost: ReturnType<ProcessWindow["stop"]> | undefined;
  let serverMicros = NaN;
  let deliveredAtEnd: Promise<number> = Promise.resolve(NaN);
  let publishedAtEnd = 0;
  const sampler = setInterval(() => {
    if (!measuring) return;
    const pub = base + okTotal;
    void s.delivered().then((d) => samples.push([performance.now(), pub - d]));
  }, 250);
  const r = await gen.run(
    { ...s.target, connections, mode, rate, warmupMs: t.warmupMs, durationMs: t.durationMs, progressMs: 100 },
    (e) => {
      if (e === "measure-start") {
        measuring = true;
        window = new ProcessWindow(s.processes.map((p) => p.pid));
        window.start();
        server?.start();
        publishedAtStart = base + okTotal;
        deliveredAtStart = s.delivered();
      } else {
        measuring = false;
        cost = window?.stop();
        serverMicros = server?.stop() ?? NaN;
        publishedAtEnd = base + okTotal;
        deliveredAtEnd = s.delivered();
      }
    },
    (ok) => (okTotal = ok),
  );
  clearInterval(sampler);
  s.published = base + okTotal;
  const drain = await drained(s);
  // A duplicate shows as a count above what was published, once the last deliveries came in.
  await sleep(200);
  const finalCount = await s.delivered();
  const seconds = t.durationMs / 1000;
  const publishedInWindow = publishedAtEnd - publishedAtStart;
  const deliveredInWindow = (await deliveredAtEnd) - (await deliveredAtStart);
  const cpu: Record<string, number> = {};
  for (const p of s.processes) cpu[p.label] = (cost?.get(p.pid)?.cpuMicros ?? NaN) / (p.side === "pub" ? publishedInWindow : deliveredInWindow);
  const backlogs = samples.map(([, b]) => b);
  const run: DeliveryRun = {
    publishRate: publishedInWindow / seconds,
    deliverRate: deliveredInWindow / seconds,
    backlogStart: backlogs[0] ?? NaN,
    backlogEnd: backlogs.at(-1) ?? NaN,
    backlogMax: Math.max(...backlogs),
    backlogSlope: slope(samples),
    drainMs: drain.ms,
    lost: Math.max(0, s.published - finalCount),
    duplicated: Math.max(0, finalCount - s.published),
    errors: r.non2xx + r.failed,
    serverCpuPerMsg: serverMicros / deliveredInWindow,
  };
  return { run, cpu, ...(r.firstError !== undefined ? { firstError: r.firstError } : {}) };
}

/** Backlog growth in messages per second (least squares over the samples). */
function slope(samples: readonly [number, number][]): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const mx = samples.reduce((a, [x]) => a + x, 0) / n;
  const my = samples.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of samples) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return (sxy / sxx) * 1000;
}

export async function deliveryScenario(
  gen: LoadGenerator,
  subjects: readonly DeliverySubject[],
  mode: "open" | "closed",
  o: { rate: number; connections: number; timing: Timing; repeats: number; serverPid?: number },
): Promise<DeliveryResult> {
  const runs = new Map<string, { run: DeliveryRun; cpu: Record<string, number>; firstError?: string }[]>(subjects.map((s) => [s.name, []]));
  for (let r = 0; r < o.repeats; r++) {
    for (const s of rotation(subjects, r)) runs.get(s.name)?.push(await deliveryRun(gen, s, mode, o.rate, o.connections, o.timing, o.serverPid));
  }
  return {
    mode,
    rows: subjects.map((s) => {
      const rs = runs.get(s.name) ?? [];
      const fe = rs.find((x) => x.firstError !== undefined)?.firstError;
      return {
        subject: s.name,
        baseline: s.baseline,
        median: medianOf(rs.map((x) => x.run)),
        runs: rs.map((x) => x.run),
        cpu: medianOf(rs.map((x) => x.cpu)),
        ...(fe !== undefined ? { firstError: fe } : {}),
      };
    }),
  };
}

/** Keeps up: the backlog grows by less than 2 % of the publish rate per second, and it drained. */
export function keepsUp(m: DeliveryRun): boolean {
  return m.backlogSlope <= 0.02 * m.publishRate && !Number.isNaN(m.drainMs);
}

export function printDelivery(res: DeliveryResult, what: string, rate: number, connections: number, repeats: number): void {
  const title = res.mode === "open" ? `publishing at ${rate}/s` : `publishing closed loop, ${connections} in flight`;
  console.log(`\n### ${what} — ${title} (medians of ${repeats})\n`);
  const labels = [...new Set(res.rows.flatMap((r) => Object.keys(r.cpu)))];
  console.log(
    table(
      ["subject", "published/s", "delivered/s", "backlog start", "backlog end", "backlog max", "backlog growth /s", "keeps up", "drain ms", ...labels.map((l) => `${l} CPU µs/msg`), "broker CPU µs/msg", "lost", "dup", "errors"],
      res.rows.map(({ subject, median: m, runs, cpu }) => [
        subject,
        m.publishRate,
        m.deliverRate,
        m.backlogStart,
        m.backlogEnd,
        m.backlogMax,
        m.backlogSlope,
        keepsUp(m) ? "yes" : "NO",
        m.drainMs,
        ...labels.map((l) => cpu[l] ?? NaN),
        m.serverCpuPerMsg,
        runs.reduce((a, x) => a + x.lost, 0),
        runs.reduce((a, x) => a + x.duplicated, 0),
        runs.reduce((a, x) => a + x.errors, 0),
      ]),
    ),
  );
  for (const x of res.rows) if (x.firstError !== undefined) console.log(`  first error (${x.subject}): ${x.firstError}`);
}

/**
 * Process cost from /proc (Linux): CPU time (utime + stime) and memory (VmRSS, VmHWM) of a pid.
 * CPU is read in clock ticks (usually 10 ms each), so a window should hold at least a few seconds
 * of work before dividing it by its request count.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS = readClockTicks();

function readClockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** utime + stime of `pid` in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) may hold spaces and parentheses: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLOCK_TICKS;
}

export interface Memory {
  /** Resident set size now, MiB. */
  readonly rssMiB: number;
  /** High-water mark of the resident set since the process started, MiB. */
  readonly hwmMiB: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kib("VmRSS") / 1024, hwmMiB: kib("VmHWM") / 1024 };
}

/**
 * Watches a set of processes over a measured window: CPU consumed between start() and stop(), and
 * the largest RSS seen by sampling every `everyMs` in between.
 */
export class ProcessWindow {
  private readonly cpuAtStart = new Map<number, number>();
  private readonly rssPeak = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pids: readonly number[],
    private readonly everyMs = 250,
  ) {}

  start(): void {
    for (const pid of this.pids) {
      this.cpuAtStart.set(pid, cpuMicros(pid));
      this.rssPeak.set(pid, memory(pid).rssMiB);
    }
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  /** CPU µs used by each pid since start(), and its peak RSS (MiB) over the window. */
  stop(): Map<number, { cpuMicros: number; rssPeakMiB: number }> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    const out = new Map<number, { cpuMicros: number; rssPeakMiB: number }>();
    for (const pid of this.pids) {
      out.set(pid, { cpuMicros: cpuMicros(pid) - (this.cpuAtStart.get(pid) ?? 0), rssPeakMiB: this.rssPeak.get(pid) ?? NaN });
    }
    return out;
  }

  private sample(): void {
    for (const pid of this.pids) {
      try {
        this.rssPeak.set(pid, Math.max(this.rssPeak.get(pid) ?? 0, memory(pid).rssMiB));
      } catch {
        // the process has exited: its peak so far stands
      }
    }
  }
}

/** Parent pid of `pid`, or undefined when it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** `root` and every process descending from it (e.g. a postmaster and its backends). */
export function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid !== undefined) parents.set(Number(name), ppid);
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

/**
 * Time on CPU of `pid`, every thread summed, in µs, from /proc/<pid>/task/<tid>/schedstat (the
 * scheduler's own nanosecond count). Used for database servers: their workers run in bursts of a
 * few µs that start right after a timer tick when the open loop's ticker drives them, so the
 * tick-sampled utime+stime of /proc/<pid>/stat can miss them entirely.
 */
export function schedCpuMicros(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread exited
    }
  }
  return ns / 1000;
}

function treeCpu(root: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of processTree(root)) {
    try {
      out.set(pid, schedCpuMicros(pid));
    } catch {
      // exited between the listing and the read
    }
  }
  return out;
}

/**
 * CPU of a whole process tree over a window (a database server: its workers and per-connection
 * backends), every thread, from schedstat (see schedCpuMicros). Processes that start in the window count from zero; ones that exit in it are lost.
 */
export class TreeWindow {
  private atStart = new Map<number, number>();

  constructor(private readonly root: number) {}

  start(): void {
    this.atStart = treeCpu(this.root);
  }

  /** CPU µs of the tree since start(). */
  stop(): number {
    let total = 0;
    for (const [pid, now] of treeCpu(this.root)) total += now - (this.atStart.get(pid) ?? 0);
    return total;
  }
}

/**
 * Process cost from /proc (Linux): CPU time (utime + stime) and memory (VmRSS, VmHWM) of a pid.
 * CPU is read in clock ticks (usually 10 ms each), so a window should hold at least a few seconds
 * of work before dividing it by its request count.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

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

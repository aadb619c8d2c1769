/**
 * The HTTP load generator (runs in its own process, see load-worker.ts): undici Pool, HTTP/1.1
 * keep-alive, no pipelining, latency in microseconds into an HDR histogram.
 *
 * - open loop: request i is scheduled at start + i/rate and its latency runs from that scheduled
 *   time to the end of the response, so a stalled server is charged for the queue it causes
 *   (no coordinated omission). Requests scheduled in the measured window are recorded.
 * - closed loop: `connections` callers each send the next request when the previous one answers;
 *   responses completed in the measured window are recorded.
 */
import { Pool, type Dispatcher } from "undici";
import { latencyHistogram, summarize, type LatencySummary } from "./histogram.js";
import { nowMs, tick } from "./clock.js";
import { openDriver, type DriverJob } from "./raw-drivers.js";
import { openXadd, type XaddJob } from "./raw-pubsub.js";

export interface RequestShape {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
}

export interface LoadJob {
  readonly origin: string;
  /** Sent in turn, cycling. */
  readonly requests: readonly RequestShape[];
  /**
   * Instead of HTTP: storage operations sent by a raw database client in the generator's own
   * process (the baseline of bench/state-stores.ts); `origin` and `requests` are then ignored.
   */
  readonly driver?: DriverJob | XaddJob;
  readonly connections: number;
  readonly mode: "open" | "closed";
  /** Requests per second (open loop). */
  readonly rate?: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** When set, the running count of 2xx answers (warm-up included) is reported this often (ms). */
  readonly progressMs?: number;
}

export interface LoadResult {
  readonly latency: LatencySummary;
  /** Requests answered 2xx in the window. */
  readonly ok: number;
  readonly non2xx: number;
  /** Connection errors, resets, timeouts. */
  readonly failed: number;
  readonly firstError?: string;
  /** 2xx responses per second over the measured window. */
  readonly throughput: number;
  /** How late the generator sent requests after their scheduled time, p99 in ms (open loop). */
  readonly sendLagP99: number;
}

export type LoadEvent = "measure-start" | "measure-end";

const TIMEOUT_MS = 10_000;
const DRAIN_MS = 10_000;

export async function runLoad(job: LoadJob, emit: (e: LoadEvent) => void, progress?: (okTotal: number) => void): Promise<LoadResult> {
  if (job.driver !== undefined) {
    const driver = "stream" in job.driver ? await openXadd(job.driver) : await openDriver(job.driver, job.connections);
    try {
      return await loop(driver.send, job, emit, progress);
    } finally {
      await driver.close();
    }
  }
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  const prepared = job.requests.map((r) => ({
    method: r.method,
    path: r.path,
    ...(r.body !== undefined ? { body: Buffer.from(r.body), headers: { "content-type": "application/json" } } : {}),
  }));
  const sendHttp: Send = (i, done) => send(pool, prepared[i % prepared.length] as Prepared, done);
  try {
    return await loop(sendHttp, job, emit, progress);
  } finally {
    await pool.destroy();
  }
}

/** Runs the loop, reporting the running count of 2xx answers (warm-up included) every `job.progressMs` and once at the end. */
async function loop(sendOne: Send, job: LoadJob, emit: (e: LoadEvent) => void, progress?: (okTotal: number) => void): Promise<LoadResult> {
  let send = sendOne;
  let ok = 0;
  let timer: NodeJS.Timeout | undefined;
  if (progress !== undefined && job.progressMs !== undefined) {
    send = (i, done) =>
      sendOne(i, (status, err) => {
        if (status !== undefined && status >= 200 && status < 300) ok++;
        done(status, err);
      });
    timer = setInterval(() => progress(ok), job.progressMs);
  }
  try {
    return job.mode === "open" ? await openLoop(send, job, emit) : await closedLoop(send, job, emit);
  } finally {
    clearInterval(timer);
    progress?.(ok);
  }
}

/** Send request number `i` (cycling over the job's requests); `done` once its whole answer is in. */
export type Send = (i: number, done: (status: number | undefined, err: Error | undefined) => void) => void;

type Prepared = Dispatcher.DispatchOptions;

class Recorder {
  readonly latency = latencyHistogram();
  readonly lag = latencyHistogram();
  ok = 0;
  non2xx = 0;
  failed = 0;
  firstError: string | undefined;

  outcome(status: number | undefined, err: Error | undefined): void {
    if (err !== undefined || status === undefined) {
      this.failed++;
      this.firstError ??= err?.message ?? "no status";
    } else if (status >= 200 && status < 300) this.ok++;
    else {
      this.non2xx++;
      this.firstError ??= `HTTP ${status}`;
    }
  }

  result(windowMs: number): LoadResult {
    return {
      latency: summarize(this.latency),
      ok: this.ok,
      non2xx: this.non2xx,
      failed: this.failed,
      ...(this.firstError !== undefined ? { firstError: this.firstError } : {}),
      throughput: (this.ok * 1000) / windowMs,
      sendLagP99: this.lag.totalCount > 0 ? this.lag.getValueAtPercentile(99) / 1000 : 0,
    };
  }
}

const micros = (ms: number) => Math.max(1, Math.round(ms * 1000));

/** Send one request; `done` gets the status (or the error) once the whole response is read. */
function send(pool: Pool, req: Prepared, done: (status: number | undefined, err: Error | undefined) => void): void {
  let status: number | undefined;
  pool.dispatch(req, {
    onRequestStart: () => undefined,
    onResponseStart: (_c, statusCode) => void (status = statusCode),
    onResponseData: () => undefined,
    onResponseEnd: () => done(status, undefined),
    onResponseError: (_c, err) => done(undefined, err),
  });
}

async function openLoop(sendOne: Send, job: LoadJob, emit: (e: LoadEvent) => void): Promise<LoadResult> {
  const rate = job.rate ?? 1000;
  const interval = 1000 / rate;
  const start = nowMs() + 50;
  const measureFrom = start + job.warmupMs;
  const end = measureFrom + job.durationMs;
  const rec = new Recorder();
  let next = 0;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let measuring = false;

  const fire = (i: number, scheduled: number) => {
    const recorded = scheduled >= measureFrom;
    inFlight++;
    if (recorded) rec.lag.recordValue(micros(nowMs() - scheduled));
    sendOne(i, (status, err) => {
      inFlight--;
      if (recorded) {
        rec.latency.recordValue(micros(nowMs() - scheduled));
        rec.outcome(status, err);
      }
      if (inFlight === 0) drained?.();
    });
  };

  await tick(start, interval, end, () => {
    const now = nowMs();
    for (let due = start + next * interval; due <= now && due < end; due = start + next * interval) {
      if (!measuring && due >= measureFrom) {
        measuring = true;
        emit("measure-start");
      }
      fire(next++, due);
    }
  });
  emit("measure-end");
  if (inFlight > 0) {
    await new Promise<void>((resolve) => {
      drained = resolve;
      setTimeout(resolve, DRAIN_MS).unref();
    });
  }
  rec.failed += inFlight; // never answered within the drain time: lost
  return rec.result(job.durationMs);
}

async function closedLoop(sendOne: Send, job: LoadJob, emit: (e: LoadEvent) => void): Promise<LoadResult> {
  const rec = new Recorder();
  const start = nowMs();
  const measureFrom = start + job.warmupMs;
  const end = measureFrom + job.durationMs;
  let i = 0;
  // The window events follow the clock, and measure-end always precedes the result.
  let ended = false;
  const endWindow = () => {
    if (!ended) emit("measure-end");
    ended = true;
  };
  setTimeout(() => emit("measure-start"), job.warmupMs);
  const endTimer = setTimeout(endWindow, end - nowMs());

  const caller = () =>
    new Promise<void>((resolve) => {
      const loop = () => {
        const sent = nowMs();
        if (sent >= end) {
          resolve();
          return;
        }
        sendOne(i++, (status, err) => {
          const done = nowMs();
          if (done >= measureFrom && done < end) {
            rec.latency.recordValue(micros(done - sent));
            rec.outcome(status, err);
          }
          // A failing connection answers at once: do not spin on it.
          if (err !== undefined) setTimeout(loop, 10);
          else loop();
        });
      };
      loop();
    });

  await Promise.all(Array.from({ length: job.connections }, caller));
  clearTimeout(endTimer);
  endWindow();
  return rec.result(job.durationMs);
}

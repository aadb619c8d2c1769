/**
 * A sub-millisecond ticker for open-loop load. Node timers have 1 ms granularity, which would add
 * up to a millisecond of send lag to every request. Instead a worker thread sleeps with
 * Atomics.wait (microsecond timeouts, no spinning) until each scheduled time and posts a tick;
 * the message wakes the main event loop at once. Times are CLOCK_MONOTONIC (process.hrtime),
 * which every thread shares.
 */
import { Worker } from "node:worker_threads";

/** Monotonic time in milliseconds (fractional), comparable across threads. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const TICKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { startMs, intervalMs, endMs } = workerData;
const cell = new Int32Array(new SharedArrayBuffer(4));
const now = () => Number(process.hrtime.bigint()) / 1e6;
for (let next = startMs; next < endMs; next += intervalMs) {
  const wait = next - now();
  if (wait > 0) Atomics.wait(cell, 0, 0, wait);
  parentPort.postMessage(0);
}
`;

/** Call `onTick` at (about) every `intervalMs` from `startMs` to `endMs` (nowMs() times); resolves when done. */
export function tick(startMs: number, intervalMs: number, endMs: number, onTick: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(TICKER, { eval: true, workerData: { startMs, intervalMs, endMs } });
    w.on("message", onTick);
    w.once("error", reject);
    w.once("exit", () => resolve());
  });
}

/** The run context printed above each scenario and the JSON written under bench/results/. */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative } from "node:path";
import { ROOT } from "../../test/harness/sidecar.js";

export interface Machine {
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  /** 1-minute load average when the scenario started: how shared the machine was. */
  readonly loadAvg1: number;
}

export function machine(): Machine {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "?", loadAvg1: loadavg()[0] ?? NaN };
}

export function describeMachine(m: Machine): string {
  return `node ${m.node}, ${m.cpus} × ${m.cpuModel}, load average ${m.loadAvg1.toFixed(2)} at start`;
}

/** Write `bench/results/<name>-<timestamp>.json`; returns its path relative to the repository. */
export function writeResults(name: string, data: unknown): string {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replaceAll(":", "-").replace(/\..+$/, "")}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return relative(ROOT, file);
}

/** `--quick`: a short smoke run that checks the scripts work; its figures mean nothing. */
export const QUICK = process.argv.includes("--quick");

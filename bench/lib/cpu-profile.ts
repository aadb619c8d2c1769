/** Summarise a V8 .cpuprofile (node --cpu-prof): self time per function, largest first. */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly fn: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time, %. */
  readonly pct: number;
}

const IDLE = new Set(["(idle)", "(program)"]);

/** Self time by function (name + file:line), idle excluded; also the busy total in ms. */
export function selfTimes(file: string, root: string): { busyMs: number; top: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const byFn = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const cf = nodes.get(id)?.callFrame;
    const name = cf?.functionName || "(anonymous)";
    if (cf === undefined || IDLE.has(name)) return;
    const where = cf.url === "" ? "" : ` ${cf.url.replace(`file://${root}/`, "").replace(/^.*node_modules\//, "")}:${cf.lineNumber + 1}`;
    const us = p.timeDeltas[i] ?? 0;
    byFn.set(name + where, (byFn.get(name + where) ?? 0) + us);
    busy += us;
  });
  const top = [...byFn]
    .sort((a, b) => b[1] - a[1])
    .map(([fn, us]) => ({ fn, ms: us / 1000, pct: (us / busy) * 100 }));
  return { busyMs: busy / 1000, top };
}

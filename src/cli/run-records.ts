/**
 * `$TANDEM_HOME/runs/<cliPID>.json`: which run file a `tandem run -f` process runs, so
 * `tandem stop -f` finds that process even when no sidecar answers. Records of processes that
 * are gone are removed when read.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runsDir } from "./home.js";
import { isAlive } from "./processes.js";

export interface RunRecord {
  readonly pid: number;
  readonly runFile: string;
  readonly appIds: readonly string[];
  readonly startedAt: string;
}

export function writeRunRecord(home: string, record: RunRecord): () => void {
  const dir = runsDir(home);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${record.pid}.json`);
  writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  return () => rmSync(file, { force: true });
}

export function readRunRecords(home: string): RunRecord[] {
  const dir = runsDir(home);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: RunRecord[] = [];
  for (const name of names.filter((n) => /^\d+\.json$/.test(n))) {
    const file = join(dir, name);
    try {
      const r = JSON.parse(readFileSync(file, "utf8")) as RunRecord;
      if (typeof r.pid === "number" && isAlive(r.pid)) out.push(r);
      else rmSync(file, { force: true });
    } catch {
      /* unreadable or half-written: skip */
    }
  }
  return out;
}

/**
 * Finds the Tandem sidecars running on this machine: processes whose argv is
 * `<node> [node options] .../main.js sidecar <flags>` (also `bin/tandem.js`, `tandem sidecar`, or
 * `main.ts` under tsx), read from /proc (Linux). Their daprd flags are parsed with the sidecar's
 * own parser, so the ports and defaults are exactly what that sidecar uses.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import type { SidecarConfig } from "../runtime/config.js";
import { sidecarConfig } from "./sidecar-flags.js";
import type { SidecarAddress } from "./sidecar-client.js";

const ENTRY_NAMES = new Set(["main.js", "main.ts", "tandem", "tandem.js"]);

export interface SidecarProcess {
  readonly pid: number;
  readonly config: SidecarConfig;
  /** Process start time (ms since the epoch), when known. */
  readonly startedAt?: number;
}

/** The sidecar flags in an argv, or undefined when the argv is not a Tandem sidecar's. */
export function sidecarArgv(argv: readonly string[]): string[] | undefined {
  for (let i = 0; i + 1 < argv.length; i++) {
    if (argv[i + 1] === "sidecar" && ENTRY_NAMES.has(basename(argv[i] as string))) return argv.slice(i + 2);
  }
  return undefined;
}

export function parseSidecarProcess(pid: number, argv: readonly string[], startedAt?: number): SidecarProcess | undefined {
  const flags = sidecarArgv(argv);
  if (flags === undefined || flags.includes("--help") || flags.includes("--version")) return undefined;
  try {
    return { pid, config: sidecarConfig(flags, {}), ...(startedAt !== undefined ? { startedAt } : {}) };
  } catch {
    return undefined; // not flags this version understands: not one of ours
  }
}

export function findSidecars(procDir = "/proc"): SidecarProcess[] {
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return [];
  }
  const boot = bootTimeMs(procDir);
  const found: SidecarProcess[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`${procDir}/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // gone meanwhile
    }
    if (argv.at(-1) === "") argv.pop();
    const started = boot !== undefined ? startTimeMs(procDir, name, boot) : undefined;
    const p = parseSidecarProcess(pid, argv, started);
    if (p) found.push(p);
  }
  return found;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

function bootTimeMs(procDir: string): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync(`${procDir}/stat`, "utf8"));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function startTimeMs(procDir: string, pid: string, bootMs: number): number | undefined {
  try {
    const stat = readFileSync(`${procDir}/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces and parentheses); starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? bootMs + (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Where the CLI reaches a sidecar's HTTP API. */
export function sidecarAddress(config: SidecarConfig): SidecarAddress {
  const v4 = ["127.0.0.1", "localhost", "0.0.0.0", "::", "[::]"];
  const addrs = config.daprListenAddresses;
  let host = addrs[0] ?? "127.0.0.1";
  if (addrs.length === 0 || addrs.some((a) => v4.includes(a))) host = "127.0.0.1";
  else if (addrs.some((a) => a === "::1" || a === "[::1]")) host = "::1";
  return {
    host: host.replace(/^\[(.*)\]$/, "$1"),
    port: config.daprHttpPort,
    appId: config.appId,
    ...(config.unixDomainSocket !== undefined ? { unixDomainSocket: config.unixDomainSocket } : {}),
  };
}

/** The process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number, procDir = "/proc"): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`${procDir}/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** argv of a process, or undefined when it is gone (or not readable). */
export function processArgv(pid: number, procDir = "/proc"): string[] | undefined {
  try {
    const argv = readFileSync(`${procDir}/${pid}/cmdline`, "utf8").split("\0");
    if (argv.at(-1) === "") argv.pop();
    return argv;
  } catch {
    return undefined;
  }
}

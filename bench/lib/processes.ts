/**
 * Every process a benchmark uses is started here and stopped by its pid: the Tandem sidecar, the
 * bare Node servers used as baselines. Anything still running when the script exits is killed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../test/harness/ports.js";
import { MAIN, assertBuilt } from "../../test/harness/sidecar.js";

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** performance.now() just before spawn(). */
  readonly spawnedAt: number;
  readonly exited: Promise<number | string>;
  /** Everything written to stdout and stderr (the last 64 KiB). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<number | string>;
}

const live = new Set<Started>();
process.once("exit", () => {
  for (const p of live) p.child.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

interface SpawnOptions {
  readonly name: string;
  readonly args: readonly string[];
  readonly url: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly onStop?: () => void;
}

/** Spawn `node <args>` directly (no shell, so the pid is the Node process itself). */
export function spawnNode(o: SpawnOptions): Started {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, o.args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`${o.name}: spawn failed`);
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 65_536) out = out.slice(-65_536);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const started: Started = {
    name: o.name,
    pid: child.pid,
    url: o.url,
    child,
    spawnedAt,
    exited,
    output: () => out,
    stop: async (graceMs = 3000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  live.add(started);
  void exited.then(() => {
    live.delete(started);
    o.onStop?.();
  });
  return started;
}

/**
 * Poll `GET url` on fresh connections every `intervalMs` until it answers `status`; resolves with
 * performance.now() at the answer. Fails if the process exits first or at the deadline.
 */
export async function waitForStatus(p: Started, path: string, status: number, timeoutMs = 15_000, intervalMs = 1): Promise<number> {
  let gone = false;
  void p.exited.then(() => (gone = true));
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const got = await probe(p.url + path);
    if (got === status) return performance.now();
    if (gone) throw new Error(`${p.name} exited before it was ready:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${p.name} not ready after ${timeoutMs} ms:\n${p.output()}`);
}

function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once("error", () => resolve(undefined));
    req.once("timeout", () => req.destroy());
    req.end();
  });
}

export interface SidecarSpec {
  readonly appId: string;
  /** File name -> YAML text for the resources directory. */
  readonly resources?: Readonly<Record<string, string>>;
  /** Extra Node flags (e.g. --cpu-prof) placed before dist/main.js. */
  readonly nodeArgs?: readonly string[];
  /** Extra sidecar flags (e.g. --enable-metrics=false). */
  readonly args?: readonly string[];
  /** Another build's entry file instead of the default one (a before/after comparison). */
  readonly main?: string;
}

/**
 * The sidecar entry: dist/bundle/main.js, or BENCH_SIDECAR_MAIN (e.g. a copy of the bundle kept
 * under bench/results/ to measure a change before and after in one sitting).
 */
const SIDECAR_MAIN = process.env["BENCH_SIDECAR_MAIN"] ?? MAIN;

export interface StartedSidecar extends Started {
  /** A private temporary directory (resources, databases), removed when the process exits. */
  readonly dir: string;
}

/** Spawn `node dist/main.js sidecar` on free loopback ports with its own resources directory. Not awaited: call waitForStatus. */
export async function spawnSidecar(spec: SidecarSpec): Promise<StartedSidecar> {
  const main = spec.main ?? SIDECAR_MAIN;
  if (main === MAIN) assertBuilt();
  else if (!existsSync(main)) throw new Error(`${main} is missing`);
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-"));
  const resourcesDir = join(dir, "resources");
  mkdirSync(resourcesDir);
  for (const [name, text] of Object.entries(spec.resources ?? {})) writeFileSync(join(resourcesDir, name), text.replaceAll("$DIR", dir));
  const [http, grpc, metrics] = (await freePorts(3)) as [number, number, number];
  const p = spawnNode({
    name: `sidecar ${spec.appId}`,
    url: `http://127.0.0.1:${http}`,
    cwd: dir,
    onStop: () => rmSync(dir, { recursive: true, force: true }),
    args: [
      ...(spec.nodeArgs ?? []),
      main,
      "sidecar",
      "--app-id", spec.appId,
      "--dapr-http-port", String(http),
      "--dapr-grpc-port", String(grpc),
      "--metrics-port", String(metrics),
      "--dapr-listen-addresses", "127.0.0.1",
      "--resources-path", resourcesDir,
      "--log-level", "warn",
      ...(spec.args ?? []),
    ],
  });
  return { ...p, dir };
}

/**
 * The Node floor: a bare node:http server in its own process, answering the state API's shapes
 * from a Map. GET returns the stored bytes (204 when absent); POST parses the JSON array body and
 * stores each value re-serialised, as a state store does; anything else (healthz) answers 204.
 */
export const BARE_STATE_SERVER = `
const http = require("node:http");
const store = new Map();
const PREFIX = "/v1.0/state/";
http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  const url = req.url;
  if (req.method === "GET" && url.startsWith(PREFIX)) {
    const value = store.get(url.slice(url.indexOf("/", PREFIX.length) + 1));
    if (value === undefined) { res.writeHead(204); res.end(); return; }
    res.writeHead(200, { "content-type": "application/json", "content-length": value.length });
    res.end(value);
    return;
  }
  if (req.method === "POST" && url.startsWith(PREFIX)) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      try {
        for (const item of JSON.parse(Buffer.concat(chunks).toString("utf8"))) store.set(item.key, Buffer.from(JSON.stringify(item.value)));
        res.writeHead(204); res.end();
      } catch (err) {
        res.writeHead(400, { "content-type": "text/plain" }); res.end(String(err));
      }
    });
    return;
  }
  res.writeHead(204); res.end();
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

/** Spawn the bare server with `node -e`, the same way as the sidecar (one Node process, no loader). Not awaited: call waitForStatus. */
export async function spawnBareServer(name = "bare node:http"): Promise<Started> {
  const [port] = (await freePorts(1)) as [number];
  return spawnNode({ name, url: `http://127.0.0.1:${port}`, args: ["-e", BARE_STATE_SERVER], env: { PORT: String(port) } });
}

/**
 * Launches a real `tandem sidecar` process (the compiled dist/, built by `npm test` first) with
 * resources written from inline YAML, on free loopback ports, and waits for it to be ready.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts } from "./ports.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const MAIN = join(ROOT, "dist", "bundle", "main.js");

export interface SidecarOptions {
  readonly appId?: string;
  /** File name -> YAML text, written to a fresh resources directory. */
  readonly resources?: Readonly<Record<string, string>>;
  /** A Configuration YAML written to a file and passed with --config. */
  readonly config?: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Wait for `/v1.0/healthz` (default) or only `/v1.0/healthz/outbound`, or not at all. */
  readonly waitFor?: "ready" | "outbound" | "none";
}

export interface SidecarProcess {
  readonly httpPort: number;
  readonly metricsPort: number;
  readonly url: string;
  readonly dir: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | string>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<number | string>;
}

export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
}

export async function startSidecar(opts: SidecarOptions = {}): Promise<SidecarProcess> {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), "tandem-it-"));
  const resourcesDir = join(dir, "resources");
  mkdirSync(resourcesDir);
  for (const [name, text] of Object.entries(opts.resources ?? {})) writeFileSync(join(resourcesDir, name), text);
  const [httpPort, grpcPort, metricsPort] = (await freePorts(3)) as [number, number, number];
  const args = [
    MAIN,
    "sidecar",
    "--app-id", opts.appId ?? "it-app",
    "--dapr-http-port", String(httpPort),
    "--dapr-grpc-port", String(grpcPort),
    "--metrics-port", String(metricsPort),
    "--dapr-listen-addresses", "127.0.0.1",
    "--resources-path", resourcesDir,
    "--log-level", "debug",
  ];
  if (opts.config !== undefined) {
    const configFile = join(dir, "config.yaml");
    writeFileSync(configFile, opts.config);
    args.push("--config", configFile);
  }
  args.push(...(opts.args ?? []));
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((res) => child.once("exit", (code, signal) => res(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${httpPort}`;
  const proc: SidecarProcess = {
    httpPort,
    metricsPort,
    url,
    dir,
    child,
    output: () => out,
    exited,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
    kill: () => {
      child.kill("SIGKILL");
      return exited;
    },
  };
  const waitFor = opts.waitFor ?? "ready";
  if (waitFor !== "none") {
    const path = waitFor === "ready" ? "/v1.0/healthz" : "/v1.0/healthz/outbound";
    await waitUntil(async () => (await fetch(url + path).catch(() => undefined))?.status === 204, exited, 15_000, () => out);
  }
  return proc;
}

/** Poll `check` (every 20 ms) until true; fail early when the process exits, or at the deadline. */
export async function waitUntil(check: () => Promise<boolean>, exited: Promise<unknown>, timeoutMs: number, output: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (gone) throw new Error(`process exited before it was ready:\n${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${output()}`);
}

export function component(name: string, type: string, metadata: Readonly<Record<string, string>> = {}, extra = ""): string {
  const items = Object.entries(metadata)
    .map(([k, v]) => `  - name: ${k}\n    value: ${JSON.stringify(v)}`)
    .join("\n");
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: ${type}
  version: v1
  metadata:${items === "" ? " []" : "\n" + items}
${extra}`;
}

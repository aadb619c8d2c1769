/**
 * Runs the real compiled `tandem` CLI (`node dist/main.js ...`) for the CLI integration tests,
 * always with its own temporary TANDEM_HOME so nothing touches the user's home.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertBuilt, MAIN, waitUntil } from "../../harness/sidecar.js";

export interface CliOptions {
  readonly home: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  readonly output: () => string;
  /** Wait for a line matching `re` in the output; returns the match. */
  readonly waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
}

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), "tandem-cli-home-"));
}

export function uniqueAppId(name: string): string {
  return `${name}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
}

function env(opts: CliOptions): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, TANDEM_HOME: opts.home, ...opts.env };
  for (const name of ["DAPR_API_TOKEN", "APP_API_TOKEN"]) if (opts.env?.[name] === undefined) delete e[name];
  return e;
}

/** A long-running CLI process (`tandem run ...`). */
export function startCli(args: readonly string[], opts: CliOptions): CliProcess {
  assertBuilt();
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? opts.home, env: env(opts), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((res) => child.once("exit", (code, signal) => res(code ?? signal ?? -1)));
  const output = () => out;
  return {
    child,
    exited,
    output,
    waitFor: async (re, timeoutMs = 30_000) => {
      let m: RegExpExecArray | null = null;
      await waitUntil(() => Promise.resolve((m = re.exec(out)) !== null), exited, timeoutMs, () => `waiting for ${String(re)}:\n${out}`);
      return m as unknown as RegExpExecArray;
    },
  };
}

export interface CliResult {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** A short CLI command (`tandem list`, `tandem stop`...) run to completion. */
export async function runCli(args: readonly string[], opts: CliOptions): Promise<CliResult> {
  assertBuilt();
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? opts.home, env: env(opts), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | string>((res) => child.once("close", (c, s) => res(c ?? s ?? -1)));
  return { code, stdout, stderr };
}

export interface ListedApp {
  readonly appId: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly appPort: number;
  readonly command: string;
  readonly daprdPid: number;
  readonly cliPid: number;
  readonly appPid: number;
  readonly runTemplatePath: string;
  readonly appLogPath: string;
  readonly daprdLogPath: string;
}

export async function listApps(opts: CliOptions): Promise<ListedApp[]> {
  const r = await runCli(["list", "-o", "json"], opts);
  if (r.code !== 0) throw new Error(`tandem list failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ListedApp[];
}

/** Wait until `tandem list` shows the app with its CLI PID recorded (extended metadata written). */
export async function waitListed(appId: string, opts: CliOptions, exited: Promise<unknown>, output: () => string): Promise<ListedApp> {
  let found: ListedApp | undefined;
  await waitUntil(
    async () => {
      found = (await listApps(opts)).find((a) => a.appId === appId && a.cliPid !== 0);
      return found !== undefined;
    },
    exited,
    30_000,
    () => `${appId} not listed:\n${output()}`,
  );
  return found as ListedApp;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Test clean-up: SIGTERM the CLI (which stops what it started) and wait; then kill any leftover. */
export async function stopCli(cli: CliProcess | undefined, leftovers: readonly number[] = []): Promise<void> {
  if (cli === undefined) return;
  if (cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill("SIGTERM");
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000).unref());
    if ((await Promise.race([cli.exited, timeout])) === "timeout") cli.child.kill("SIGKILL");
  }
  for (const pid of leftovers) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* gone, as it should be */
    }
  }
}

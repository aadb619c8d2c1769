/**
 * One app with its sidecar, as `tandem run` and run files start them: both child processes in their
 * own process group (so a terminal's Ctrl-C reaches only the CLI, which stops them in order), output
 * copied line by line, extended metadata written once the sidecar answers. When one of the two
 * exits on its own the other is stopped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { appEnvironment, sidecarArgs, sidecarEnvironment, type AppSpec, type SidecarPorts } from "./app-spec.js";
import type { Env } from "./home.js";
import { closeSink, pipeLines, type OutputSink } from "./output.js";
import { sidecarAddress } from "./processes.js";
import { getMetadata, putMetadata, type SidecarAddress } from "./sidecar-client.js";
import { sidecarConfig } from "./sidecar-flags.js";

export interface LaunchPlan {
  readonly spec: AppSpec;
  readonly ports: SidecarPorts;
  readonly baseEnv: Env;
  readonly appSink: OutputSink;
  readonly sidecarSink: OutputSink;
  /** Extended metadata written besides appCommand, appPID and cliPID. */
  readonly extended?: Readonly<Record<string, string>>;
  /** Status lines of the CLI (`ℹ️  Starting ...`). */
  readonly notice: (line: string) => void;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface ProcessEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The process could not be started. */
  readonly error?: Error;
}

export interface RunOutcome {
  readonly app?: ProcessEnd;
  readonly sidecar: ProcessEnd;
  /** Which process ended first on its own; "stop" when stop() was called first. */
  readonly first: "app" | "sidecar" | "stop";
}

const APP_STOP_TIMEOUT_MS = 10_000;
const SIDECAR_STOP_MARGIN_MS = 10_000;
const READY_TIMEOUT_MS = 60_000;

/**
 * The sidecar is the same program as this CLI: re-run the entry this process started from
 * (`bin/tandem.js`, the bundled `dist/bundle/main.js`, or `src/main.ts` under tsx) with `sidecar`.
 */
export function sidecarCommand(): { file: string; args: string[] } {
  const entry = process.argv[1];
  if (entry !== undefined && /(^|[/\\])(main\.[jt]s|tandem(\.js)?)$/.test(entry)) {
    return { file: process.execPath, args: [...process.execArgv, entry, "sidecar"] };
  }
  const js = fileURLToPath(new URL("../main.js", import.meta.url));
  if (existsSync(js)) return { file: process.execPath, args: [js, "sidecar"] };
  const ts = fileURLToPath(new URL("../main.ts", import.meta.url));
  return { file: process.execPath, args: [...process.execArgv, ts, "sidecar"] };
}

export class AppInstance {
  readonly address: SidecarAddress;
  readonly sidecarArgs: readonly string[];
  private sidecar?: ChildProcess;
  private app?: ChildProcess;
  private sidecarEnd?: Promise<ProcessEnd>;
  private appEnd?: Promise<ProcessEnd>;
  private first: RunOutcome["first"] | undefined;
  private stopping?: Promise<void>;
  private readonly pipes: Promise<void>[] = [];
  private readonly gracefulMs: number;
  /** Resolves true once the sidecar answers GET /v1.0/metadata, false if it exited first. */
  ready: Promise<boolean> = Promise.resolve(false);

  constructor(private readonly plan: LaunchPlan) {
    this.sidecarArgs = sidecarArgs(plan.spec, plan.ports);
    // Same validation the sidecar applies (throws FlagError naming the flag) before anything starts.
    const config = sidecarConfig(this.sidecarArgs, {});
    this.address = sidecarAddress(config);
    this.gracefulMs = config.gracefulShutdownMs;
  }

  private get apiToken(): string | undefined {
    return this.plan.spec.env.DAPR_API_TOKEN ?? this.plan.baseEnv.DAPR_API_TOKEN;
  }

  /** Start the sidecar, then the app (after the sidecar answers when the app has no port). */
  async start(): Promise<void> {
    const { spec, ports, notice } = this.plan;
    notice(`ℹ️  Starting Tandem with id ${spec.appId}. HTTP Port: ${ports.http}. gRPC Port: ${ports.grpc}`);
    const cmd = sidecarCommand();
    const sidecar = spawn(cmd.file, [...cmd.args, ...this.sidecarArgs], {
      cwd: spec.cwd,
      env: sidecarEnvironment(spec, this.plan.baseEnv),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.sidecar = sidecar;
    this.sidecarEnd = this.watch(sidecar, this.plan.sidecarSink, "sidecar");
    this.ready = this.waitForSidecar();
    if (spec.command.length > 0) {
      if (spec.appPort === undefined && !(await this.ready)) return;
      if (this.first !== undefined) return; // stopped meanwhile
      this.startApp();
    }
    void this.ready.then((up) => this.afterReady(up));
  }

  private startApp(): void {
    const { spec, ports } = this.plan;
    const [file, ...args] = spec.command as [string, ...string[]];
    const app = spawn(file, args, { cwd: spec.cwd, env: appEnvironment(spec, ports, this.plan.baseEnv), detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.app = app;
    this.appEnd = this.watch(app, this.plan.appSink, "app");
  }

  private watch(child: ChildProcess, sink: OutputSink, who: "app" | "sidecar"): Promise<ProcessEnd> {
    if (child.stdout) this.pipes.push(pipeLines(child.stdout, sink, this.plan.stdout));
    if (child.stderr) this.pipes.push(pipeLines(child.stderr, sink, this.plan.stderr));
    const end = new Promise<ProcessEnd>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", (error) => {
        if (child.pid === undefined) resolve({ code: null, signal: null, error });
      });
    });
    void end.then((e) => this.ended(who, e));
    return end;
  }

  private ended(who: "app" | "sidecar", e: ProcessEnd): void {
    const own = this.first === undefined;
    if (own) this.first = who;
    const { notice } = this.plan;
    const name = who === "app" ? "App" : "Tandem";
    if (e.error) notice(`❌  The ${name} process could not be started: ${e.error.message}`);
    else if (e.code === 0 || (e.code === null && !own)) notice(`✅  Exited ${name} successfully`);
    else notice(`❌  The ${name} process exited with ${e.code !== null ? `error code: ${e.code}` : `signal ${e.signal ?? "?"}`}`);
    if (own) void this.stopProcesses("SIGTERM");
  }

  private async waitForSidecar(): Promise<boolean> {
    let gone = false;
    void this.sidecarEnd?.then(() => (gone = true));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!gone && Date.now() < deadline) {
      if ((await getMetadata(this.address, this.apiToken, 1_000)) !== undefined) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!gone) this.plan.notice(`❌  The Tandem sidecar of ${this.plan.spec.appId} did not answer within ${READY_TIMEOUT_MS / 1000}s`);
    return false;
  }

  private async afterReady(up: boolean): Promise<void> {
    if (!up) return;
    const { spec, notice } = this.plan;
    notice(
      spec.command.length > 0
        ? `✅  You're up and running! Both Tandem and your app logs will appear here.`
        : `✅  You're up and running! Tandem logs will appear here.`,
    );
    const values: Record<string, string> = { cliPID: String(process.pid), ...this.plan.extended };
    if (this.app?.pid !== undefined) {
      values.appCommand = spec.command.join(" ");
      values.appPID = String(this.app.pid);
    }
    try {
      await putMetadata(this.address, values, this.apiToken);
    } catch (err) {
      if (this.first === undefined) notice(`⚠  could not write extended metadata: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Stop the app with `signal`, then the sidecar (graceful drain); escalate to SIGKILL on timeout. */
  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.first === undefined) this.first = "stop";
    return this.stopProcesses(signal);
  }

  private stopProcesses(signal: NodeJS.Signals): Promise<void> {
    this.stopping ??= (async () => {
      await this.terminate(this.app, this.appEnd, signal, APP_STOP_TIMEOUT_MS);
      await this.terminate(this.sidecar, this.sidecarEnd, signal, this.gracefulMs + SIDECAR_STOP_MARGIN_MS);
    })();
    return this.stopping;
  }

  /** SIGKILL both process groups now. */
  kill(): void {
    for (const child of [this.app, this.sidecar]) if (child?.pid !== undefined) signalGroup(child.pid, "SIGKILL");
  }

  private async terminate(child: ChildProcess | undefined, end: Promise<ProcessEnd> | undefined, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    if (child?.pid === undefined || end === undefined || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child.pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)));
    const late = await Promise.race([end.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      signalGroup(child.pid, "SIGKILL");
      await end;
    }
  }

  /** Both processes ended and their output is flushed. */
  async done(): Promise<RunOutcome> {
    const sidecar = await (this.sidecarEnd as Promise<ProcessEnd>);
    await this.stopProcesses("SIGTERM");
    const app = this.appEnd ? await this.appEnd : undefined;
    await Promise.race([Promise.all(this.pipes), new Promise((r) => setTimeout(r, 1_000).unref())]);
    await Promise.all([closeSink(this.plan.appSink), closeSink(this.plan.sidecarSink)]);
    return { sidecar, first: this.first ?? "sidecar", ...(app ? { app } : {}) };
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * The exit code of `tandem run`: the app's (0 when it ended because we asked it to stop), the
 * sidecar's when it ended first or runs alone, 128+n for a death by signal n.
 */
export function outcomeExitCode(o: RunOutcome): number {
  const codeOf = (e: ProcessEnd, stopped: boolean): number => {
    if (e.error) return 1;
    if (e.code !== null) return e.code;
    if (stopped) return 0;
    return 128 + (SIGNAL_NUMBERS[e.signal as NodeJS.Signals] ?? 0);
  };
  if (o.first === "stop") return o.app ? codeOf(o.app, true) : codeOf(o.sidecar, true);
  if (o.app && o.first === "app") return codeOf(o.app, false);
  const sidecarCode = codeOf(o.sidecar, false);
  if (!o.app && o.sidecar.code === 0) return 0;
  return sidecarCode === 0 ? 1 : sidecarCode;
}

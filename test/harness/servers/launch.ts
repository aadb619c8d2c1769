/**
 * Starting a private server process for tests: spawn it, resolve once its output shows the ready
 * line (an event, never a sleep), and stop (SIGTERM) or kill (SIGKILL, a crash) it later.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface LaunchedProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (for failure messages). */
  log(): string;
  readonly exited: boolean;
  /** SIGTERM (a clean shutdown) and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for exit. */
  kill(): Promise<void>;
}

export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Spawns `bin` with `args` in `cwd` and resolves once its stdout or stderr matches `ready`. On a
 * failed start (exit, spawn error, deadline) the process is gone when the promise rejects, and the
 * error carries its output. `what` names the server in messages (`nats-server on port 4222`).
 */
export async function launchUntilReady(what: string, bin: string, args: readonly string[], opts: { cwd: string; ready: RegExp; deadlineMs?: number }): Promise<LaunchedProcess> {
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const child = spawn(bin, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} not ready after ${deadlineMs}ms:\n${log}`));
    }, deadlineMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (opts.ready.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not start: ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${log}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    await waitForExit(child);
    throw err;
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    log: () => log,
    get exited() {
      return !alive();
    },
    async stop() {
      if (alive()) child.kill("SIGTERM");
      await waitForExit(child);
    },
    async kill() {
      if (alive()) child.kill("SIGKILL");
      await waitForExit(child);
    },
  };
}

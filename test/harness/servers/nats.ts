/**
 * Private nats-server instances with JetStream for tests, on free loopback ports with temp store
 * dirs. Readiness is the server's "Server is ready" log line, never a sleep. A stopped or killed
 * server restarts on the same port and store dir (`at`), for crash and restart tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../ports.js";

const BIN = "/usr/sbin/nats-server";
const HOST = "127.0.0.1";
const READY = /Server is ready/;

export interface NatsServer {
  readonly host: string;
  readonly port: number;
  /** `nats://127.0.0.1:<port>`, as `natsURL` takes it. */
  readonly url: string;
  /** The JetStream store dir. */
  readonly dir: string;
  /** SIGTERM (a clean shutdown) and wait for exit; removes the store dir unless `keepDir`. */
  stop(keepDir?: boolean): Promise<void>;
  /** SIGKILL (a crash) and wait for exit; the store dir stays. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * One nats-server with JetStream enabled. `at` restarts a server on the port and store dir of a
 * stopped or killed one; `extra` are further command-line options.
 */
export async function startNats(at?: { port: number; dir: string }, extra: readonly string[] = [], deadlineMs = 10_000): Promise<NatsServer> {
  const port = at?.port ?? (await freePort());
  const dir = at?.dir ?? mkdtempSync(join(tmpdir(), `tandem-nats-${port}-`));
  const child = spawn(BIN, ["-js", "-a", HOST, "-p", String(port), "-sd", dir, ...extra], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`nats-server on port ${port} not ready after ${deadlineMs}ms:\n${log}`));
    }, deadlineMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (READY.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`nats-server on port ${port} could not start: ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`nats-server on port ${port} exited (${code ?? signal}) before it was ready:\n${log}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    await waitForExit(child);
    if (at === undefined) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    host: HOST,
    port,
    url: `nats://${HOST}:${port}`,
    dir,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    async stop(keepDir = false) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await waitForExit(child);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await waitForExit(child);
    },
  };
}

/**
 * Private nats-server instances with JetStream for tests, on free loopback ports with temp store
 * dirs. Readiness is the server's "Server is ready" log line, never a sleep. A stopped or killed
 * server restarts on the same port and store dir (`at`), for crash and restart tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../ports.js";
import { launchUntilReady, type LaunchedProcess } from "./launch.js";

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

/**
 * One nats-server with JetStream enabled. `at` restarts a server on the port and store dir of a
 * stopped or killed one; `extra` are further command-line options.
 */
export async function startNats(at?: { port: number; dir: string }, extra: readonly string[] = [], deadlineMs = 10_000): Promise<NatsServer> {
  const port = at?.port ?? (await freePort());
  const dir = at?.dir ?? mkdtempSync(join(tmpdir(), `tandem-nats-${port}-`));
  let proc: LaunchedProcess;
  try {
    proc = await launchUntilReady(`nats-server on port ${port}`, BIN, ["-js", "-a", HOST, "-p", String(port), "-sd", dir, ...extra], { cwd: dir, ready: READY, deadlineMs });
  } catch (err) {
    if (at === undefined) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: HOST,
    port,
    url: `nats://${HOST}:${port}`,
    dir,
    get exited() {
      return proc.exited;
    },
    async stop(keepDir = false) {
      await proc.stop();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
    kill: () => proc.kill(),
  };
}

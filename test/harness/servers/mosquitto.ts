/**
 * Private mosquitto brokers for tests, on free loopback ports with a temp config and persistence
 * dir, so persistent MQTT sessions survive a stop/restart on the same port. Readiness is the
 * broker's "running" log line; a crash is a SIGKILL (the in-memory state since the last save is
 * lost, as in production), a stop is a SIGTERM (mosquitto saves its database on the way out).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../ports.js";
import { launchUntilReady, type LaunchedProcess } from "./launch.js";

const BIN = "/usr/sbin/mosquitto";
const HOST = "127.0.0.1";
const READY = /mosquitto version \S+ running/;

export interface MosquittoServer {
  readonly host: string;
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`, as the component's `url` takes it. */
  readonly url: string;
  readonly dir: string;
  /** SIGTERM (the broker saves its sessions) and wait for exit; removes the dir unless `keepDir`. */
  stop(keepDir?: boolean): Promise<void>;
  /** SIGKILL (a crash) and wait for exit; the dir stays. */
  kill(): Promise<void>;
  /** Start a new broker on the same port and dir (after stop(true) or kill()). */
  restart(): Promise<MosquittoServer>;
  readonly exited: boolean;
  /** Everything the broker logged so far (for failure messages). */
  log(): string;
}

/**
 * `extra` are further config lines (e.g. `autosave_interval 1`). `at` starts on the port and dir of
 * a stopped or killed broker.
 */
export async function startMosquitto(extra: readonly string[] = [], at?: { port: number; dir: string }, deadlineMs = 10_000): Promise<MosquittoServer> {
  const port = at?.port ?? (await freePort());
  const dir = at?.dir ?? mkdtempSync(join(tmpdir(), `tandem-mosquitto-${port}-`));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} ${HOST}`,
      "allow_anonymous true",
      "persistence true",
      `persistence_location ${dir}/`,
      // Stay the current user: run as root, mosquitto would otherwise switch to "mosquitto" and lose the temp dir.
      `user ${userInfo().username}`,
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      ...extra,
      "",
    ].join("\n"),
  );
  let proc: LaunchedProcess;
  try {
    proc = await launchUntilReady(`mosquitto on port ${port}`, BIN, ["-c", conf], { cwd: dir, ready: READY, deadlineMs });
  } catch (err) {
    if (!at) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: HOST,
    port,
    url: `mqtt://${HOST}:${port}`,
    dir,
    get exited() {
      return proc.exited;
    },
    log: () => proc.log(),
    async stop(keepDir = false) {
      await proc.stop();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
    kill: () => proc.kill(),
    async restart() {
      if (!proc.exited) throw new Error(`mosquitto on port ${port} is still running; stop(true) or kill() it first`);
      return startMosquitto(extra, { port, dir }, deadlineMs);
    },
  };
}

/**
 * A private rabbitmq-server for one test suite: its own node name, AMQP and distribution ports on
 * loopback, data/log/config in a temp dir with no plugins enabled (so it never collides with the
 * machine's broker or its management port). Ready when an AMQP connection succeeds (polled against
 * a deadline, failing fast if the server exits). It can be stopped or killed and started again on
 * the same port, node name and data dir, for broker-restart tests.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import amqp from "amqplib";
import { freePort } from "../ports.js";

const BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";
const HOST = "127.0.0.1";
let launched = 0;

export interface RabbitMQServer {
  readonly port: number;
  /** `amqp://guest:guest@127.0.0.1:<port>` (guest may log in over loopback). */
  readonly url: string;
  readonly nodeName: string;
  readonly dir: string;
  readonly running: boolean;
  /** Graceful shutdown (SIGTERM, the start script stops the node) and wait; removes the dir unless `keepDir`. */
  stop(keepDir?: boolean): Promise<void>;
  /** SIGKILL to the whole process group (a crash); the dir stays. */
  kill(): Promise<void>;
  /** Start again on the same port, node name and data dir after `stop(true)` or `kill()`. */
  restart(): Promise<void>;
  /** Runs `rabbitmqctl -n <node> ...args` (e.g. `list_queues name arguments --formatter json`) and returns its stdout. */
  ctl(...args: string[]): Promise<string>;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function canConnect(url: string): Promise<boolean> {
  try {
    const conn = await amqp.connect(url, { timeout: 2_000 });
    conn.on("error", () => undefined);
    await conn.close();
    return true;
  } catch {
    return false;
  }
}

export async function startRabbitMQ(opts: { deadlineMs?: number } = {}): Promise<RabbitMQServer> {
  const deadlineMs = opts.deadlineMs ?? 90_000;
  const port = await freePort();
  const distPort = await freePort();
  const nodeName = `tandem-${process.pid}-${++launched}@localhost`;
  const dir = mkdtempSync(join(tmpdir(), `tandem-rabbitmq-${port}-`));
  const home = join(dir, "home");
  mkdirSync(home);
  writeFileSync(join(dir, "rabbitmq.conf"), [`listeners.tcp.1 = ${HOST}:${port}`, "loopback_users.guest = true", ""].join("\n"));
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  writeFileSync(join(dir, "rabbitmq-env.conf"), "");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: HOST,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, "plugins-expand"),
    RABBITMQ_PID_FILE: join(dir, "rabbitmq.pid"),
    ERL_EPMD_ADDRESS: HOST,
  };
  const url = `amqp://guest:guest@${HOST}:${port}`;
  let child: ChildProcess | undefined;
  let log = "";

  const launch = async (): Promise<void> => {
    log = "";
    // Detached: the start script, beam and its helpers share one process group that kill() ends at once.
    const c = spawn(BIN, [], { env, cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    const keep = (b: Buffer) => (log = (log + b.toString()).slice(-8000));
    c.stdout?.on("data", keep);
    c.stderr?.on("data", keep);
    const started = Date.now();
    for (;;) {
      if (exited(c)) throw new Error(`rabbitmq-server ${nodeName} exited (${c.exitCode ?? c.signalCode}) before it was ready:\n${log}`);
      if (await canConnect(url)) return;
      if (Date.now() - started > deadlineMs) {
        await killGroup(c);
        throw new Error(`rabbitmq-server ${nodeName} not ready after ${deadlineMs}ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const killGroup = async (c: ChildProcess): Promise<void> => {
    if (!exited(c) && c.pid !== undefined) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        c.kill("SIGKILL");
      }
    }
    await waitForExit(c);
    await beamGone();
  };

  // The node's own pid: the start script dies first, and a restart must not race the dying node.
  const beamGone = async (): Promise<void> => {
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, "rabbitmq.pid"), "utf8").trim());
    } catch {
      return;
    }
    const until = Date.now() + 5_000;
    while (pid > 0 && Date.now() < until) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  try {
    await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    port,
    url,
    nodeName,
    dir,
    get running() {
      return child !== undefined && !exited(child);
    },
    async stop(keepDir = false) {
      const c = child;
      if (c !== undefined && !exited(c)) {
        // The start script traps SIGTERM, stops the node and exits once it is down.
        c.kill("SIGTERM");
        const timer = setTimeout(() => void killGroup(c), 30_000);
        await waitForExit(c);
        clearTimeout(timer);
      }
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (child !== undefined) await killGroup(child);
    },
    ctl(...args: string[]) {
      return new Promise((resolve, reject) => {
        execFile(CTL, ["-n", nodeName, "-q", ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`rabbitmqctl ${args.join(" ")} failed: ${stderr || err.message}`)) : resolve(stdout),
        );
      });
    },
    async restart() {
      if (child !== undefined && !exited(child)) throw new Error(`rabbitmq-server ${nodeName} is still running`);
      await launch();
    },
  };
}

/**
 * A private MariaDB server for tests: Debian's mariadbd on a free loopback port with its data
 * directory under the OS temp dir, `root` without a password. Ready once a client can connect
 * (polled against a deadline); stopped with SIGTERM and awaited.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { freePort } from "../ports.js";

const SERVER_CANDIDATES = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"];
const INSTALL_CANDIDATES = ["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"];

function findBinary(candidates: readonly string[], name: string): string | undefined {
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const found = which.stdout.trim();
  return which.status === 0 && found !== "" ? found : undefined;
}

/** Why a MariaDB server cannot be started here, or undefined when it can. */
export function mariadbUnavailable(): string | undefined {
  if (findBinary(SERVER_CANDIDATES, "mariadbd") === undefined) return "mariadbd is not installed (Debian package mariadb-server; .ci/run installs it)";
  if (findBinary(INSTALL_CANDIDATES, "mariadb-install-db") === undefined) return "mariadb-install-db is not installed (Debian package mariadb-server)";
  return undefined;
}

export interface MariadbServer {
  readonly host: string;
  readonly port: number;
  /** A Go MySQL DSN naming no database, as Dapr's state.mysql takes it. */
  readonly dsn: string;
  /** mysql2 options for a raw client (no database selected). */
  readonly clientOptions: { host: string; port: number; user: string };
  stop(): Promise<void>;
  /** SIGKILL and remove the data. */
  kill(): Promise<void>;
  /** Stop the process (SIGKILL for a crash, SIGTERM for a clean stop) but keep the data, for fault tests. */
  halt(signal: NodeJS.Signals): Promise<void>;
  /** Start the process again on the same port and data (stopping it first if it runs). */
  restart(): Promise<void>;
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

export async function startMariadb(opts: { readyTimeoutMs?: number } = {}): Promise<MariadbServer> {
  const server = findBinary(SERVER_CANDIDATES, "mariadbd");
  const install = findBinary(INSTALL_CANDIDATES, "mariadb-install-db");
  if (server === undefined || install === undefined) throw new Error(mariadbUnavailable());
  const dir = mkdtempSync(join(tmpdir(), "tandem-mariadb-"));
  const datadir = join(dir, "data");
  const userArgs = isRoot ? ["--user=root"] : [];
  // A private tmpdir: concurrent bootstraps sharing /tmp trip over each other's temporary tables.
  const tmp = join(dir, "tmp");
  mkdirSync(tmp);

  const installed = spawnSync(
    install,
    ["--no-defaults", `--datadir=${datadir}`, `--tmpdir=${tmp}`, "--auth-root-authentication-method=normal", "--skip-test-db", ...userArgs],
    { encoding: "utf8", timeout: 60_000, env: { ...process.env, TMPDIR: tmp } },
  );
  if (installed.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${installed.status}): ${installed.stderr || installed.stdout}`);
  }

  const port = await freePort();
  const args = [
    "--no-defaults",
    `--datadir=${datadir}`,
    `--tmpdir=${tmp}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--socket=${join(dir, "mysqld.sock")}`,
    `--pid-file=${join(dir, "mysqld.pid")}`,
    // Debian's packaged defaults, so tables get the collation a real installation gives them.
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=16M",
    ...userArgs,
  ];
  const clientOptions = { host: "127.0.0.1", port, user: "root" };
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let proc: Running | undefined;
  try {
    proc = await launch(server, args, clientOptions, readyTimeoutMs);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const halt = async (signal: NodeJS.Signals) => {
    const p = proc;
    proc = undefined;
    if (p) await terminate(p.child, p.exited, signal);
  };
  const finish = async (signal: NodeJS.Signals) => {
    await halt(signal);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    host: "127.0.0.1",
    port,
    dsn: `root@tcp(127.0.0.1:${port})/?allowNativePasswords=true`,
    clientOptions,
    stop: () => finish("SIGTERM"),
    kill: () => finish("SIGKILL"),
    halt,
    restart: async () => {
      await halt("SIGTERM");
      proc = await launch(server, args, clientOptions, readyTimeoutMs);
    },
  };
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** Spawn mariadbd and poll with a client until it accepts connections, or fail at the deadline. */
async function launch(server: string, args: string[], clientOptions: { host: string; port: number; user: string }, readyTimeoutMs: number): Promise<Running> {
  const child = spawn(server, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString("utf8")).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      const conn = await mysql.createConnection({ ...clientOptions, connectTimeout: 1000 });
      await conn.end();
      return { child, exited };
    } catch (err) {
      if (!running || Date.now() > deadline) {
        await terminate(child, exited, "SIGKILL");
        throw new Error(`mariadbd did not accept connections on port ${clientOptions.port}: ${String(err)}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await exited;
}

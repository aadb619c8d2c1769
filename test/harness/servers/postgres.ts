/**
 * A private PostgreSQL server for one test suite: `initdb` into a temp dir, `postgres` on a free
 * loopback port (socket in the same temp dir), ready when a client connects, stopped with SIGTERM.
 * PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (setpriv).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../ports.js";

export interface PostgresServer {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  /** A libpq key=value string for the same database. */
  readonly keyValue: string;
  /** SIGTERM and wait for the exit; removes the data dir. */
  stop(): Promise<void>;
  /** SIGKILL without waiting for a clean shutdown (kill tests); keeps the data dir. */
  kill(): Promise<void>;
}

/** initdb/postgres on PATH, else the newest /usr/lib/postgresql/<ver>/bin. */
export function postgresBinDir(): string | undefined {
  const onPath = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  if (onPath !== "" && existsSync(join(onPath, "..", "postgres"))) return join(onPath, "..");
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] !== undefined ? join(base, versions[0], "bin") : undefined;
}

function asServerUser(cmd: string, args: string[]): [string, string[]] {
  const uid = process.getuid?.() ?? 1;
  // setpriv execs in place, so the child's pid is the server's own and SIGTERM reaches it directly.
  return uid === 0 ? ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", cmd, ...args]] : [cmd, args];
}

async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once("exit", () => resolve()));
}

export async function startPostgres(opts: { deadlineMs?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error("postgres not found: install the Debian package postgresql");
  const root = mkdtempSync(join(tmpdir(), "tandem-postgres-"));
  const data = join(root, "data");
  const sock = join(root, "sock");
  mkdirSync(data);
  mkdirSync(sock);
  const asRoot = (process.getuid?.() ?? 1) === 0;
  if (asRoot) {
    const ids = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim();
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim();
    for (const d of [root, data, sock]) chownSync(d, Number(ids), Number(gid));
  }
  const [icmd, iargs] = asServerUser(join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
  const init = spawnSync(icmd, iargs, { encoding: "utf8" });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }

  const port = await freePort();
  const [cmd, args] = asServerUser(join(bin, "postgres"), [
    "-D", data, "-p", String(port), "-k", sock, "-c", "listen_addresses=127.0.0.1", "-F", "-c", "fsync=off", "-c", "max_connections=200",
  ]);
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const deadline = Date.now() + (opts.deadlineMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(root, { recursive: true, force: true });
      throw new Error(`postgres exited with ${child.exitCode}: ${stderr}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        rmSync(root, { recursive: true, force: true });
        throw new Error(`postgres did not accept connections within the deadline: ${stderr}`);
      }
      // The server is starting: poll again shortly (readiness poll against a deadline).
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return {
    port,
    url,
    keyValue: `host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=disable`,
    async stop() {
      child.kill("SIGTERM");
      await waitForExit(child);
      rmSync(root, { recursive: true, force: true });
    },
    async kill() {
      child.kill("SIGKILL");
      await waitForExit(child);
    },
  };
}

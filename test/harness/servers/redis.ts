/**
 * Private redis-server instances for tests, on free loopback ports with temp data dirs: a single
 * node, a 3-master cluster, and a master + replica + Sentinel set. Readiness is an event (the
 * server's "Ready to accept connections" line) or a state polled against a deadline, never a sleep.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../ports.js";
import { launchUntilReady, type LaunchedProcess } from "./launch.js";

const BIN = "/usr/bin/redis-server";
const HOST = "127.0.0.1";

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>` as `redisHost` takes it. */
  readonly address: string;
  readonly dir: string;
  /** SIGTERM and wait for exit; removes the data dir unless `keepDir`. */
  stop(keepDir?: boolean): Promise<void>;
  /** SIGKILL (a crash) and wait for exit; the data dir stays. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

/** Spawn redis-server with `args` and resolve once its log says `readyLine`. */
async function launch(args: readonly string[], port: number, dir: string, readyLine: RegExp, deadlineMs = 10_000): Promise<RedisServer> {
  let proc: LaunchedProcess;
  try {
    proc = await launchUntilReady(`redis-server on port ${port}`, BIN, args, { cwd: dir, ready: readyLine, deadlineMs });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: HOST,
    port,
    address: `${HOST}:${port}`,
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

const READY = /Ready to accept connections/;

function baseArgs(port: number, dir: string): string[] {
  return ["--port", String(port), "--bind", HOST, "--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no"];
}

/**
 * One standalone redis-server. `extra` are further command-line options (e.g. ["--replicaof", host, port]);
 * `at` restarts a server on the port (and data dir) of a stopped or killed one.
 */
export async function startRedis(extra: readonly string[] = [], at?: { port: number; dir: string }): Promise<RedisServer> {
  const port = at?.port ?? (await freePort());
  const dir = at?.dir ?? mkdtempSync(join(tmpdir(), `tandem-redis-${port}-`));
  return launch([...baseArgs(port, dir), ...extra], port, dir, READY);
}

/** Poll `probe` until it holds or the deadline passes (for server states that announce no event). */
export async function pollUntil(what: string, probe: () => Promise<boolean>, deadlineMs = 20_000, everyMs = 100): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() - started > deadlineMs) throw new Error(`timed out after ${deadlineMs}ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function withClient<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on("error", () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** Comma-separated node addresses, as `redisHost` takes them. */
  readonly addresses: string;
  stop(): Promise<void>;
}

/** `masters` cluster-enabled nodes (no replicas), slots spread by `redis-cli --cluster create`; resolves at `cluster_state:ok` on every node. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const busPort = await freePort();
      const dir = mkdtempSync(join(tmpdir(), `tandem-redis-cluster-${port}-`));
      const args = [...baseArgs(port, dir), "--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf"), "--cluster-port", String(busPort), "--cluster-node-timeout", "5000"];
      nodes.push(await launch(args, port, dir, READY));
    }
    const created = spawnSync("redis-cli", ["--cluster", "create", ...nodes.map((n) => n.address), "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8", timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const n of nodes) {
      await pollUntil(`cluster_state:ok on ${n.address}`, () => withClient(n.port, async (c) => (await c.cluster("INFO")).includes("cluster_state:ok")));
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  return { nodes, addresses: nodes.map((n) => n.address).join(","), stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}

export interface RedisSentinelSet {
  readonly masterName: string;
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinel: RedisServer;
  /** The address the Sentinel currently reports for the master. */
  currentMaster(): Promise<string>;
  stop(): Promise<void>;
}

/** A master, one replica in sync with it, and one Sentinel (quorum 1, 1s down-after) monitoring it. */
export async function startRedisSentinel(masterName = "mymaster"): Promise<RedisSentinelSet> {
  const started: RedisServer[] = [];
  try {
    const master = await startRedis();
    started.push(master);
    const replica = await startRedis(["--replicaof", HOST, String(master.port)]);
    started.push(replica);
    await pollUntil("the replica is in sync", () => withClient(replica.port, async (c) => (await c.info("replication")).includes("master_link_status:up")));
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), `tandem-redis-sentinel-${port}-`));
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        "protected-mode no",
        `sentinel monitor ${masterName} ${HOST} ${master.port} 1`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    );
    const sentinel = await launch([conf, "--sentinel"], port, dir, /\+monitor master/);
    started.push(sentinel);
    // The Sentinel learns about the replica from the master's INFO (every 10s at most); wait for it.
    await pollUntil("the Sentinel knows the replica", () =>
      withClient(port, async (c) => {
        const replicas = (await c.call("SENTINEL", "REPLICAS", masterName)) as unknown[];
        return replicas.length > 0;
      }),
    );
    return {
      masterName,
      master,
      replica,
      sentinel,
      currentMaster: () =>
        withClient(port, async (c) => {
          const [host, p] = (await c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)) as [string, string];
          return `${host}:${p}`;
        }),
      stop: async () => void (await Promise.all(started.map((s) => s.stop()))),
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
}

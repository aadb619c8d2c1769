/**
 * Redis connection metadata shared by every Redis component (state, pub/sub, locks, configuration):
 * Dapr's field names and defaults, mapped onto ioredis. ioredis multiplexes one connection per server
 * (with auto-pipelining) instead of go-redis's pool, so the pool fields are accepted and have no effect.
 */
import { Cluster, Redis, type ClusterNode, type RedisOptions } from "ioredis";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { MetadataError, type MetadataSchema, type OptionsOf } from "../../../kit/metadata-schema.js";

const NO_EFFECT = "Accepted for compatibility; no effect: ioredis keeps one pipelined connection per server instead of a pool.";

/** Spread into a component's `defineSchema({...})`. */
export const redisConnectionFields = {
  redisHost: {
    type: "string",
    required: true,
    description:
      "`host:port` of the server; with `redisType: cluster` a comma-separated list of cluster nodes; with `failover: true` the Sentinel address(es), comma-separated.",
  },
  redisPort: { type: "integer", default: 6379, min: 1, description: "Port used for hosts given without one." },
  redisUsername: { type: "string", description: "ACL user name (Redis 6+)." },
  redisPassword: { type: "string", sensitive: true, description: "Password (ACL user's, or `requirepass`)." },
  redisDB: { type: "integer", default: 0, min: 0, description: "Database number (`SELECT`). Ignored in cluster mode." },
  redisType: { type: "string", default: "node", oneOf: ["node", "cluster"], description: "`node` (one server, or Sentinel with `failover`) or `cluster` (Redis Cluster)." },
  enableTLS: { type: "boolean", default: false, description: "Connect with TLS." },
  insecureSkipTLSVerify: { type: "boolean", default: false, description: "With TLS: do not verify the server certificate." },
  clientCert: { type: "string", description: "With TLS: client certificate (PEM text) for mutual TLS." },
  clientKey: { type: "string", sensitive: true, description: "With TLS: client private key (PEM text) for mutual TLS." },
  failover: { type: "boolean", default: false, description: "Connect through Redis Sentinel: `redisHost` names the Sentinel(s), `sentinelMasterName` the monitored master." },
  sentinelMasterName: { type: "string", description: "Name of the master the Sentinels monitor (required with `failover`)." },
  sentinelUsername: { type: "string", description: "ACL user name for the Sentinels." },
  sentinelPassword: { type: "string", sensitive: true, description: "Password for the Sentinels." },
  redisMaxRetries: {
    type: "integer",
    default: 3,
    aliases: ["maxRetries"],
    description: "How many times a command is retried over reconnections before it fails (ioredis `maxRetriesPerRequest`); `-1` retries without limit.",
  },
  redisMinRetryInterval: {
    type: "duration",
    default: 8,
    description: "First reconnection delay; each further attempt doubles it up to `redisMaxRetryInterval`. `-1` reconnects at once.",
  },
  redisMaxRetryInterval: { type: "duration", default: 512, aliases: ["maxRetryBackoff"], description: "Largest reconnection delay." },
  dialTimeout: { type: "duration", default: 5_000, description: "Connection timeout (ioredis `connectTimeout`)." },
  readTimeout: {
    type: "duration",
    default: 3_000,
    description: "Time a command may take before it fails (ioredis `commandTimeout`, which covers the whole round trip); `-1` waits without limit.",
  },
  writeTimeout: { type: "duration", description: "Accepted for compatibility; no effect: `readTimeout` bounds the whole round trip." },
  poolSize: { type: "integer", description: NO_EFFECT },
  poolTimeout: { type: "duration", description: NO_EFFECT },
  minIdleConns: { type: "integer", default: 0, description: NO_EFFECT },
  idleTimeout: { type: "duration", default: 300_000, description: NO_EFFECT },
  idleCheckFrequency: { type: "duration", default: 60_000, description: NO_EFFECT },
  maxConnAge: { type: "duration", description: NO_EFFECT },
} as const satisfies MetadataSchema;

export type RedisConnectionOptions = OptionsOf<typeof redisConnectionFields>;
export type RedisClient = Redis | Cluster;

/** `a:1,b` -> [{host:a,port:1},{host:b,port:defaultPort}]; IPv6 as `[::1]:6379`. */
export function parseHosts(list: string, defaultPort: number): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const raw of list.split(",")) {
    const item = raw.trim().replace(/^rediss?:\/\//, "");
    if (item === "") continue;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(item) ?? /^([^:]+)(?::(\d+))?$/.exec(item);
    if (!m?.[1]) throw new MetadataError("redisHost", `redisHost "${list}": cannot read "${item}" as host:port`);
    out.push({ host: m[1], port: m[2] !== undefined ? Number(m[2]) : defaultPort });
  }
  if (out.length === 0) throw new MetadataError("redisHost", "metadata field \"redisHost\" is required");
  return out;
}

function tlsOptions(o: RedisConnectionOptions): TlsOptions | undefined {
  if (!o.enableTLS) return undefined;
  if ((o.clientCert === undefined) !== (o.clientKey === undefined)) {
    throw new MetadataError(o.clientCert === undefined ? "clientCert" : "clientKey", "clientCert and clientKey must be given together");
  }
  return {
    ...(o.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(o.clientCert !== undefined && o.clientKey !== undefined ? { cert: o.clientCert, key: o.clientKey } : {}),
  };
}

/** Reconnection delay after `times` failed attempts: min * 2^(times-1), capped at max. */
export function reconnectDelay(o: Pick<RedisConnectionOptions, "redisMinRetryInterval" | "redisMaxRetryInterval">, times: number): number {
  const min = Math.max(0, o.redisMinRetryInterval);
  const max = Math.max(min, o.redisMaxRetryInterval);
  return Math.min(max, min * 2 ** Math.min(30, Math.max(0, times - 1)));
}

/** The ioredis options every mode shares (auth, TLS, timeouts, retries). */
export function baseRedisOptions(o: RedisConnectionOptions): RedisOptions {
  const tls = tlsOptions(o);
  return {
    ...(o.redisUsername !== undefined ? { username: o.redisUsername } : {}),
    ...(o.redisPassword !== undefined ? { password: o.redisPassword } : {}),
    ...(tls !== undefined ? { tls } : {}),
    connectTimeout: Math.max(1, o.dialTimeout),
    ...(o.readTimeout > 0 ? { commandTimeout: o.readTimeout } : {}),
    maxRetriesPerRequest: o.redisMaxRetries < 0 ? null : o.redisMaxRetries,
    retryStrategy: (times: number) => reconnectDelay(o, times),
    enableAutoPipelining: true,
  };
}

/** Build the client the options describe: a single node, a Sentinel-managed master, or a cluster. */
export function createRedisClient(o: RedisConnectionOptions, extra: RedisOptions = {}): RedisClient {
  const hosts = parseHosts(o.redisHost, o.redisPort);
  const base = { ...baseRedisOptions(o), ...extra };
  if (o.redisType === "cluster") {
    if (o.failover) throw new MetadataError("failover", "failover (Sentinel) cannot be combined with redisType cluster");
    const nodes: ClusterNode[] = hosts;
    const { retryStrategy: _unused, ...redisOptions } = base;
    return new Cluster(nodes, {
      redisOptions,
      enableAutoPipelining: true,
      clusterRetryStrategy: (times: number) => reconnectDelay(o, times),
      ...(o.redisMaxRetries >= 0 ? { maxRedirections: Math.max(16, o.redisMaxRetries) } : {}),
    });
  }
  if (o.failover) {
    if (o.sentinelMasterName === undefined || o.sentinelMasterName === "") {
      throw new MetadataError("sentinelMasterName", "sentinelMasterName is required when failover is true");
    }
    const { retryStrategy, ...rest } = base;
    return new Redis({
      ...rest,
      db: o.redisDB,
      sentinels: hosts,
      name: o.sentinelMasterName,
      ...(o.sentinelUsername !== undefined ? { sentinelUsername: o.sentinelUsername } : {}),
      ...(o.sentinelPassword !== undefined ? { sentinelPassword: o.sentinelPassword } : {}),
      ...(base.tls !== undefined ? { enableTLSForSentinelMode: true, sentinelTLS: base.tls } : {}),
      sentinelRetryStrategy: (times: number) => reconnectDelay(o, times),
      ...(retryStrategy !== undefined ? { retryStrategy } : {}),
    });
  }
  if (hosts.length > 1) throw new MetadataError("redisHost", `redisHost "${o.redisHost}" lists several hosts: set redisType: cluster or failover: true`);
  const [first] = hosts as [{ host: string; port: number }];
  return new Redis({ ...base, host: first.host, port: first.port, db: o.redisDB });
}

/** The servers holding data: the cluster's masters, or the one server. */
export function dataNodes(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes("master") : [client];
}

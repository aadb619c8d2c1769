/**
 * state.redis under the conformance suite: one private redis-server and one private 3-master cluster
 * per suite (each started on the first open, stopped by an `after` hook). On the single node each
 * opened store gets a database of its own (`redisDB`), flushed on dispose. A cluster has only
 * database 0, so there each opened store sees its keys under a namespace of its own (a hash tag
 * `{t<n>}`, so a test's transactions stay in one slot); cross-slot keys, the spread over every
 * master and the cross-slot refusal are covered by redis-cluster.test.ts.
 */
import { after } from "node:test";
import { Redis } from "ioredis";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import * as redis from "../../../src/components/state/redis.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from "../../harness/servers/redis.js";

const DATABASES = 1000;
let server: Promise<RedisServer> | undefined;
let nextDb = 0;

let cluster: Promise<RedisCluster> | undefined;
let nextNamespace = 0;

after(async () => {
  const s = server;
  const c = cluster;
  server = undefined;
  cluster = undefined;
  await Promise.all([s?.then((x) => x.stop()), c?.then((x) => x.stop())]);
});

/** The suite's redis-server, started once. */
export function sharedRedis(): Promise<RedisServer> {
  server ??= startRedis(["--databases", String(DATABASES)]);
  return server;
}

export async function openRedisStore(metadata: Record<string, string>): Promise<StateStore> {
  return redis.create(parseMetadata(redis.metadataSchema, metadata), { name: "statestore", logger: silentLogger(), rawMetadata: metadata });
}

/** A store on a fresh database of the suite's server, with the raw client the tests may use to look underneath. */
export async function openIsolatedRedis(extra: Record<string, string> = {}) {
  const s = await sharedRedis();
  nextDb = (nextDb % (DATABASES - 1)) + 1;
  const db = nextDb;
  const metadata = { redisHost: s.address, redisDB: String(db), ...extra };
  let store = await openRedisStore(metadata);
  return {
    db,
    server: s,
    get store() {
      return store;
    },
    reopen: async () => {
      await store.close();
      store = await openRedisStore(metadata);
      return store;
    },
    dispose: async () => {
      await store.close();
      const raw = new Redis({ host: s.host, port: s.port, db });
      try {
        await raw.flushdb();
      } finally {
        raw.disconnect();
      }
    },
  };
}

/** The suite's 3-master cluster, started once. */
export function sharedRedisCluster(): Promise<RedisCluster> {
  cluster ??= startRedisCluster(3);
  return cluster;
}

/** The real component behind a key namespace: every key, prefix and scan bound gets `ns` in front. */
function namespaced(inner: StateStore, ns: string): StateStore {
  const k = (key: string) => ns + key;
  const un = (key: string) => key.slice(ns.length);
  const full = inner as Required<StateStore>; // state.redis has every optional method
  return {
    features: () => full.features(),
    get: (req) => full.get({ ...req, key: k(req.key) }),
    set: (req) => full.set({ ...req, key: k(req.key) }),
    delete: (req) => full.delete({ ...req, key: k(req.key) }),
    bulkGet: async (reqs) => (await full.bulkGet(reqs.map((r) => ({ ...r, key: k(r.key) })))).map((i) => ({ ...i, key: un(i.key) })),
    bulkSet: (reqs) => full.bulkSet(reqs.map((r) => ({ ...r, key: k(r.key) }))),
    multi: (req) => full.multi({ ...req, operations: req.operations.map((op) => ({ ...op, key: k(op.key) })) }),
    scan: async (req) => {
      const page = await full.scan({ ...req, prefix: k(req.prefix), ...(req.after !== undefined ? { after: k(req.after) } : {}) });
      return { ...page, entries: page.entries.map((e) => ({ ...e, key: un(e.key) })) };
    },
    close: () => full.close(),
  };
}

/** A store on the suite's cluster, its keys under a namespace of its own (removed on dispose). */
export async function openClusterRedis() {
  const c = await sharedRedisCluster();
  nextNamespace += 1;
  const ns = `{t${nextNamespace}}`;
  const metadata = { redisHost: c.addresses, redisType: "cluster" };
  let inner = await openRedisStore(metadata);
  let store = namespaced(inner, ns);
  return {
    get store() {
      return store;
    },
    reopen: async () => {
      await inner.close();
      inner = await openRedisStore(metadata);
      store = namespaced(inner, ns);
      return store;
    },
    dispose: async () => {
      await inner.close();
      for (const node of c.nodes) {
        const raw = new Redis({ host: node.host, port: node.port });
        try {
          const keys = await raw.keys(`${ns}*`); // braces are not glob characters
          if (keys.length > 0) await raw.del(...keys);
        } finally {
          raw.disconnect();
        }
      }
    },
  };
}

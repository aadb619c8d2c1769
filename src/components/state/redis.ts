/**
 * state.redis: state in Redis through ioredis, in Dapr's layout (a hash per key with `data`,
 * `version` and the `first-write` flag; ETag = version), so a Redis written by daprd reads the same
 * through Tandem and the other way round. Writes and deletes are Lua scripts with Dapr's rules;
 * transactions are one Lua script that checks every ETag before applying anything (Tandem choice:
 * all or nothing, where Dapr's MULTI/EXEC does not roll back). Works on a single node, through
 * Sentinel (`failover`) and on Redis Cluster (`redisType: cluster`).
 */
import type { Redis } from "ioredis";
import {
  ETagInvalidError,
  ETagMismatchError,
  StateInputError,
  type BulkGetItem,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  type ScanEntry,
  type ScanPage,
  type ScanRequest,
  type SetRequest,
  type StateFeature,
  type StateStore,
  type TransactionRequest,
} from "../../blocks/state/contract.js";
import { defineSchema, type OptionsOf } from "../../kit/metadata-schema.js";
import type { Logger } from "../../observability/logger.js";
import type { ComponentContext } from "../shared/context.js";
import { createRedisClient, dataNodes, redisConnectionFields, type RedisClient } from "../shared/redis/connection.js";
import { DELETE_SCRIPT, MULTI_SCRIPT, SET_SCRIPT } from "./redis-scripts.js";

export const metadataSchema = defineSchema({
  ...redisConnectionFields,
  ttlInSeconds: {
    type: "integer",
    description: "Default TTL in seconds for every save that gives no `ttlInSeconds` of its own (`<=0`: no expiry). Without either, an existing expiry is kept.",
  },
  queryIndexes: {
    type: "string",
    description: "RediSearch index definitions. Accepted and ignored (with a warning): Debian's Redis has no RediSearch; queries run over a key scan instead.",
  },
  actorStateStore: { type: "boolean", default: false, description: "Use this store for actor state (read by the runtime; needs ETAG and TRANSACTIONAL, which this store has)." },
});
export type RedisStateOptions = OptionsOf<typeof metadataSchema>;

const FEATURES: readonly StateFeature[] = ["ETAG", "TRANSACTIONAL", "TTL"];
const EMPTY = Buffer.alloc(0);
const SCAN_COUNT = 1000;

/** The scripts, as ioredis defines them on the client (`defineCommand`). */
interface Scripted {
  tandemSet(key: string, etag: string, data: Buffer, firstWrite: string, ttl: string): Promise<number>;
  tandemDelete(key: string, etag: string): Promise<number>;
  tandemMulti(numKeys: number, ...args: (string | Buffer)[]): Promise<number>;
}

/** Dapr's parseETag: the integer version, "0" when absent or when concurrency is explicitly last-write. */
export function etagArgument(etag: string | undefined, concurrency: string | undefined): string {
  if (concurrency === "last-write" || etag === undefined || etag === "") return "0";
  if (!/^[+-]?\d+$/.test(etag)) throw new ETagInvalidError(`invalid etag value: ${etag} is not an integer`);
  return String(Number.parseInt(etag, 10));
}

/** Escape SCAN MATCH glob metacharacters so a prefix matches literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
const isConflict = (err: unknown): err is Error => err instanceof Error && err.message.includes("TANDEM_CONFLICT");
const isWrongType = (err: unknown): boolean => err instanceof Error && err.message.startsWith("WRONGTYPE");

function expiry(pttl: number): Record<string, string> | undefined {
  if (pttl <= 0) return undefined;
  return { ttlExpireTime: new Date(Date.now() + pttl).toISOString().replace(/\.\d{3}Z$/, "Z") };
}

export class RedisStateStore implements StateStore {
  private readonly scripts: Scripted;
  /** Replicas a strong write waits for (`WAIT`), counted at init; 0 in cluster mode. */
  private replicas = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisStateOptions,
    private readonly logger: Logger,
  ) {
    client.defineCommand("tandemSet", { numberOfKeys: 1, lua: SET_SCRIPT });
    client.defineCommand("tandemDelete", { numberOfKeys: 1, lua: DELETE_SCRIPT });
    client.defineCommand("tandemMulti", { lua: MULTI_SCRIPT });
    this.scripts = client as unknown as Scripted;
  }

  /** Connect (a failed ping fails the component's init) and count replicas for strong writes. */
  async init(): Promise<void> {
    await this.client.ping();
    if (this.options.queryIndexes !== undefined) {
      this.logger.warn("state.redis: queryIndexes is ignored: RediSearch is not available; the query API runs over a key scan");
    }
    if (this.options.redisType === "node") {
      const info = await this.client.info("replication");
      this.replicas = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
    }
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  async get(req: GetRequest): Promise<GetResponse | undefined> {
    let hash: Record<string, Buffer>;
    let pttl: number;
    try {
      [hash, pttl] = await Promise.all([this.client.hgetallBuffer(req.key), this.client.pttl(req.key)]);
    } catch (err) {
      if (!isWrongType(err)) throw err;
      return this.getLegacy(req.key);
    }
    if (Object.keys(hash).length === 0) return undefined;
    const { data, version } = hash;
    // Dapr's getKeyVersion: a hash without both fields is not state.
    if (data === undefined || version === undefined) throw new Error(`required hash field 'data' or 'version' was not found in ${req.key}`);
    const meta = expiry(pttl);
    return { data, etag: version.toString("utf8"), ...(meta ? { metadata: meta } : {}) };
  }

  /** Pipelined: ioredis auto-pipelining sends the whole batch in one write per server. */
  async bulkGet(reqs: readonly GetRequest[]): Promise<BulkGetItem[]> {
    const got = await Promise.allSettled(reqs.map((r) => this.get(r)));
    return reqs.map((r, i) => {
      const res = got[i];
      if (res?.status === "rejected") return { key: r.key, error: res.reason instanceof Error ? res.reason.message : String(res.reason) };
      return res?.value ? { key: r.key, ...res.value } : { key: r.key };
    });
  }

  async set(req: SetRequest): Promise<void> {
    const etag = etagArgument(req.etag, req.options.concurrency);
    const firstWrite = req.options.concurrency === "first-write" ? "0" : "1";
    try {
      await this.scripts.tandemSet(req.key, etag, req.value, firstWrite, this.ttlArgument(req.ttlSeconds));
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Dapr: a refusal is an ETag mismatch when an ETag was given, a plain error otherwise (first-write flag).
      if (req.etag !== undefined && req.etag !== "") throw new ETagMismatchError(`possible etag mismatch: failed to set key ${req.key}`);
      throw new Error(`failed to set key ${req.key}: it was written with first-write concurrency`, { cause: err });
    }
    await this.waitIfStrong(req.options.consistency);
  }

  /** Pipelined and not atomic, as Dapr's: every item is attempted, the first failure is reported. */
  async bulkSet(reqs: readonly SetRequest[]): Promise<void> {
    const results = await Promise.allSettled(reqs.map((r) => this.set(r)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  async delete(req: DeleteRequest): Promise<void> {
    const etag = req.etag !== undefined && req.etag !== "" ? req.etag : "0";
    try {
      await this.scripts.tandemDelete(req.key, etag);
    } catch (err) {
      if (isConflict(err)) throw new ETagMismatchError(`possible etag mismatch: failed to delete key ${req.key}`);
      throw err;
    }
    await this.waitIfStrong(req.options.consistency);
  }

  async multi(req: TransactionRequest): Promise<void> {
    if (req.operations.length === 0) return;
    const keys: string[] = [];
    const args: (string | Buffer)[] = [];
    for (const op of req.operations) {
      keys.push(op.key);
      if (op.operation === "upsert") args.push("s", etagArgument(op.etag, op.options.concurrency), op.value, this.ttlArgument(op.ttlSeconds));
      else args.push("d", op.etag !== undefined && op.etag !== "" ? op.etag : "0", EMPTY, "");
    }
    try {
      await this.scripts.tandemMulti(keys.length, ...keys, ...args);
    } catch (err) {
      if (isConflict(err)) {
        const index = Number(/TANDEM_CONFLICT (\d+)/.exec(err.message)?.[1] ?? -1);
        throw new ETagMismatchError(`possible etag mismatch: operation ${index} on key ${keys[index] ?? "?"} refused; nothing was applied`);
      }
      if (err instanceof Error && /CROSSSLOT|belong to the same slot/.test(err.message)) {
        throw new StateInputError(
          "state.redis (cluster): the keys of one transaction must hash to one slot; put a common hash tag in them, e.g. {order-1}a and {order-1}b",
        );
      }
      throw err;
    }
    const strong = req.operations.some((op) => op.options.consistency === "strong");
    await this.waitIfStrong(strong ? "strong" : undefined);
  }

  /**
   * Keys with `prefix`, in byte order after `after`. SCAN with MATCH on every data node (every master
   * in a cluster), then sort: paging is by key, so pages stay stable under concurrent writes, but each
   * page costs O(keyspace) in SCAN work.
   */
  async scan(req: ScanRequest): Promise<ScanPage> {
    const pattern = `${escapeGlob(req.prefix)}*`;
    const found = new Set<string>();
    for (const node of dataNodes(this.client)) await scanNode(node, pattern, found);
    const after = req.after;
    const keys = [...found].filter((k) => k.startsWith(req.prefix) && (after === undefined || byteOrder(k, after) > 0)).sort(byteOrder);
    const page = keys.slice(0, req.limit);
    const more = keys.length > req.limit;
    if (req.keysOnly) return { entries: page.map((key) => ({ key, data: EMPTY })), more };
    const values = await Promise.all(page.map((key) => this.get({ key, metadata: {} }).catch(() => undefined)));
    const entries: ScanEntry[] = [];
    page.forEach((key, i) => {
      const v = values[i];
      if (v) entries.push({ key, data: v.data, ...(v.etag !== undefined ? { etag: v.etag } : {}) });
    });
    return { entries, more };
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /** "" leaves any expiry in place; the component default applies when the request gives none. */
  private ttlArgument(ttlSeconds: number | undefined): string {
    const ttl = ttlSeconds ?? this.options.ttlInSeconds;
    return ttl === undefined ? "" : String(Math.trunc(ttl));
  }

  private async waitIfStrong(consistency: string | undefined): Promise<void> {
    if (consistency === "strong" && this.replicas > 0 && this.options.redisType === "node") {
      await (this.client as Redis).wait(this.replicas, 1000);
    }
  }

  /** A value written as a plain string (legacy layout): data without ETag. Other types fail, as in Dapr. */
  private async getLegacy(key: string): Promise<GetResponse | undefined> {
    const data = await this.client.getBuffer(key);
    return data === null ? undefined : { data };
  }
}

async function scanNode(node: Redis, pattern: string, into: Set<string>): Promise<void> {
  let cursor = "0";
  do {
    const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
    for (const k of batch) into.add(k);
    cursor = next;
  } while (cursor !== "0");
}

export async function create(options: RedisStateOptions, ctx: ComponentContext): Promise<StateStore> {
  const logger = ctx.logger.child({ component: ctx.name, type: "state.redis" });
  const client = createRedisClient(options);
  let reported = false;
  client.on("error", (err: Error) => {
    if (!reported) logger.warn({ err }, "state.redis: connection error; reconnecting");
    reported = true;
  });
  client.on("ready", () => {
    if (reported) logger.info("state.redis: connection ready");
    reported = false;
  });
  const store = new RedisStateStore(client, options, logger);
  try {
    await store.init();
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return store;
}

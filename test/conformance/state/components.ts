/**
 * The state components under test: how to open each one, what it claims, and what it skips (each
 * skip with a reason that the test runner prints). A claimed feature must work; an unclaimed one
 * must be refused or ignored the way daprd does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StateFeature, StateStore } from "../../../src/blocks/state/contract.js";
import * as inMemory from "../../../src/components/state/in-memory.js";
import * as sqlite from "../../../src/components/state/sqlite.js";
import { freshSchema, openMysql } from "./mysql-fixture.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { openClusterRedis, openIsolatedRedis } from "./redis-env.js";
import { freshName, openPostgres } from "./postgres-fixture.js";

export interface OpenedStore {
  readonly store: StateStore;
  /** Close and open the same data again (durable stores only). */
  readonly reopen?: () => Promise<StateStore>;
  /** Close the store and remove whatever it left on disk. */
  dispose(): Promise<void>;
}

export interface ComponentUnderTest {
  /** Shown in every test title. */
  readonly name: string;
  /** Exactly what `features()` must return. */
  readonly features: readonly StateFeature[];
  /** Has `scan`: list keys and the query API (evaluated by the block) are available. */
  readonly scans: boolean;
  /** Order of bulk get results: the block's per-key fallback keeps request order; SQLite lists found rows first. */
  readonly bulkGetOrder: "request" | "found-first";
  /** Pattern every ETag the store produces matches. */
  readonly etagFormat: RegExp;
  /** Data survives close and reopen. */
  readonly durable: boolean;
  /** Behaviours this component skips, by behaviour title, with the reason printed by the runner. */
  readonly skips: Readonly<Record<string, string>>;
  /**
   * Redis's ETag rules (semantics.md §1.3) instead of the SQL stores': ETags are per-key integer
   * versions (a non-integer one is invalid, 400), an ETag on a missing key inserts and deletes
   * succeed, `last-write` ignores the ETag, and first-write refuses only keys written with first-write
   * (a plain 500 error, never inside transactions); and a save without `ttlInSeconds` keeps an
   * existing expiry.
   */
  readonly redisEtagRules?: boolean;
  /**
   * Stores whose ETag is a number (PostgreSQL v1's `xmin`): an ETag in that format no entry carries
   * (for the "missing key" cases), and a malformed ETag is invalid (400) rather than a mismatch (409).
   */
  readonly numericEtag?: { readonly absent: string };
  open(): Promise<OpenedStore>;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ctx = (name: string, rawMetadata: Record<string, string>) => ({ name, logger: silentLogger(), rawMetadata });

let tempDir: string | undefined;
let fileCounter = 0;
/** One directory per run under the OS temp dir; each store gets its own file in it. */
export function tempDatabasePath(): string {
  tempDir ??= mkdtempSync(join(tmpdir(), `tandem-state-conformance-${process.pid}-`));
  fileCounter += 1;
  return join(tempDir, `state-${fileCounter}.db`);
}
export function removeTempDir(): void {
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

function removeDatabaseFiles(path: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(path + suffix, { force: true });
}

export async function openSqlite(metadata: Record<string, string>): Promise<StateStore> {
  return sqlite.create(parseMetadata(sqlite.metadataSchema, metadata), ctx("statestore", metadata));
}

/** Hides every optional capability of a store: exercises the block's fallbacks and its refusals. */
function coreOnly(inner: StateStore): StateStore {
  return {
    features: () => ["ETAG"],
    get: (req) => inner.get(req),
    // A store without TTL ignores ttlInSeconds (daprd passes it through unchecked).
    set: (req) => {
      const { ttlSeconds: _ignored, ...rest } = req;
      return inner.set(rest);
    },
    delete: (req) => inner.delete(req),
    close: () => inner.close(),
  };
}

export const components: readonly ComponentUnderTest[] = [
  {
    name: "state.in-memory",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "request",
    etagFormat: UUID_V4,
    durable: false,
    skips: {},
    async open() {
      const metadata = { cleanupInterval: "10s" };
      const store = await inMemory.create(parseMetadata(inMemory.metadataSchema, metadata), ctx("statestore", metadata));
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: "state.sqlite (file)",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "found-first",
    etagFormat: UUID_V4,
    durable: true,
    skips: {},
    async open() {
      const path = tempDatabasePath();
      let store = await openSqlite({ connectionString: path });
      return {
        get store() {
          return store;
        },
        reopen: async () => {
          await store.close();
          store = await openSqlite({ connectionString: path });
          return store;
        },
        dispose: async () => {
          await store.close();
          removeDatabaseFiles(path);
        },
      };
    },
  },
  {
    name: "state.sqlite (:memory:)",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "found-first",
    etagFormat: UUID_V4,
    durable: false,
    skips: {},
    async open() {
      const store = await openSqlite({ connectionString: ":memory:", cleanupInterval: "1h" });
      return { store, dispose: () => store.close() };
    },
  },
  {
    // A private MariaDB (Debian's mariadb-server) started once for the suite; each store gets its own schema.
    name: "state.mysql (MariaDB)",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "found-first",
    etagFormat: UUID_V4,
    durable: true,
    skips: {},
    async open() {
      const metadata = { schemaName: freshSchema(), cleanupInterval: "1h" };
      let store = await openMysql(metadata);
      return {
        get store() {
          return store;
        },
        reopen: async () => {
          await store.close();
          store = await openMysql(metadata);
          return store;
        },
        dispose: () => store.close(),
      };
    },
  },
  {
    // Not a Tandem component: the in-memory store with every optional capability hidden, so the suite
    // also checks the block's per-key fallbacks and that unclaimed capabilities are refused.
    name: "core-only double",
    features: ["ETAG"],
    scans: false,
    bulkGetOrder: "request",
    etagFormat: UUID_V4,
    durable: false,
    skips: {},
    async open() {
      const store = coreOnly(await inMemory.create(parseMetadata(inMemory.metadataSchema, {}), ctx("statestore", {})));
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: "state.redis (single node)",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "request",
    etagFormat: /^[1-9]\d*$/,
    durable: true,
    redisEtagRules: true,
    skips: {},
    open: () => openIsolatedRedis(),
  },
  {
    name: "state.redis (cluster)",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "request",
    etagFormat: /^[1-9]\d*$/,
    durable: true,
    redisEtagRules: true,
    skips: {},
    open: () => openClusterRedis(),
  },
  {
    // A private PostgreSQL started once for the suite; each store gets its own table.
    name: "state.postgresql v1",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "found-first",
    etagFormat: /^\d+$/,
    durable: true,
    numericEtag: { absent: "4294967295" },
    skips: {
      "JSON values come back byte for byte as saved":
        "v1 stores values as jsonb, which PostgreSQL normalizes (key order, numbers, escapes), as Dapr's v1 does (components.md Layout note)",
    },
    // A metadata table per store: stores sharing one serialise their migrations on its lock row,
    // which under a loaded machine outlasts the statement timeout (postgresql-component.test.ts covers sharing).
    open: () => {
      const name = freshName();
      return openPostgresStore("v1", { tableName: name, metadataTableName: `${name}_meta` });
    },
  },
  {
    name: "state.postgresql v2",
    features: ["ETAG", "TRANSACTIONAL", "TTL"],
    scans: true,
    bulkGetOrder: "found-first",
    etagFormat: UUID_V4,
    durable: true,
    skips: {},
    open: () => openPostgresStore("v2", { tablePrefix: `${freshName()}_` }),
  },
];

async function openPostgresStore(version: "v1" | "v2", metadata: Record<string, string>): Promise<OpenedStore> {
  let store = await openPostgres(version, metadata);
  return {
    get store() {
      return store;
    },
    reopen: async () => {
      await store.close();
      store = await openPostgres(version, metadata);
      return store;
    },
    dispose: () => store.close(),
  };
}

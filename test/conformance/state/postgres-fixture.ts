/**
 * The private PostgreSQL server the state.postgresql tests share: started on first use (once per test
 * process), stopped by the `after` hook registered here. Each v1 store gets its own table, each v2
 * store its own table prefix; all share the default metadata table, as sidecars sharing a database do.
 */
import { after } from "node:test";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import * as v1 from "../../../src/components/state/postgresql-v1.js";
import * as v2 from "../../../src/components/state/postgresql-v2.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { startPostgres, type PostgresServer } from "../../harness/servers/postgres.js";

let server: Promise<PostgresServer> | undefined;
let counter = 0;

/** The suite's server, started on first call. */
export function postgres(): Promise<PostgresServer> {
  server ??= startPostgres();
  return server;
}

after(async () => {
  if (server === undefined) return;
  const s = await server.catch(() => undefined);
  server = undefined;
  await s?.stop();
});

/** A table name (v1) or prefix (v2) no other store of this process uses. */
export function freshName(): string {
  counter += 1;
  return `t${process.pid}_${counter}`;
}

export async function openPostgres(version: "v1" | "v2", metadata: Record<string, string>): Promise<StateStore> {
  const s = await postgres();
  const full = { connectionString: s.url, ...metadata };
  const mod = version === "v1" ? v1 : v2;
  return mod.create(parseMetadata(mod.metadataSchema, full), { name: "statestore", logger: silentLogger(), rawMetadata: full });
}

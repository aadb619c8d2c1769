/**
 * The private PostgreSQL server the state.postgresql tests share: started on first use (once per test
 * process), stopped when the test file ends (suiteServer). Each v1 store gets its own table, each v2
 * store its own table prefix; all share the default metadata table, as sidecars sharing a database do.
 */
import type { StateStore } from "../../../src/blocks/state/contract.js";
import * as v1 from "../../../src/components/state/postgresql-v1.js";
import * as v2 from "../../../src/components/state/postgresql-v2.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { suiteServer } from "../../harness/servers/suite-server.js";
import { startPostgres } from "../../harness/servers/postgres.js";

let counter = 0;

/** The suite's server, started on first call. */
export const postgres = suiteServer(startPostgres);

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

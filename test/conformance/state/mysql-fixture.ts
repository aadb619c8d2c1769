/**
 * The private MariaDB server the state.mysql tests share: started on first use (once per test
 * process), stopped by the `after` hook registered here. Each store gets its own schema.
 */
import { after } from "node:test";
import type { StateStore } from "../../../src/blocks/state/contract.js";
import * as mysqlState from "../../../src/components/state/mysql.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { startMariadb, type MariadbServer } from "../../harness/servers/mariadb.js";

let server: Promise<MariadbServer> | undefined;
let schemaCounter = 0;

/** The suite's server, started on first call. */
export function mariadb(): Promise<MariadbServer> {
  server ??= startMariadb();
  return server;
}

after(async () => {
  if (server === undefined) return;
  const s = await server.catch(() => undefined);
  server = undefined;
  await s?.stop();
});

/** A schema name no other store of this process uses. */
export function freshSchema(): string {
  schemaCounter += 1;
  return `tandem_${process.pid}_${schemaCounter}`;
}

export async function openMysql(metadata: Record<string, string>): Promise<StateStore> {
  const s = await mariadb();
  const full = { connectionString: s.dsn, ...metadata };
  return mysqlState.create(parseMetadata(mysqlState.metadataSchema, full), { name: "statestore", logger: silentLogger(), rawMetadata: full });
}

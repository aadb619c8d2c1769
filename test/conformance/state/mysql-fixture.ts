/**
 * The private MariaDB server the state.mysql tests share: started on first use (once per test
 * process), stopped when the test file ends (suiteServer). Each store gets its own schema.
 */
import type { StateStore } from "../../../src/blocks/state/contract.js";
import * as mysqlState from "../../../src/components/state/mysql.js";
import { parseMetadata } from "../../../src/kit/metadata-schema.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { suiteServer } from "../../harness/servers/suite-server.js";
import { startMariadb } from "../../harness/servers/mariadb.js";

let schemaCounter = 0;

/** The suite's server, started on first call. */
export const mariadb = suiteServer(startMariadb);

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

/**
 * The one state conformance suite: every capability run against every component of the table.
 * Run: node scripts/run-tests.mjs conformance
 */
import { after, describe } from "node:test";
import { bulkTests } from "./bulk.js";
import { components, removeTempDir } from "./components.js";
import { crudTests } from "./crud.js";
import { etagTests } from "./etag.js";
import { checkSkipTable } from "./fixture.js";
import { keyPrefixTests } from "./key-prefix.js";
import { listKeysTests, queryTests } from "./scan-and-query.js";
import { transactionTests } from "./transactions.js";
import { ttlTests } from "./ttl.js";

after(removeTempDir);

for (const c of components) {
  // Every test opens its own store, so the tests of one component run concurrently (the TTL waits overlap).
  void describe(`state conformance: ${c.name}`, { concurrency: true }, () => {
    crudTests(c);
    etagTests(c);
    bulkTests(c);
    transactionTests(c);
    ttlTests(c);
    keyPrefixTests(c);
    listKeysTests(c);
    queryTests(c);
    checkSkipTable(c);
  });
}

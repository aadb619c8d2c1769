/** Each state component page in docs/components lists exactly its metadata schema: names, aliases, types, defaults, descriptions. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as inMemory from "../../../src/components/state/in-memory.js";
import * as redis from "../../../src/components/state/redis.js";
import * as sqlite from "../../../src/components/state/sqlite.js";
import * as postgresqlState from "../../../src/components/state/postgresql-v1.js";
import * as mysqlState from "../../../src/components/state/mysql.js";
import { formatDuration } from "../../../src/kit/duration.js";
import type { Field, MetadataSchema } from "../../../src/kit/metadata-schema.js";

const pages: readonly [string, MetadataSchema][] = [
  ["state.in-memory", inMemory.metadataSchema],
  ["state.sqlite", sqlite.metadataSchema],
  ["state.postgresql", postgresqlState.metadataSchema],
  ["state.redis", redis.metadataSchema],
  ["state.mysql", mysqlState.metadataSchema],
];

function expectedRow(name: string, f: Field): string {
  const notes = [...(f.required ? ["required"] : []), ...(f.aliases ?? []).map((a) => `alias \`${a}\``)];
  const label = `\`${name}\`${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
  const def = f.default === undefined ? "—" : `\`${f.type === "duration" ? formatDuration(f.default) : String(f.default)}\``;
  return `| ${label} | ${f.type} | ${def} | ${f.description} |`;
}

for (const [type, schema] of pages) {
  test(`state - docs/components/${type}.md lists the metadata schema`, () => {
    const page = readFileSync(new URL(`../../../docs/components/${type}.md`, import.meta.url), "utf8");
    const rows = page.split("\n").filter((l) => /^\| `/.test(l));
    assert.deepEqual(rows, Object.entries(schema).map(([name, f]) => expectedRow(name, f)));
  });
}

/** Each pub/sub component page in docs/components lists exactly its metadata schema: names, aliases, types, defaults, descriptions. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as inMemory from "../../../src/components/pubsub/in-memory.js";
import * as redis from "../../../src/components/pubsub/redis.js";
import * as rabbitmq from "../../../src/components/pubsub/rabbitmq.js";
import * as jetstream from "../../../src/components/pubsub/jetstream.js";
import * as mqtt3 from "../../../src/components/pubsub/mqtt3.js";
import * as sqlite from "../../../src/components/pubsub/sqlite.js";
import { registeredTypes } from "../../../src/components/registry.js";
import { formatDuration } from "../../../src/kit/duration.js";
import type { Field, MetadataSchema } from "../../../src/kit/metadata-schema.js";

const pages: readonly [string, MetadataSchema][] = [
  ["pubsub.in-memory", inMemory.metadataSchema],
  ["pubsub.redis", redis.metadataSchema],
  ["pubsub.rabbitmq", rabbitmq.metadataSchema],
  ["pubsub.jetstream", jetstream.metadataSchema],
  ["pubsub.mqtt3", mqtt3.metadataSchema],
  ["pubsub.sqlite", sqlite.metadataSchema],
];

/** The row scripts/print-metadata-table.ts prints; an empty-string default shows as `""`. */
function expectedRow(name: string, f: Field): string {
  const notes = [...(f.required ? ["required"] : []), ...(f.aliases ?? []).map((a) => `alias \`${a}\``)];
  const label = `\`${name}\`${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
  const shown = f.default === undefined ? undefined : f.type === "duration" ? formatDuration(f.default) : String(f.default);
  const def = shown === undefined ? "—" : shown === "" ? '`""`' : `\`${shown}\``;
  return `| ${label} | ${f.type} | ${def} | ${f.description} |`;
}

function readDoc(path: string): string {
  return readFileSync(new URL(`../../../docs/${path}`, import.meta.url), "utf8");
}

/** The field rows of the page's "## Metadata" section (other tables on the page are not schema rows). */
function metadataRows(page: string): string[] {
  const lines = page.split("\n");
  const start = lines.indexOf("## Metadata");
  assert.ok(start !== -1, 'the page has no "## Metadata" section');
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith("## "));
  return (end === -1 ? rest : rest.slice(0, end)).filter((l) => /^\| `/.test(l));
}

for (const [type, schema] of pages) {
  test(`pubsub - docs/components/${type}.md lists the metadata schema`, () => {
    const rows = metadataRows(readDoc(`components/${type}.md`));
    assert.deepEqual(rows, Object.entries(schema).map(([name, f]) => expectedRow(name, f)));
  });
}

test("pubsub - every registered pub/sub component has a page, linked from docs/pubsub.md", () => {
  const registered = registeredTypes()
    .filter((t) => t.block === "pubsub")
    .map((t) => t.type)
    .sort();
  assert.deepEqual([...pages.map(([type]) => type)].sort(), registered);
  const overview = readDoc("pubsub.md");
  for (const type of registered) assert.ok(overview.includes(`(components/${type}.md)`), `docs/pubsub.md does not link components/${type}.md`);
});

// Prints a component's metadata table as its docs/components page holds it, from the exported
// metadata schema (the component-docs tests check the page against the same rows).
// Usage: node --import tsx scripts/print-metadata-table.ts pubsub.redis [version]
import { formatDuration } from "../src/kit/duration.js";
import type { Field } from "../src/kit/metadata-schema.js";
import { resolveComponentType } from "../src/components/registry.js";

function row(name: string, f: Field): string {
  const notes = [...(f.required ? ["required"] : []), ...(f.aliases ?? []).map((a) => `alias \`${a}\``)];
  const label = `\`${name}\`${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
  const def = f.default === undefined ? "—" : f.default === "" ? '`""`' : `\`${f.type === "duration" ? formatDuration(f.default) : String(f.default)}\``;
  return `| ${label} | ${f.type} | ${def} | ${f.description} |`;
}

const [type, version = ""] = process.argv.slice(2);
if (type === undefined) {
  process.stderr.write("usage: print-metadata-table.ts <type> [version]\n");
  process.exit(2);
}
const { metadataSchema } = await resolveComponentType(type, version).load();
const rows = Object.entries(metadataSchema).map(([name, f]) => row(name, f));
process.stdout.write(["| Field | Type | Default | Description |", "|---|---|---|---|", ...rows].join("\n") + "\n");

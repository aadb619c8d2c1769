/**
 * Loads the `--config` files: each gets `$VAR`/`${VAR}` expansion (Go's os.ExpandEnv) and must be
 * one `kind: Configuration` document; later files overlay earlier ones on daprd's defaults.
 */
import { readFile } from "node:fs/promises";
import { decodeConfigurationSpec, defaultSpec, overlay } from "./configuration.js";
import { isMap, ProblemSink, readMap, readString, type YamlMap } from "./decode.js";
import { parseDocuments } from "./documents.js";
import { expandEnv } from "./expand-env.js";
import type { ConfigurationResource, LoadContext, Origin, ResourceProblem } from "./types.js";

interface ConfigFile {
  readonly spec: YamlMap;
  readonly name: string | undefined;
  readonly origin: Origin;
}

async function readConfigFile(file: string, ctx: LoadContext, problems: ResourceProblem[]): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "the configuration file does not exist" : `cannot read the configuration file: ${(err as Error).message}`;
    problems.push({ file, message, ignorable: false });
    return undefined;
  }
  const before = problems.length;
  const docs = parseDocuments(file, expandEnv(text, ctx.env), problems);
  if (problems.length > before) return undefined;
  const first = docs[0];
  if (first === undefined) {
    problems.push({ file, message: "expected a Configuration document, the file is empty", ignorable: false });
    return undefined;
  }
  const sink = new ProblemSink(file, first.document, problems);
  for (const extra of docs.slice(1)) {
    new ProblemSink(file, extra.document, problems).report(undefined, "a configuration file holds one Configuration document; this one would be ignored");
  }
  if (!isMap(first.value)) {
    sink.report(undefined, "expected a mapping with apiVersion, kind, metadata and spec");
    return undefined;
  }
  const doc = first.value;
  if (doc["kind"] !== "Configuration") {
    sink.report("kind", `expected "Configuration", got ${typeof doc["kind"] === "string" ? JSON.stringify(doc["kind"]) : "nothing"}`);
  }
  const meta = readMap(sink, doc["metadata"], "metadata");
  const name = readString(sink, meta?.["name"], "metadata.name");
  const spec = readMap(sink, doc["spec"], "spec") ?? {};
  const origin = { file, document: first.document };
  // Validate this file's own sections so a problem names this file.
  decodeConfigurationSpec(sink, spec, name ?? "", ctx, origin);
  if (problems.length > before) return undefined;
  return { spec, name, origin };
}

/**
 * Load and merge the Configuration files given with `--config` (none: daprd's defaults — metrics
 * on, HotReload and WorkflowsRemoteActivityReminder on, no secret scopes, API logging off).
 * Problems name the file, document and field; files with problems are left out of the merge.
 * @example
 * const { configuration, problems } = await loadConfiguration(["./config.yaml"], { appId: "orders", namespace: "", env: process.env });
 */
export async function loadConfiguration(
  files: readonly string[],
  ctx: LoadContext,
): Promise<{ configuration: ConfigurationResource; problems: ResourceProblem[] }> {
  const problems: ResourceProblem[] = [];
  let spec = defaultSpec();
  let name = "";
  let origin: Origin | undefined;
  for (const file of files) {
    const loaded = await readConfigFile(file, ctx, problems);
    if (loaded === undefined) continue;
    spec = overlay(spec, loaded.spec);
    if (loaded.name !== undefined && loaded.name !== "") name = loaded.name;
    origin = loaded.origin;
  }
  // Every piece was validated in its own file; the merged view cannot add problems of its own.
  const scratch = new ProblemSink("(merged configuration)", undefined, []);
  return { configuration: decodeConfigurationSpec(scratch, spec, name, ctx, origin), problems };
}

/** Component documents (`dapr.io/v1alpha1`, kind `Component`) -> ComponentResource. */
import { parseDuration } from "../kit/duration.js";
import { child, type ProblemSink, readBool, readList, readMap, readString, readText, type YamlMap } from "./decode.js";
import { applyTemplates, hasTemplate, readNameValue } from "./metadata-values.js";
import type { ObjectMeta } from "./object-meta.js";
import type { ComponentResource, LoadContext, MetadataItem, Origin } from "./types.js";

/** `spec.type` prefixes daprd knows. `workflow` is legacy and ignored by the runtime. */
export const COMPONENT_CATEGORIES = [
  "state",
  "pubsub",
  "bindings",
  "secretstores",
  "configuration",
  "lock",
  "crypto",
  "middleware.http",
  "nameresolution",
  "conversation",
  "workflow",
] as const;

export const DEFAULT_INIT_TIMEOUT_MS = 5000;

const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why a `spec.type` is not `<category>.<name>` with a known category, or undefined when it is. */
export function invalidTypeReason(type: string): string | undefined {
  const category = COMPONENT_CATEGORIES.find((c) => type.startsWith(`${c}.`));
  const expected = `expected "<category>.<name>" with a category among ${COMPONENT_CATEGORIES.join(", ")}`;
  if (category === undefined) return `${expected}, got ${JSON.stringify(type)}`;
  const name = type.slice(category.length + 1);
  if (!TYPE_NAME.test(name)) return `${expected}, got ${JSON.stringify(type)} (the name after "${category}." is missing or malformed)`;
  return undefined;
}

/**
 * `initTimeout`: a Go duration; daprd falls back to 5 s when it does not parse (not an error).
 * A zero or negative duration would fail every init at once, so it also falls back.
 */
export function initTimeoutMs(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return DEFAULT_INIT_TIMEOUT_MS;
  const ms = parseDuration(text);
  return ms === undefined || ms <= 0 ? DEFAULT_INIT_TIMEOUT_MS : ms;
}

/** Reads `spec.ignoreErrors` early, so the other problems of the document can be marked ignorable. */
export function readIgnoreErrors(sink: ProblemSink, doc: YamlMap): boolean {
  const spec = doc["spec"];
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return false;
  return readBool(sink, (spec as YamlMap)["ignoreErrors"], "spec.ignoreErrors") ?? false;
}

/**
 * Decode a Component's `spec` (`ignoreErrors` comes from `readIgnoreErrors`); undefined when it has
 * problems (already reported to `sink`).
 */
export function decodeComponent(
  sink: ProblemSink,
  doc: YamlMap,
  meta: ObjectMeta,
  scopes: readonly string[],
  secretStore: string | undefined,
  ignoreErrors: boolean,
  ctx: LoadContext,
  origin: Origin,
): ComponentResource | undefined {
  const before = sink.count;
  const spec = readMap(sink, doc["spec"], "spec", { required: true });
  if (spec === undefined) return undefined;
  const type = readString(sink, spec["type"], "spec.type", { required: true });
  if (type !== undefined) {
    const reason = invalidTypeReason(type);
    if (reason !== undefined) sink.report("spec.type", reason);
  }
  const version = readString(sink, spec["version"], "spec.version") ?? "";
  const timeoutText = readText(sink, spec["initTimeout"], "spec.initTimeout");

  const metadata: MetadataItem[] = [];
  let namespaceScoped = false;
  const seen = new Map<string, number>();
  const items = readList(sink, spec["metadata"], "spec.metadata") ?? [];
  items.forEach((raw, i) => {
    const path = child("spec.metadata", i);
    const item = readNameValue(sink, raw, path, ctx);
    if (item === undefined) return;
    const first = seen.get(item.name.toLowerCase());
    if (first !== undefined) {
      sink.report(child(path, "name"), `duplicate metadata name ${JSON.stringify(item.name)} (also spec.metadata[${first}]; names match case-insensitively)`);
      return;
    }
    seen.set(item.name.toLowerCase(), i);
    if (item.secretKeyRef !== undefined && secretStore === undefined) {
      sink.report(child(path, "secretKeyRef"), "a secretKeyRef needs auth.secretStore naming the secret store to read it from");
      return;
    }
    const out: { -readonly [K in keyof MetadataItem]: MetadataItem[K] } = { name: item.name };
    if (item.value !== undefined) {
      if (hasTemplate(item.value)) {
        if (item.value.includes("{namespace}")) namespaceScoped = true;
        const replaced = applyTemplates(item.value, ctx);
        if ("error" in replaced) {
          sink.report(child(path, item.fromEnv ? "envRef" : "value"), replaced.error);
          return;
        }
        out.template = item.value;
        out.value = replaced.value;
      } else {
        out.value = item.value;
      }
    }
    if (item.secretKeyRef !== undefined) out.secretKeyRef = item.secretKeyRef;
    metadata.push(out);
  });
  if (sink.count > before || type === undefined) return undefined;

  const resource: { -readonly [K in keyof ComponentResource]: ComponentResource[K] } = {
    kind: "Component",
    name: meta.name,
    type,
    version,
    initTimeoutMs: initTimeoutMs(timeoutText),
    ignoreErrors,
    metadata,
    namespaceScoped,
    scopes,
    origin,
  };
  if (meta.namespace !== undefined) resource.namespace = meta.namespace;
  if (secretStore !== undefined) resource.secretStore = secretStore;
  return resource;
}

/** The parts every resource shares: `metadata.name`, `metadata.namespace`, `scopes`. */
import { child, type ProblemSink, readMap, readString, readStringList, type YamlMap } from "./decode.js";

/**
 * Why a name is not a valid path segment (Kubernetes' `IsValidPathSegmentName`, which daprd
 * applies to every resource name), or undefined when it is valid.
 */
export function invalidNameReason(name: string): string | undefined {
  if (name === "." || name === "..") return `a name may not be "${name}"`;
  if (name.includes("/")) return 'a name may not contain "/"';
  if (name.includes("%")) return 'a name may not contain "%"';
  return undefined;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
}

/**
 * `metadata.name` (required, a valid path segment unless `requireName` is false) and
 * `metadata.namespace`. Returns undefined after reporting when the name is unusable.
 */
export function readObjectMeta(sink: ProblemSink, doc: YamlMap, requireName = true): ObjectMeta | undefined {
  const meta = readMap(sink, doc["metadata"], "metadata", { required: requireName });
  if (meta === undefined) return requireName ? undefined : { name: "" };
  const before = sink.count;
  const name = readString(sink, meta["name"], "metadata.name", { required: requireName }) ?? "";
  if (name !== "") {
    const reason = invalidNameReason(name);
    if (reason !== undefined) sink.report("metadata.name", `invalid name ${JSON.stringify(name)}: ${reason}`);
  }
  const namespace = readString(sink, meta["namespace"], "metadata.namespace");
  if (sink.count > before) return undefined;
  return namespace !== undefined && namespace !== "" ? { name, namespace } : { name };
}

/** Top-level `scopes`: the app ids that may load the resource; empty = every app. */
export function readScopes(sink: ProblemSink, doc: YamlMap): string[] {
  return readStringList(sink, doc["scopes"], "scopes");
}

export function inScope(scopes: readonly string[], appId: string): boolean {
  return scopes.length === 0 || scopes.includes(appId);
}

/** `auth.secretStore`, when given. */
export function readSecretStore(sink: ProblemSink, doc: YamlMap): string | undefined {
  const auth = readMap(sink, doc["auth"], "auth");
  if (auth === undefined) return undefined;
  const store = readString(sink, auth["secretStore"], child("auth", "secretStore"));
  return store === "" ? undefined : store;
}

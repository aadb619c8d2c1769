/** HTTPEndpoint documents (`dapr.io/v1alpha1`, kind `HTTPEndpoint`) -> HttpEndpointResource. */
import { child, plainMap, type ProblemSink, readList, readMap, readString, type YamlMap } from "./decode.js";
import { readNameValue } from "./metadata-values.js";
import type { ObjectMeta } from "./object-meta.js";
import type { HttpEndpointHeader, HttpEndpointResource, LoadContext, Origin } from "./types.js";

function invalidBaseUrlReason(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return `expected an http:// or https:// URL, got ${JSON.stringify(url)}`;
  try {
    new URL(url);
  } catch {
    return `expected a valid URL, got ${JSON.stringify(url)}`;
  }
  return undefined;
}

/** Decode an HTTPEndpoint's `spec`; undefined when it has problems (already reported to `sink`). */
export function decodeHttpEndpoint(
  sink: ProblemSink,
  doc: YamlMap,
  meta: ObjectMeta,
  scopes: readonly string[],
  secretStore: string | undefined,
  ctx: LoadContext,
  origin: Origin,
): HttpEndpointResource | undefined {
  const before = sink.count;
  const spec = readMap(sink, doc["spec"], "spec", { required: true });
  if (spec === undefined) return undefined;
  const baseUrl = readString(sink, spec["baseUrl"], "spec.baseUrl", { required: true });
  if (baseUrl !== undefined) {
    const reason = invalidBaseUrlReason(baseUrl);
    if (reason !== undefined) sink.report("spec.baseUrl", reason);
  }
  const headers: HttpEndpointHeader[] = [];
  (readList(sink, spec["headers"], "spec.headers") ?? []).forEach((raw, i) => {
    const path = child("spec.headers", i);
    const item = readNameValue(sink, raw, path, ctx);
    if (item === undefined) return;
    if (item.secretKeyRef !== undefined && secretStore === undefined) {
      sink.report(child(path, "secretKeyRef"), "a secretKeyRef needs auth.secretStore naming the secret store to read it from");
      return;
    }
    headers.push({
      name: item.name,
      ...(item.value !== undefined ? { value: item.value } : {}),
      ...(item.secretKeyRef !== undefined ? { secretKeyRef: item.secretKeyRef } : {}),
    });
  });
  // clientTLS (rootCA / certificate / privateKey as {value} or {secretKeyRef}, renegotiation) is kept
  // as written; the invoke channel reads it.
  const clientTLS = readMap(sink, spec["clientTLS"], "spec.clientTLS");
  if (sink.count > before || baseUrl === undefined) return undefined;
  return {
    kind: "HTTPEndpoint",
    name: meta.name,
    baseUrl,
    headers,
    ...(clientTLS !== undefined ? { clientTLS: plainMap(clientTLS) } : {}),
    ...(secretStore !== undefined ? { secretStore } : {}),
    scopes,
    origin,
  };
}

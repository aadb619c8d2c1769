/**
 * Subscription documents (`dapr.io/v1alpha1` with `spec.route`, `dapr.io/v2alpha1` with
 * `spec.routes`) -> SubscriptionResource. v1alpha1's single route becomes one default rule, as daprd
 * converts it. No namespace filter, no duplicate check; scopes stay on the record for the runtime.
 */
import { child, isMap, type ProblemSink, readBool, readInt, readList, readMap, readString, readText, type YamlMap } from "./decode.js";
import type { ObjectMeta } from "./object-meta.js";
import type { Origin, SubscriptionResource, SubscriptionRule } from "./types.js";

export const SUBSCRIPTION_API_VERSIONS = ["dapr.io/v1alpha1", "dapr.io/v2alpha1"] as const;
export type SubscriptionApiVersion = (typeof SUBSCRIPTION_API_VERSIONS)[number];

function readRules(sink: ProblemSink, spec: YamlMap, apiVersion: SubscriptionApiVersion): SubscriptionRule[] {
  if (apiVersion === "dapr.io/v1alpha1") {
    const route = readString(sink, spec["route"], "spec.route", { required: true });
    return route === undefined ? [] : [{ path: route }];
  }
  const routes = readMap(sink, spec["routes"], "spec.routes", { required: true });
  if (routes === undefined) return [];
  const rules: SubscriptionRule[] = [];
  const list = readList(sink, routes["rules"], "spec.routes.rules") ?? [];
  list.forEach((raw, i) => {
    const path = child("spec.routes.rules", i);
    if (!isMap(raw)) {
      sink.report(path, "expected a mapping with match and path");
      return;
    }
    const match = readString(sink, raw["match"], child(path, "match"));
    const target = readString(sink, raw["path"], child(path, "path"), { required: true });
    if (target === undefined) return;
    // A rule without `match` matches every event (daprd treats it as a default in place).
    rules.push(match !== undefined && match.trim() !== "" ? { match, path: target } : { path: target });
  });
  const fallback = readString(sink, routes["default"], "spec.routes.default");
  if (fallback !== undefined && fallback !== "") rules.push({ path: fallback });
  if (list.length === 0 && (fallback === undefined || fallback === "")) {
    sink.report("spec.routes", "expected at least one of spec.routes.rules or spec.routes.default");
  }
  return rules;
}

function readBulk(sink: ProblemSink, spec: YamlMap): SubscriptionResource["bulkSubscribe"] {
  const bulk = readMap(sink, spec["bulkSubscribe"], "spec.bulkSubscribe");
  if (bulk === undefined) return undefined;
  const enabled = readBool(sink, bulk["enabled"], "spec.bulkSubscribe.enabled") ?? false;
  const count = readInt(sink, bulk["maxMessagesCount"], "spec.bulkSubscribe.maxMessagesCount", { min: 1 });
  const wait = readInt(sink, bulk["maxAwaitDurationMs"], "spec.bulkSubscribe.maxAwaitDurationMs", { min: 0 });
  return {
    enabled,
    ...(count !== undefined ? { maxMessagesCount: count } : {}),
    ...(wait !== undefined ? { maxAwaitDurationMs: wait } : {}),
  };
}

/** Decode a Subscription; undefined when it has problems (already reported to `sink`). */
export function decodeSubscription(
  sink: ProblemSink,
  doc: YamlMap,
  apiVersion: SubscriptionApiVersion,
  meta: ObjectMeta,
  scopes: readonly string[],
  origin: Origin,
): SubscriptionResource | undefined {
  const before = sink.count;
  const spec = readMap(sink, doc["spec"], "spec", { required: true });
  if (spec === undefined) return undefined;
  const pubsubname = readString(sink, spec["pubsubname"], "spec.pubsubname", { required: true });
  const topic = readString(sink, spec["topic"], "spec.topic", { required: true });
  const rules = readRules(sink, spec, apiVersion);
  const deadLetterTopic = readString(sink, spec["deadLetterTopic"], "spec.deadLetterTopic");
  const metadata: Record<string, string> = {};
  const rawMeta = readMap(sink, spec["metadata"], "spec.metadata");
  for (const [key, value] of Object.entries(rawMeta ?? {})) {
    const text = readText(sink, value, child("spec.metadata", key));
    if (text !== undefined) metadata[key] = text;
  }
  const bulkSubscribe = readBulk(sink, spec);
  if (sink.count > before || pubsubname === undefined || topic === undefined) return undefined;
  return {
    kind: "Subscription",
    apiVersion,
    name: meta.name,
    pubsubname,
    topic,
    rules,
    ...(deadLetterTopic !== undefined && deadLetterTopic !== "" ? { deadLetterTopic } : {}),
    metadata,
    ...(bulkSubscribe !== undefined ? { bulkSubscribe } : {}),
    scopes,
    origin,
  };
}

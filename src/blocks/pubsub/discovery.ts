/**
 * Programmatic subscriptions (app-callback.md §5.1): the app's `GET /dapr/subscribe` answer in the
 * v1 (`route`) or v2 (`routes`) form, keys matched case-insensitively as Go's encoding/json does,
 * merged with declarative ones (a programmatic subscription replaces a declarative one for the same
 * pubsub and topic; among declaratives the first wins).
 */
import type { BulkSubscribeOptions, RouteRule, SubscriptionSpec } from "./types.js";

export const DEFAULT_BULK: Omit<BulkSubscribeOptions, "enabled"> = { maxMessagesCount: 100, maxAwaitDurationMs: 1000 };

export class DiscoveryError extends Error {}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Exact key first, then a case-insensitive match. */
function field(o: Json, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

function str(o: Json, name: string): string {
  const v = field(o, name);
  return typeof v === "string" ? v : "";
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

function rulesOf(entry: Json): RouteRule[] {
  const rules: RouteRule[] = [];
  const routes = field(entry, "routes");
  let fallback = str(entry, "route");
  if (isObject(routes)) {
    const list = field(routes, "rules");
    if (Array.isArray(list)) {
      for (const r of list) {
        if (!isObject(r)) continue;
        const match = str(r, "match");
        rules.push(match.trim() !== "" ? { match, path: str(r, "path") } : { path: str(r, "path") });
      }
    }
    const d = str(routes, "default");
    if (d !== "") fallback = d;
  }
  if (fallback !== "") rules.push({ path: fallback });
  return rules;
}

function bulkOf(entry: Json): BulkSubscribeOptions | undefined {
  const b = field(entry, "bulkSubscribe");
  if (!isObject(b)) return undefined;
  const count = field(b, "maxMessagesCount");
  const wait = field(b, "maxAwaitDurationMs");
  return {
    enabled: field(b, "enabled") === true,
    maxMessagesCount: typeof count === "number" && count > 0 ? count : DEFAULT_BULK.maxMessagesCount,
    maxAwaitDurationMs: typeof wait === "number" && wait > 0 ? wait : DEFAULT_BULK.maxAwaitDurationMs,
  };
}

/**
 * Parses the app's answer. `warn` hears about entries that are skipped. Throws DiscoveryError for a
 * body that is not a JSON array (daprd then starts no subscription at all).
 */
export function parseProgrammaticSubscriptions(body: string, warn: (message: string) => void): SubscriptionSpec[] {
  if (body.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new DiscoveryError(`the app's /dapr/subscribe answer is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new DiscoveryError("the app's /dapr/subscribe answer is not a JSON array");
  const specs: SubscriptionSpec[] = [];
  for (const entry of parsed) {
    if (!isObject(entry)) continue;
    const pubsubname = str(entry, "pubsubname");
    const topic = str(entry, "topic");
    const rules = rulesOf(entry);
    if (rules.length === 0) {
      warn(`subscription to topic ${topic} on pubsub ${pubsubname} has no route; skipped`);
      continue;
    }
    const deadLetterTopic = str(entry, "deadLetterTopic");
    const bulkSubscribe = bulkOf(entry);
    specs.push({
      pubsubname,
      topic,
      rules,
      metadata: stringMap(field(entry, "metadata")),
      ...(deadLetterTopic !== "" ? { deadLetterTopic } : {}),
      ...(bulkSubscribe ? { bulkSubscribe } : {}),
      type: "PROGRAMMATIC",
    });
  }
  return specs;
}

/** Declaratives first-wins, then programmatic ones replace them per pubsub + topic. */
export function mergeSubscriptions(declarative: readonly SubscriptionSpec[], programmatic: readonly SubscriptionSpec[]): SubscriptionSpec[] {
  const byKey = new Map<string, SubscriptionSpec>();
  const key = (s: SubscriptionSpec) => `${s.pubsubname}\u0000${s.topic}`;
  for (const s of declarative) if (!byKey.has(key(s))) byKey.set(key(s), s);
  for (const s of programmatic) byKey.set(key(s), s);
  return [...byKey.values()];
}

/**
 * Resiliency documents (kind `Resiliency`) -> ResiliencyResource: policies with daprd's defaults,
 * targets, and a check that every policy a target names exists. Merging several documents (later
 * wins) is the runtime's job; this returns them all in load order.
 */
import { parseDurationOrNumber } from "../kit/duration.js";
import { child, describe, isMap, type ProblemSink, readEnum, readInt, readMap, readString, type YamlMap } from "./decode.js";
import type { CircuitBreakerPolicy, Origin, PolicyRefs, ResiliencyResource, RetryPolicy } from "./types.js";

/** Retry policies daprd defines itself; targets may name them, and a document may override them. */
export const BUILT_IN_RETRIES = [
  "DaprBuiltInServiceRetries",
  "DaprBuiltInActorRetries",
  "DaprBuiltInActorReminderRetries",
  "DaprBuiltInInitializationRetries",
  "DaprBuiltInActorNotFoundRetries",
] as const;
const PROTECTED_RETRY = "DaprBuiltInActorNotFoundRetries";

type PolicyKind = "timeout" | "retry" | "circuitBreaker";

/** A policy name a target uses, with where it was written, checked once every document is read. */
export interface PolicyReference {
  readonly kind: PolicyKind;
  readonly name: string;
  readonly field: string;
}

export interface DecodedResiliency {
  readonly resource: ResiliencyResource;
  readonly references: readonly PolicyReference[];
  readonly sink: ProblemSink;
}

/** A policy duration: a Go duration, or an integer (or integer string) of milliseconds. */
function readPolicyDuration(sink: ProblemSink, value: unknown, path: string, fallbackMs: number): number {
  if (value === undefined || value === null || value === "") return fallbackMs;
  const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "bigint" ? value.toString() : undefined;
  const ms = text === undefined ? undefined : parseDurationOrNumber(text, 1);
  if (ms === undefined || ms < 0 || !Number.isFinite(ms)) {
    sink.report(path, `expected a duration such as "5s" or "500ms", or an integer of milliseconds, got ${describe(value)}`);
    return fallbackMs;
  }
  return ms;
}

/** `"429,500-599"`: codes and inclusive ranges within [min, max]. */
function invalidCodesReason(text: string, min: number, max: number): string | undefined {
  if (text.trim() === "") return undefined;
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const lo = m?.[1] !== undefined ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (Number.isNaN(lo) || lo < min || hi > max || lo > hi) {
      return `expected comma-separated codes or ranges within ${min}-${max} (e.g. "${min === 0 ? "1-4,8-11,13" : "429,500-599"}"), got ${JSON.stringify(text)}`;
    }
  }
  return undefined;
}

function readRetry(sink: ProblemSink, raw: unknown, path: string): RetryPolicy | undefined {
  const map = readMap(sink, raw, path, { required: true });
  if (map === undefined) return undefined;
  const before = sink.count;
  const policy = readEnum(sink, map["policy"], child(path, "policy"), ["constant", "exponential"] as const) ?? "constant";
  const durationMs = readPolicyDuration(sink, map["duration"], child(path, "duration"), 5000);
  const maxIntervalMs = readPolicyDuration(sink, map["maxInterval"], child(path, "maxInterval"), 60_000);
  const maxRetries = readInt(sink, map["maxRetries"], child(path, "maxRetries"), { min: -1 }) ?? -1;
  let matching: { -readonly [K in keyof NonNullable<RetryPolicy["matching"]>]: string } | undefined;
  const match = readMap(sink, map["matching"], child(path, "matching"));
  if (match !== undefined) {
    matching = {};
    const http = readString(sink, match["httpStatusCodes"], child(child(path, "matching"), "httpStatusCodes"));
    const grpc = readString(sink, match["gRPCStatusCodes"], child(child(path, "matching"), "gRPCStatusCodes"));
    if (http !== undefined) {
      const reason = invalidCodesReason(http, 100, 599);
      if (reason !== undefined) sink.report(child(child(path, "matching"), "httpStatusCodes"), reason);
      matching.httpStatusCodes = http;
    }
    if (grpc !== undefined) {
      const reason = invalidCodesReason(grpc, 0, 16);
      if (reason !== undefined) sink.report(child(child(path, "matching"), "gRPCStatusCodes"), reason);
      matching.gRPCStatusCodes = grpc;
    }
  }
  if (sink.count > before) return undefined;
  return { policy, durationMs, maxIntervalMs, maxRetries, ...(matching !== undefined ? { matching } : {}) };
}

function readCircuitBreaker(sink: ProblemSink, raw: unknown, path: string): CircuitBreakerPolicy | undefined {
  const map = readMap(sink, raw, path, { required: true });
  if (map === undefined) return undefined;
  const before = sink.count;
  // gobreaker treats 0 as 1 probe and a 0 timeout as 60 s; the record carries the effective values.
  const maxRequests = readInt(sink, map["maxRequests"], child(path, "maxRequests"), { min: 0 }) ?? 1;
  const intervalMs = readPolicyDuration(sink, map["interval"], child(path, "interval"), 0);
  const timeoutMs = readPolicyDuration(sink, map["timeout"], child(path, "timeout"), 60_000);
  const trip = readString(sink, map["trip"], child(path, "trip"), { required: true });
  if (sink.count > before || trip === undefined) return undefined;
  return { maxRequests: maxRequests === 0 ? 1 : maxRequests, intervalMs, timeoutMs: timeoutMs === 0 ? 60_000 : timeoutMs, trip };
}

function readRefs(sink: ProblemSink, map: YamlMap, path: string, refs: PolicyReference[]): PolicyRefs {
  const out: { -readonly [K in keyof PolicyRefs]: string } = {};
  for (const kind of ["timeout", "retry", "circuitBreaker"] as const) {
    const name = readString(sink, map[kind], child(path, kind));
    if (name !== undefined && name !== "") {
      out[kind] = name;
      refs.push({ kind, name, field: child(path, kind) });
    }
  }
  return out;
}

/** Entries of an optional mapping at `path`, each with its own path. */
function entries(sink: ProblemSink, raw: unknown, path: string): [string, unknown, string][] {
  const map = readMap(sink, raw, path);
  return map === undefined ? [] : Object.entries(map).map(([k, v]) => [k, v, child(path, k)]);
}

function readTargets(sink: ProblemSink, spec: YamlMap, refs: PolicyReference[]): ResiliencyResource["targets"] {
  const targets = readMap(sink, spec["targets"], "spec.targets") ?? {};
  const apps: Record<string, ResiliencyResource["targets"]["apps"][string]> = {};
  for (const [name, raw, path] of entries(sink, targets["apps"], "spec.targets.apps")) {
    const map = readMap(sink, raw, path, { required: true });
    if (map === undefined) continue;
    const size = readInt(sink, map["circuitBreakerCacheSize"], child(path, "circuitBreakerCacheSize"), { min: 1 });
    apps[name] = { ...readRefs(sink, map, path, refs), ...(size !== undefined ? { circuitBreakerCacheSize: size } : {}) };
  }
  const actors: Record<string, ResiliencyResource["targets"]["actors"][string]> = {};
  for (const [name, raw, path] of entries(sink, targets["actors"], "spec.targets.actors")) {
    const map = readMap(sink, raw, path, { required: true });
    if (map === undefined) continue;
    const policyRefs = readRefs(sink, map, path, refs);
    const scope = readEnum(sink, map["circuitBreakerScope"], child(path, "circuitBreakerScope"), ["type", "id", "both"] as const);
    if (policyRefs.circuitBreaker !== undefined && scope === undefined && map["circuitBreakerScope"] === undefined) {
      sink.report(child(path, "circuitBreakerScope"), 'required when circuitBreaker is set: expected one of "type", "id", "both"');
    }
    const size = readInt(sink, map["circuitBreakerCacheSize"], child(path, "circuitBreakerCacheSize"), { min: 1 });
    actors[name] = {
      ...policyRefs,
      ...(scope !== undefined ? { circuitBreakerScope: scope } : {}),
      ...(size !== undefined ? { circuitBreakerCacheSize: size } : {}),
    };
  }
  const components: Record<string, ResiliencyResource["targets"]["components"][string]> = {};
  for (const [name, raw, path] of entries(sink, targets["components"], "spec.targets.components")) {
    const map = readMap(sink, raw, path, { required: true });
    if (map === undefined) continue;
    const inbound = readMap(sink, map["inbound"], child(path, "inbound"));
    const outbound = readMap(sink, map["outbound"], child(path, "outbound"));
    components[name] = {
      ...(inbound !== undefined ? { inbound: readRefs(sink, inbound, child(path, "inbound"), refs) } : {}),
      ...(outbound !== undefined ? { outbound: readRefs(sink, outbound, child(path, "outbound"), refs) } : {}),
    };
  }
  return { apps, actors, components };
}

/**
 * Decode one Resiliency document; undefined when it has problems (already reported). Policy
 * references are returned for `checkResiliencyReferences`, since a target may use a policy another
 * document defines (daprd merges them all).
 */
export function decodeResiliency(sink: ProblemSink, doc: YamlMap, name: string, scopes: readonly string[], origin: Origin): DecodedResiliency | undefined {
  const before = sink.count;
  const spec = readMap(sink, doc["spec"], "spec", { required: true });
  if (spec === undefined) return undefined;
  const policies = readMap(sink, spec["policies"], "spec.policies") ?? {};
  const timeouts: Record<string, number> = {};
  for (const [key, raw, path] of entries(sink, policies["timeouts"], "spec.policies.timeouts")) {
    if (raw === undefined || raw === null || raw === "" || isMap(raw) || Array.isArray(raw)) {
      sink.report(path, `expected a duration such as "5s", or an integer of milliseconds, got ${describe(raw)}`);
      continue;
    }
    timeouts[key] = readPolicyDuration(sink, raw, path, 0);
  }
  const retries: Record<string, RetryPolicy> = {};
  for (const [key, raw, path] of entries(sink, policies["retries"], "spec.policies.retries")) {
    if (key === PROTECTED_RETRY) {
      sink.report(path, `${PROTECTED_RETRY} is a protected built-in policy and cannot be overridden`);
      continue;
    }
    const retry = readRetry(sink, raw, path);
    if (retry !== undefined) retries[key] = retry;
  }
  const circuitBreakers: Record<string, CircuitBreakerPolicy> = {};
  for (const [key, raw, path] of entries(sink, policies["circuitBreakers"], "spec.policies.circuitBreakers")) {
    const cb = readCircuitBreaker(sink, raw, path);
    if (cb !== undefined) circuitBreakers[key] = cb;
  }
  const references: PolicyReference[] = [];
  const targets = readTargets(sink, spec, references);
  if (sink.count > before) return undefined;
  return { resource: { kind: "Resiliency", name, timeouts, retries, circuitBreakers, targets, scopes, origin }, references, sink };
}

/**
 * Every policy a target names must exist in some loaded Resiliency document (or be a built-in
 * retry). daprd silently applies no policy instead; Tandem reports it. Returns the documents that
 * passed.
 */
export function checkResiliencyReferences(decoded: readonly DecodedResiliency[]): ResiliencyResource[] {
  const known: Record<PolicyKind, Set<string>> = { timeout: new Set(), retry: new Set(BUILT_IN_RETRIES), circuitBreaker: new Set() };
  for (const { resource } of decoded) {
    for (const k of Object.keys(resource.timeouts)) known.timeout.add(k);
    for (const k of Object.keys(resource.retries)) known.retry.add(k);
    for (const k of Object.keys(resource.circuitBreakers)) known.circuitBreaker.add(k);
  }
  const label: Record<PolicyKind, string> = { timeout: "timeout", retry: "retry", circuitBreaker: "circuit breaker" };
  const plural: Record<PolicyKind, string> = { timeout: "timeouts", retry: "retries", circuitBreaker: "circuitBreakers" };
  const ok: ResiliencyResource[] = [];
  for (const { resource, references, sink } of decoded) {
    const before = sink.count;
    for (const ref of references) {
      if (!known[ref.kind].has(ref.name)) {
        sink.report(ref.field, `unknown ${label[ref.kind]} policy ${JSON.stringify(ref.name)}: expected a name defined under spec.policies.${plural[ref.kind]}`);
      }
    }
    if (sink.count === before) ok.push(resource);
  }
  return ok;
}

/**
 * The `spec` of a Configuration -> the typed ConfigurationResource: each section with a shape is
 * validated (field paths under `spec.`), daprd's defaults are applied, `metrics` overlays `metric`,
 * and the OTEL_EXPORTER_OTLP_* environment fills an unset OpenTelemetry endpoint.
 */
import {
  child,
  describe,
  isMap,
  plainMap,
  type ProblemSink,
  readBool,
  readEnum,
  readInt,
  readList,
  readMap,
  readString,
  readStringList,
  readText,
  type YamlMap,
} from "./decode.js";
import type { ApiRule, ConfigurationResource, LoadContext, Origin, SecretScope } from "./types.js";

/** Feature flags daprd 1.18 enables unless a Configuration says otherwise. */
export const DEFAULT_FEATURES: Readonly<Record<string, boolean>> = { HotReload: true, WorkflowsRemoteActivityReminder: true };

/** daprd's `LoadDefaultConfiguration`: what every Configuration file is overlaid on. */
export function defaultSpec(): YamlMap {
  return {
    tracing: { otel: { isSecure: true } },
    metric: { enabled: true },
    accessControl: { defaultAction: "allow", trustDomain: "public" },
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function readTracing(sink: ProblemSink, raw: unknown, env: LoadContext["env"]): ConfigurationResource["tracing"] {
  const path = "spec.tracing";
  const t = readMap(sink, raw, path) ?? {};
  const out: Mutable<ConfigurationResource["tracing"]> = { stdout: readBool(sink, t["stdout"], child(path, "stdout")) ?? false };
  let samplingRate = readText(sink, t["samplingRate"], child(path, "samplingRate"));
  if (samplingRate !== undefined && samplingRate.trim() !== "") {
    const rate = Number(samplingRate.trim());
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
      sink.report(child(path, "samplingRate"), `expected a number from 0 to 1 (e.g. "1" or "0.01"), got ${describe(samplingRate)}`);
    }
  }
  const zipkin = readMap(sink, t["zipkin"], child(path, "zipkin"));
  if (zipkin !== undefined) {
    const endpointAddress = readString(sink, zipkin["endpointAddress"], "spec.tracing.zipkin.endpointAddress", { required: true });
    if (endpointAddress !== undefined) out.zipkin = { endpointAddress };
  }
  const otel = readMap(sink, t["otel"], child(path, "otel")) ?? {};
  let endpointAddress = readString(sink, otel["endpointAddress"], "spec.tracing.otel.endpointAddress") ?? "";
  let protocol = readEnum(sink, otel["protocol"], "spec.tracing.otel.protocol", ["grpc", "http"] as const);
  let isSecure = readBool(sink, otel["isSecure"], "spec.tracing.otel.isSecure") ?? true;
  const headers = otel["headers"];
  if (headers !== undefined && headers !== null && typeof headers !== "string") {
    (readList(sink, headers, "spec.tracing.otel.headers") ?? []).forEach((h, i) => {
      const hp = child("spec.tracing.otel.headers", i);
      const m = readMap(sink, h, hp, { required: true });
      if (m !== undefined) readString(sink, m["name"], child(hp, "name"), { required: true });
    });
  }
  if (endpointAddress === "") {
    // daprd's SetTracingSpecFromEnv: the standard OTLP variables fill an unset endpoint.
    const fromEnv = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] || env["OTEL_EXPORTER_OTLP_ENDPOINT"] || "";
    if (fromEnv !== "") {
      endpointAddress = fromEnv.replace(/^http:\/\//, "").replace(/^https:\/\//, "");
      if (samplingRate === undefined || samplingRate === "") samplingRate = "1";
      const p = env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] || env["OTEL_EXPORTER_OTLP_PROTOCOL"] || "";
      protocol = p.startsWith("http") ? "http" : "grpc";
      if (env["OTEL_EXPORTER_OTLP_INSECURE"] === "true") isSecure = false;
    }
  }
  if (samplingRate !== undefined && samplingRate !== "") out.samplingRate = samplingRate;
  if (endpointAddress !== "") out.otel = { endpointAddress, isSecure, ...(protocol !== undefined ? { protocol } : {}) };
  return out;
}

interface MetricSection {
  enabled?: boolean;
  http?: { increasedCardinality?: boolean; pathMatching?: readonly string[] };
}

function readMetricSection(sink: ProblemSink, raw: unknown, path: string): MetricSection {
  const m = readMap(sink, raw, path);
  if (m === undefined) return {};
  const out: MetricSection = {};
  const enabled = readBool(sink, m["enabled"], child(path, "enabled"));
  if (enabled !== undefined) out.enabled = enabled;
  readBool(sink, m["recordErrorCodes"], child(path, "recordErrorCodes"));
  const http = readMap(sink, m["http"], child(path, "http"));
  if (http !== undefined) {
    const hp = child(path, "http");
    const inc = readBool(sink, http["increasedCardinality"], child(hp, "increasedCardinality"));
    readBool(sink, http["excludeVerbs"], child(hp, "excludeVerbs"));
    out.http = {
      ...(inc !== undefined ? { increasedCardinality: inc } : {}),
      ...(http["pathMatching"] !== undefined && http["pathMatching"] !== null ? { pathMatching: readStringList(sink, http["pathMatching"], child(hp, "pathMatching")) } : {}),
    };
  }
  (readList(sink, m["rules"], child(path, "rules")) ?? []).forEach((r, i) => {
    const rp = child(child(path, "rules"), i);
    const rule = readMap(sink, r, rp, { required: true });
    if (rule === undefined) return;
    readString(sink, rule["name"], child(rp, "name"), { required: true });
    (readList(sink, rule["labels"], child(rp, "labels")) ?? []).forEach((l, j) => {
      const lp = child(child(rp, "labels"), j);
      const label = readMap(sink, l, lp, { required: true });
      if (label === undefined) return;
      readString(sink, label["name"], child(lp, "name"), { required: true });
      for (const [k, v] of Object.entries(readMap(sink, label["regex"], child(lp, "regex")) ?? {})) readString(sink, v, child(child(lp, "regex"), k));
    });
  });
  (readList(sink, m["latencyDistributionBuckets"], child(path, "latencyDistributionBuckets")) ?? []).forEach((b, i) =>
    readInt(sink, b, child(child(path, "latencyDistributionBuckets"), i), { min: 0, required: true }),
  );
  return out;
}

/** `metric` with `metrics` (daprd's alias) overlaid field by field, as daprd's `sortMetricsSpec`. */
function readMetric(sink: ProblemSink, spec: YamlMap): ConfigurationResource["metric"] {
  const metric = readMetricSection(sink, spec["metric"], "spec.metric");
  const metrics = readMetricSection(sink, spec["metrics"], "spec.metrics");
  const http = metrics.http ?? metric.http;
  return { enabled: metrics.enabled ?? metric.enabled ?? true, ...(http !== undefined ? { http } : {}) };
}

function readNameResolution(sink: ProblemSink, raw: unknown): ConfigurationResource["nameResolution"] {
  const nr = readMap(sink, raw, "spec.nameResolution");
  if (nr === undefined) return undefined;
  const component = readString(sink, nr["component"], "spec.nameResolution.component", { required: true });
  const version = readString(sink, nr["version"], "spec.nameResolution.version");
  const configuration = readMap(sink, nr["configuration"], "spec.nameResolution.configuration") ?? {};
  if (component === undefined) return undefined;
  return { component, ...(version !== undefined && version !== "" ? { version } : {}), configuration: plainMap(configuration) };
}

function readSecretScopes(sink: ProblemSink, raw: unknown): SecretScope[] {
  const secrets = readMap(sink, raw, "spec.secrets") ?? {};
  const out: SecretScope[] = [];
  const seen = new Set<string>();
  (readList(sink, secrets["scopes"], "spec.secrets.scopes") ?? []).forEach((s, i) => {
    const path = child("spec.secrets.scopes", i);
    const scope = readMap(sink, s, path, { required: true });
    if (scope === undefined) return;
    const storeName = readString(sink, scope["storeName"], child(path, "storeName"), { required: true });
    const defaultAccess = readEnum(sink, scope["defaultAccess"], child(path, "defaultAccess"), ["allow", "deny"] as const) ?? "allow";
    const allowedSecrets = readStringList(sink, scope["allowedSecrets"], child(path, "allowedSecrets"));
    const deniedSecrets = readStringList(sink, scope["deniedSecrets"], child(path, "deniedSecrets"));
    if (storeName === undefined) return;
    if (seen.has(storeName)) {
      sink.report(child(path, "storeName"), `secret store ${JSON.stringify(storeName)} is scoped twice`);
      return;
    }
    seen.add(storeName);
    out.push({ storeName, defaultAccess, allowedSecrets, deniedSecrets });
  });
  return out;
}

function readApiRules(sink: ProblemSink, raw: unknown, path: string): ApiRule[] {
  const out: ApiRule[] = [];
  (readList(sink, raw, path) ?? []).forEach((r, i) => {
    const rp = child(path, i);
    const rule = readMap(sink, r, rp, { required: true });
    if (rule === undefined) return;
    const name = readString(sink, rule["name"], child(rp, "name"), { required: true });
    const version = readString(sink, rule["version"], child(rp, "version"), { required: true });
    // daprd keeps a rule only for the protocol it names; a rule without one applies nowhere.
    const protocol = readEnum(sink, rule["protocol"], child(rp, "protocol"), ["http", "grpc"] as const, { required: true });
    if (name !== undefined && version !== undefined && protocol !== undefined) out.push({ name, version, protocol });
  });
  return out;
}

function readPipeline(sink: ProblemSink, raw: unknown, path: string): { name: string; type: string }[] {
  const pipeline = readMap(sink, raw, path);
  if (pipeline === undefined) return [];
  const out: { name: string; type: string }[] = [];
  (readList(sink, pipeline["handlers"], child(path, "handlers")) ?? []).forEach((h, i) => {
    const hp = child(child(path, "handlers"), i);
    const handler = readMap(sink, h, hp, { required: true });
    if (handler === undefined) return;
    const name = readString(sink, handler["name"], child(hp, "name"), { required: true });
    const type = readString(sink, handler["type"], child(hp, "type"), { required: true });
    readString(sink, handler["version"], child(hp, "version"));
    readMap(sink, handler["selector"], child(hp, "selector"));
    if (type !== undefined && !/^middleware\.http\.[A-Za-z0-9][A-Za-z0-9._-]*$/.test(type)) {
      sink.report(child(hp, "type"), `expected a middleware type "middleware.http.<name>", got ${JSON.stringify(type)}`);
      return;
    }
    if (name !== undefined && type !== undefined) out.push({ name, type });
  });
  return out;
}

function readFeatures(sink: ProblemSink, raw: unknown): Record<string, boolean> {
  const out: Record<string, boolean> = { ...DEFAULT_FEATURES };
  (readList(sink, raw, "spec.features") ?? []).forEach((f, i) => {
    const path = child("spec.features", i);
    const feature = readMap(sink, f, path, { required: true });
    if (feature === undefined) return;
    const name = readString(sink, feature["name"], child(path, "name"), { required: true });
    const enabled = readBool(sink, feature["enabled"], child(path, "enabled")) ?? false;
    if (name !== undefined) out[name] = enabled;
  });
  return out;
}

function readApiLogging(sink: ProblemSink, raw: unknown): ConfigurationResource["logging"] {
  const logging = readMap(sink, raw, "spec.logging") ?? {};
  const api = readMap(sink, logging["apiLogging"], "spec.logging.apiLogging") ?? {};
  const flag = (key: string): boolean => readBool(sink, api[key], child("spec.logging.apiLogging", key)) ?? false;
  return { apiLogging: { enabled: flag("enabled"), obfuscateURLs: flag("obfuscateURLs"), omitHealthChecks: flag("omitHealthChecks") } };
}

/**
 * Decode a Configuration `spec` (already overlaid on `defaultSpec()` when building the final
 * record). Sections without a checked shape (workflow, mtls, wasm) are ignored; accessControl is
 * kept as written for the invocation ACL.
 */
export function decodeConfigurationSpec(sink: ProblemSink, spec: YamlMap, name: string, ctx: LoadContext, origin?: Origin): ConfigurationResource {
  const accessControl = readMap(sink, spec["accessControl"], "spec.accessControl");
  const api = readMap(sink, spec["api"], "spec.api") ?? {};
  const components = readMap(sink, spec["components"], "spec.components") ?? {};
  const nameResolution = readNameResolution(sink, spec["nameResolution"]);
  return {
    kind: "Configuration",
    name,
    tracing: readTracing(sink, spec["tracing"], ctx.env),
    metric: readMetric(sink, spec),
    ...(nameResolution !== undefined ? { nameResolution } : {}),
    secrets: { scopes: readSecretScopes(sink, spec["secrets"]) },
    ...(accessControl !== undefined ? { accessControl: plainMap(accessControl) } : {}),
    api: { allowed: readApiRules(sink, api["allowed"], "spec.api.allowed"), denied: readApiRules(sink, api["denied"], "spec.api.denied") },
    components: { deny: readStringList(sink, components["deny"], "spec.components.deny") },
    features: readFeatures(sink, spec["features"]),
    logging: readApiLogging(sink, spec["logging"]),
    appHttpPipeline: readPipeline(sink, spec["appHttpPipeline"], "spec.appHttpPipeline"),
    httpPipeline: readPipeline(sink, spec["httpPipeline"], "spec.httpPipeline"),
    ...(origin !== undefined ? { origin } : {}),
  };
}

/**
 * Overlay `top` on `base` as Go's YAML decoder does when several files are read into one struct:
 * mappings merge key by key, lists and scalars are replaced.
 */
export function overlay(base: YamlMap, top: YamlMap): YamlMap {
  const out: YamlMap = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const prev = out[key];
    out[key] = isMap(prev) && isMap(value) ? overlay(prev, value) : value;
  }
  return out;
}

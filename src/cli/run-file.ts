/**
 * Dapr's multi-app run file (`dapr.yaml`), read unchanged (spec/cli.md "Multi-app run file"):
 * decoded into a typed record (errors name the field), then resolved as the dapr CLI does it —
 * paths, `common` defaults, `env` merge, resources and config precedence with `$TANDEM_HOME` in
 * place of `~/.dapr`, app ids and log destinations.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { AppSpec } from "./app-spec.js";
import { CliError } from "./context.js";
import { componentsDir, configFile, expandHome, type Env } from "./home.js";
import type { LogDestination } from "./output.js";

type Kind = "string" | "int" | "port" | "bool" | "strings" | "env" | "logDestination" | "protocol" | "logLevel" | "ignored";

/** SharedRunConfig: allowed in `common` and in each app. */
const SHARED = {
  configFilePath: "string",
  appProtocol: "protocol",
  apiListenAddresses: "string",
  enableProfiling: "bool",
  logLevel: "logLevel",
  appMaxConcurrency: "int",
  placementHostAddress: "string",
  resourcesPath: "string",
  resourcesPaths: "strings",
  appSSL: "bool",
  maxBodySize: "string",
  readBufferSize: "string",
  enableAppHealthCheck: "bool",
  appHealthCheckPath: "string",
  appHealthProbeInterval: "int",
  appHealthProbeTimeout: "int",
  appHealthThreshold: "int",
  enableApiLogging: "bool",
  runtimePath: "string",
  env: "env",
  daprdLogDestination: "logDestination",
  appLogDestination: "logDestination",
  schedulerHostAddress: "string",
} as const satisfies Record<string, Kind>;

/** RunConfig and the app entry's own keys (the container ones are Kubernetes-only: ignored). */
const APP_ONLY = {
  appID: "string",
  appDirPath: "string",
  appChannelAddress: "string",
  appPort: "port",
  daprHTTPPort: "port",
  daprGRPCPort: "port",
  daprInternalGRPCPort: "port",
  metricsPort: "port",
  profilePort: "port",
  unixDomainSocket: "string",
  command: "strings",
  containerImage: "ignored",
  containerImagePullPolicy: "ignored",
  createService: "ignored",
} as const satisfies Record<string, Kind>;

type ValueOf<K extends Kind> = K extends "int" | "port"
  ? number
  : K extends "bool"
    ? boolean
    : K extends "strings"
      ? string[]
      : K extends "env"
        ? Record<string, string>
        : K extends "logDestination"
          ? LogDestination
          : K extends "ignored"
            ? unknown
            : string;
export type SharedFields = { -readonly [K in keyof typeof SHARED]?: ValueOf<(typeof SHARED)[K]> };
export type AppFields = SharedFields & { -readonly [K in keyof typeof APP_ONLY]?: ValueOf<(typeof APP_ONLY)[K]> };

export interface RunFile {
  readonly version: number;
  readonly name?: string;
  readonly common: SharedFields;
  readonly apps: readonly AppFields[];
  /** Unknown keys (ignored, as the dapr CLI does). */
  readonly warnings: readonly string[];
}

const LOG_DESTINATIONS = ["console", "file", "fileAndConsole"];
const PROTOCOLS = ["http", "https", "h2c", "grpc", "grpcs"];
const LEVELS = ["debug", "info", "warn", "error", "fatal"];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function decodeValue(kind: Kind, v: unknown, field: string, errors: string[]): unknown {
  const bad = (expected: string) => {
    errors.push(`${field}: expected ${expected}, got ${JSON.stringify(v)}`);
    return undefined;
  };
  const scalar = (x: unknown): string | undefined => (typeof x === "string" ? x : typeof x === "number" || typeof x === "boolean" ? String(x) : undefined);
  switch (kind) {
    case "ignored":
      return v;
    case "string":
      return scalar(v) ?? bad("a string");
    case "protocol":
    case "logLevel":
    case "logDestination": {
      const allowed = kind === "protocol" ? PROTOCOLS : kind === "logLevel" ? LEVELS : LOG_DESTINATIONS;
      const s = scalar(v);
      if (s === undefined || s === "") return s ?? bad(`one of ${allowed.join(", ")}`);
      const match = allowed.find((a) => a.toLowerCase() === s.toLowerCase());
      return match ?? bad(`one of ${allowed.join(", ")}`);
    }
    case "int":
    case "port": {
      const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isInteger(n)) return bad("an integer");
      if (kind === "port" && n > 65535) return bad("a port between 1 and 65535");
      return n;
    }
    case "bool":
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "false") return v === "true";
      return bad("true or false");
    case "strings":
      if (!Array.isArray(v)) return bad("a list of strings");
      return v.map((x, i) => scalar(x) ?? decodeValue("string", x, `${field}[${i}]`, errors));
    case "env": {
      if (!isMap(v)) return bad("a map of names to values");
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v)) {
        const s = x === null ? "" : scalar(x);
        if (s === undefined) errors.push(`${field}.${k}: expected a string, got ${JSON.stringify(x)}`);
        else out[k] = s;
      }
      return out;
    }
  }
}

function decodeSection<T>(raw: unknown, fields: Readonly<Record<string, Kind>>, where: string, errors: string[], warnings: string[]): T {
  const out: Record<string, unknown> = {};
  if (raw === undefined || raw === null) return out as T;
  if (!isMap(raw)) {
    errors.push(`${where}: expected a map`);
    return out as T;
  }
  for (const [key, value] of Object.entries(raw)) {
    const kind = fields[key];
    if (kind === undefined) {
      warnings.push(`${where}.${key}: unknown field, ignored`);
      continue;
    }
    if (value === null || kind === "ignored") continue;
    const decoded = decodeValue(kind, value, `${where}.${key}`, errors);
    if (decoded !== undefined) out[key] = decoded;
  }
  return out as T;
}

/** Decode the YAML text of a run file; all type errors are reported at once. */
export function parseRunFile(text: string, source = "run file"): RunFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new CliError(`${source}: invalid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
  const raw: unknown = doc.toJS();
  if (!isMap(raw)) throw new CliError(`${source}: expected a map with version, common and apps`);
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const key of Object.keys(raw)) if (!["version", "name", "common", "apps"].includes(key)) warnings.push(`${key}: unknown field, ignored`);
  const version = decodeValue("int", raw.version ?? 0, "version", errors) as number | undefined;
  if (version === 0) errors.push("version: required (a non-zero integer)");
  const name = raw.name === undefined || raw.name === null ? undefined : (decodeValue("string", raw.name, "name", errors) as string | undefined);
  const common = decodeSection<SharedFields>(raw.common, SHARED, "common", errors, warnings);
  const apps: AppFields[] = [];
  if (raw.apps === undefined || raw.apps === null) errors.push("apps: required (a list of apps)");
  else if (!Array.isArray(raw.apps)) errors.push("apps: expected a list");
  else raw.apps.forEach((a, i) => apps.push(decodeSection<AppFields>(a, { ...SHARED, ...APP_ONLY }, `apps[${i}]`, errors, warnings)));
  if (Array.isArray(raw.apps) && raw.apps.length === 0) errors.push("apps: at least one app is required");
  if (errors.length > 0) throw new CliError(`${source}:\n  ${errors.join("\n  ")}`);
  return { version: version ?? 0, common, apps, warnings, ...(name !== undefined ? { name } : {}) };
}

export interface ResolvedApp {
  readonly spec: AppSpec;
  readonly appDirPath: string;
  readonly appLogDestination: LogDestination;
  readonly daprdLogDestination: LogDestination;
}

export interface ResolvedRunFile {
  readonly path: string;
  readonly name?: string;
  readonly apps: readonly ResolvedApp[];
  /** Some app uses `$TANDEM_HOME/components` / `$TANDEM_HOME/config.yaml`. */
  readonly defaultResources: boolean;
  readonly defaultConfig: boolean;
  readonly warnings: readonly string[];
}

/** `-f <file|dir>`: a directory means its `dapr.yaml`. */
export function runFilePath(given: string, cwd: string, env: Env): string {
  const p = resolve(cwd, expandHome(given, env));
  if (!existsSync(p)) throw new CliError(`run file ${p} does not exist`);
  if (statSync(p).isDirectory()) {
    const file = join(p, "dapr.yaml");
    if (!existsSync(file)) throw new CliError(`no dapr.yaml in directory ${p}`);
    return file;
  }
  return p;
}

export function loadRunFile(path: string, home: string, env: Env): ResolvedRunFile {
  return resolveRunFile(parseRunFile(readFileSync(path, "utf8"), path), path, home, env);
}

const isZero = (v: unknown): boolean =>
  v === undefined || v === "" || v === 0 || v === false || (Array.isArray(v) && v.length === 0) || (isMap(v) && Object.keys(v).length === 0);

/** Resolve paths, defaults and precedence for every app (spec/cli.md; dapr `runfileconfig`). */
export function resolveRunFile(file: RunFile, path: string, home: string, env: Env): ResolvedRunFile {
  const baseDir = dirname(resolve(path));
  const errors: string[] = [];
  const existing = (p: string | undefined, dir: string, field: string): string | undefined => {
    if (p === undefined || p.trim() === "") return undefined;
    const abs = resolve(dir, expandHome(p, env));
    if (!existsSync(abs)) {
      errors.push(`${field}: ${abs} does not exist`);
      return undefined;
    }
    return abs;
  };
  const paths = (list: readonly string[] | undefined, single: string | undefined, dir: string, field: string): string[] => {
    const out = (list ?? []).map((p, i) => existing(p, dir, `${field}s[${i}]`)).filter((p): p is string => p !== undefined);
    const one = existing(single, dir, field);
    return one !== undefined ? [...out, one] : out;
  };
  const c = file.common;
  const commonResources = paths(c.resourcesPaths, c.resourcesPath, baseDir, "common.resourcesPath");
  const commonConfig = existing(c.configFilePath, baseDir, "common.configFilePath");
  existing(c.runtimePath, baseDir, "common.runtimePath");

  let defaultResources = false;
  let defaultConfig = false;
  const apps: ResolvedApp[] = [];
  file.apps.forEach((a, i) => {
    const where = `apps[${i}]`;
    if (a.appDirPath === undefined || a.appDirPath.trim() === "") {
      errors.push(`${where}.appDirPath: required`);
      return;
    }
    const appDir = existing(a.appDirPath, baseDir, `${where}.appDirPath`);
    if (appDir === undefined) return;
    let resources = paths(a.resourcesPaths, a.resourcesPath, appDir, `${where}.resourcesPath`);
    if (resources.length === 0) {
      const local = join(appDir, ".dapr", "resources");
      if (existsSync(local)) resources = [local];
      else if (commonResources.length > 0) resources = commonResources;
      else {
        resources = [componentsDir(home)];
        defaultResources = true;
      }
    }
    let config = existing(a.configFilePath, appDir, `${where}.configFilePath`);
    if (config === undefined) {
      const local = join(appDir, ".dapr", "config.yaml");
      if (existsSync(local)) config = local;
      else if (commonConfig !== undefined) config = commonConfig;
      else {
        config = configFile(home);
        defaultConfig = true;
      }
    }
    existing(a.runtimePath, appDir, `${where}.runtimePath`);
    // Each common field fills only app fields left at their zero value; env merges key by key.
    const merged: AppFields = { ...a };
    for (const [k, v] of Object.entries(c)) {
      if (k !== "env" && isZero(merged[k as keyof AppFields])) (merged as Record<string, unknown>)[k] = v;
    }
    const appId = a.appID !== undefined && a.appID !== "" ? a.appID : basename(appDir);
    const port = (n: number | undefined) => (n !== undefined && n > 0 ? n : undefined);
    const text = (s: string | undefined) => (s !== undefined && s !== "" ? s : undefined);
    const optional = <K extends keyof AppSpec>(key: K, value: AppSpec[K] | undefined) => (value === undefined ? {} : { [key]: value });
    const spec: AppSpec = {
      appId,
      command: a.command ?? [],
      cwd: appDir,
      appProtocol: text(merged.appProtocol) ?? "http",
      appChannelAddress: text(merged.appChannelAddress) ?? "127.0.0.1",
      enableProfiling: merged.enableProfiling === true,
      resourcesPaths: resources,
      configFile: config,
      enableAppHealthCheck: merged.enableAppHealthCheck === true,
      enableApiLogging: merged.enableApiLogging === true,
      appSsl: merged.appSSL === true,
      env: { ...c.env, ...a.env },
      ...optional("appPort", port(a.appPort)),
      ...optional("daprHttpPort", port(a.daprHTTPPort)),
      ...optional("daprGrpcPort", port(a.daprGRPCPort)),
      ...optional("daprInternalGrpcPort", port(a.daprInternalGRPCPort)),
      ...optional("metricsPort", port(a.metricsPort)),
      ...optional("profilePort", port(a.profilePort)),
      ...optional("appMaxConcurrency", merged.appMaxConcurrency !== undefined && merged.appMaxConcurrency > 0 ? merged.appMaxConcurrency : undefined),
      ...optional("appHealthCheckPath", text(merged.appHealthCheckPath)),
      ...optional("appHealthProbeInterval", merged.appHealthProbeInterval || undefined),
      ...optional("appHealthProbeTimeout", merged.appHealthProbeTimeout || undefined),
      ...optional("appHealthThreshold", merged.appHealthThreshold || undefined),
      ...optional("maxBodySize", text(merged.maxBodySize)),
      ...optional("readBufferSize", text(merged.readBufferSize)),
      ...optional("unixDomainSocket", text(a.unixDomainSocket) !== undefined ? resolve(appDir, expandHome(a.unixDomainSocket as string, env)) : undefined),
      ...optional("logLevel", text(merged.logLevel)),
      ...optional("daprListenAddresses", text(merged.apiListenAddresses)),
      ...optional("placementHostAddress", text(merged.placementHostAddress)),
      ...optional("schedulerHostAddress", text(merged.schedulerHostAddress)),
    };
    apps.push({
      spec,
      appDirPath: appDir,
      appLogDestination: merged.appLogDestination ?? "fileAndConsole",
      daprdLogDestination: merged.daprdLogDestination ?? "file",
    });
  });
  const seen = new Set<string>();
  for (const app of apps) {
    if (seen.has(app.spec.appId)) errors.push(`apps: app id "${app.spec.appId}" is used twice (set appID)`);
    seen.add(app.spec.appId);
  }
  if (errors.length > 0) throw new CliError(`${path}:\n  ${errors.join("\n  ")}`);
  return { path: resolve(path), apps, defaultResources, defaultConfig, warnings: file.warnings, ...(file.name !== undefined ? { name: file.name } : {}) };
}

/**
 * `tandem sidecar` flags: daprd's names and defaults (spec/cli.md §2). Go's flag syntax is
 * accepted (`-app-id x`, `--app-id=x`, `--flag` / `--flag=false` for booleans). An unknown flag or
 * a bad value is a FlagError naming the flag.
 */
import { parseDuration } from "../kit/duration.js";
import { parseQuantity } from "../kit/quantity.js";
import type { AppProtocol, LogLevel, SidecarConfig } from "../runtime/config.js";

export class FlagError extends Error {}

type Kind = "string" | "int" | "bool" | "list" | "quantity" | "duration" | "ignored";
interface FlagSpec {
  readonly kind: Kind;
  readonly aliases?: readonly string[];
  readonly oneOf?: readonly string[];
  readonly help: string;
}

export const SIDECAR_FLAGS: Readonly<Record<string, FlagSpec>> = {
  "app-id": { kind: "string", help: "app identity (state key prefix, service discovery, consumer group)" },
  mode: { kind: "string", oneOf: ["standalone", "kubernetes"], help: "standalone | kubernetes (default standalone)" },
  "dapr-http-port": { kind: "int", help: "HTTP API port (default 3500)" },
  "dapr-grpc-port": { kind: "int", help: "gRPC API port (default 50001)" },
  "dapr-internal-grpc-port": { kind: "int", help: "sidecar-to-sidecar port" },
  "dapr-internal-grpc-listen-address": { kind: "string", help: "sidecar-to-sidecar bind address" },
  "dapr-listen-addresses": { kind: "list", help: "bind addresses of the APIs, CSV (default all interfaces)" },
  "dapr-public-port": { kind: "int", help: "public healthz + metadata port" },
  "dapr-public-listen-address": { kind: "string", help: "public listener bind address" },
  "app-port": { kind: "int", help: "the app's port; empty = no app channel" },
  "app-protocol": { kind: "string", oneOf: ["http", "https", "h2c", "grpc", "grpcs"], help: "http | https | h2c | grpc | grpcs (default http)" },
  "app-channel-address": { kind: "string", help: "the app's host (default 127.0.0.1)" },
  "app-max-concurrency": { kind: "int", help: "max concurrent requests to the app (-1 unlimited)" },
  "app-ssl": { kind: "bool", help: "deprecated: use --app-protocol https|grpcs" },
  "resources-path": { kind: "list", aliases: ["components-path"], help: "resources directory (repeatable, or CSV)" },
  config: { kind: "list", help: "Configuration file (repeatable)" },
  "enable-app-health-check": { kind: "bool", help: "probe the app's health" },
  "app-health-check-path": { kind: "string", help: "HTTP health path (default /healthz)" },
  "app-health-probe-interval": { kind: "int", help: "seconds between probes (default 5)" },
  "app-health-probe-timeout": { kind: "int", help: "probe timeout in milliseconds (default 500)" },
  "app-health-threshold": { kind: "int", help: "failures before unhealthy (default 3)" },
  "app-binding-options-timeout": { kind: "duration", help: "input binding discovery timeout (default 3s)" },
  "disable-init-endpoints": { kind: "list", help: "config, subscribe: skip /dapr/config, /dapr/subscribe" },
  "max-body-size": { kind: "quantity", help: "max request body (default 4Mi)" },
  "dapr-http-max-request-size": { kind: "int", help: "deprecated: max request body in MB" },
  "read-buffer-size": { kind: "quantity", help: "max header bytes (default 4Ki)" },
  "dapr-http-read-buffer-size": { kind: "int", help: "deprecated: header buffer in KB" },
  "unix-domain-socket": { kind: "string", help: "directory for the API sockets" },
  "dapr-graceful-shutdown-seconds": { kind: "int", help: "max graceful shutdown (default 5)" },
  "dapr-block-shutdown-duration": { kind: "duration", help: "keep serving after SIGTERM for this long" },
  "enable-api-logging": { kind: "bool", help: "log each API call" },
  "allowed-origins": { kind: "string", help: "CORS origins" },
  "enable-profiling": { kind: "bool", help: "accepted for compatibility" },
  "profile-port": { kind: "int", help: "accepted for compatibility" },
  "enable-metrics": { kind: "bool", help: "serve Prometheus metrics (default true)" },
  "metrics-port": { kind: "int", help: "metrics port (default 9090)" },
  "metrics-listen-address": { kind: "string", help: "metrics bind address" },
  "log-level": { kind: "string", oneOf: ["debug", "info", "warn", "error", "fatal"], help: "debug | info | warn | error | fatal" },
  "log-as-json": { kind: "bool", help: "JSON logs" },
  "log-file": { kind: "string", help: "also write logs to this file" },
  "placement-host-address": { kind: "string", help: "placement address(es) (accepted; actors arrive later)" },
  "scheduler-host-address": { kind: "string", help: "scheduler address(es) (accepted; jobs arrive later)" },
  "scheduler-job-streams": { kind: "int", help: "accepted for compatibility" },
  "actors-disseminate-timeout": { kind: "duration", help: "accepted for compatibility" },
  "hot-reload-reconcile-interval": { kind: "duration", help: "full resource reconcile period (default 60s)" },
  "enable-mtls": { kind: "bool", help: "accepted for compatibility" },
  "sentry-address": { kind: "string", help: "accepted for compatibility" },
  "control-plane-address": { kind: "string", help: "accepted for compatibility" },
  "control-plane-trust-domain": { kind: "string", help: "accepted for compatibility" },
  "control-plane-namespace": { kind: "string", help: "accepted for compatibility" },
  "sentry-request-jwt-audiences": { kind: "string", help: "accepted for compatibility" },
  "disable-builtin-k8s-secret-store": { kind: "bool", help: "accepted for compatibility" },
  wait: { kind: "bool", help: "accepted for compatibility" },
  "actors-service": { kind: "ignored", help: "deprecated, no effect" },
  "reminders-service": { kind: "ignored", help: "deprecated, no effect" },
};

type Value = string | number | boolean | string[];

/** Parse argv (after `sidecar`) into raw values by canonical flag name. */
export function parseFlags(argv: readonly string[]): Map<string, Value> {
  const byName = new Map<string, string>();
  for (const [name, spec] of Object.entries(SIDECAR_FLAGS)) {
    byName.set(name, name);
    for (const a of spec.aliases ?? []) byName.set(a, name);
  }
  const out = new Map<string, Value>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("-") || arg === "-" || arg === "--") throw new FlagError(`unexpected argument "${arg}"`);
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const given = eq >= 0 ? body.slice(0, eq) : body;
    const name = byName.get(given);
    if (name === undefined) throw new FlagError(`unknown flag --${given} (see tandem sidecar --help)`);
    const spec = SIDECAR_FLAGS[name] as FlagSpec;
    let text: string;
    if (eq >= 0) text = body.slice(eq + 1);
    else if (spec.kind === "bool") text = "true";
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new FlagError(`flag --${given} needs a value`);
      text = next;
      i++;
    }
    out.set(name, convert(name, spec, text, out.get(name)));
  }
  return out;
}

function convert(name: string, spec: FlagSpec, text: string, previous: Value | undefined): Value {
  const bad = (expected: string) => new FlagError(`invalid value "${text}" for flag --${name}: ${expected}`);
  switch (spec.kind) {
    case "string":
    case "ignored":
      if (spec.oneOf && !spec.oneOf.includes(text)) throw bad(`expected one of ${spec.oneOf.join(", ")}`);
      return text;
    case "int":
      if (!/^-?\d+$/.test(text)) throw bad("expected an integer");
      return Number(text);
    case "bool":
      if (["true", "1", "t", "T", "TRUE", "True"].includes(text)) return true;
      if (["false", "0", "f", "F", "FALSE", "False"].includes(text)) return false;
      throw bad("expected true or false");
    case "list": {
      const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
      return [...(Array.isArray(previous) ? previous : []), ...items];
    }
    case "quantity": {
      const n = parseQuantity(text);
      if (n === undefined || n <= 0) throw bad('expected a size such as "4Mi"');
      return n;
    }
    case "duration": {
      const ms = parseDuration(text);
      if (ms === undefined) throw bad('expected a duration such as "5s"');
      return ms;
    }
  }
}

const port = (name: string, v: Value | undefined, fallback?: number): number | undefined => {
  if (v === undefined) return fallback;
  const n = v as number;
  if (n < 0 || n > 65535) throw new FlagError(`invalid value "${n}" for flag --${name}: expected a port between 0 and 65535`);
  return n;
};

/** Build the sidecar config from flags and the environment, with daprd's defaults. */
export function sidecarConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SidecarConfig {
  const f = parseFlags(argv);
  const str = (n: string) => f.get(n) as string | undefined;
  const num = (n: string) => f.get(n) as number | undefined;
  const bool = (n: string) => f.get(n) as boolean | undefined;
  const list = (n: string) => (f.get(n) as string[] | undefined) ?? [];

  let protocol = (str("app-protocol") ?? "http") as AppProtocol;
  if (bool("app-ssl") === true) protocol = protocol === "grpc" ? "grpcs" : protocol === "http" ? "https" : protocol;
  const interval = num("app-health-probe-interval") ?? 5;
  const timeout = num("app-health-probe-timeout") ?? 500;
  if (interval <= 0) throw new FlagError("--app-health-probe-interval must be positive");
  if (timeout <= 0) throw new FlagError("--app-health-probe-timeout must be positive");
  if (timeout > interval * 1000) throw new FlagError("--app-health-probe-timeout must not be larger than --app-health-probe-interval");
  const threshold = num("app-health-threshold") ?? 3;
  if (threshold < 1) throw new FlagError("--app-health-threshold must be at least 1");
  const legacyBody = num("dapr-http-max-request-size");
  const maxBody = (f.get("max-body-size") as number | undefined) ?? (legacyBody !== undefined ? legacyBody * 1024 * 1024 : 4 * 1024 * 1024);
  const legacyRead = num("dapr-http-read-buffer-size");
  const readBuffer = (f.get("read-buffer-size") as number | undefined) ?? (legacyRead !== undefined ? legacyRead * 1024 : 4096);
  const graceful = num("dapr-graceful-shutdown-seconds") ?? 5;
  if (graceful < 0) throw new FlagError("--dapr-graceful-shutdown-seconds must not be negative");
  const maxConcurrency = num("app-max-concurrency") ?? -1;
  if (maxConcurrency === 0 || maxConcurrency < -1) throw new FlagError("--app-max-concurrency must be -1 (unlimited) or positive");
  const initEndpoints = list("disable-init-endpoints");
  for (const e of initEndpoints) if (e !== "config" && e !== "subscribe") throw new FlagError(`invalid value "${e}" for flag --disable-init-endpoints: expected config or subscribe`);

  const optional = <K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : ({ [key]: v } as { [P in K]?: V }));
  const scheduler = str("scheduler-host-address") ?? env.DAPR_SCHEDULER_HOST_ADDRESS_DNS_A;
  const appPort = port("app-port", f.get("app-port"));
  return {
    appId: str("app-id") ?? "",
    mode: (str("mode") ?? "standalone") as SidecarConfig["mode"],
    daprHttpPort: port("dapr-http-port", f.get("dapr-http-port"), 3500) as number,
    daprGrpcPort: port("dapr-grpc-port", f.get("dapr-grpc-port"), 50001) as number,
    daprListenAddresses: list("dapr-listen-addresses"),
    appProtocol: protocol,
    appChannelAddress: str("app-channel-address") ?? "127.0.0.1",
    appMaxConcurrency: maxConcurrency,
    resourcesPaths: list("resources-path"),
    configFiles: list("config"),
    enableAppHealthCheck: bool("enable-app-health-check") ?? false,
    appHealthCheckPath: str("app-health-check-path") ?? "/healthz",
    appHealthProbeIntervalMs: interval * 1000,
    appHealthProbeTimeoutMs: timeout,
    appHealthThreshold: threshold,
    disableInitEndpoints: initEndpoints,
    maxBodyBytes: maxBody,
    readBufferBytes: readBuffer,
    gracefulShutdownMs: graceful * 1000,
    enableApiLogging: bool("enable-api-logging") ?? false,
    allowedOrigins: str("allowed-origins") ?? "",
    enableMetrics: bool("enable-metrics") ?? true,
    metricsPort: port("metrics-port", f.get("metrics-port"), 9090) as number,
    logLevel: (str("log-level") ?? "info") as LogLevel,
    logAsJson: bool("log-as-json") ?? false,
    hotReloadReconcileIntervalMs: num("hot-reload-reconcile-interval") || 60_000,
    namespace: env.NAMESPACE ?? "",
    ...optional("daprInternalGrpcPort", port("dapr-internal-grpc-port", f.get("dapr-internal-grpc-port"))),
    ...optional("daprPublicPort", port("dapr-public-port", f.get("dapr-public-port"))),
    ...optional("daprPublicListenAddress", str("dapr-public-listen-address")),
    ...optional("appPort", appPort === 0 ? undefined : appPort),
    ...optional("unixDomainSocket", str("unix-domain-socket")),
    ...optional("blockShutdownDurationMs", num("dapr-block-shutdown-duration")),
    ...optional("metricsListenAddress", str("metrics-listen-address")),
    ...optional("logFile", str("log-file")),
    ...optional("placementHostAddress", str("placement-host-address")),
    ...optional("schedulerHostAddress", scheduler),
    ...optional("apiToken", env.DAPR_API_TOKEN || undefined),
    ...optional("appToken", env.APP_API_TOKEN || undefined),
  };
}

export function sidecarHelp(): string {
  const lines = Object.entries(SIDECAR_FLAGS).map(([name, s]) => `  --${name}${s.aliases ? ` (alias --${s.aliases.join(", --")})` : ""}\n      ${s.help}`);
  return `Usage: tandem sidecar [flags]\n\nRuns the Tandem sidecar with daprd's flags.\n\nFlags:\n${lines.join("\n")}\n`;
}

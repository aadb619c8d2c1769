/**
 * The flags of `tandem run`: the dapr CLI's names, short forms and defaults (spec/cli.md §3), and
 * how they become an AppSpec. Ports left out are picked free later (never 3500 / 50001).
 */
import { resolve } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { AppSpec } from "./app-spec.js";
import { CliError } from "./context.js";
import { componentsDir, configFile, expandHome, type Env } from "./home.js";

export interface RunFlags {
  readonly appId?: string;
  readonly appPort?: number;
  readonly appProtocol: string;
  readonly daprHttpPort?: number;
  readonly daprGrpcPort?: number;
  readonly daprInternalGrpcPort?: number;
  readonly metricsPort?: number;
  readonly resourcesPath: readonly string[];
  readonly componentsPath?: string;
  readonly config?: string;
  readonly appMaxConcurrency?: number;
  readonly enableAppHealthCheck?: boolean;
  readonly appHealthCheckPath?: string;
  readonly appHealthProbeInterval?: number;
  readonly appHealthProbeTimeout?: number;
  readonly appHealthThreshold?: number;
  readonly maxBodySize?: string;
  readonly readBufferSize?: string;
  readonly daprHttpMaxRequestSize?: number;
  readonly daprHttpReadBufferSize?: number;
  readonly unixDomainSocket?: string;
  readonly logLevel?: string;
  readonly enableApiLogging?: boolean;
  readonly enableProfiling?: boolean;
  readonly profilePort?: number;
  readonly daprListenAddresses?: string;
  readonly appChannelAddress: string;
  readonly appSsl?: boolean;
  readonly placementHostAddress?: string;
  readonly schedulerHostAddress?: string;
  readonly runFile?: string;
  readonly kubernetes?: boolean;
}

export function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new InvalidArgumentError("expected a port between 1 and 65535");
  return Number(text);
}

export function parseInteger(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError("expected an integer");
  return Number(text);
}

const collect = (value: string, previous: readonly string[]): string[] => [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];

export const APP_PROTOCOLS = ["http", "https", "h2c", "grpc", "grpcs"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error", "fatal"] as const;

export function addRunOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("-a, --app-id <id>", "the id of the app").default(undefined, "a random name"))
    .option("-p, --app-port <port>", "the port the app listens on", parsePort)
    .addOption(new Option("-P, --app-protocol <protocol>", "how the sidecar talks to the app").choices(APP_PROTOCOLS).default("http"))
    .option("-H, --dapr-http-port <port>", "the sidecar's HTTP API port (default: a free port)", parsePort)
    .option("-G, --dapr-grpc-port <port>", "the sidecar's gRPC API port (default: a free port)", parsePort)
    .option("-I, --dapr-internal-grpc-port <port>", "the sidecar-to-sidecar port (default: a free port)", parsePort)
    .option("-M, --metrics-port <port>", "the metrics port (default: a free port)", parsePort)
    .addOption(new Option("--resources-path <path>", "a resources directory; repeatable").argParser(collect).default([], "$TANDEM_HOME/components"))
    .option("-d, --components-path <path>", "deprecated: use --resources-path")
    .addOption(new Option("-c, --config <file>", "the Configuration file").default(undefined, "$TANDEM_HOME/config.yaml"))
    .option("--app-max-concurrency <n>", "max concurrent requests to the app (-1 = unlimited)", parseInteger)
    .option("--enable-app-health-check", "probe the app's health")
    .option("--app-health-check-path <path>", "the app's health path (default /healthz)")
    .option("--app-health-probe-interval <seconds>", "seconds between health probes (default 5)", parseInteger)
    .option("--app-health-probe-timeout <ms>", "health probe timeout in milliseconds (default 500)", parseInteger)
    .option("--app-health-threshold <n>", "failed probes before the app is unhealthy (default 3)", parseInteger)
    .option("--max-body-size <size>", "max request body, e.g. 4Mi (default 4Mi)")
    .option("--read-buffer-size <size>", "max header size, e.g. 4Ki (default 4Ki)")
    .option("--dapr-http-max-request-size <mb>", "deprecated: use --max-body-size", parseInteger)
    .option("--dapr-http-read-buffer-size <kb>", "deprecated: use --read-buffer-size", parseInteger)
    .option("-u, --unix-domain-socket <dir>", "directory of the API sockets")
    .addOption(new Option("--log-level <level>", "the sidecar's log level (default info)").choices(LOG_LEVELS))
    .option("--enable-api-logging", "log every API call")
    .option("--enable-profiling", "accepted for compatibility")
    .option("--profile-port <port>", "accepted for compatibility", parsePort)
    .option("--dapr-listen-addresses <addresses>", "bind addresses of the APIs, CSV (default: all interfaces)")
    .option("--app-channel-address <address>", "the app's host", "127.0.0.1")
    .option("--app-ssl", "deprecated: use --app-protocol https|grpcs")
    .option("--placement-host-address <address>", "placement address (passed to the sidecar when given)")
    .option("--scheduler-host-address <address>", "scheduler address (passed to the sidecar when given)")
    .option("-f, --run-file <path>", "run every app of a multi-app run file (a file or a directory holding dapr.yaml)")
    .option("-k, --kubernetes", "not supported by Tandem");
}

export interface SpecContext {
  readonly cwd: string;
  readonly env: Env;
  readonly home: string;
  /** Used when --app-id is not given. */
  readonly randomAppId: () => string;
}

export interface SpecFromFlags {
  readonly spec: AppSpec;
  readonly defaultResources: boolean;
  readonly defaultConfig: boolean;
}

/** The AppSpec of `tandem run` (no file system access). */
export function specFromFlags(flags: RunFlags, command: readonly string[], ctx: SpecContext): SpecFromFlags {
  const path = (p: string) => resolve(ctx.cwd, expandHome(p, ctx.env));
  const given = flags.resourcesPath.length > 0 ? flags.resourcesPath : flags.componentsPath !== undefined ? [flags.componentsPath] : [];
  if (flags.appId === "") throw new CliError("--app-id must not be empty");
  const optional = <K extends keyof AppSpec>(key: K, value: AppSpec[K] | undefined) => (value === undefined ? {} : { [key]: value });
  const spec: AppSpec = {
    appId: flags.appId ?? ctx.randomAppId(),
    command,
    cwd: ctx.cwd,
    appProtocol: flags.appProtocol,
    appChannelAddress: flags.appChannelAddress,
    enableProfiling: flags.enableProfiling === true,
    resourcesPaths: given.length > 0 ? given.map(path) : [componentsDir(ctx.home)],
    configFile: flags.config !== undefined ? path(flags.config) : configFile(ctx.home),
    enableAppHealthCheck: flags.enableAppHealthCheck === true,
    enableApiLogging: flags.enableApiLogging === true,
    appSsl: flags.appSsl === true,
    env: {},
    ...optional("appPort", flags.appPort),
    ...optional("daprHttpPort", flags.daprHttpPort),
    ...optional("daprGrpcPort", flags.daprGrpcPort),
    ...optional("daprInternalGrpcPort", flags.daprInternalGrpcPort),
    ...optional("metricsPort", flags.metricsPort),
    ...optional("profilePort", flags.profilePort),
    ...optional("appMaxConcurrency", flags.appMaxConcurrency),
    ...optional("appHealthCheckPath", flags.appHealthCheckPath),
    ...optional("appHealthProbeInterval", flags.appHealthProbeInterval),
    ...optional("appHealthProbeTimeout", flags.appHealthProbeTimeout),
    ...optional("appHealthThreshold", flags.appHealthThreshold),
    ...optional("maxBodySize", flags.maxBodySize),
    ...optional("readBufferSize", flags.readBufferSize),
    ...optional("daprHttpMaxRequestSize", flags.daprHttpMaxRequestSize),
    ...optional("daprHttpReadBufferSize", flags.daprHttpReadBufferSize),
    ...optional("unixDomainSocket", flags.unixDomainSocket !== undefined ? path(flags.unixDomainSocket) : undefined),
    ...optional("logLevel", flags.logLevel),
    ...optional("daprListenAddresses", flags.daprListenAddresses),
    ...optional("placementHostAddress", flags.placementHostAddress),
    ...optional("schedulerHostAddress", flags.schedulerHostAddress),
  };
  return { spec, defaultResources: given.length === 0, defaultConfig: flags.config === undefined };
}

/**
 * Cobra accepts `--flag=true|false` for boolean flags; commander does not. Rewrite them (`=false`
 * drops the flag) among the CLI's own flags, that is before `--` or the first app argument.
 */
export function normalizeBooleanFlags(cmd: Command, args: readonly string[]): string[] {
  const takesValue = new Set<string>();
  const isBool = new Set<string>();
  for (const o of cmd.options) {
    for (const name of [o.long, o.short]) {
      if (name === undefined) continue;
      (o.required || o.optional ? takesValue : isBool).add(name);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--" || !a.startsWith("-")) return [...out, ...args.slice(i)];
    const m = /^(--?[^=]+)=(.*)$/.exec(a);
    if (m && isBool.has(m[1] as string)) {
      const v = (m[2] as string).toLowerCase();
      if (["true", "1", "t"].includes(v)) out.push(m[1] as string);
      else if (!["false", "0", "f"].includes(v)) out.push(a); // commander reports it
      continue;
    }
    out.push(a);
    if (m === null && takesValue.has(a)) {
      const next = args[i + 1];
      if (next !== undefined) out.push(next);
      i++;
    }
  }
  return out;
}

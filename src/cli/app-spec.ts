/**
 * One app and its sidecar as `tandem run` (flags) or a run file (YAML) describes it, and what
 * follows from it: the sidecar's daprd flags and the environment of both processes (spec/cli.md §3).
 */
import { CliError } from "./context.js";
import type { Env } from "./home.js";
import type { PortPicker } from "./ports.js";

export interface AppSpec {
  readonly appId: string;
  /** The app command; empty = the sidecar runs alone. */
  readonly command: readonly string[];
  /** Working directory of the app. */
  readonly cwd: string;
  readonly appPort?: number;
  readonly appProtocol: string;
  readonly appChannelAddress: string;
  /** Ports left out are picked free when the app starts. */
  readonly daprHttpPort?: number;
  readonly daprGrpcPort?: number;
  readonly daprInternalGrpcPort?: number;
  readonly metricsPort?: number;
  readonly profilePort?: number;
  readonly enableProfiling: boolean;
  readonly resourcesPaths: readonly string[];
  readonly configFile?: string;
  readonly appMaxConcurrency?: number;
  readonly enableAppHealthCheck: boolean;
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
  readonly enableApiLogging: boolean;
  readonly daprListenAddresses?: string;
  readonly appSsl: boolean;
  readonly placementHostAddress?: string;
  readonly schedulerHostAddress?: string;
  /** Extra environment of the app (run file `env`); it wins over the variables the CLI sets. */
  readonly env: Readonly<Record<string, string>>;
}

export interface SidecarPorts {
  readonly http: number;
  readonly grpc: number;
  readonly internalGrpc: number;
  readonly metrics: number;
  readonly profile?: number;
}

/** Fill the ports the spec leaves open with free ones; a given port that is taken is an error. */
export async function assignPorts(spec: AppSpec, picker: PortPicker): Promise<SidecarPorts> {
  const one = async (given: number | undefined, flag: string): Promise<number> => {
    if (given === undefined) return picker.pick();
    if (!(await picker.claim(given))) throw new CliError(`port ${given} (${flag}) is not available`);
    return given;
  };
  const http = await one(spec.daprHttpPort, "--dapr-http-port");
  const grpc = await one(spec.daprGrpcPort, "--dapr-grpc-port");
  const internalGrpc = await one(spec.daprInternalGrpcPort, "--dapr-internal-grpc-port");
  const metrics = await one(spec.metricsPort, "--metrics-port");
  const profile = spec.enableProfiling ? await one(spec.profilePort, "--profile-port") : undefined;
  return { http, grpc, internalGrpc, metrics, ...(profile !== undefined ? { profile } : {}) };
}

export function effectiveAppProtocol(spec: AppSpec): string {
  if (!spec.appSsl) return spec.appProtocol;
  return spec.appProtocol === "grpc" ? "grpcs" : spec.appProtocol === "http" ? "https" : spec.appProtocol;
}

/** The flags of `tandem sidecar` (daprd's names) for this app. */
export function sidecarArgs(spec: AppSpec, ports: SidecarPorts): string[] {
  const args = [
    "--app-id", spec.appId,
    "--dapr-http-port", String(ports.http),
    "--dapr-grpc-port", String(ports.grpc),
    "--dapr-internal-grpc-port", String(ports.internalGrpc),
    "--metrics-port", String(ports.metrics),
    "--app-protocol", spec.appProtocol,
  ];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "") args.push(flag, String(value));
  };
  const on = (flag: string, value: boolean) => {
    if (value) args.push(flag);
  };
  add("--app-port", spec.appPort);
  if (spec.appChannelAddress !== "127.0.0.1") add("--app-channel-address", spec.appChannelAddress);
  for (const p of spec.resourcesPaths) add("--resources-path", p);
  add("--config", spec.configFile);
  add("--app-max-concurrency", spec.appMaxConcurrency);
  on("--enable-app-health-check", spec.enableAppHealthCheck);
  add("--app-health-check-path", spec.appHealthCheckPath);
  add("--app-health-probe-interval", spec.appHealthProbeInterval);
  add("--app-health-probe-timeout", spec.appHealthProbeTimeout);
  add("--app-health-threshold", spec.appHealthThreshold);
  add("--max-body-size", spec.maxBodySize);
  add("--read-buffer-size", spec.readBufferSize);
  add("--dapr-http-max-request-size", spec.daprHttpMaxRequestSize);
  add("--dapr-http-read-buffer-size", spec.daprHttpReadBufferSize);
  add("--unix-domain-socket", spec.unixDomainSocket);
  add("--log-level", spec.logLevel);
  on("--enable-api-logging", spec.enableApiLogging);
  on("--enable-profiling", spec.enableProfiling);
  add("--profile-port", ports.profile);
  add("--dapr-listen-addresses", spec.daprListenAddresses);
  on("--app-ssl", spec.appSsl);
  add("--placement-host-address", spec.placementHostAddress);
  add("--scheduler-host-address", spec.schedulerHostAddress);
  return args;
}

/** Variables the CLI sets for the app; an inherited one the CLI does not set is removed. */
const APP_VARIABLES = ["APP_ID", "APP_PORT", "APP_PROTOCOL", "APP_CHANNEL_ADDRESS", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT", "DAPR_METRICS_PORT"];
const TOKEN_VARIABLES = ["DAPR_API_TOKEN", "APP_API_TOKEN"];

/** The app's environment: the user's, the Dapr variables, then the spec's own `env` (which wins). */
export function appEnvironment(spec: AppSpec, ports: SidecarPorts, base: Env): Record<string, string> {
  const env = definedOnly(base);
  for (const name of APP_VARIABLES) delete env[name];
  Object.assign(env, {
    APP_ID: spec.appId,
    ...(spec.appPort !== undefined ? { APP_PORT: String(spec.appPort) } : {}),
    APP_PROTOCOL: effectiveAppProtocol(spec),
    APP_CHANNEL_ADDRESS: spec.appChannelAddress,
    DAPR_HTTP_PORT: String(ports.http),
    DAPR_GRPC_PORT: String(ports.grpc),
    DAPR_METRICS_PORT: String(ports.metrics),
  });
  return Object.assign(env, spec.env);
}

/**
 * The sidecar's environment: the user's. API tokens set in the spec's `env` reach the sidecar too,
 * so the app and its sidecar always agree on them.
 */
export function sidecarEnvironment(spec: AppSpec, base: Env): Record<string, string> {
  const env = definedOnly(base);
  for (const name of TOKEN_VARIABLES) {
    const value = spec.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

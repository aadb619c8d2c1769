/** The sidecar's settings, as daprd's flags and environment give them (spec/cli.md §2). */

export type AppProtocol = "http" | "https" | "h2c" | "grpc" | "grpcs";
export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

export interface SidecarConfig {
  readonly appId: string;
  readonly mode: "standalone" | "kubernetes";
  readonly daprHttpPort: number;
  readonly daprGrpcPort: number;
  readonly daprInternalGrpcPort?: number;
  /** Bind addresses of the APIs; empty = all interfaces. */
  readonly daprListenAddresses: readonly string[];
  readonly daprPublicPort?: number;
  readonly daprPublicListenAddress?: string;
  readonly appPort?: number;
  readonly appProtocol: AppProtocol;
  readonly appChannelAddress: string;
  /** -1 = unlimited. */
  readonly appMaxConcurrency: number;
  readonly resourcesPaths: readonly string[];
  readonly configFiles: readonly string[];
  readonly enableAppHealthCheck: boolean;
  readonly appHealthCheckPath: string;
  readonly appHealthProbeIntervalMs: number;
  readonly appHealthProbeTimeoutMs: number;
  readonly appHealthThreshold: number;
  readonly disableInitEndpoints: readonly string[];
  readonly maxBodyBytes: number;
  readonly readBufferBytes: number;
  readonly unixDomainSocket?: string;
  readonly gracefulShutdownMs: number;
  readonly blockShutdownDurationMs?: number;
  readonly enableApiLogging: boolean;
  readonly allowedOrigins: string;
  readonly enableMetrics: boolean;
  readonly metricsPort: number;
  readonly metricsListenAddress?: string;
  readonly logLevel: LogLevel;
  readonly logAsJson: boolean;
  readonly logFile?: string;
  readonly placementHostAddress?: string;
  readonly schedulerHostAddress?: string;
  readonly hotReloadReconcileIntervalMs: number;
  /** DAPR_API_TOKEN */
  readonly apiToken?: string;
  /** APP_API_TOKEN */
  readonly appToken?: string;
  /** NAMESPACE */
  readonly namespace: string;
}

export const RUNTIME_VERSION = "1.18.0";

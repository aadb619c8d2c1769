/**
 * Dapr YAML resources as validated, typed records. Loaders in this folder produce them; the
 * runtime consumes them. Field names follow Dapr's YAML.
 */

/** Where a record came from, for error messages: file path and 1-based document index. */
export interface Origin {
  readonly file: string;
  readonly document: number;
}

export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/** One `spec.metadata` item before secret resolution. */
export interface MetadataItem {
  readonly name: string;
  /** The value rendered as a string (`true` -> "true"); after `envRef` resolution. Absent when neither gave one. */
  readonly value?: string;
  readonly secretKeyRef?: SecretKeyRef;
  /**
   * The value as written, before the `{uuid}`/`{podName}`/`{namespace}`/`{appID}` tokens were
   * replaced; present only when it had one. Compare this (not `value`, which gets a new `{uuid}` on
   * every load) when deciding whether a reloaded component changed.
   */
  readonly template?: string;
}

export interface ComponentResource {
  readonly kind: "Component";
  readonly name: string;
  readonly namespace?: string;
  /** e.g. `state.sqlite` */
  readonly type: string;
  /** "" when not given (the default version is chosen by the registry). */
  readonly version: string;
  /** Milliseconds; default 5000. */
  readonly initTimeoutMs: number;
  readonly ignoreErrors: boolean;
  readonly metadata: readonly MetadataItem[];
  /**
   * True when a metadata value contained `{namespace}`: daprd then makes a pub/sub component
   * namespace-scoped (topics prefixed with the namespace). The loader sets it; optional for
   * records built elsewhere.
   */
  readonly namespaceScoped?: boolean;
  readonly secretStore?: string;
  readonly scopes: readonly string[];
  readonly origin: Origin;
}

export interface SubscriptionRule {
  readonly match?: string;
  readonly path: string;
}

export interface SubscriptionResource {
  readonly kind: "Subscription";
  readonly apiVersion: "dapr.io/v1alpha1" | "dapr.io/v2alpha1";
  readonly name: string;
  readonly pubsubname: string;
  readonly topic: string;
  /** Rules in evaluation order; the default route last, with no `match`. */
  readonly rules: readonly SubscriptionRule[];
  readonly deadLetterTopic?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly bulkSubscribe?: { readonly enabled: boolean; readonly maxMessagesCount?: number; readonly maxAwaitDurationMs?: number };
  readonly scopes: readonly string[];
  readonly origin: Origin;
}

export interface HttpEndpointHeader {
  readonly name: string;
  readonly value?: string;
  readonly secretKeyRef?: SecretKeyRef;
}

export interface HttpEndpointResource {
  readonly kind: "HTTPEndpoint";
  readonly name: string;
  readonly baseUrl: string;
  readonly headers: readonly HttpEndpointHeader[];
  readonly clientTLS?: Readonly<Record<string, unknown>>;
  readonly secretStore?: string;
  readonly scopes: readonly string[];
  readonly origin: Origin;
}

export interface RetryPolicy {
  readonly policy: "constant" | "exponential";
  readonly durationMs: number;
  readonly maxIntervalMs: number;
  /** -1 = unlimited. */
  readonly maxRetries: number;
  readonly matching?: { readonly httpStatusCodes?: string; readonly gRPCStatusCodes?: string };
}

export interface CircuitBreakerPolicy {
  readonly maxRequests: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** CEL expression, e.g. `consecutiveFailures > 5`. */
  readonly trip: string;
}

export interface PolicyRefs {
  readonly timeout?: string;
  readonly retry?: string;
  readonly circuitBreaker?: string;
}

export interface ResiliencyResource {
  readonly kind: "Resiliency";
  readonly name: string;
  readonly timeouts: Readonly<Record<string, number>>;
  readonly retries: Readonly<Record<string, RetryPolicy>>;
  readonly circuitBreakers: Readonly<Record<string, CircuitBreakerPolicy>>;
  readonly targets: {
    readonly apps: Readonly<Record<string, PolicyRefs & { readonly circuitBreakerCacheSize?: number }>>;
    readonly actors: Readonly<Record<string, PolicyRefs & { readonly circuitBreakerScope?: "type" | "id" | "both"; readonly circuitBreakerCacheSize?: number }>>;
    readonly components: Readonly<Record<string, { readonly inbound?: PolicyRefs; readonly outbound?: PolicyRefs }>>;
  };
  readonly scopes: readonly string[];
  readonly origin: Origin;
}

export interface SecretScope {
  readonly storeName: string;
  readonly defaultAccess: "allow" | "deny";
  readonly allowedSecrets: readonly string[];
  readonly deniedSecrets: readonly string[];
}

export interface ApiRule {
  readonly name: string;
  readonly version: string;
  readonly protocol?: "http" | "grpc";
}

/** The `--config` Configuration, merged over the files given (later overlays earlier). */
export interface ConfigurationResource {
  readonly kind: "Configuration";
  readonly name: string;
  readonly tracing: {
    readonly samplingRate?: string;
    readonly stdout: boolean;
    readonly zipkin?: { readonly endpointAddress: string };
    readonly otel?: { readonly endpointAddress: string; readonly protocol?: string; readonly isSecure: boolean };
  };
  readonly metric: { readonly enabled: boolean; readonly http?: { readonly increasedCardinality?: boolean; readonly pathMatching?: readonly string[] } };
  readonly nameResolution?: { readonly component: string; readonly version?: string; readonly configuration: Readonly<Record<string, unknown>> };
  readonly secrets: { readonly scopes: readonly SecretScope[] };
  readonly accessControl?: Readonly<Record<string, unknown>>;
  readonly api: { readonly allowed: readonly ApiRule[]; readonly denied: readonly ApiRule[] };
  readonly components: { readonly deny: readonly string[] };
  /** Feature flags by name, with Dapr's defaults applied (HotReload, WorkflowsRemoteActivityReminder on). */
  readonly features: Readonly<Record<string, boolean>>;
  readonly logging: { readonly apiLogging: { readonly enabled: boolean; readonly obfuscateURLs: boolean; readonly omitHealthChecks: boolean } };
  readonly appHttpPipeline: readonly { readonly name: string; readonly type: string }[];
  readonly httpPipeline: readonly { readonly name: string; readonly type: string }[];
  readonly origin?: Origin;
}

export interface ResourceSet {
  readonly components: readonly ComponentResource[];
  readonly subscriptions: readonly SubscriptionResource[];
  readonly httpEndpoints: readonly HttpEndpointResource[];
  readonly resiliencies: readonly ResiliencyResource[];
}

/** A resource problem, located precisely. `ignorable` is true when the component says `ignoreErrors`. */
export interface ResourceProblem {
  readonly file: string;
  readonly document?: number;
  readonly field?: string;
  readonly message: string;
  readonly ignorable: boolean;
}

export class ResourceError extends Error {
  constructor(readonly problems: readonly ResourceProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ResourceError";
  }
}

export function formatProblem(p: ResourceProblem): string {
  const where = [p.file, p.document !== undefined ? `document ${p.document}` : undefined, p.field !== undefined ? `field ${p.field}` : undefined]
    .filter((x) => x !== undefined)
    .join(", ");
  return `${where}: ${p.message}`;
}

export interface LoadContext {
  readonly appId: string;
  /** env NAMESPACE or "". */
  readonly namespace: string;
  /** Process environment for envRef and Configuration's $VAR expansion. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The metadata API's data: what the runtime knows about itself (components, subscriptions, app
 * connection) plus the `extended` attributes set through PUT /v1.0/metadata/{key}.
 */

export interface ComponentMetadata {
  readonly name: string;
  readonly type: string;
  readonly version: string;
  readonly capabilities: readonly string[];
}

export interface SubscriptionMetadata {
  readonly pubsubname: string;
  readonly topic: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly rules?: readonly { readonly match?: string; readonly path: string }[];
  readonly deadLetterTopic: string;
  readonly type: "DECLARATIVE" | "PROGRAMMATIC" | "STREAMING";
}

export interface AppConnectionProperties {
  readonly port?: number;
  readonly protocol?: string;
  readonly channelAddress?: string;
  readonly maxConcurrency?: number;
  readonly health?: {
    readonly healthCheckPath?: string;
    readonly healthProbeInterval?: string;
    readonly healthProbeTimeout?: string;
    readonly healthThreshold?: number;
  };
}

export interface MetadataSnapshot {
  readonly id: string;
  readonly runtimeVersion: string;
  readonly enabledFeatures?: readonly string[];
  readonly actors?: readonly { type: string; count: number }[];
  readonly components?: readonly ComponentMetadata[];
  readonly extended: Readonly<Record<string, string>>;
  readonly subscriptions?: readonly SubscriptionMetadata[];
  readonly httpEndpoints?: readonly { name: string }[];
  readonly resiliencies?: readonly { name: string }[];
  readonly appConnectionProperties?: AppConnectionProperties;
  readonly actorRuntime: { readonly runtimeStatus: "INITIALIZING" | "DISABLED" | "RUNNING"; readonly hostReady: boolean; readonly activeActors?: readonly { type: string; count: number }[]; readonly placement?: string };
}

/** What the runtime supplies; called on every GET so the answer is always current. */
export interface MetadataSource {
  readonly appId: string;
  readonly runtimeVersion: string;
  enabledFeatures(): readonly string[];
  components(): readonly ComponentMetadata[];
  subscriptions(): readonly SubscriptionMetadata[];
  httpEndpoints(): readonly string[];
  resiliencies(): readonly string[];
  appConnection(): AppConnectionProperties | undefined;
}

export class MetadataBlock {
  private readonly extended = new Map<string, string>();

  constructor(private readonly source: MetadataSource) {}

  setExtended(key: string, value: string): void {
    this.extended.set(key, value);
  }

  snapshot(): MetadataSnapshot {
    const nonEmpty = <T>(list: readonly T[]) => (list.length > 0 ? list : undefined);
    const features = nonEmpty(this.source.enabledFeatures());
    const components = nonEmpty(this.source.components());
    const subscriptions = nonEmpty(this.source.subscriptions());
    const httpEndpoints = nonEmpty(this.source.httpEndpoints().map((name) => ({ name })));
    const resiliencies = nonEmpty(this.source.resiliencies().map((name) => ({ name })));
    const app = this.source.appConnection();
    return {
      id: this.source.appId,
      runtimeVersion: this.source.runtimeVersion,
      ...(features ? { enabledFeatures: features } : {}),
      ...(components ? { components } : {}),
      extended: { ...Object.fromEntries(this.extended), daprRuntimeVersion: this.source.runtimeVersion },
      ...(subscriptions ? { subscriptions } : {}),
      ...(httpEndpoints ? { httpEndpoints } : {}),
      ...(resiliencies ? { resiliencies } : {}),
      ...(app ? { appConnectionProperties: app } : {}),
      actorRuntime: { runtimeStatus: "DISABLED", hostReady: false },
    };
  }
}

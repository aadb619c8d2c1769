/**
 * Loads the resources path(s): Components, Subscriptions, HTTPEndpoints and Resiliency documents,
 * validated into typed records with every problem located by file, document and field. The caller
 * decides what a problem means: at start-up any non-ignorable problem stops the sidecar; on hot
 * reload the running configuration is kept.
 */
import { decodeComponent, readIgnoreErrors } from "./component.js";
import { isMap, ProblemSink, type YamlMap } from "./decode.js";
import { readResourceDirectories, type RawDocument } from "./documents.js";
import { decodeHttpEndpoint } from "./http-endpoint.js";
import { inScope, readObjectMeta, readScopes, readSecretStore } from "./object-meta.js";
import { checkResiliencyReferences, decodeResiliency, type DecodedResiliency } from "./resiliency.js";
import { decodeSubscription, SUBSCRIPTION_API_VERSIONS, type SubscriptionApiVersion } from "./subscription.js";
import type { ComponentResource, HttpEndpointResource, LoadContext, ResourceProblem, ResourceSet, SubscriptionResource } from "./types.js";

export interface LoadResult {
  readonly resources: ResourceSet;
  readonly problems: ResourceProblem[];
  /** Files skipped because they are not `*.yaml`/`*.yml` (daprd logs a warning for each). */
  readonly skipped: readonly string[];
}

const V1ALPHA1 = "dapr.io/v1alpha1";

/** Documents of another API group (`kind: Component` of some other tool) are not ours to judge. */
function isDaprGroup(apiVersion: unknown): boolean {
  return apiVersion === undefined || apiVersion === null || (typeof apiVersion === "string" && (apiVersion === "" || apiVersion.startsWith("dapr.io/")));
}

function checkApiVersion(sink: ProblemSink, apiVersion: unknown, kind: string, allowed: readonly string[]): boolean {
  if (typeof apiVersion === "string" && allowed.includes(apiVersion)) return true;
  const got = typeof apiVersion === "string" && apiVersion !== "" ? `got ${JSON.stringify(apiVersion)}` : "it is missing";
  sink.report("apiVersion", `expected ${allowed.map((a) => JSON.stringify(a)).join(" or ")} for kind ${kind}, ${got}`);
  return false;
}

interface FirstSeen {
  readonly file: string;
  readonly document: number;
}

/** State of one load: records in load order and the names seen per kind for the duplicate check. */
class Loader {
  readonly components: ComponentResource[] = [];
  readonly subscriptions: SubscriptionResource[] = [];
  readonly httpEndpoints: HttpEndpointResource[] = [];
  readonly resiliencies: DecodedResiliency[] = [];
  private readonly seen = new Map<string, FirstSeen>();

  constructor(
    private readonly ctx: LoadContext,
    readonly problems: ResourceProblem[],
  ) {}

  load(raw: RawDocument): void {
    // Anything that is not a mapping with a kind cannot be a Dapr resource (daprd skips it too).
    if (!isMap(raw.value)) return;
    const doc = raw.value;
    const kind = doc["kind"];
    if (typeof kind !== "string" || !isDaprGroup(doc["apiVersion"])) return;
    const sink = new ProblemSink(raw.file, raw.document, this.problems);
    const origin = { file: raw.file, document: raw.document };
    switch (kind) {
      case "Component":
        this.loadComponentLike(sink, doc, "Component");
        return;
      case "HTTPEndpoint":
        this.loadComponentLike(sink, doc, "HTTPEndpoint");
        return;
      case "Subscription": {
        if (!checkApiVersion(sink, doc["apiVersion"], kind, SUBSCRIPTION_API_VERSIONS)) return;
        const meta = readObjectMeta(sink, doc);
        const scopes = readScopes(sink, doc);
        if (meta === undefined) return;
        const sub = decodeSubscription(sink, doc, doc["apiVersion"] as SubscriptionApiVersion, meta, scopes, origin);
        if (sub !== undefined) this.subscriptions.push(sub);
        return;
      }
      case "Resiliency": {
        // daprd's start-up loader reads only the first document of each file (and by kind alone).
        // Tandem reads every Resiliency document: a policy silently lost is worse than one more read.
        const before = sink.count;
        const meta = readObjectMeta(sink, doc, false);
        const scopes = readScopes(sink, doc);
        if (sink.count > before || meta === undefined || !inScope(scopes, this.ctx.appId)) return;
        const decoded = decodeResiliency(sink, doc, meta.name, scopes, origin);
        if (decoded !== undefined) this.resiliencies.push(decoded);
        return;
      }
      default:
        // Configuration documents belong to --config; WorkflowAccessPolicy, MCPServer and unknown
        // kinds are not loaded by Tandem.
        return;
    }
  }

  /**
   * Components and HTTPEndpoints go through daprd's filter chain: name validation, namespace
   * filter, duplicate check, then the scope filter (an out-of-scope duplicate still counts).
   */
  private loadComponentLike(sink: ProblemSink, doc: YamlMap, kind: "Component" | "HTTPEndpoint"): void {
    const before = sink.count;
    const ignoreErrors = kind === "Component" && readIgnoreErrors(sink, doc);
    sink.ignorable = ignoreErrors;
    if (!checkApiVersion(sink, doc["apiVersion"], kind, [V1ALPHA1])) return;
    const meta = readObjectMeta(sink, doc);
    if (meta === undefined) return;
    const ns = this.ctx.namespace;
    if (ns !== "" && meta.namespace !== undefined && meta.namespace !== ns) return;
    const scopes = readScopes(sink, doc);
    const key = `${kind}/${meta.name}`;
    const first = this.seen.get(key);
    if (first !== undefined) {
      sink.report("metadata.name", `duplicate ${kind} name ${JSON.stringify(meta.name)}: already defined in ${first.file}, document ${first.document}`);
      return;
    }
    this.seen.set(key, { file: sink.file, document: sink.document ?? 0 });
    if (sink.count > before || !inScope(scopes, this.ctx.appId)) return;
    const secretStore = readSecretStore(sink, doc);
    const origin = { file: sink.file, document: sink.document ?? 0 };
    if (kind === "Component") {
      const c = decodeComponent(sink, doc, meta, scopes, secretStore, ignoreErrors, this.ctx, origin);
      if (c !== undefined && sink.count === before) this.components.push(c);
    } else {
      const e = decodeHttpEndpoint(sink, doc, meta, scopes, secretStore, this.ctx, origin);
      if (e !== undefined && sink.count === before) this.httpEndpoints.push(e);
    }
  }
}

/**
 * Load every `*.yaml`/`*.yml` file of the given directories (non-recursive) in daprd's order:
 * directory order, then file name, then document. Records with problems are left out of the set;
 * the problems say why. A problem of a Component with `ignoreErrors: true` is `ignorable`.
 * @example
 * const { resources, problems } = await loadResources(["./components"], { appId: "orders", namespace: "", env: process.env });
 * if (problems.some((p) => !p.ignorable)) throw new ResourceError(problems);
 */
export async function loadResources(paths: readonly string[], ctx: LoadContext): Promise<LoadResult> {
  const problems: ResourceProblem[] = [];
  const { documents, skipped } = await readResourceDirectories(paths, problems);
  const loader = new Loader(ctx, problems);
  for (const doc of documents) loader.load(doc);
  const resiliencies = checkResiliencyReferences(loader.resiliencies);
  return {
    resources: {
      components: loader.components,
      subscriptions: loader.subscriptions,
      httpEndpoints: loader.httpEndpoints,
      resiliencies,
    },
    problems,
    skipped,
  };
}

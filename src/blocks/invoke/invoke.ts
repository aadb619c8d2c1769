/**
 * Service invocation. This step serves calls to the sidecar's own app id over the app channel
 * (streamed both ways); calls to other app ids arrive with name resolution (a later step).
 */
import type { Readable } from "node:stream";
import type { AppChannel, AppResponse, Headers } from "../../channels/contract.js";
import { invokeErrors, TandemError } from "../../errors/index.js";
import { normaliseMethod } from "./method-path.js";

export interface InvokeRequest {
  readonly appId: string;
  readonly method: string;
  readonly verb: string;
  readonly query: string;
  readonly headers: Headers;
  readonly body?: Readable | Buffer;
  readonly signal?: AbortSignal;
}

const IDENTITY_HEADERS = ["dapr-caller-app-id", "dapr-caller-namespace", "dapr-callee-app-id"];

export class InvokeBlock {
  constructor(
    private readonly appId: string,
    private readonly namespace: string,
    private readonly channel: () => AppChannel | undefined,
    private readonly appHealthy: () => boolean,
  ) {}

  async invoke(req: InvokeRequest): Promise<AppResponse> {
    const method = normaliseMethod(req.method);
    if (method === undefined) throw invokeErrors.invalidMethod(req.appId, req.method);
    const target = this.isSelf(req.appId);
    if (!target) throw invokeErrors.failed(req.appId, new Error(`app id ${req.appId} is not reachable: invocation between sidecars is not available in this version`));
    const channel = this.channel();
    if (!channel) throw invokeErrors.noAppChannel();
    if (!this.appHealthy()) throw invokeErrors.appUnhealthy(req.appId);
    const headers: Record<string, string | readonly string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      const lower = k.toLowerCase();
      // Tandem choice: caller-supplied identity headers are always replaced, never passed on.
      if (IDENTITY_HEADERS.includes(lower) || lower === "dapr-api-token" || lower === "dapr-app-id") continue;
      headers[k] = v;
    }
    headers["dapr-caller-app-id"] = this.appId;
    headers["dapr-callee-app-id"] = this.appId;
    if (this.namespace !== "") headers["dapr-caller-namespace"] = this.namespace;
    try {
      return await channel.call({ verb: req.verb, method, query: req.query, headers, ...(req.body ? { body: req.body } : {}), ...(req.signal ? { signal: req.signal } : {}) });
    } catch (err) {
      throw err instanceof TandemError ? err : invokeErrors.failed(req.appId, err);
    }
  }

  private isSelf(appId: string): boolean {
    if (appId === this.appId) return true;
    const dot = appId.lastIndexOf(".");
    return dot > 0 && appId.slice(0, dot) === this.appId && appId.slice(dot + 1) === (this.namespace || "default");
  }
}

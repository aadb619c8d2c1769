/**
 * The CLI's HTTP calls to a local sidecar (metadata, invoke, publish), over loopback TCP or the
 * sidecar's Unix socket. `DAPR_API_TOKEN` from the CLI's environment is sent when set.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Agent, request, type Dispatcher } from "undici";

export interface SidecarAddress {
  readonly host: string;
  readonly port: number;
  /** Directory of `dapr-<appId>-http.socket` (`--unix-domain-socket`). */
  readonly unixDomainSocket?: string;
  readonly appId: string;
}

export interface SidecarReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface CallOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly apiToken?: string;
}

const agents = new Map<string, Agent>();

function dispatcherFor(addr: SidecarAddress): Dispatcher | undefined {
  if (addr.unixDomainSocket === undefined) return undefined;
  const socketPath = join(addr.unixDomainSocket, `dapr-${addr.appId}-http.socket`);
  if (!existsSync(socketPath)) return undefined;
  let agent = agents.get(socketPath);
  if (agent === undefined) {
    agent = new Agent({ connect: { socketPath } });
    agents.set(socketPath, agent);
  }
  return agent;
}

export async function callSidecar(addr: SidecarAddress, path: string, opts: CallOptions = {}): Promise<SidecarReply> {
  const dispatcher = dispatcherFor(addr);
  const timeout = opts.timeoutMs ?? 60_000;
  const host = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.apiToken !== undefined && opts.apiToken !== "") headers["dapr-api-token"] = opts.apiToken;
  const res = await request(`http://${dispatcher ? "localhost" : `${host}:${addr.port}`}${path}`, {
    method: opts.method ?? "GET",
    headers,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const body = await res.body.text();
  const ct = res.headers["content-type"];
  return { status: res.statusCode, contentType: Array.isArray(ct) ? (ct[0] ?? "") : (ct ?? ""), body };
}

export interface SidecarMetadata {
  readonly id?: string;
  readonly extended?: Readonly<Record<string, string>>;
}

/** GET /v1.0/metadata; undefined when the sidecar does not answer (yet). */
export async function getMetadata(addr: SidecarAddress, apiToken?: string, timeoutMs = 2_000): Promise<SidecarMetadata | undefined> {
  try {
    const reply = await callSidecar(addr, "/v1.0/metadata", { timeoutMs, ...(apiToken !== undefined ? { apiToken } : {}) });
    if (reply.status < 200 || reply.status >= 300) return undefined;
    return JSON.parse(reply.body) as SidecarMetadata;
  } catch {
    return undefined;
  }
}

/** PUT /v1.0/metadata/{key} for each entry. */
export async function putMetadata(addr: SidecarAddress, values: Readonly<Record<string, string>>, apiToken?: string): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    const reply = await callSidecar(addr, `/v1.0/metadata/${encodeURIComponent(key)}`, {
      method: "PUT",
      body: value,
      timeoutMs: 5_000,
      ...(apiToken !== undefined ? { apiToken } : {}),
    });
    if (reply.status >= 300) throw new Error(`PUT /v1.0/metadata/${key} answered ${reply.status}: ${reply.body}`);
  }
}

export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()));
  agents.clear();
}

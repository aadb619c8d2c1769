/**
 * Pub/sub over the HTTP app channel: `GET /dapr/subscribe` discovery and event delivery
 * (app-callback.md §5.1–5.3) with daprd's reading of the app's replies.
 */
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { AppChannel } from "../../channels/contract.js";
import { sleep } from "../../kit/deferred.js";
import { retryDelay, type RetrySpec } from "../../resiliency/retry.js";
import { CLOUDEVENT_CONTENT_TYPE } from "./cloudevent.js";
import { DiscoveryError, parseProgrammaticSubscriptions } from "./discovery.js";
import type { BulkTopicEvent, DeliveryStatus, EventSink, SubscriptionSpec, TopicEvent } from "./types.js";

/** daprd's DaprBuiltInInitializationRetries: 3 retries, exponential from 0.5 s capped at 1 s. */
const INIT_RETRIES: RetrySpec = { policy: "exponential", durationMs: 0, maxIntervalMs: 1000, maxRetries: 3 };
const MAX_REPLY_BYTES = 4 * 1024 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SAFE_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

async function readBody(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_REPLY_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function statusField(o: Record<string, unknown>): unknown {
  if ("status" in o) return o["status"];
  for (const k of Object.keys(o)) if (k.toLowerCase() === "status") return o[k];
  return undefined;
}

/** How daprd reads a 2xx reply to a single event. */
export function singleStatus(text: string): DeliveryStatus {
  if (text.trim() === "") return "SUCCESS";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "SUCCESS";
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return "SUCCESS";
  const status = statusField(parsed as Record<string, unknown>);
  if (status === undefined || status === "" || status === "SUCCESS") return "SUCCESS";
  if (status === "DROP") return "DROP";
  return "RETRY";
}

/** How daprd reads a 2xx reply to a bulk delivery: missing or unreadable = RETRY. */
export function bulkStatuses(text: string): Map<string, DeliveryStatus> {
  const out = new Map<string, DeliveryStatus>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return out;
  }
  if (parsed === null || typeof parsed !== "object") return out;
  const o = parsed as Record<string, unknown>;
  const list = o["statuses"] ?? Object.entries(o).find(([k]) => k.toLowerCase() === "statuses")?.[1];
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (item === null || typeof item !== "object") continue;
    const entry = item as Record<string, unknown>;
    const id = entry["entryId"] ?? Object.entries(entry).find(([k]) => k.toLowerCase() === "entryid")?.[1];
    const status = statusField(entry);
    if (typeof id !== "string") continue;
    out.set(id, status === "SUCCESS" ? "SUCCESS" : status === "DROP" ? "DROP" : "RETRY");
  }
  return out;
}

function path(route: string): string {
  return route.startsWith("/") ? route.slice(1) : route;
}

export class HttpEventSink implements EventSink {
  constructor(private readonly channel: AppChannel) {}

  async deliver(e: TopicEvent, signal: AbortSignal): Promise<DeliveryStatus> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.metadata)) if (TOKEN.test(k) && SAFE_VALUE.test(v)) headers[k] = v;
    headers["content-type"] = CLOUDEVENT_CONTENT_TYPE;
    headers["pubsubname"] = e.pubsubname;
    const traceparent = e.event["traceparent"];
    if (typeof traceparent === "string" && traceparent !== "") headers["traceparent"] = traceparent;
    const tracestate = e.event["tracestate"];
    if (typeof tracestate === "string" && tracestate !== "") headers["tracestate"] = tracestate;
    const resp = await this.channel.call({ verb: "POST", method: path(e.path), query: "", headers, body: e.body, signal });
    const text = await readBody(resp.body);
    if (resp.status >= 200 && resp.status < 300) return singleStatus(text);
    if (resp.status === 404) return "DROP";
    throw new Error(`the app answered ${resp.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
  }

  async deliverBulk(e: BulkTopicEvent, signal: AbortSignal): Promise<ReadonlyMap<string, DeliveryStatus>> {
    const entries = e.entries.map((x) => {
      const event = x.rawPayload ? JSON.stringify(typeof x.event["data_base64"] === "string" ? x.event["data_base64"] : "") : x.body.toString("utf8");
      const contentType = x.rawPayload ? "application/octet-stream" : CLOUDEVENT_CONTENT_TYPE;
      return `{"entryId":${JSON.stringify(x.entryId)},"event":${event},"contentType":"${contentType}","metadata":${JSON.stringify(x.metadata)}}`;
    });
    const body = Buffer.from(
      `{"id":"${randomUUID()}","type":"com.dapr.event.sent.bulk","topic":${JSON.stringify(e.topic)},"pubsubname":${JSON.stringify(e.pubsubname)},"metadata":${JSON.stringify(e.metadata)},"entries":[${entries.join(",")}]}`,
    );
    const resp = await this.channel.call({ verb: "POST", method: path(e.path), query: "", headers: { "content-type": "application/json", pubsubname: e.pubsubname }, body, signal });
    const text = await readBody(resp.body);
    if (resp.status >= 200 && resp.status < 300) return bulkStatuses(text);
    if (resp.status === 404) return new Map(e.entries.map((x) => [x.entryId, "SUCCESS" as const]));
    throw new Error(`the app answered ${resp.status}`);
  }
}

/**
 * Asks the app for its subscriptions, retrying transport errors only. Resolves with the
 * subscriptions, or rejects with DiscoveryError when the answer is unusable.
 */
export async function discoverHttpSubscriptions(channel: AppChannel, appId: string, warn: (m: string) => void, signal: AbortSignal): Promise<SubscriptionSpec[]> {
  for (let retry = 1; ; retry++) {
    let resp;
    try {
      resp = await channel.call({ verb: "GET", method: "dapr/subscribe", query: "", headers: { "dapr-app-id": appId, "content-type": "application/json" }, signal });
    } catch (err) {
      const delay = retryDelay(INIT_RETRIES, retry);
      if (delay === undefined || signal.aborted) throw new DiscoveryError(`cannot reach the app for /dapr/subscribe: ${err instanceof Error ? err.message : String(err)}`);
      await sleep(delay, signal);
      continue;
    }
    const text = await readBody(resp.body);
    if (resp.status === 404) return [];
    if (resp.status !== 200) {
      warn(`the app answered ${resp.status} to /dapr/subscribe; no programmatic subscriptions`);
      return [];
    }
    return parseProgrammaticSubscriptions(text, warn);
  }
}

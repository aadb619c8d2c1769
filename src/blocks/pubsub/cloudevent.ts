/**
 * CloudEvent envelopes as daprd builds them (semantics.md §2.1). Keys are written in the order Go's
 * encoding/json writes a map (sorted), so an envelope reads the same as daprd's. JSON data is
 * embedded as received (validated, not re-encoded).
 */
import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";

export type CloudEvent = Record<string, unknown>;

export const CLOUDEVENT_CONTENT_TYPE = "application/cloudevents+json";
export const DEFAULT_TYPE = "com.dapr.event.sent";

export interface EnvelopeInput {
  readonly id?: string;
  readonly source: string;
  readonly type?: string;
  readonly subject?: string;
  readonly topic: string;
  readonly pubsubname: string;
  /** The publisher's content type; `text/plain` when empty. */
  readonly contentType: string;
  readonly data: Buffer;
  readonly traceid: string;
  readonly traceparent: string;
  readonly tracestate: string;
  /** RFC3339; only when a TTL applies and the broker lacks native TTL. */
  readonly expiration?: string;
  readonly now: Date;
}

function mediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export function isJsonContentType(contentType: string): boolean {
  return mediaType(contentType) === "application/json";
}

/** Types whose bodies daprd carries base64 in `data_base64`. */
export function isBinaryContentType(contentType: string): boolean {
  const m = mediaType(contentType);
  return m === "application/octet-stream" || m === "application/x-protobuf" || m === "application/cloudevents+protobuf";
}

export function isCloudEventContentType(contentType: string): boolean {
  return mediaType(contentType) === CLOUDEVENT_CONTENT_TYPE;
}

/** The last second rfc3339 printed: every publish stamps `time`, and it changes once a second. */
let lastSecond = NaN;
let lastStamp = "";

/** RFC3339 with second precision, UTC, as Go's time.RFC3339 prints it. */
export function rfc3339(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond) {
    lastStamp = d.toISOString().replace(/\.\d{3}Z$/, "Z");
    lastSecond = second;
  }
  return lastStamp;
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const DATA_OPEN = Buffer.from('{"data":');

/** Buffers known to hold valid JSON as UTF-8 (JSON.stringify output): embedded without parsing them again. */
const knownJson = new WeakSet<Buffer>();

/** `JSON.stringify` output as bytes, marked so buildEnvelope embeds it without validating it again. */
export function jsonBytes(json: string): Buffer {
  const b = Buffer.from(json);
  knownJson.add(b);
  return b;
}

function embed(data: Buffer, rest: string): Buffer {
  const tail = Buffer.from(`,${rest}`);
  return Buffer.concat([DATA_OPEN, data, tail], DATA_OPEN.length + data.length + tail.length);
}

/**
 * The envelope bytes for a non-raw publish. `data` comes first (keys are sorted): valid JSON data
 * is copied as received, next to the encoded rest, instead of being decoded and encoded again;
 * binary data goes base64 in `data_base64`, anything else as a JSON string.
 */
export function buildEnvelope(e: EnvelopeInput): Buffer {
  const contentType = e.contentType === "" ? "text/plain" : e.contentType;
  const rest =
    `"datacontenttype":${JSON.stringify(contentType)}` +
    (e.expiration !== undefined ? `,"expiration":${JSON.stringify(e.expiration)}` : "") +
    `,"id":${JSON.stringify(e.id ?? randomUUID())}` +
    `,"pubsubname":${JSON.stringify(e.pubsubname)}` +
    `,"source":${JSON.stringify(e.source === "" ? "Dapr" : e.source)}` +
    `,"specversion":"1.0"` +
    (e.subject !== undefined ? `,"subject":${JSON.stringify(e.subject)}` : "") +
    `,"time":${JSON.stringify(rfc3339(e.now))}` +
    `,"topic":${JSON.stringify(e.topic)}` +
    `,"traceid":${JSON.stringify(e.traceid)}` +
    `,"traceparent":${JSON.stringify(e.traceparent)}` +
    `,"tracestate":${JSON.stringify(e.tracestate)}` +
    `,"type":${JSON.stringify(e.type ?? DEFAULT_TYPE)}}`;
  if (isBinaryContentType(contentType)) return Buffer.from(`{"data_base64":${JSON.stringify(e.data.toString("base64"))},${rest}`);
  const json = isJsonContentType(contentType);
  if (json && knownJson.has(e.data)) return embed(e.data, rest);
  const text = e.data.toString("utf8");
  if (json && text.trim() !== "" && isValidJson(text)) {
    // Bytes that are not UTF-8 were decoded with replacement characters: embed the decoded text, as before.
    if (!isUtf8(e.data)) return Buffer.from(`{"data":${text},${rest}`);
    return embed(e.data, rest);
  }
  return Buffer.from(`{"data":${JSON.stringify(text)},${rest}`);
}

function sortedJson(event: CloudEvent): Buffer {
  const sorted: CloudEvent = {};
  for (const k of Object.keys(event).sort()) sorted[k] = event[k];
  return Buffer.from(JSON.stringify(sorted));
}

export class CloudEventError extends Error {}

/**
 * A CloudEvent the app sent whole (`application/cloudevents+json`): kept, with topic and pubsubname
 * overwritten, and time, tracestate, source, type, specversion (and the trace ids when it has no
 * `traceid`) added when missing. `id` and `datacontenttype` are not added, as daprd does.
 */
export function completeCloudEvent(body: Buffer, fill: Omit<EnvelopeInput, "contentType" | "data" | "id" | "type" | "subject">): Buffer {
  let event: unknown;
  try {
    event = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new CloudEventError(`the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (event === null || typeof event !== "object" || Array.isArray(event)) throw new CloudEventError("the body is not a JSON object");
  const ce = event as CloudEvent;
  ce["topic"] = fill.topic;
  ce["pubsubname"] = fill.pubsubname;
  if (!("time" in ce)) ce["time"] = rfc3339(fill.now);
  if (!("tracestate" in ce)) ce["tracestate"] = fill.tracestate;
  if (!("traceid" in ce)) {
    ce["traceid"] = fill.traceid;
    ce["traceparent"] = fill.traceparent;
  }
  if (!("source" in ce) || ce["source"] === "") ce["source"] = "Dapr";
  if (!("type" in ce) || ce["type"] === "") ce["type"] = DEFAULT_TYPE;
  if (!("specversion" in ce) || ce["specversion"] === "") ce["specversion"] = "1.0";
  if (fill.expiration !== undefined && !("expiration" in ce)) ce["expiration"] = fill.expiration;
  return sortedJson(ce);
}

/** The envelope daprd synthesises around the bytes of a raw-payload message for its subscriber. */
export function wrapRawPayload(data: Buffer, topic: string, pubsubname: string, metadata: Readonly<Record<string, string>>): CloudEvent {
  const ce: CloudEvent = {
    data_base64: data.toString("base64"),
    datacontenttype: "application/octet-stream",
    id: randomUUID(),
    pubsubname,
    source: "Dapr",
    specversion: "1.0",
    topic,
    type: DEFAULT_TYPE,
  };
  for (const k of ["traceid", "traceparent", "tracestate"]) {
    const v = metadata[k];
    if (v !== undefined) ce[k] = v;
  }
  return ce;
}

/** Parses delivered bytes as a CloudEvent object; throws CloudEventError when they are not one. */
export function parseCloudEvent(data: Buffer): CloudEvent {
  let event: unknown;
  try {
    event = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw new CloudEventError(`message is not a JSON CloudEvent: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (event === null || typeof event !== "object" || Array.isArray(event)) throw new CloudEventError("message is not a JSON CloudEvent object");
  return event as CloudEvent;
}

/** True when the event carries an `expiration` in the past. */
export function isExpired(event: CloudEvent, now: number): boolean {
  const exp = event["expiration"];
  if (typeof exp !== "string" || exp === "") return false;
  const t = Date.parse(exp);
  return Number.isFinite(t) && t < now;
}

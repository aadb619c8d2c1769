/** Small helpers the HTTP route tables share: JSON replies, decoding bodies, metadata query params. */
import { commonErrors } from "../../errors/index.js";
import type { Reply, RequestContext } from "./router.js";

export const JSON_TYPE = "application/json";

export function json(status: number, value: unknown): Reply {
  return { status, headers: { "content-type": JSON_TYPE }, body: JSON.stringify(value) };
}

export function rawJson(status: number, text: string): Reply {
  return { status, headers: { "content-type": JSON_TYPE }, body: text };
}

export const noContent: Reply = { status: 204 };

/** Parse the body as JSON. `prefixed` adds daprd's "failed deserializing HTTP body:" prefix. */
export async function readJson(ctx: RequestContext, prefixed = true): Promise<unknown> {
  const buf = await ctx.body();
  try {
    return JSON.parse(buf.length === 0 ? "null" : buf.toString("utf8"));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw prefixed ? commonErrors.undecodableBody(detail) : commonErrors.malformedRequest(detail);
  }
}

/** `metadata.<k>=<v>` query parameters (first value of each key; the prefix is case-sensitive). */
export function queryMetadata(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k.startsWith("metadata.") && k.length > 9) {
      const name = k.slice(9);
      if (!(name in out)) out[name] = v;
    }
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A JSON object of string values (Dapr's `map[string]string`), or a decode error naming the field. */
export function stringMap(v: unknown, field: string, prefixed = true): Record<string, string> {
  if (v === undefined || v === null) return {};
  const fail = (why: string) => (prefixed ? commonErrors.undecodableBody(why) : commonErrors.malformedRequest(why));
  if (!isRecord(v)) throw fail(`${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw fail(`${field}.${k} must be a string`);
    out[k] = val;
  }
  return out;
}

export function optionalString(v: unknown, field: string, prefixed = true): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    const why = `${field} must be a string`;
    throw prefixed ? commonErrors.undecodableBody(why) : commonErrors.malformedRequest(why);
  }
  return v;
}

/** A stored value is embedded raw when it is JSON, else as a base64 string (Go's []byte rule). */
export function embeddable(data: Buffer): string {
  const text = data.toString("utf8");
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(data.toString("base64"));
  }
}

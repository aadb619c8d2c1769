/** The publish routes (spec/http-api.md §3), translating the wire to PubSubBlock calls and back. */
import { jsonBytes } from "../../blocks/pubsub/cloudevent.js";
import type { PubSubBlock } from "../../blocks/pubsub/pubsub.js";
import type { BulkEventEntry } from "../../blocks/pubsub/types.js";
import { pubsubErrors } from "../../errors/index.js";
import { isRecord, noContent, queryMetadata } from "./body.js";
import type { Reply, RequestContext, Route } from "./router.js";

export function pubsubRoutes(pubsub: PubSubBlock): Route[] {
  const publish = (ctx: RequestContext) => publishEvent(pubsub, ctx);
  const bulk = (ctx: RequestContext) => bulkPublish(pubsub, ctx);
  return [
    { methods: ["POST", "PUT"], path: "/v1.0/publish/:pubsubname/*topic", group: "publish", handler: publish },
    { methods: ["POST", "PUT"], path: "/v1.0/publish/:pubsubname", group: "publish", handler: publish },
    { methods: ["POST", "PUT"], path: "/v1.0-alpha1/publish/bulk/:pubsubname/*topic", group: "publish", handler: bulk },
    { methods: ["POST", "PUT"], path: "/v1.0-alpha1/publish/bulk/:pubsubname", group: "publish", handler: bulk },
    { methods: ["POST", "PUT"], path: "/v1.0/publish/bulk/:pubsubname/*topic", group: "publish", handler: bulk },
  ];
}

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return typeof v === "string" ? v : undefined;
}

function trace(ctx: RequestContext): { traceparent?: string; tracestate?: string } {
  const traceparent = header(ctx, "traceparent");
  const tracestate = header(ctx, "tracestate");
  return { ...(traceparent !== undefined ? { traceparent } : {}), ...(tracestate !== undefined ? { tracestate } : {}) };
}

async function publishEvent(pubsub: PubSubBlock, ctx: RequestContext): Promise<Reply> {
  const data = await ctx.body();
  await pubsub.publish({
    pubsubname: ctx.params.pubsubname ?? "",
    topic: ctx.params.topic ?? "",
    data,
    contentType: header(ctx, "content-type") ?? "",
    metadata: queryMetadata(ctx.query),
    ...trace(ctx),
  });
  return noContent;
}

/** Go's encoding/json key matching: the exact name first, then case-insensitively (`entryID` is `entryId`). */
function field(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

const TEXT = /^(text\/|application\/xml)/i;

/** One bulk entry's `event` as bytes, per its content type; a message naming the problem otherwise. */
function entryData(event: unknown, contentType: string): Buffer | string {
  const media = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (TEXT.test(media)) return typeof event === "string" ? Buffer.from(event) : `event of entry must be a string for content type ${contentType}`;
  if (media === "application/json" || media === "application/cloudevents+json") return jsonBytes(JSON.stringify(event));
  if (media === "application/octet-stream") {
    if (typeof event !== "string") return "event of entry must be a base64 string for content type application/octet-stream";
    return Buffer.from(event, "base64");
  }
  return `content type ${JSON.stringify(contentType)} is not supported for bulk publish entries`;
}

async function bulkPublish(pubsub: PubSubBlock, ctx: RequestContext): Promise<Reply> {
  const pubsubname = ctx.params.pubsubname ?? "";
  const topic = ctx.params.topic ?? "";
  pubsub.validate(pubsubname, topic);
  const ps = pubsub.get(pubsubname);
  const fail = (problem: string) => pubsubErrors.bulkEvents(pubsubname, ps?.type ?? "", topic, problem);
  const buf = await ctx.body();
  let body: unknown;
  try {
    body = JSON.parse(buf.toString("utf8"));
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
  if (!Array.isArray(body)) throw fail("the body must be a JSON array of entries");
  const entries: BulkEventEntry[] = body.map((raw, i) => {
    if (!isRecord(raw)) throw fail(`entry ${i} must be an object`);
    const id = field(raw, "entryId");
    const entryId = typeof id === "string" ? id : "";
    const type = field(raw, "contentType");
    const contentType = typeof type === "string" ? type : "";
    const data = entryData(field(raw, "event"), contentType);
    if (typeof data === "string") throw fail(`entry ${entryId || i}: ${data}`);
    const rawMetadata = field(raw, "metadata");
    let metadata: Record<string, string> | undefined;
    if (isRecord(rawMetadata)) {
      metadata = {};
      for (const [k, v] of Object.entries(rawMetadata)) if (typeof v === "string") metadata[k] = v;
    }
    return { entryId, data, contentType, ...(metadata !== undefined ? { metadata } : {}) };
  });
  const result = await pubsub.bulkPublish({ pubsubname, topic, entries, metadata: queryMetadata(ctx.query), ...trace(ctx) });
  if (result.failedEntries.length === 0) return noContent;
  return {
    status: 500,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ failedEntries: result.failedEntries, errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE" }),
  };
}

/** The state routes (spec/http-api.md §2), translating the wire to StateBlock calls and back. */
import type { Metadata } from "../../blocks/state/contract.js";
import type { DeleteItem, SaveItem, StateBlock, TransactionItem } from "../../blocks/state/state.js";
import { commonErrors, stateErrors } from "../../errors/index.js";
import { embeddable, isRecord, json, noContent, optionalString, queryMetadata, rawJson, readJson, stringMap } from "./body.js";
import { rawMembers } from "./raw-json.js";
import type { Reply, RequestContext, Route } from "./router.js";

export function stateRoutes(state: StateBlock): Route[] {
  return [
    { methods: ["GET"], path: "/v1.0/state/:storeName/:key", group: "state", handler: (ctx) => getState(state, ctx) },
    { methods: ["POST", "PUT"], path: "/v1.0/state/:storeName", group: "state", handler: (ctx) => saveState(state, ctx) },
    { methods: ["POST", "PUT"], path: "/v1.0/state/:storeName/bulk", group: "state", handler: (ctx) => bulkGet(state, ctx) },
    { methods: ["DELETE"], path: "/v1.0/state/:storeName/:key", group: "state", handler: (ctx) => deleteState(state, ctx) },
    { methods: ["POST", "PUT"], path: "/v1.0/state/:storeName/transaction", group: "state", handler: (ctx) => transaction(state, ctx) },
    { methods: ["POST", "PUT"], path: "/v1.0-alpha1/state/:storeName/query", group: "state", handler: (ctx) => query(state, ctx) },
    { methods: ["GET"], path: "/v1.0-alpha1/state/:storeName/keys", group: "state", handler: (ctx) => listKeys(state, ctx) },
  ];
}

const p = (ctx: RequestContext, name: string) => ctx.params[name] as string;

async function getState(state: StateBlock, ctx: RequestContext): Promise<Reply> {
  const consistency = ctx.query.get("consistency") ?? undefined;
  const got = await state.get({
    storeName: p(ctx, "storeName"),
    key: p(ctx, "key"),
    metadata: queryMetadata(ctx.query),
    ...(consistency !== undefined ? { consistency } : {}),
  });
  if (!got) return noContent;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (got.etag !== undefined) headers.etag = got.etag;
  if (got.metadata) for (const [k, v] of Object.entries(got.metadata)) headers[`metadata.${k}`] = v;
  return { status: 200, headers, body: got.data };
}

async function saveState(state: StateBlock, ctx: RequestContext): Promise<Reply> {
  const storeName = p(ctx, "storeName");
  const text = (await ctx.body()).toString("utf8");
  let body: unknown;
  try {
    body = JSON.parse(text === "" ? "null" : text);
  } catch (err) {
    throw commonErrors.malformedRequest(err instanceof Error ? err.message : String(err));
  }
  if (!Array.isArray(body)) throw commonErrors.malformedRequest("json: cannot unmarshal into Go value of type []state.SetRequest: the body must be a JSON array");
  const extra = queryMetadata(ctx.query);
  // Values are stored as the text received (Tandem note, semantics.md §1.2): no re-encoding.
  const rawValues = rawMembers(text, "value");
  const items = body.map((raw, i) => saveItem(raw, `[${i}]`, extra, false, rawValues[i]));
  await state.save({ storeName, items });
  return noContent;
}

function saveItem(raw: unknown, at: string, extraMetadata: Metadata, prefixed: boolean, rawValue?: string): SaveItem {
  const fail = (why: string) => (prefixed ? commonErrors.undecodableBody(why) : commonErrors.malformedRequest(why));
  if (!isRecord(raw)) throw fail(`${at} must be an object`);
  const key = optionalString(raw.key, `${at}.key`, prefixed);
  if (key === undefined || key === "") throw stateErrors.keyRequired();
  const etag = optionalString(raw.etag, `${at}.etag`, prefixed);
  const metadata = { ...stringMap(raw.metadata, `${at}.metadata`, prefixed), ...extraMetadata };
  const options = isRecord(raw.options) ? raw.options : {};
  if (raw.options !== undefined && raw.options !== null && !isRecord(raw.options)) throw fail(`${at}.options must be an object`);
  const concurrency = optionalString(options.concurrency, `${at}.options.concurrency`, prefixed);
  const consistency = optionalString(options.consistency, `${at}.options.consistency`, prefixed);
  return {
    key,
    value: Buffer.from(rawValue ?? JSON.stringify(raw.value ?? null), "utf8"),
    isBinary: false,
    metadata,
    options: { ...(concurrency !== undefined ? { concurrency } : {}), ...(consistency !== undefined ? { consistency } : {}) },
    ...(etag ? { etag } : {}),
  };
}

async function bulkGet(state: StateBlock, ctx: RequestContext): Promise<Reply> {
  const storeName = p(ctx, "storeName");
  const body = await readJson(ctx);
  if (!isRecord(body)) throw commonErrors.undecodableBody("the body must be a JSON object with keys");
  const keys = body.keys ?? [];
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) throw commonErrors.undecodableBody("keys must be an array of strings");
  const parallelism = body.parallelism;
  if (parallelism !== undefined && parallelism !== null && (typeof parallelism !== "number" || !Number.isInteger(parallelism))) {
    throw commonErrors.undecodableBody("parallelism must be an integer");
  }
  const metadata = { ...stringMap(body.metadata, "metadata"), ...queryMetadata(ctx.query) };
  const items = await state.bulkGet({ storeName, keys: keys as string[], metadata, ...(typeof parallelism === "number" ? { parallelism } : {}) });
  const parts = items.map((i) => {
    let s = `{"key":${JSON.stringify(i.key)}`;
    if (i.data !== undefined) s += `,"data":${embeddable(i.data)}`;
    if (i.etag !== undefined) s += `,"etag":${JSON.stringify(i.etag)}`;
    if (i.metadata !== undefined && Object.keys(i.metadata).length > 0) s += `,"metadata":${JSON.stringify(i.metadata)}`;
    if (i.error !== undefined && i.error !== "") s += `,"error":${JSON.stringify(i.error)}`;
    return s + "}";
  });
  return rawJson(200, `[${parts.join(",")}]`);
}

async function deleteState(state: StateBlock, ctx: RequestContext): Promise<Reply> {
  const ifMatch = ctx.req.headers["if-match"];
  const concurrency = ctx.query.get("concurrency") ?? undefined;
  const consistency = ctx.query.get("consistency") ?? undefined;
  const item: DeleteItem = {
    key: p(ctx, "key"),
    metadata: queryMetadata(ctx.query),
    options: { ...(concurrency !== undefined ? { concurrency } : {}), ...(consistency !== undefined ? { consistency } : {}) },
    ...(typeof ifMatch === "string" && ifMatch !== "" ? { etag: ifMatch } : {}),
  };
  await state.delete({ storeName: p(ctx, "storeName"), ...item });
  return noContent;
}

async function transaction(state: StateBlock, ctx: RequestContext): Promise<Reply> {
  const storeName = p(ctx, "storeName");
  state.assertTransactional(storeName);
  const body = await readJson(ctx);
  if (!isRecord(body)) throw commonErrors.undecodableBody("the body must be a JSON object with operations");
  const ops = body.operations ?? [];
  if (!Array.isArray(ops)) throw commonErrors.undecodableBody("operations must be an array");
  const extra = queryMetadata(ctx.query);
  const metadata = { ...stringMap(body.metadata, "metadata"), ...extra };
  const operations: TransactionItem[] = ops.map((raw, i) => {
    const at = `operations[${i}]`;
    if (!isRecord(raw)) throw commonErrors.undecodableBody(`${at} must be an object`);
    const operation = optionalString(raw.operation, `${at}.operation`) ?? "";
    if (operation === "upsert") return { operation, item: saveItem(raw.request, `${at}.request`, extra, true) };
    if (operation === "delete") return { operation, item: deleteItem(raw.request, `${at}.request`, extra) };
    return { operation, item: raw.request };
  });
  await state.transaction({ storeName, operations, metadata });
  return noContent;
}

function deleteItem(raw: unknown, at: string, extraMetadata: Metadata): DeleteItem {
  if (!isRecord(raw)) throw commonErrors.undecodableBody(`${at} must be an object`);
  const key = optionalString(raw.key, `${at}.key`);
  if (key === undefined || key === "") throw stateErrors.keyRequired();
  const etag = optionalString(raw.etag, `${at}.etag`);
  const options = isRecord(raw.options) ? raw.options : {};
  const concurrency = optionalString(options.concurrency, `${at}.options.concurrency`);
  const consistency = optionalString(options.consistency, `${at}.options.consistency`);
  return {
    key,
    metadata: { ...stringMap(raw.metadata, `${at}.metadata`), ...extraMetadata },
    options: { ...(concurrency !== undefined ? { concurrency } : {}), ...(consistency !== undefined ? { consistency } : {}) },
    ...(etag ? { etag } : {}),
  };
}

async function query(state: StateBlock, ctx: RequestContext): Promise<Reply> {
  const storeName = p(ctx, "storeName");
  const buf = await ctx.body();
  let doc: unknown;
  try {
    doc = JSON.parse(buf.toString("utf8"));
  } catch (err) {
    // daprd answers an unparseable query with 500 ERR_STATE_QUERY, not 400.
    state.features(storeName);
    throw stateErrors.queryFailed(storeName, err instanceof Error ? err.message : String(err));
  }
  const resp = await state.query({ storeName, query: doc, metadata: queryMetadata(ctx.query) });
  if (resp.results.length === 0) return noContent;
  const results = resp.results.map((r) => {
    let s = `{"key":${JSON.stringify(r.key)},"data":${r.data.length > 0 ? embeddable(r.data) : "null"}`;
    if (r.etag !== undefined && r.etag !== "") s += `,"etag":${JSON.stringify(r.etag)}`;
    return s + "}";
  });
  let out = `{"results":[${results.join(",")}]`;
  if (resp.token !== undefined && resp.token !== "") out += `,"token":${JSON.stringify(resp.token)}`;
  return rawJson(200, out + "}");
}

async function listKeys(state: StateBlock, ctx: RequestContext): Promise<Reply> {
  const limitText = ctx.query.get("limit");
  let limit: number | undefined;
  if (limitText !== null && limitText !== "") {
    if (!/^\d+$/.test(limitText)) throw commonErrors.malformedRequest(`limit must be a positive integer, got "${limitText}"`);
    limit = Number(limitText);
  }
  const prefix = ctx.query.get("prefix");
  const token = ctx.query.get("token");
  const result = await state.listKeys({
    storeName: p(ctx, "storeName"),
    ...(prefix !== null ? { prefix } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(token !== null ? { token } : {}),
  });
  return json(200, result);
}

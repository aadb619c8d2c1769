/** Service invocation over HTTP: `/v1.0/invoke/<appId>/method/<path>`, and the `dapr-app-id` header / Basic-auth forms handled by the server's fallback. */
import type { InvokeBlock } from "../../blocks/invoke/invoke.js";
import type { Reply, RequestContext, Route } from "./router.js";

export function invokeRoutes(invoke: InvokeBlock): Route[] {
  return [
    {
      methods: ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"],
      path: "/v1.0/invoke/:appId/method/*method",
      group: "invoke",
      handler: (ctx) => proxy(invoke, ctx, ctx.params.appId as string, ctx.params.method as string),
    },
  ];
}

/** Stream the request to the target and its response back, status, headers and body verbatim. */
export async function proxy(invoke: InvokeBlock, ctx: RequestContext, appId: string, method: string): Promise<Reply> {
  const abort = new AbortController();
  ctx.res.once("close", () => {
    if (!ctx.res.writableFinished) abort.abort();
  });
  const hasBody = ctx.req.headers["content-length"] !== undefined ? ctx.req.headers["content-length"] !== "0" : ctx.req.headers["transfer-encoding"] !== undefined;
  const q = ctx.req.url?.indexOf("?") ?? -1;
  const resp = await invoke.invoke({
    appId,
    method,
    verb: ctx.method,
    query: q >= 0 ? (ctx.req.url as string).slice(q + 1) : "",
    headers: ctx.req.headers as Record<string, string | string[]>,
    signal: abort.signal,
    ...(hasBody ? { body: ctx.req } : {}),
  });
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(resp.headers)) {
    if (k === "connection" || k === "keep-alive" || k === "transfer-encoding") continue;
    headers[k] = typeof v === "string" ? v : [...v];
  }
  ctx.res.writeHead(resp.status, headers);
  resp.body.pipe(ctx.res);
  await new Promise<void>((resolve) => {
    resp.body.once("end", resolve).once("error", () => {
      ctx.res.destroy();
      resolve();
    });
    ctx.res.once("close", resolve);
  });
  return { handled: true };
}

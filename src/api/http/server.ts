/**
 * The Dapr HTTP API server on node:http: API token, body limit, routing, Dapr error bodies, the
 * invoke fallback for unknown routes, metrics and API logging. Handlers come from the per-block
 * route tables; this file holds no business rule.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { InvokeBlock } from "../../blocks/invoke/invoke.js";
import { asTandemError, commonErrors, type TandemError } from "../../errors/index.js";
import type { Logger } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { proxy } from "./invoke.js";
import { Router, UndecodablePathError, type Reply, type RequestContext, type Route } from "./router.js";

export interface HttpServerOptions {
  readonly routes: readonly Route[];
  /** DAPR_API_TOKEN; undefined = no token required. */
  readonly apiToken?: string;
  readonly maxBodyBytes: number;
  /** --read-buffer-size: the most header bytes a request may carry. */
  readonly maxHeaderBytes: number;
  /** --allowed-origins: "" = CORS off, "*" = any origin, else a CSV of origins. */
  readonly allowedOrigins: string;
  readonly metrics?: Metrics;
  readonly logger: Logger;
  readonly apiLogging: boolean;
  /** Unknown routes carrying an app id are proxied through this block, as daprd does. */
  readonly invoke?: InvokeBlock;
}

const TOKEN_EXEMPT = new Set(["/v1.0/healthz", "/v1.0/healthz/outbound"]);
const EMPTY = Buffer.alloc(0);
/** Shared by every request without a query string; handlers only read it. */
const NO_QUERY = new URLSearchParams();

export function createHttpApiServer(opts: HttpServerOptions): Server {
  const router = new Router(opts.routes);
  const cors = corsPolicy(opts.allowedOrigins);
  const server = createServer({ requestTimeout: 0, headersTimeout: 10_000, keepAliveTimeout: 65_000, maxHeaderSize: opts.maxHeaderBytes }, (req, res) => {
    const started = opts.metrics ? performance.now() : 0;
    if (cors && cors(req, res)) return;
    handle(router, opts, req, res)
      .catch((err: unknown) => sendError(res, asTandemError(err), opts.logger))
      .finally(() => {
        opts.metrics?.httpRequest(req.method ?? "", res.statusCode, performance.now() - started, Number(req.headers["content-length"] ?? 0), Number(res.getHeader("content-length") ?? 0));
        if (opts.apiLogging) opts.logger.info({ method: req.method, url: req.url, status: res.statusCode }, "HTTP API called");
      });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
  });
  return server;
}

async function handle(router: Router, opts: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q >= 0 ? url.slice(0, q) : url;
  const method = req.method ?? "GET";

  if (opts.apiToken !== undefined && !(method === "GET" && TOKEN_EXEMPT.has(path))) {
    if (req.headers["dapr-api-token"] !== opts.apiToken) {
      res.writeHead(401, { "content-type": "text/plain; charset=utf-8" });
      res.end("invalid api token");
      req.resume();
      return;
    }
  }
  // The token never travels further; deleting only when present keeps the headers object fast.
  if (req.headers["dapr-api-token"] !== undefined) delete req.headers["dapr-api-token"];

  let match;
  try {
    match = router.match(method, path);
  } catch (err) {
    if (err instanceof UndecodablePathError) {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      res.end(err.message);
      req.resume();
      return;
    }
    throw err;
  }

  const ctx = new HttpRequestContext(req, res, method, match?.params ?? {}, q >= 0 ? url.slice(q + 1) : undefined, opts.maxBodyBytes);

  if (!match) {
    const appId = appIdFromHeaders(req);
    if (appId === undefined || !opts.invoke) {
      req.resume();
      throw commonErrors.noAppId();
    }
    delete req.headers["dapr-app-id"];
    await proxy(opts.invoke, ctx, appId, path.slice(1));
    return;
  }
  const contentLength = Number(req.headers["content-length"] ?? 0);
  if (contentLength > opts.maxBodyBytes) {
    req.resume();
    throw commonErrors.bodyTooLarge(opts.maxBodyBytes);
  }
  const reply = await match.route.handler(ctx);
  send(res, reply);
}

/** A CORS handler answering preflights; returns true when it answered the request itself. */
function corsPolicy(allowed: string): ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined {
  if (allowed === "") return undefined;
  const origins = allowed.split(",").map((o) => o.trim());
  return (req, res) => {
    const origin = req.headers.origin;
    if (origin === undefined || !(origins.includes("*") || origins.includes(origin))) return false;
    res.setHeader("access-control-allow-origin", origins.includes("*") ? "*" : origin);
    res.setHeader("vary", "Origin");
    if (req.method !== "OPTIONS" || req.headers["access-control-request-method"] === undefined) return false;
    res.writeHead(204, {
      "access-control-allow-methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
      "access-control-allow-headers": String(req.headers["access-control-request-headers"] ?? "*"),
      "access-control-max-age": "600",
    });
    res.end();
    return true;
  };
}

/**
 * A class, not an object literal with a getter: a literal whose accessor is a fresh closure per
 * request gets a fresh hidden class each time, and those maps survive young-generation GCs
 * (measured: 6 ms scavenges and +2 ms p99 at 1,000 rps, gone with this class).
 */
class HttpRequestContext implements RequestContext {
  private parsedQuery: URLSearchParams | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly method: string,
    readonly params: Readonly<Record<string, string>>,
    private readonly rawQuery: string | undefined,
    private readonly maxBodyBytes: number,
  ) {}

  get query(): URLSearchParams {
    return (this.parsedQuery ??= this.rawQuery === undefined ? NO_QUERY : new URLSearchParams(this.rawQuery));
  }

  body(): Promise<Buffer> {
    return readBody(this.req, this.maxBodyBytes);
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if ("handled" in reply) return;
  const body = reply.body === undefined ? EMPTY : typeof reply.body === "string" ? Buffer.from(reply.body, "utf8") : reply.body;
  res.writeHead(reply.status, { ...reply.headers, "content-length": String(body.length) });
  res.end(body);
}

function sendError(res: ServerResponse, err: TandemError, logger: Logger): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  if (err.httpStatus >= 500) logger.debug({ err, code: err.code }, "API error");
  const body = Buffer.from(JSON.stringify(err.toHttpBody()), "utf8");
  const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(body.length) };
  if (err.httpStatus === 413) headers.connection = "close";
  res.writeHead(err.httpStatus, headers);
  res.end(body);
}

function appIdFromHeaders(req: IncomingMessage): string | undefined {
  const header = req.headers["dapr-app-id"];
  if (typeof header === "string" && header !== "") return header;
  const auth = req.headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Basic ")) {
    const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
    if (decoded.startsWith("dapr-app-id:")) {
      const id = decoded.slice("dapr-app-id:".length);
      if (id !== "") return id;
    }
  }
  return undefined;
}

/** Read a body up to `limit` bytes; past it, stop reading and answer 413. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        req.pause();
        reject(commonErrors.bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      if (!failed) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.once("error", (err) => {
      if (!failed) reject(commonErrors.bodyRead(err.message));
    });
  });
}

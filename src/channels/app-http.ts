/**
 * The HTTP app channel: a keep-alive undici pool to the app (http, https without verification, or
 * h2c), with the app token stamped on each call and --app-max-concurrency enforced.
 */
import { connect } from "node:net";
import { Pool, type Dispatcher } from "undici";
import type { AppChannel, AppRequest, AppResponse } from "./contract.js";
import { Semaphore } from "../kit/semaphore.js";
import { delay } from "../kit/deferred.js";

export interface HttpAppChannelOptions {
  readonly protocol: "http" | "https" | "h2c";
  readonly address: string;
  readonly port: number;
  /** -1 or 0: unlimited. */
  readonly maxConcurrency: number;
  /** APP_API_TOKEN, sent as `dapr-api-token`. */
  readonly appToken?: string;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length"]);

export class HttpAppChannel implements AppChannel {
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly limit: Semaphore | undefined;

  constructor(private readonly opts: HttpAppChannelOptions) {
    const scheme = opts.protocol === "https" ? "https" : "http";
    const host = opts.address.includes(":") ? `[${opts.address}]` : opts.address;
    this.origin = `${scheme}://${host}:${opts.port}`;
    this.pool = new Pool(this.origin, {
      connections: 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      ...(opts.protocol === "h2c" ? { allowH2: true } : {}),
      ...(opts.protocol === "https" ? { connect: { rejectUnauthorized: false } } : {}),
    });
    this.limit = opts.maxConcurrency > 0 ? new Semaphore(opts.maxConcurrency) : undefined;
  }

  async call(req: AppRequest): Promise<AppResponse> {
    const release = this.limit ? await this.limit.acquire() : undefined;
    try {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (!HOP_BY_HOP.has(k.toLowerCase())) headers[k] = typeof v === "string" ? v : [...v];
      }
      if (this.opts.appToken !== undefined) headers["dapr-api-token"] = this.opts.appToken;
      const res = await this.pool.request({
        path: `/${req.method}${req.query === "" ? "" : `?${req.query}`}`,
        method: req.verb,
        headers,
        body: req.body ?? null,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (release) {
        let done = false;
        const once = () => {
          if (!done) {
            done = true;
            release();
          }
        };
        res.body.once("end", once).once("close", once).once("error", once);
      }
      return { status: res.statusCode, headers: res.headers as AppResponse["headers"], body: res.body };
    } catch (err) {
      release?.();
      throw err;
    }
  }

  async waitForPort(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (await this.dial(500)) return;
      await delay(100, signal);
    }
    throw new Error("aborted while waiting for the app port");
  }

  async probe(path: string, timeoutMs: number): Promise<boolean> {
    try {
      const agent = this.pool as Dispatcher;
      const res = await agent.request({ path, method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
      res.body.resume();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private dial(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.opts.address, port: this.opts.port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    });
  }
}


/** The channel to the local app, as blocks see it: a request out, a streamed response back. */
import type { Readable } from "node:stream";

export type Headers = Readonly<Record<string, string | readonly string[]>>;

export interface AppRequest {
  /** HTTP verb. */
  readonly verb: string;
  /** Path on the app, without the leading slash (`orders/1`). */
  readonly method: string;
  /** Raw query string without `?` ("" for none). */
  readonly query: string;
  readonly headers: Headers;
  readonly body?: Readable | Buffer;
  readonly signal?: AbortSignal;
}

export interface AppResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Readable;
}

export interface AppChannel {
  /** Calls the app (bounded by --app-max-concurrency); the response body must be consumed or destroyed. */
  call(req: AppRequest): Promise<AppResponse>;
  /** Resolves when the app's port accepts a TCP connection (polled every 100 ms), or rejects when aborted. */
  waitForPort(signal: AbortSignal): Promise<void>;
  /** One health probe: true when the app answered 2xx within the probe timeout. */
  probe(path: string, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

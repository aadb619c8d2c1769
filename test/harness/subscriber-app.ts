/**
 * A real HTTP app for pub/sub tests: answers `GET /dapr/subscribe` with the given subscriptions,
 * records every delivery, and replies per path with a programmable answer. Tests await deliveries
 * (`next`, `waitFor`) instead of sleeping.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { freePort } from "./ports.js";

export interface Delivery {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

export interface Reply {
  readonly status: number;
  readonly body?: string;
}

export type Responder = (d: Delivery, attempt: number) => Reply;

export interface SubscriberApp {
  readonly port: number;
  readonly deliveries: Delivery[];
  /** Sets the reply for a path (`/orders`); the default is 200 with an empty body. */
  reply(path: string, responder: Responder | Reply): void;
  /** Resolves with the first delivery at or after index `from` matching `pred`, or rejects after `timeoutMs`. */
  waitFor(pred: (d: Delivery) => boolean, timeoutMs?: number, from?: number): Promise<Delivery>;
  /** Resolves once `count` deliveries match. */
  waitForCount(pred: (d: Delivery) => boolean, count: number, timeoutMs?: number): Promise<Delivery[]>;
  /** How many times /dapr/subscribe was asked. */
  readonly discoveryCalls: () => number;
  close(): Promise<void>;
}

export async function startSubscriberApp(subscriptions: unknown, opts: { port?: number; subscribeStatus?: number } = {}): Promise<SubscriberApp> {
  const deliveries: Delivery[] = [];
  const responders = new Map<string, Responder>();
  const attempts = new Map<string, number>();
  const waiters = new Set<() => void>();
  let discovery = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method === "GET" && path === "/dapr/subscribe") {
        discovery += 1;
        const status = opts.subscribeStatus ?? 200;
        res.writeHead(status, { "content-type": "application/json" }).end(status === 200 ? JSON.stringify(subscriptions) : "");
        return;
      }
      if (req.method !== "POST") {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch {
        json = undefined;
      }
      const d: Delivery = { path, headers: req.headers, body, json };
      const key = `${path}\u0000${body.toString("base64")}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      deliveries.push(d);
      const r = responders.get(path)?.(d, attempt) ?? { status: 200 };
      res.writeHead(r.status, { "content-type": "application/json" }).end(r.body ?? "");
      for (const w of [...waiters]) w();
    });
  });
  const port = opts.port ?? (await freePort());
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));

  function waitForCount(pred: (d: Delivery) => boolean, count: number, timeoutMs = 15_000): Promise<Delivery[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = deliveries.filter(pred);
        if (found.length >= count) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`expected ${count} matching deliveries within ${timeoutMs} ms, got ${deliveries.filter(pred).length}; all: ${deliveries.map((d) => d.path).join(", ")}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  return {
    port,
    deliveries,
    reply(path, responder) {
      responders.set(path, typeof responder === "function" ? responder : () => responder);
    },
    async waitFor(pred, timeoutMs = 15_000, from = 0) {
      const found = await waitForCount((d) => deliveries.indexOf(d) >= from && pred(d), 1, timeoutMs);
      return found[0] as Delivery;
    },
    waitForCount,
    discoveryCalls: () => discovery,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Routes as data: each API file exports a table of { methods, path, group, handler }. The router
 * compiles the path patterns once and matches on raw (still escaped) segments, decoding only the
 * parameters, as daprd's router does (path cleaned, one trailing slash ignored).
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS";

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Decoded path parameters. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Read the whole body (bounded by --max-body-size; 413 beyond it). */
  body(): Promise<Buffer>;
}

/** What a handler answers; `handled` means it wrote the response itself (streaming). */
export type Reply =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: Buffer | string }
  | { readonly handled: true };

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

export interface Route {
  readonly methods: readonly HttpMethod[];
  /** `/v1.0/state/:storeName/:key`; a final `*rest` captures the remaining segments. */
  readonly path: string;
  /** Dapr API group name (`state`, `metadata`, `healthz`...) for allow/deny lists and logs. */
  readonly group: string;
  readonly handler: Handler;
}

interface Compiled {
  readonly route: Route;
  readonly parts: readonly ({ kind: "literal"; text: string } | { kind: "param"; name: string } | { kind: "rest"; name: string })[];
}

export interface Match {
  readonly route: Route;
  readonly params: Record<string, string>;
}

export class UndecodablePathError extends Error {}

export class Router {
  private readonly byMethod = new Map<string, Compiled[]>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const parts = route.path
        .split("/")
        .slice(1)
        .map((p) => (p.startsWith(":") ? { kind: "param" as const, name: p.slice(1) } : p.startsWith("*") ? { kind: "rest" as const, name: p.slice(1) } : { kind: "literal" as const, text: p }));
      for (const m of route.methods) {
        const list = this.byMethod.get(m) ?? [];
        list.push({ route, parts });
        this.byMethod.set(m, list);
      }
    }
  }

  /** Match a raw path (no query string). Throws UndecodablePathError on a bad escape in a parameter. */
  match(method: string, rawPath: string): Match | undefined {
    const list = this.byMethod.get(method);
    if (!list) return undefined;
    const segments = cleanPath(rawPath).split("/").slice(1);
    for (const c of list) {
      const params = matchParts(c, segments);
      if (params) return { route: c.route, params };
    }
    return undefined;
  }

  /** True when some other method would have matched (for allow-lists; unused methods fall through). */
  allowsAnyMethod(rawPath: string): boolean {
    const segments = cleanPath(rawPath).split("/").slice(1);
    for (const list of this.byMethod.values()) for (const c of list) if (matchParts(c, segments)) return true;
    return false;
  }
}

function matchParts(c: Compiled, segments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < c.parts.length; i++) {
    const part = c.parts[i] as Compiled["parts"][number];
    if (part.kind === "rest") {
      if (i >= segments.length) return undefined;
      params[part.name] = segments.slice(i).map(decodeParam).join("/");
      return params;
    }
    const seg = segments[i];
    if (seg === undefined) return undefined;
    if (part.kind === "literal") {
      if (seg !== part.text) return undefined;
    } else {
      if (seg === "") return undefined;
      params[part.name] = decodeParam(seg);
    }
  }
  return segments.length === c.parts.length ? params : undefined;
}

/** Query-string unescaping (a `+` is a space), as Go's url.QueryUnescape. */
function decodeParam(seg: string): string {
  if (!seg.includes("%") && !seg.includes("+")) return seg;
  try {
    return decodeURIComponent(seg.includes("+") ? seg.replace(/\+/g, " ") : seg);
  } catch {
    throw new UndecodablePathError(`invalid URL escape "${seg}"`);
  }
}

/** Go's path.Clean on the escaped path, then one trailing slash stripped. */
export function cleanPath(p: string): string {
  if (!p.includes("//") && !p.includes("/.") && !(p.length > 1 && p.endsWith("/"))) return p;
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

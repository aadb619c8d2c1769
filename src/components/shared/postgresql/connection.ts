/**
 * PostgreSQL connection options shared by every component on PostgreSQL (state, pub/sub, bindings,
 * configuration): Dapr's `connectionString` (libpq `key=value` or a `postgres://` URL, pgx's
 * `pool_*` parameters included) or the discrete fields, pool size and idle time, the per-operation
 * timeout and the query execution mode, turned into one `pg.PoolConfig`.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import type { PoolConfig } from "pg";
import { MetadataError } from "../../../kit/metadata-schema.js";
import { parseDurationOrNumber } from "../../../kit/duration.js";

/** Schema fields every PostgreSQL component declares (spread into its own schema). */
export const postgresConnectionFields = {
  connectionString: {
    type: "string",
    sensitive: true,
    aliases: ["url"],
    description:
      "libpq `key=value` string (`host=db port=5432 user=u password=p dbname=d sslmode=require`) or URL (`postgres://u:p@db:5432/d?sslmode=require`); pgx's `pool_max_conns` and `pool_max_conn_idle_time` are understood. Either this or `host`.",
  },
  host: { type: "string", description: "Server host, when `connectionString` is not given." },
  port: { type: "integer", min: 1, description: "Server port (default 5432), with `host`." },
  database: { type: "string", aliases: ["dbname"], description: "Database name (default: the user name), with `host`." },
  user: { type: "string", aliases: ["username"], description: "User name, with `host`." },
  password: { type: "string", sensitive: true, description: "Password, with `host`." },
  sslRootCert: {
    type: "string",
    description: "CA certificate (PEM text or a file path) to verify the server with; turns TLS on (`verify-full` unless `sslmode` says otherwise).",
  },
  timeout: {
    type: "duration",
    default: 20_000,
    aliases: ["timeoutInSeconds"],
    description: "Timeout for each database operation and for opening a connection (bare numbers are seconds).",
  },
  maxConns: { type: "integer", min: 1, description: "Most connections in the pool (default: the larger of 4 and the number of CPUs)." },
  connectionMaxIdleTime: { type: "duration", description: "Close connections idle for longer than this (default 30m, pgx's)." },
  queryExecMode: {
    type: "string",
    oneOf: ["cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"],
    description:
      "pgx's statement mode. `cache_statement`/`cache_describe` (default) use named prepared statements cached per connection; `describe_exec`, `exec` and `simple_protocol` use unnamed statements that no server session keeps, which PgBouncer in transaction mode needs.",
  },
} as const;

export interface PostgresConnectionOptions {
  readonly connectionString?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly database?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly sslRootCert?: string | undefined;
  readonly timeout: number;
  readonly maxConns?: number | undefined;
  readonly connectionMaxIdleTime?: number | undefined;
  readonly queryExecMode?: string | undefined;
}

/** A libpq `key=value` string (values may be single-quoted with `\` escapes) or a URL -> lower-cased keys. */
export function parseConnectionString(s: string): Record<string, string> {
  const trimmed = s.trim();
  if (/^postgres(?:ql)?:\/\//i.test(trimmed)) return parseUrl(trimmed);
  const out: Record<string, string> = {};
  let i = 0;
  const n = trimmed.length;
  while (i < n) {
    while (i < n && /\s/.test(trimmed[i] as string)) i++;
    if (i >= n) break;
    const eq = trimmed.indexOf("=", i);
    if (eq < 0) throw new MetadataError("connectionString", `invalid connection string: missing "=" after "${trimmed.slice(i)}"`);
    const key = trimmed.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < n && trimmed[i] === " ") i++;
    let value = "";
    if (trimmed[i] === "'") {
      i++;
      while (i < n && trimmed[i] !== "'") {
        if (trimmed[i] === "\\" && i + 1 < n) i++;
        value += trimmed[i];
        i++;
      }
      if (i >= n) throw new MetadataError("connectionString", "invalid connection string: unterminated quoted value");
      i++;
    } else {
      while (i < n && !/\s/.test(trimmed[i] as string)) {
        if (trimmed[i] === "\\" && i + 1 < n) i++;
        value += trimmed[i];
        i++;
      }
    }
    out[key] = value;
  }
  return out;
}

function parseUrl(s: string): Record<string, string> {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new MetadataError("connectionString", "invalid connection string URL");
  }
  const out: Record<string, string> = {};
  if (url.hostname !== "") out.host = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ""));
  if (url.port !== "") out.port = url.port;
  if (url.username !== "") out.user = decodeURIComponent(url.username);
  if (url.password !== "") out.password = decodeURIComponent(url.password);
  const db = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (db !== "") out.dbname = db;
  for (const [k, v] of url.searchParams) out[k.toLowerCase()] = v;
  return out;
}

function pem(valueOrPath: string): string {
  return valueOrPath.includes("-----BEGIN") ? valueOrPath : readFileSync(valueOrPath, "utf8");
}

function durationMs(field: string, raw: string): number {
  const ms = parseDurationOrNumber(raw, 1000);
  if (ms === undefined) throw new MetadataError("connectionString", `invalid ${field} "${raw}" in the connection string`);
  return ms;
}

/** Whether queries should carry a statement name (prepared once per connection). */
export function usesNamedStatements(options: PostgresConnectionOptions): boolean {
  const mode = options.queryExecMode ?? "cache_describe";
  return mode === "cache_statement" || mode === "cache_describe";
}

/** The `pg.Pool` configuration for these options; `component` names the component in errors. */
export function poolConfig(options: PostgresConnectionOptions, component: string): PoolConfig {
  const cs = options.connectionString !== undefined && options.connectionString !== "" ? parseConnectionString(options.connectionString) : {};
  if (options.connectionString === undefined && options.host === undefined) {
    throw new MetadataError("connectionString", `${component}: metadata field "connectionString" (or "host") is required`);
  }
  const port = options.port ?? (cs.port !== undefined ? Number(cs.port) : 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new MetadataError("port", `${component}: invalid port "${cs.port ?? options.port}"`);
  const user = options.user ?? cs.user;
  const config: PoolConfig = {
    host: options.host ?? cs.host ?? cs.hostaddr ?? "localhost",
    port,
    database: options.database ?? cs.dbname ?? cs.database ?? user,
    user,
    password: options.password ?? cs.password,
    application_name: cs.application_name ?? "tandem",
    max: options.maxConns ?? (cs.pool_max_conns !== undefined ? Number(cs.pool_max_conns) : Math.max(4, cpus().length)),
    idleTimeoutMillis:
      options.connectionMaxIdleTime ?? (cs.pool_max_conn_idle_time !== undefined ? durationMs("pool_max_conn_idle_time", cs.pool_max_conn_idle_time) : 30 * 60_000),
    connectionTimeoutMillis: options.timeout,
    // The server cancels a statement at the timeout; the client gives up shortly after if the server cannot answer.
    statement_timeout: options.timeout,
    query_timeout: options.timeout + 1000,
    keepAlive: true,
  };
  if (cs.connect_timeout !== undefined && Number(cs.connect_timeout) > 0) config.connectionTimeoutMillis = Number(cs.connect_timeout) * 1000;
  if (cs.search_path !== undefined) config.options = `-c search_path=${cs.search_path}`;
  const rootCert = options.sslRootCert ?? cs.sslrootcert;
  // libpq's default `prefer` falls back to plain text; pg cannot fall back, so it connects without TLS.
  const mode = cs.sslmode ?? (rootCert !== undefined ? "verify-full" : "prefer");
  if (!["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].includes(mode)) {
    throw new MetadataError("connectionString", `${component}: invalid sslmode "${mode}"`);
  }
  if (mode === "require" || mode === "verify-ca" || mode === "verify-full") {
    const verify = mode !== "require" || rootCert !== undefined;
    config.ssl = {
      rejectUnauthorized: verify,
      ...(rootCert !== undefined ? { ca: pem(rootCert) } : {}),
      ...(cs.sslcert !== undefined ? { cert: pem(cs.sslcert) } : {}),
      ...(cs.sslkey !== undefined ? { key: pem(cs.sslkey) } : {}),
      ...(mode === "verify-full" ? {} : { checkServerIdentity: () => undefined }),
    };
  }
  return config;
}

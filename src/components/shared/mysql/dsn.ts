/**
 * Go MySQL driver DSNs (`user:pass@tcp(host:3306)/dbname?param=value`), as Dapr's MySQL components
 * take them, turned into mysql2 connection options. Shared by every MySQL-backed component (state
 * now; bindings next).
 */
import { readFileSync } from "node:fs";
import type { PoolOptions } from "mysql2/promise";
import { parseDurationOrNumber } from "../../../kit/duration.js";
import { MetadataError } from "../../../kit/metadata-schema.js";

/** A parsed Go MySQL DSN. */
export interface MysqlDsn {
  readonly user: string;
  readonly password?: string;
  readonly protocol: "tcp" | "unix";
  /** `host:port` for tcp, a socket path for unix. */
  readonly address: string;
  /** The database named after `/` ("" when none). */
  readonly database: string;
  /** Query parameters in order, still URL-decoded. */
  readonly params: ReadonlyMap<string, string>;
}

/** Parameters of the Go driver that shape the client only (Tandem has its own equivalents, or none is needed). */
const CLIENT_ONLY = new Set([
  "allownativepasswords",
  "allowcleartextpasswords",
  "allowoldpasswords",
  "allowallfiles",
  "allowfallbacktoplaintext",
  "checkconnliveness",
  "clientfoundrows",
  "columnswithalias",
  "interpolateparams",
  "multistatements",
  "parsetime",
  "readtimeout",
  "writetimeout",
  "rejectreadonly",
  "maxallowedpacket",
  "loc",
  "serverpubkey",
  "connectionattributes",
]);

/**
 * Parse a Go MySQL DSN: `[user[:password]@][protocol[(address)]]/dbname[?param1=value1&...]`.
 * @example parseGoDsn("root:pw@tcp(127.0.0.1:3306)/?parseTime=true") // { user: "root", address: "127.0.0.1:3306", database: "", ... }
 */
export function parseGoDsn(raw: string, component = "state.mysql"): MysqlDsn {
  const bad = (why: string) => new MetadataError("connectionString", `${component}: invalid connectionString: ${why}`);
  const slash = raw.lastIndexOf("/", raw.includes("?") ? raw.indexOf("?") : raw.length);
  if (slash < 0) throw bad("missing the / before the database name");
  const head = raw.slice(0, slash);
  const tail = raw.slice(slash + 1);
  const q = tail.indexOf("?");
  const database = q >= 0 ? tail.slice(0, q) : tail;
  const query = q >= 0 ? tail.slice(q + 1) : "";

  // The password may hold '@': the user part ends at the last '@' before the address.
  const at = head.lastIndexOf("@");
  const creds = at >= 0 ? head.slice(0, at) : "";
  const target = at >= 0 ? head.slice(at + 1) : head;
  const colon = creds.indexOf(":");
  const user = colon >= 0 ? creds.slice(0, colon) : creds;
  const password = colon >= 0 ? creds.slice(colon + 1) : undefined;

  let protocol: "tcp" | "unix" = "tcp";
  let address = "127.0.0.1:3306";
  if (target !== "") {
    const m = /^(\w+)(?:\((.*)\))?$/.exec(target);
    if (!m) throw bad(`cannot read the address "${target}" (expected e.g. tcp(host:3306))`);
    const proto = (m[1] as string).toLowerCase();
    if (proto !== "tcp" && proto !== "unix") throw bad(`protocol "${m[1]}" is not supported (tcp or unix)`);
    protocol = proto;
    address = m[2] ?? (proto === "unix" ? "/tmp/mysql.sock" : "127.0.0.1:3306");
  }

  const params = new Map<string, string>();
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw bad(`parameter "${part}" has no value`);
    try {
      params.set(decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1)));
    } catch {
      throw bad(`bad percent-encoding in "${part}"`);
    }
  }
  return password === undefined ? { user, protocol, address, database, params } : { user, password, protocol, address, database, params };
}

/**
 * Dapr's rule: insert the schema name right after the DSN's `/` (the DSN must name no database).
 * @example withDatabase(parseGoDsn("u@tcp(h:3306)/"), "dapr_state_store").database // "dapr_state_store"
 */
export function withDatabase(dsn: MysqlDsn, database: string): MysqlDsn {
  return { ...dsn, database };
}

export interface ClientSettings {
  readonly pemPath?: string | undefined;
  readonly component: string;
}

/** mysql2 pool options for a DSN, plus session variables (`SET SESSION`) from parameters that name none of the driver's options. */
export function poolOptions(dsn: MysqlDsn, settings: ClientSettings): { options: PoolOptions; sessionVariables: readonly [string, string][] } {
  const bad = (why: string) => new MetadataError("connectionString", `${settings.component}: invalid connectionString: ${why}`);
  const options: PoolOptions = {
    user: dsn.user,
    ...(dsn.password !== undefined ? { password: dsn.password } : {}),
    ...(dsn.database !== "" ? { database: dsn.database } : {}),
  };
  if (dsn.protocol === "unix") {
    options.socketPath = dsn.address;
  } else {
    const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(dsn.address);
    if (!m) throw bad(`cannot read host:port "${dsn.address}"`);
    options.host = m[1] ?? (m[2] === "" || m[2] === undefined ? "127.0.0.1" : m[2]);
    options.port = m[3] !== undefined ? Number(m[3]) : 3306;
  }

  const sessionVariables: [string, string][] = [];
  let tls: string | undefined;
  for (const [name, value] of dsn.params) {
    const lower = name.toLowerCase();
    if (lower === "tls") tls = value.toLowerCase();
    else if (lower === "timeout") {
      const ms = parseDurationOrNumber(value, 1000);
      if (ms === undefined) throw bad(`timeout "${value}" is not a duration`);
      options.connectTimeout = ms;
    } else if (lower === "charset") options.charset = value.split(",")[0] ?? value;
    else if (lower === "collation") options.charset = value;
    else if (!CLIENT_ONLY.has(lower)) {
      // As the Go driver does: any other parameter is a system variable set on each connection.
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw bad(`parameter "${name}" is not a valid system variable name`);
      sessionVariables.push([name, value]);
    }
  }

  const ca = settings.pemPath !== undefined && settings.pemPath !== "" ? readPem(settings.pemPath, settings.component) : undefined;
  if (ca !== undefined) options.ssl = { ca, rejectUnauthorized: true };
  else if (tls === "true") options.ssl = { rejectUnauthorized: true };
  else if (tls === "skip-verify" || tls === "preferred") options.ssl = { rejectUnauthorized: false };
  else if (tls === "custom") throw bad("tls=custom needs the pemPath metadata field");
  else if (tls !== undefined && tls !== "false") throw bad(`tls "${tls}" must be true, false, skip-verify, preferred or custom`);
  return { options, sessionVariables };
}

function readPem(path: string, component: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new MetadataError("pemPath", `${component}: cannot read pemPath "${path}": ${(err as Error).message}`);
  }
}

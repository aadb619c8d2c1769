/**
 * Dapr's SQLite connection strings and key-range helpers, shared by every SQLite-backed component
 * (state.sqlite now; the name resolution registry and configuration.sqlite next).
 */
import { MetadataError } from "../../../kit/metadata-schema.js";

/** Where and how to open the database, from `connectionString`. */
export interface SqliteConnection {
  readonly filename: string;
  readonly memory: boolean;
  readonly readonly: boolean;
  readonly fileMustExist: boolean;
  /** Extra `PRAGMA` statements from `_pragma` options, e.g. `synchronous = NORMAL`. */
  readonly pragmas: readonly string[];
}

const FORBIDDEN_PRAGMAS: Readonly<Record<string, string>> = {
  busy_timeout: "use the busyTimeout metadata field instead",
  journal_mode: "use the disableWAL metadata field instead",
  foreign_keys: "it cannot be changed for this component",
};

/**
 * Parse Dapr's SQLite connection string: a path, `:memory:`, or a `file:` URI with options.
 * @example parseConnectionString("file:data.db?mode=ro") // { filename: "data.db", readonly: true, ... }
 */
export function parseConnectionString(raw: string, component = "state.sqlite"): SqliteConnection {
  const bad = (why: string) => new MetadataError("connectionString", `${component}: invalid connectionString "${raw}": ${why}`);
  const text = raw.trim();
  const isUri = text.toLowerCase().startsWith("file:");
  const rest = isUri ? text.slice("file:".length) : text;
  const q = rest.indexOf("?");
  let path = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : "";
  if (isUri) {
    if (path.startsWith("//")) {
      const slash = path.indexOf("/", 2);
      const authority = slash < 0 ? path.slice(2) : path.slice(2, slash);
      if (authority !== "" && authority.toLowerCase() !== "localhost") throw bad(`a file: URI cannot name host "${authority}"`);
      path = slash < 0 ? "" : path.slice(slash);
    }
    try {
      path = decodeURIComponent(path);
    } catch {
      throw bad("bad percent-encoding in the path");
    }
  }
  let memory = path === ":memory:";
  let readonly = false;
  let fileMustExist = false;
  const pragmas: string[] = [];
  for (const [name, value] of new URLSearchParams(query)) {
    switch (name) {
      case "mode":
        if (value === "ro") readonly = true;
        else if (value === "rw") fileMustExist = true;
        else if (value === "memory") memory = true;
        else if (value !== "rwc") throw bad(`mode must be ro, rw, rwc or memory, got "${value}"`);
        break;
      case "immutable":
        if (value === "1") readonly = true;
        break;
      case "cache":
        // One connection per component: shared and private caches behave the same.
        if (value !== "shared" && value !== "private") throw bad(`cache must be shared or private, got "${value}"`);
        break;
      case "_txlock":
        // Tandem always begins write transactions IMMEDIATE, Dapr's recommended value.
        if (!["deferred", "immediate", "exclusive"].includes(value.toLowerCase())) throw bad(`_txlock must be deferred, immediate or exclusive, got "${value}"`);
        break;
      case "_time_format":
        break; // Go driver option for binding time values; Tandem binds none.
      case "_pragma":
        pragmas.push(parsePragma(value, bad));
        break;
      default:
        throw bad(`unsupported option "${name}" (supported: mode, immutable, cache, _txlock, _pragma)`);
    }
  }
  if (!memory && path === "") throw bad("no database file named");
  return { filename: memory ? ":memory:" : path, memory, readonly: readonly && !memory, fileMustExist, pragmas };
}

function parsePragma(value: string, bad: (why: string) => Error): string {
  const m = /^\s*([A-Za-z_]+)\s*(?:\(\s*([\w.+-]+)\s*\)|=\s*([\w.+-]+))?\s*$/.exec(value);
  if (!m) throw bad(`_pragma "${value}" is not of the form name(value)`);
  const name = (m[1] as string).toLowerCase();
  const why = FORBIDDEN_PRAGMAS[name];
  if (why !== undefined) throw bad(`_pragma ${name} is not allowed: ${why}`);
  const arg = m[2] ?? m[3];
  return arg === undefined ? name : `${name} = ${arg}`;
}

/** The smallest string greater than every string starting with `prefix` (code point order = UTF-8 byte order), or undefined. */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0) as number);
  while (points.length > 0) {
    const last = points.pop() as number;
    if (last < 0x10ffff) {
      points.push(last + 1 === 0xd800 ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

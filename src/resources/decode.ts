/**
 * Typed reads from parsed YAML with precise problems: every reader takes the dotted path of the
 * field it reads (`spec.metadata[2].value`) and records what was expected when the value is wrong.
 */
import type { ResourceProblem } from "./types.js";

export type YamlMap = Record<string, unknown>;

/** Where problems of one document go. `ignorable` is switched on once a Component says `ignoreErrors`. */
export class ProblemSink {
  ignorable = false;
  constructor(
    readonly file: string,
    readonly document: number | undefined,
    readonly problems: ResourceProblem[],
  ) {}

  report(field: string | undefined, message: string): void {
    const p: { -readonly [K in keyof ResourceProblem]: ResourceProblem[K] } = { file: this.file, message, ignorable: this.ignorable };
    if (this.document !== undefined) p.document = this.document;
    if (field !== undefined && field !== "") p.field = field;
    this.problems.push(p);
  }

  /** How many problems exist so far; compare before and after decoding a document. */
  get count(): number {
    return this.problems.length;
  }
}

export function child(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

export function isMap(v: unknown): v is YamlMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A short description of a YAML value for "expected X, got Y" messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === "bigint") return `the number ${v.toString()}`;
  if (typeof v === "number") return `the number ${String(v)}`;
  if (typeof v === "boolean") return `the boolean ${String(v)}`;
  return typeof v;
}

/**
 * Render a YAML scalar as the string Dapr uses (`true` -> "true", `5` -> "5"). Mappings and lists
 * render as JSON, as Dapr's DynamicValue does. `null` is "absent".
 */
export function renderScalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "bigint" || typeof v === "boolean") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN";
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? Number(x) : x));
}

interface ReadOptions {
  readonly required?: boolean;
}

function missing(sink: ProblemSink, path: string, what: string): undefined {
  sink.report(path, `required: expected ${what}`);
  return undefined;
}

/** A mapping at `path` (`value` is the parent's entry). */
export function readMap(sink: ProblemSink, value: unknown, path: string, opts: ReadOptions = {}): YamlMap | undefined {
  if (value === undefined || value === null) return opts.required === true ? missing(sink, path, "a mapping") : undefined;
  if (!isMap(value)) {
    sink.report(path, `expected a mapping, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

export function readList(sink: ProblemSink, value: unknown, path: string, opts: ReadOptions = {}): unknown[] | undefined {
  if (value === undefined || value === null) return opts.required === true ? missing(sink, path, "a list") : undefined;
  if (!Array.isArray(value)) {
    sink.report(path, `expected a list, got ${describe(value)}`);
    return undefined;
  }
  return value as unknown[];
}

/** A string; an empty string counts as missing when required. */
export function readString(sink: ProblemSink, value: unknown, path: string, opts: ReadOptions = {}): string | undefined {
  if (value === undefined || value === null || (value === "" && opts.required === true)) {
    return opts.required === true ? missing(sink, path, "a non-empty string") : undefined;
  }
  if (typeof value !== "string") {
    sink.report(path, `expected a string, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** A scalar of any type rendered as a string (for fields Dapr reads as text). */
export function readText(sink: ProblemSink, value: unknown, path: string, opts: ReadOptions = {}): string | undefined {
  if (value === undefined || value === null || (value === "" && opts.required === true)) {
    return opts.required === true ? missing(sink, path, "a non-empty value") : undefined;
  }
  if (typeof value === "object") {
    sink.report(path, `expected a scalar value, got ${describe(value)}`);
    return undefined;
  }
  return renderScalar(value);
}

/** A boolean; the strings "true"/"false" are accepted too (some Dapr fields are strings). */
export function readBool(sink: ProblemSink, value: unknown, path: string, opts: ReadOptions = {}): boolean | undefined {
  if (value === undefined || value === null) return opts.required === true ? missing(sink, path, "true or false") : undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  sink.report(path, `expected true or false, got ${describe(value)}`);
  return undefined;
}

/** An integer (a number or a string of digits), at least `min` when given. */
export function readInt(sink: ProblemSink, value: unknown, path: string, opts: ReadOptions & { readonly min?: number } = {}): number | undefined {
  if (value === undefined || value === null) return opts.required === true ? missing(sink, path, "an integer") : undefined;
  let n: number | undefined;
  if (typeof value === "bigint") n = Number(value);
  else if (typeof value === "number" && Number.isInteger(value)) n = value;
  else if (typeof value === "string" && /^[-+]?\d+$/.test(value.trim())) n = Number(value.trim());
  if (n === undefined || !Number.isSafeInteger(n)) {
    sink.report(path, `expected an integer, got ${describe(value)}`);
    return undefined;
  }
  if (opts.min !== undefined && n < opts.min) {
    sink.report(path, `expected an integer of at least ${opts.min}, got ${n}`);
    return undefined;
  }
  return n;
}

/** A list of strings (scalars are rendered as strings, as Dapr's `[]string` fields accept them). */
export function readStringList(sink: ProblemSink, value: unknown, path: string): string[] {
  const list = readList(sink, value, path);
  if (list === undefined) return [];
  const out: string[] = [];
  list.forEach((item, i) => {
    if (item === null || item === undefined || typeof item === "object") {
      sink.report(child(path, i), `expected a string, got ${describe(item)}`);
      return;
    }
    out.push(renderScalar(item) ?? "");
  });
  return out;
}

/** One of a fixed set of words, matched case-insensitively and returned in the set's spelling. */
export function readEnum<T extends string>(sink: ProblemSink, value: unknown, path: string, allowed: readonly T[], opts: ReadOptions = {}): T | undefined {
  const s = readString(sink, value, path, opts);
  if (s === undefined || (s === "" && opts.required !== true)) return undefined;
  const hit = allowed.find((a) => a.toLowerCase() === s.toLowerCase());
  if (hit === undefined) {
    sink.report(path, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(s)}`);
    return undefined;
  }
  return hit;
}

/**
 * A parsed YAML value made safe for the runtime: integers arrive as bigint (to render them exactly
 * as strings) and become numbers here, or strings when beyond 2^53.
 */
export function plain(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** A mapping made safe for the runtime (see `plain`). */
export function plainMap(value: YamlMap): Record<string, unknown> {
  return plain(value) as Record<string, unknown>;
}

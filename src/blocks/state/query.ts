/**
 * The alpha1 state query language: parsing the JSON document into a typed QueryRequest, and an
 * evaluator the block uses for stores that scan but do not query natively.
 */
import type { QueryFilter, QueryRequest, QuerySort } from "./contract.js";

export class QueryParseError extends Error {}

const COMPARISONS = ["EQ", "NEQ", "GT", "GTE", "LT", "LTE"] as const;

export interface ParsedQuery {
  readonly filter?: QueryFilter;
  readonly sort: readonly QuerySort[];
  readonly limit?: number;
  readonly token?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseQuery(doc: unknown): ParsedQuery {
  if (!isObject(doc)) throw new QueryParseError("query must be a JSON object");
  const out: { filter?: QueryFilter; sort: QuerySort[]; limit?: number; token?: string } = { sort: [] };
  for (const key of Object.keys(doc)) {
    if (!["filter", "sort", "page"].includes(key)) throw new QueryParseError(`unknown query field "${key}"`);
  }
  if (doc.filter !== undefined && !(isObject(doc.filter) && Object.keys(doc.filter).length === 0)) out.filter = parseFilter(doc.filter);
  if (doc.sort !== undefined) {
    if (!Array.isArray(doc.sort)) throw new QueryParseError("sort must be an array");
    for (const s of doc.sort) {
      if (!isObject(s) || typeof s.key !== "string" || s.key === "") throw new QueryParseError('each sort entry needs a "key"');
      const order = s.order === undefined ? "ASC" : s.order;
      if (order !== "ASC" && order !== "DESC") throw new QueryParseError(`sort order must be ASC or DESC, got ${JSON.stringify(s.order)}`);
      out.sort.push({ key: s.key, order });
    }
  }
  if (doc.page !== undefined) {
    if (!isObject(doc.page)) throw new QueryParseError("page must be an object");
    const { limit, token } = doc.page;
    if (limit !== undefined) {
      if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) throw new QueryParseError("page.limit must be a non-negative integer");
      if (limit > 0) out.limit = limit;
    }
    if (token !== undefined && token !== "") {
      if (typeof token !== "string") throw new QueryParseError("page.token must be a string");
      out.token = token;
    }
  }
  return out;
}

function parseFilter(f: unknown): QueryFilter {
  if (!isObject(f)) throw new QueryParseError("a filter must be an object");
  const ops = Object.keys(f);
  if (ops.length !== 1) throw new QueryParseError(`a filter must have exactly one operator, got ${ops.length}`);
  const op = ops[0] as string;
  const arg = f[op];
  if (op === "AND" || op === "OR") {
    if (!Array.isArray(arg) || arg.length < 2) throw new QueryParseError(`${op} needs an array of at least two filters`);
    const list = arg.map(parseFilter);
    return op === "AND" ? { AND: list } : { OR: list };
  }
  if (!isObject(arg) || Object.keys(arg).length !== 1) throw new QueryParseError(`${op} needs an object with one field`);
  if (op === "IN") {
    const [field, values] = Object.entries(arg)[0] as [string, unknown];
    if (!Array.isArray(values) || values.length === 0) throw new QueryParseError("IN needs a non-empty array");
    return { IN: { [field]: values } };
  }
  if ((COMPARISONS as readonly string[]).includes(op)) return { [op]: arg } as QueryFilter;
  throw new QueryParseError(`unknown filter operator "${op}"`);
}

/** Read a dotted path ("person.org") from a decoded JSON value. */
export function pathValue(value: unknown, path: string): unknown {
  let cur = value;
  for (const part of path.split(".")) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

export function matches(filter: QueryFilter | undefined, value: unknown): boolean {
  if (filter === undefined) return true;
  if ("AND" in filter) return filter.AND.every((f) => matches(f, value));
  if ("OR" in filter) return filter.OR.some((f) => matches(f, value));
  if ("IN" in filter) {
    const [path, list] = Object.entries(filter.IN)[0] as [string, readonly unknown[]];
    const v = pathValue(value, path);
    return list.some((x) => equal(v, x));
  }
  const [op, arg] = Object.entries(filter)[0] as [string, Record<string, unknown>];
  const [path, expected] = Object.entries(arg)[0] as [string, unknown];
  const v = pathValue(value, path);
  if (op === "EQ") return equal(v, expected);
  if (op === "NEQ") return !equal(v, expected);
  const c = compare(v, expected);
  if (c === undefined) return false;
  switch (op) {
    case "GT":
      return c > 0;
    case "GTE":
      return c >= 0;
    case "LT":
      return c < 0;
    default:
      return c <= 0;
  }
}

/** Order by the sort keys; values missing or of another type sort last; ties keep key order. */
export function sortComparator(sort: readonly QuerySort[]): (a: { key: string; value: unknown }, b: { key: string; value: unknown }) => number {
  return (a, b) => {
    for (const s of sort) {
      const va = pathValue(a.value, s.key);
      const vb = pathValue(b.value, s.key);
      if (va === undefined && vb === undefined) continue;
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      const c = compare(va, vb);
      if (c === undefined || c === 0) continue;
      return s.order === "DESC" ? -c : c;
    }
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  };
}

export type { QueryRequest };

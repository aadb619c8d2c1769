/** List keys (Tandem extension) and the alpha1 query API, both over the component's scan. */
import assert from "node:assert/strict";
import type { QueryResponse, StateStore } from "../../../src/blocks/state/contract.js";
import type { ComponentUnderTest } from "./components.js";
import { APP_ID, STORE, item, rejectsWith, stateTest, type Env } from "./fixture.js";

const SCANS = { scans: true } as const;

async function allKeys(env: Env, prefix: string | undefined, limit: number): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await env.block.listKeys({ storeName: STORE, limit, ...(prefix !== undefined ? { prefix } : {}), ...(token !== undefined ? { token } : {}) });
    pages += 1;
    assert.ok(page.keys.length <= limit);
    keys.push(...page.keys);
    token = page.token;
  } while (token !== undefined);
  return { keys, pages };
}

async function scanAll(store: StateStore, prefix: string): Promise<string[]> {
  const page = await (store.scan as NonNullable<StateStore["scan"]>).call(store, { prefix, limit: 1000, keysOnly: true });
  return page.entries.map((e) => e.key);
}

export function listKeysTests(c: ComponentUnderTest): void {
  stateTest(c, "list keys filters by prefix and pages with tokens", SCANS, async (env) => {
    const items = Array.from({ length: 10 }, (_, i) => item(`item-${String(i).padStart(2, "0")}`, i));
    await env.block.save({ storeName: STORE, items: [...items, item("other-1", 1), item("itex", 1)] });
    const expected = items.map((i) => i.key);
    assert.deepEqual(await allKeys(env, "item-", 3), { keys: expected, pages: 4 });
    assert.deepEqual(await allKeys(env, "item-", 10), { keys: expected, pages: 1 }, "an exact last page carries no token");
    assert.deepEqual((await allKeys(env, undefined, 100)).keys, [...expected, "itex", "other-1"].sort());
    assert.deepEqual((await env.block.listKeys({ storeName: STORE, prefix: "nothing" })).keys, []);
    const first = await env.block.listKeys({ storeName: STORE, prefix: "item-", limit: 2 });
    assert.deepEqual(first.keys, ["item-00", "item-01"]);
    assert.ok(first.token);
  });

  stateTest(c, "list keys pages stay stable under concurrent inserts and deletes", SCANS, async (env) => {
    const initial = Array.from({ length: 20 }, (_, i) => `k-${String(i).padStart(2, "0")}`);
    await env.block.save({ storeName: STORE, items: initial.map((k) => item(k, 1)) });
    const seen: string[] = [];
    let page = await env.block.listKeys({ storeName: STORE, prefix: "k-", limit: 5 });
    seen.push(...page.keys);
    // Between pages: insert before and after the position, delete one not yet returned.
    await env.block.save({ storeName: STORE, items: [item("k-01a", 1), item("k-10a", 1), item("k-99", 1)] });
    await env.del("k-07");
    let rounds = 0;
    while (page.token !== undefined) {
      page = await env.block.listKeys({ storeName: STORE, prefix: "k-", limit: 5, token: page.token });
      seen.push(...page.keys);
      if (rounds++ === 1) await env.block.save({ storeName: STORE, items: [item("k-00b", 1), item("k-18a", 1)] });
    }
    assert.equal(new Set(seen).size, seen.length, "no key is listed twice");
    assert.deepEqual(seen, [...seen].sort(), "keys come in ascending order across pages");
    for (const k of initial) if (k !== "k-07") assert.ok(seen.includes(k), `${k}, present throughout, is listed`);
    assert.ok(!seen.includes("k-07"), "a key deleted before its page is not listed");
    for (const k of ["k-10a", "k-18a", "k-99"]) assert.ok(seen.includes(k), `${k}, inserted after the position, is listed`);
    for (const k of ["k-01a", "k-00b"]) assert.ok(!seen.includes(k), `${k}, inserted before the position, is not listed`);
  });

  stateTest(c, "list keys refuses bad tokens, limits and prefixes", SCANS, async (env) => {
    await env.save("a", 1);
    await rejectsWith(env.block.listKeys({ storeName: STORE, token: "not a token!" }), "ERR_MALFORMED_REQUEST", 400);
    const foreign = Buffer.from("otherapp||a", "utf8").toString("base64url");
    await rejectsWith(env.block.listKeys({ storeName: STORE, token: foreign }), "ERR_MALFORMED_REQUEST", 400);
    for (const limit of [0, -1, 1.5, 10_001]) await rejectsWith(env.block.listKeys({ storeName: STORE, limit }), "ERR_MALFORMED_REQUEST", 400);
    await rejectsWith(env.block.listKeys({ storeName: STORE, prefix: "a||b" }), "ERR_MALFORMED_REQUEST", 400);
  });

  stateTest(c, "scan orders by key, resumes after a key and honours the prefix range", SCANS, async (env) => {
    const store = env.opened.store;
    const scan = (store.scan as NonNullable<StateStore["scan"]>).bind(store);
    const keys = ["a", "ab", "abc", "abd", "ac", "b", "a-", "a~"];
    for (const k of keys) await store.set({ key: k, value: Buffer.from(JSON.stringify(k)), isBinary: false, options: {}, metadata: {} });
    const p1 = await scan({ prefix: "ab", limit: 2, keysOnly: false });
    assert.deepEqual(p1.entries.map((e) => e.key), ["ab", "abc"]);
    assert.equal(p1.more, true);
    assert.equal(p1.entries[1]?.data.toString(), '"abc"');
    assert.ok(p1.entries[1]?.etag);
    const p2 = await scan({ prefix: "ab", after: "abc", limit: 2, keysOnly: true });
    assert.deepEqual(p2.entries.map((e) => e.key), ["abd"]);
    assert.equal(p2.more, false);
    assert.deepEqual(await scanAll(store, ""), [...keys].sort());
    assert.deepEqual(await scanAll(store, "a"), keys.filter((k) => k.startsWith("a")).sort());
    const before = await scan({ prefix: "ab", after: "a", limit: 10, keysOnly: true });
    assert.deepEqual(before.entries.map((e) => e.key), ["ab", "abc", "abd"], "an `after` before the range starts at the prefix");
    const beyond = await scan({ prefix: "ab", after: "b", limit: 10, keysOnly: true });
    assert.deepEqual(beyond.entries, []);
  });

  stateTest(c, "scan handles prefixes ending in the highest characters", SCANS, async (env) => {
    const store = env.opened.store;
    // Successor edge cases: U+FFFF, the last code point before the surrogates, and U+10FFFF.
    const groups = ["p\uffff", "p\ud7ff", "p\u{10ffff}", "\u{10ffff}"];
    const keys = ["p", "q", "p\uffff", "p\uffffz", "p\ud7ff", "p\ud7ff\u0001x", "p\ue000", "p\u{10ffff}", "p\u{10ffff}\u{10ffff}", "\u{10ffff}", "\u{10ffff}a"];
    for (const k of keys) await store.set({ key: k, value: Buffer.from("1"), isBinary: false, options: {}, metadata: {} });
    for (const prefix of groups) {
      assert.deepEqual((await scanAll(store, prefix)).sort(), keys.filter((k) => k.startsWith(prefix)).sort(), `prefix ${JSON.stringify(prefix)}`);
    }
    assert.deepEqual((await scanAll(store, "p")).sort(), keys.filter((k) => k.startsWith("p")).sort());
  });

  stateTest(c, "list keys and query are refused on a store that cannot scan", { scans: false }, async (env) => {
    await env.save("a", 1);
    await rejectsWith(env.block.listKeys({ storeName: STORE }), "ERR_STATE_STORE_NOT_SUPPORTED", 500);
    await rejectsWith(env.block.query({ storeName: STORE, query: {}, metadata: {} }), "ERR_STATE_STORE_NOT_SUPPORTED", 500);
    assert.ok(!env.block.features(STORE).includes("QUERY_API"));
  });
}

interface Person {
  person: { org: string; id: number };
  city: string;
  state: string;
}
const PEOPLE: Readonly<Record<string, Person>> = {
  "1": { person: { org: "Dev Ops", id: 1036 }, city: "Seattle", state: "WA" },
  "2": { person: { org: "Hardware", id: 1028 }, city: "Portland", state: "OR" },
  "3": { person: { org: "Finance", id: 1071 }, city: "Sacramento", state: "CA" },
  "4": { person: { org: "Dev Ops", id: 1042 }, city: "Spokane", state: "WA" },
  "5": { person: { org: "Hardware", id: 1007 }, city: "Los Angeles", state: "CA" },
  "6": { person: { org: "Finance", id: 1094 }, city: "Eugene", state: "OR" },
  "7": { person: { org: "Dev Ops", id: 1015 }, city: "San Francisco", state: "CA" },
  "8": { person: { org: "Hardware", id: 1077 }, city: "Redmond", state: "WA" },
  "9": { person: { org: "Finance", id: 1100 }, city: "San Diego", state: "CA" },
  "10": { person: { org: "Dev Ops", id: 1054 }, city: "Bend", state: "OR" },
};

async function seedPeople(env: Env): Promise<void> {
  await env.block.save({ storeName: STORE, items: Object.entries(PEOPLE).map(([k, v]) => item(k, v)) });
}

async function query(env: Env, q: unknown): Promise<QueryResponse> {
  return env.block.query({ storeName: STORE, query: q, metadata: {} });
}
const keysOf = (r: QueryResponse) => r.results.map((x) => x.key);
const sorted = (keys: readonly string[]) => [...keys].sort((a, b) => Number(a) - Number(b));

export function queryTests(c: ComponentUnderTest): void {
  stateTest(c, "query filters EQ, NEQ, GT, GTE, LT, LTE and IN on nested paths", SCANS, async (env) => {
    await seedPeople(env);
    const cases: [unknown, string[]][] = [
      [{ EQ: { "person.org": "Dev Ops" } }, ["1", "4", "7", "10"]],
      [{ EQ: { state: "CA" } }, ["3", "5", "7", "9"]],
      [{ NEQ: { state: "CA" } }, ["1", "2", "4", "6", "8", "10"]],
      [{ GT: { "person.id": 1071 } }, ["6", "8", "9"]],
      [{ GTE: { "person.id": 1071 } }, ["3", "6", "8", "9"]],
      [{ LT: { "person.id": 1028 } }, ["5", "7"]],
      [{ LTE: { "person.id": 1028 } }, ["2", "5", "7"]],
      [{ IN: { state: ["OR", "WA"] } }, ["1", "2", "4", "6", "8", "10"]],
      [{ IN: { "person.id": [1007, 1100, 4242] } }, ["5", "9"]],
      [{ EQ: { "person.missing": "x" } }, []],
    ];
    for (const [filter, expected] of cases) {
      const res = await query(env, { filter });
      assert.deepEqual(sorted(keysOf(res)), expected, JSON.stringify(filter));
      for (const r of res.results) {
        assert.deepEqual(JSON.parse(r.data.toString("utf8")), PEOPLE[r.key]);
        if (c.features.includes("ETAG")) assert.equal(r.etag, await env.etag(r.key));
      }
    }
  });

  stateTest(c, "query combines filters with AND and OR", SCANS, async (env) => {
    await seedPeople(env);
    const cases: [unknown, string[]][] = [
      [{ AND: [{ EQ: { "person.org": "Dev Ops" } }, { IN: { state: ["CA", "WA"] } }] }, ["1", "4", "7"]],
      [{ OR: [{ EQ: { city: "Bend" } }, { EQ: { "person.id": 1007 } }] }, ["5", "10"]],
      [{ OR: [{ AND: [{ EQ: { state: "CA" } }, { LT: { "person.id": 1020 } }] }, { EQ: { "person.org": "Finance" } }] }, ["3", "5", "6", "7", "9"]],
      [{ AND: [{ GTE: { "person.id": 1030 } }, { LTE: { "person.id": 1060 } }, { NEQ: { state: "OR" } }] }, ["1", "4"]],
    ];
    for (const [filter, expected] of cases) assert.deepEqual(sorted(keysOf(await query(env, { filter }))), expected, JSON.stringify(filter));
  });

  stateTest(c, "query sorts ASC and DESC on several keys", SCANS, async (env) => {
    await seedPeople(env);
    const multi = await query(env, { sort: [{ key: "state", order: "DESC" }, { key: "person.id" }] });
    assert.deepEqual(keysOf(multi), ["1", "4", "8", "2", "10", "6", "5", "7", "3", "9"]);
    const desc = await query(env, { filter: { EQ: { "person.org": "Finance" } }, sort: [{ key: "person.id", order: "DESC" }] });
    assert.deepEqual(keysOf(desc), ["9", "6", "3"]);
    const asc = await query(env, { sort: [{ key: "city", order: "ASC" }] });
    assert.deepEqual(keysOf(asc), Object.entries(PEOPLE).sort(([, a], [, b]) => (a.city < b.city ? -1 : 1)).map(([k]) => k));
  });

  stateTest(c, "query pages with a limit and a token", SCANS, async (env) => {
    await seedPeople(env);
    const q = (token?: string) => ({ sort: [{ key: "state", order: "DESC" }, { key: "person.id" }], page: { limit: 3, ...(token !== undefined ? { token } : {}) } });
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const res = await query(env, q(token));
      pages.push(keysOf(res));
      token = res.token;
    } while (token !== undefined && pages.length < 10);
    assert.deepEqual(pages, [["1", "4", "8"], ["2", "10", "6"], ["5", "7", "3"], ["9"]]);
    const exact = await query(env, { filter: { EQ: { state: "WA" } }, page: { limit: 3 } });
    assert.equal(exact.results.length, 3);
    assert.equal(exact.token, undefined, "no token when nothing follows");
  });

  stateTest(c, "query never returns another app's keys or binary values", SCANS, async (env) => {
    await seedPeople(env);
    const other = env.blockFor("otherapp");
    await other.save({ storeName: STORE, items: Object.entries(PEOPLE).map(([k, v]) => item(`x${k}`, v)) });
    await env.save("bin", Buffer.from([0xff, 0xfe, 0x00]));
    const res = await query(env, { filter: { EQ: { "person.org": "Dev Ops" } } });
    assert.deepEqual(sorted(keysOf(res)), ["1", "4", "7", "10"]);
    const everything = await query(env, {});
    assert.deepEqual(sorted(keysOf(everything)), sorted(Object.keys(PEOPLE)), "an empty query returns the app's JSON values only");
    const theirs = await other.query({ storeName: STORE, query: { filter: { EQ: { state: "OR" } } }, metadata: {} });
    assert.deepEqual(keysOf(theirs).sort(), ["x10", "x2", "x6"]);
    assert.ok(!keysOf(theirs).some((k) => k.includes(APP_ID)));
  });

  stateTest(c, "an invalid query is refused with ERR_STATE_QUERY", SCANS, async (env) => {
    await seedPeople(env);
    for (const bad of [
      "not an object",
      { filter: { LIKE: { a: 1 } } },
      { filter: { AND: [{ EQ: { a: 1 } }] } },
      { sort: [{ key: "a", order: "UP" }] },
      { page: { limit: -1 } },
      { unknown: true },
    ]) {
      await rejectsWith(query(env, bad), "ERR_STATE_QUERY", 500);
    }
    await rejectsWith(query(env, { page: { limit: 2, token: "not-a-number" } }), "ERR_STATE_QUERY", 500);
    assert.deepEqual((await query(env, { filter: { EQ: { state: "TX" } } })).results, []);
  });
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { matches, parseQuery, QueryParseError, sortComparator } from "./query.js";

test("state - query documents parse and reject malformed filters", () => {
  const q = parseQuery({ filter: { AND: [{ EQ: { "person.org": "Dev Ops" } }, { IN: { state: ["CA", "WA"] } }] }, sort: [{ key: "state", order: "DESC" }, { key: "person.id" }], page: { limit: 3, token: "2" } });
  assert.deepEqual(q.sort, [{ key: "state", order: "DESC" }, { key: "person.id", order: "ASC" }]);
  assert.equal(q.limit, 3);
  assert.equal(q.token, "2");
  assert.throws(() => parseQuery({ filter: { FOO: { a: 1 } } }), QueryParseError);
  assert.throws(() => parseQuery({ filter: { AND: [{ EQ: { a: 1 } }] } }), QueryParseError);
  assert.throws(() => parseQuery({ sort: [{ key: "a", order: "UP" }] }), QueryParseError);
  assert.throws(() => parseQuery({ page: { limit: -1 } }), QueryParseError);
  assert.throws(() => parseQuery([]), QueryParseError);
});

test("state - query filters evaluate over nested values", () => {
  const v = { person: { org: "Dev Ops", id: 1036 }, state: "CA" };
  assert.ok(matches(parseQuery({ filter: { EQ: { "person.org": "Dev Ops" } } }).filter, v));
  assert.ok(!matches(parseQuery({ filter: { NEQ: { state: "CA" } } }).filter, v));
  assert.ok(matches(parseQuery({ filter: { GT: { "person.id": 1000 } } }).filter, v));
  assert.ok(!matches(parseQuery({ filter: { LT: { "person.id": 1000 } } }).filter, v));
  assert.ok(matches(parseQuery({ filter: { OR: [{ EQ: { state: "WA" } }, { IN: { state: ["CA"] } }] } }).filter, v));
  assert.ok(!matches(parseQuery({ filter: { GTE: { "person.org": 5 } } }).filter, v));
});

test("state - query sort orders by several keys, missing values last", () => {
  const rows = [
    { key: "a", value: { s: "CA", id: 2 } },
    { key: "b", value: { s: "WA", id: 1 } },
    { key: "c", value: { s: "CA", id: 1 } },
    { key: "d", value: {} },
  ];
  rows.sort(sortComparator([{ key: "s", order: "DESC" }, { key: "id", order: "ASC" }]));
  assert.deepEqual(rows.map((r) => r.key), ["b", "c", "a", "d"]);
});

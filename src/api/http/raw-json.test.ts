import { test } from "node:test";
import assert from "node:assert/strict";
import { rawMembers } from "./raw-json.js";

test("raw json - finds each element's member text exactly as sent", () => {
  const body = ` [ {"key":"a","value": {"x" : [1, "]}", {"y":"\\"}"}]}} , {"value":"s,\\u0022t","key":"b"},{"key":"c"}, {"value":12.50e1}, {"value":null,"etag":"1"} ] `;
  assert.deepEqual(rawMembers(body, "value"), ['{"x" : [1, "]}", {"y":"\\"}"}]}', '"s,\\u0022t"', undefined, "12.50e1", "null"]);
});

test("raw json - escaped member names and repeated members follow JSON.parse", () => {
  const body = '[{"\\u0076alue":true,"value":false}]';
  assert.deepEqual(rawMembers(body, "value"), ["false"]);
  assert.equal(JSON.parse(body)[0].value, false);
});

test("raw json - every raw text parses to the same value JSON.parse gives", () => {
  const items = [{ key: "k", value: { a: [1, 2, { b: "c\n}" }], d: -0.5, e: "\u00e9\u{1F600}" } }, { key: "k2", value: [] }, { key: "k3", value: "" }, { key: "k4", value: false }];
  const body = JSON.stringify(items, null, 2);
  const raws = rawMembers(body, "value");
  assert.deepEqual(raws.map((r) => JSON.parse(r as string) as unknown), items.map((i) => i.value));
});

test("raw json - non-arrays and empty arrays give no members", () => {
  assert.deepEqual(rawMembers("{}", "value"), []);
  assert.deepEqual(rawMembers("[]", "value"), []);
  assert.deepEqual(rawMembers("[1, [2], \"x\"]", "value"), [undefined, undefined, undefined]);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { errorTableRows, sampleErrors } from "./sample.js";
import { catalogue } from "./catalogue.js";
import { asTandemError, TandemError } from "./tandem-error.js";

test("errors - docs/errors.md lists every catalogue entry exactly as the code renders it", () => {
  const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  const docRows = doc.split("\n").filter((l) => /^\| (common|state|invoke|[a-z]+) \| [A-Z_]+ \|/.test(l));
  assert.deepEqual(docRows, errorTableRows());
});

test("errors - every entry has a Dapr-style code and a sensible status", () => {
  for (const block of Object.keys(catalogue)) {
    for (const { name, error } of sampleErrors(block)) {
      assert.match(error.code, /^(ERR|DAPR)_[A-Z_]+$/, name);
      assert.ok(error.httpStatus >= 400 && error.httpStatus < 600, name);
      assert.deepEqual(Object.keys(error.toHttpBody()).slice(0, 2), ["errorCode", "message"]);
    }
  }
});

test("errors - unknown errors render as Dapr's generic 500 ERROR", () => {
  const e = asTandemError(new Error("boom"));
  assert.ok(e instanceof TandemError);
  assert.deepEqual(e.toHttpBody(), { errorCode: "ERROR", message: "boom" });
  assert.equal(e.httpStatus, 500);
});

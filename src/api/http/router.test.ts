import { test } from "node:test";
import assert from "node:assert/strict";
import { cleanPath, Router, UndecodablePathError, type Route } from "./router.js";

const route = (path: string, methods: Route["methods"] = ["GET"]): Route => ({ methods, path, group: "t", handler: () => ({ status: 204 }) });

test("router - matches literals and decodes parameters with query rules", () => {
  const r = new Router([route("/v1.0/state/:storeName/:key")]);
  const m = r.match("GET", "/v1.0/state/s1/a%2Fb+c");
  assert.deepEqual(m?.params, { storeName: "s1", key: "a/b c" });
  assert.equal(r.match("POST", "/v1.0/state/s1/k"), undefined);
  assert.equal(r.match("GET", "/v1.0/state/s1"), undefined);
});

test("router - cleans the path and ignores one trailing slash", () => {
  const r = new Router([route("/v1.0/metadata")]);
  assert.ok(r.match("GET", "/v1.0/metadata/"));
  assert.ok(r.match("GET", "/v1.0//x/../metadata"));
  assert.equal(cleanPath("/a/./b/../c/"), "/a/c");
});

test("router - a rest parameter captures the remaining segments", () => {
  const r = new Router([route("/v1.0/invoke/:appId/method/*method")]);
  assert.deepEqual(r.match("GET", "/v1.0/invoke/app/method/a/b/c")?.params, { appId: "app", method: "a/b/c" });
  assert.equal(r.match("GET", "/v1.0/invoke/app/method"), undefined);
});

test("router - a bad escape in a parameter is reported", () => {
  const r = new Router([route("/v1.0/state/:storeName/:key")]);
  assert.throws(() => r.match("GET", "/v1.0/state/s/%zz"), UndecodablePathError);
});

test("router - literal routes win when listed first", () => {
  const r = new Router([route("/v1.0/state/:s/bulk", ["POST"]), route("/v1.0/state/:s", ["POST"])]);
  assert.equal(r.match("POST", "/v1.0/state/s1/bulk")?.route.path, "/v1.0/state/:s/bulk");
  assert.equal(r.match("POST", "/v1.0/state/s1")?.route.path, "/v1.0/state/:s");
});

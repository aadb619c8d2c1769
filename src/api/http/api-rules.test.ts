import { test } from "node:test";
import assert from "node:assert/strict";
import { applyApiRules } from "./api-rules.js";
import type { Route } from "./router.js";

const r = (path: string, group: string): Route => ({ methods: ["GET"], path, group, handler: () => ({ status: 204 }) });
const routes = [r("/v1.0/state/:s/:k", "state"), r("/v1.0-alpha1/state/:s/query", "state"), r("/v1.0/metadata", "metadata"), r("/v1.0/healthz", "healthz")];
const paths = (list: Route[]) => list.map((x) => x.path);

test("api rules - a deny rule in group form removes the group's routes of that version", () => {
  assert.deepEqual(paths(applyApiRules(routes, [], [{ name: "state", version: "v1", protocol: "http" }])), ["/v1.0-alpha1/state/:s/query", "/v1.0/metadata", "/v1.0/healthz"]);
});

test("api rules - an allow list restricts to its routes (legacy URL prefix form) and keeps health", () => {
  assert.deepEqual(paths(applyApiRules(routes, [{ name: "state", version: "v1.0", protocol: "http" }], [])), ["/v1.0/state/:s/:k", "/v1.0/healthz"]);
});

test("api rules - rules for another protocol or with no protocol match nothing", () => {
  assert.equal(applyApiRules(routes, [{ name: "state", version: "v1", protocol: "grpc" }], [{ name: "metadata", version: "v1" }]).length, routes.length);
});

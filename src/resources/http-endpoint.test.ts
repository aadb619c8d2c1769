import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadResources } from "./load-resources.js";
import { dirWith, loadContext as ctx, where } from "../../test/harness/resource-fixtures.js";

function component(name: string, extra = "", spec = "  type: state.in-memory\n  version: v1\n"): string {
  return `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n${spec}${extra}`;
}

// resources.md §6, unchanged.
const DOCUMENTED_HTTP_ENDPOINT = `apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata: {name: github}
spec:
  baseUrl: https://api.github.com      # required, http:// or https://
  headers:
  - {name: Accept-Language, value: en-US}
  - name: Authorization
    secretKeyRef: {name: gh-secret, key: token}
  clientTLS:
    rootCA: {secretKeyRef: {name: s, key: ca}}
    certificate: {secretKeyRef: {name: s, key: crt}}
    privateKey: {secretKeyRef: {name: s, key: key}}
    renegotiation: Never
auth: {secretStore: mystore}
scopes: [app1]
`;

test("resources - the documented HTTPEndpoint example loads", async () => {
  const dir = await dirWith({ "gh.yaml": DOCUMENTED_HTTP_ENDPOINT });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.httpEndpoints, [
    {
      kind: "HTTPEndpoint",
      name: "github",
      baseUrl: "https://api.github.com",
      headers: [
        { name: "Accept-Language", value: "en-US" },
        { name: "Authorization", secretKeyRef: { name: "gh-secret", key: "token" } },
      ],
      clientTLS: {
        rootCA: { secretKeyRef: { name: "s", key: "ca" } },
        certificate: { secretKeyRef: { name: "s", key: "crt" } },
        privateKey: { secretKeyRef: { name: "s", key: "key" } },
        renegotiation: "Never",
      },
      secretStore: "mystore",
      scopes: ["app1"],
      origin: { file: join(dir, "gh.yaml"), document: 1 },
    },
  ]);
});

test("resources - HTTPEndpoint baseUrl must be http(s) and names are unique per kind", async () => {
  const ep = (name: string, url: string): string => `apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata: {name: ${name}}\nspec: {baseUrl: '${url}'}\n`;
  const dir = await dirWith({
    "e.yaml": [ep("a", "ftp://x"), ep("b", "http://"), ep("c", "http://localhost:3000"), ep("c", "http://other"), component("c")].join("---\n"),
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [["e.yaml", 1, "spec.baseUrl"], ["e.yaml", 2, "spec.baseUrl"], ["e.yaml", 4, "metadata.name"]]);
  assert.deepEqual(resources.httpEndpoints.map((e) => e.baseUrl), ["http://localhost:3000"]);
  assert.deepEqual(resources.components.map((c) => c.name), ["c"], "a Component may share an HTTPEndpoint's name");
});

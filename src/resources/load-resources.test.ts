import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadResources } from "./load-resources.js";
import { dirWith, loadContext as ctx, where } from "../../test/harness/resource-fixtures.js";

function component(name: string, extra = "", spec = "  type: state.in-memory\n  version: v1\n"): string {
  return `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n${spec}${extra}`;
}

// resources.md §2, unchanged.
const DOCUMENTED_COMPONENT = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: statestore, namespace: default}
spec:
  type: state.redis          # <category>.<name>
  version: v1                # required by the k8s CRD; self-hosted an empty value selects the default version (e.g. state.postgresql v1|v2)
  initTimeout: 5s            # Go duration; default 5s; invalid -> default
  ignoreErrors: false        # true: init failure is logged and daprd continues
  metadata:
  - name: redisHost
    value: localhost:6379    # YAML scalars of any type; used as string (quotes stripped)
  - name: redisPassword
    secretKeyRef: {name: redis-secret, key: password}
  - name: consumerID
    envRef: MY_CONSUMER_ID   # only used when \`value\` is absent
auth:
  secretStore: localsecretstore
scopes: [app1, app2]
`;

test("resources - the documented Component example loads with every field", async () => {
  const dir = await dirWith({ "statestore.yaml": DOCUMENTED_COMPONENT });
  const { resources, problems } = await loadResources([dir], ctx({ env: { MY_CONSUMER_ID: "consumer-7" } }));
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.components, [
    {
      kind: "Component",
      name: "statestore",
      namespace: "default",
      type: "state.redis",
      version: "v1",
      initTimeoutMs: 5000,
      ignoreErrors: false,
      metadata: [
        { name: "redisHost", value: "localhost:6379" },
        { name: "redisPassword", secretKeyRef: { name: "redis-secret", key: "password" } },
        { name: "consumerID", value: "consumer-7" },
      ],
      namespaceScoped: false,
      secretStore: "localsecretstore",
      scopes: ["app1", "app2"],
      origin: { file: join(dir, "statestore.yaml"), document: 1 },
    },
  ]);
});

test("resources - YAML scalars in metadata values are rendered as strings", async () => {
  const dir = await dirWith({
    "c.yaml": component(
      "scalars",
      `  metadata:
  - {name: bool, value: true}
  - {name: int, value: 5}
  - {name: float, value: 1.5}
  - {name: big, value: 12345678901234567890}
  - {name: quoted, value: "007"}
  - {name: empty, value: ""}
  - {name: none}
`,
    ),
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.components[0]?.metadata, [
    { name: "bool", value: "true" },
    { name: "int", value: "5" },
    { name: "float", value: "1.5" },
    { name: "big", value: "12345678901234567890" },
    { name: "quoted", value: "007" },
    { name: "empty", value: "" },
    { name: "none" },
  ]);
});

test("resources - files load in directory order, then file name order, then document order; other files are skipped", async () => {
  const first = await dirWith({
    "b.yaml": `${component("b1")}\n---\n${component("b2")}\n---\n`,
    "a.yml": component("a"),
    "c.YAML": component("c"),
    "notes.txt": component("ignored"),
    "README.md": "# not yaml",
  });
  await mkdir(join(first, "nested.yaml"));
  await writeFile(join(first, "nested.yaml", "deep.yaml"), component("deep"));
  const second = await dirWith({ "0.yaml": component("second") });
  const { resources, problems, skipped } = await loadResources([second, first], ctx());
  assert.deepEqual(problems, []);
  // "c.YAML" sorts before "notes.txt" and after "b.yaml" byte-wise; upper-case extensions count.
  assert.deepEqual(
    resources.components.map((c) => [c.name, c.origin.document]),
    [["second", 1], ["a", 1], ["b1", 1], ["b2", 2], ["c", 1]],
  );
  assert.deepEqual(skipped, [join(first, "README.md"), join(first, "notes.txt")]);
});

test("resources - a missing directory is a problem naming it", async () => {
  const missing = join(tmpdir(), `tandem-missing-${process.pid}-${Date.now()}`);
  const { problems } = await loadResources([missing], ctx());
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.file, missing);
  assert.match(problems[0]?.message ?? "", /does not exist/);
  assert.equal(problems[0]?.ignorable, false);
});

test("resources - invalid YAML names the file and the document", async () => {
  const dir = await dirWith({ "bad.yaml": `${component("ok")}\n---\nkind: Component\nmetadata: {name: [unclosed\n` });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [["bad.yaml", 2, undefined]]);
  assert.match(problems[0]?.message ?? "", /^invalid YAML: .* at line 12, column \d+$/);
  assert.deepEqual(resources.components.map((c) => c.name), ["ok"]);
});

test("resources - missing or empty required fields name the field", async () => {
  const dir = await dirWith({
    "a.yaml": [
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: nospec}\n",
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: notype}\nspec: {version: v1}\n",
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: emptytype}\nspec: {type: ''}\n",
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {namespace: x}\nspec: {type: state.redis}\n",
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nspec: {type: state.redis}\n",
      component("noname", "  metadata:\n  - value: x\n"),
      component("badref", "  metadata:\n  - name: p\n    secretKeyRef: {key: k}\n", "  type: state.redis\n") + "auth: {secretStore: s}\n",
    ].join("---\n"),
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [
    ["a.yaml", 1, "spec"],
    ["a.yaml", 2, "spec.type"],
    ["a.yaml", 3, "spec.type"],
    ["a.yaml", 4, "metadata.name"],
    ["a.yaml", 5, "metadata"],
    ["a.yaml", 6, "spec.metadata[0].name"],
    ["a.yaml", 7, "spec.metadata[0].secretKeyRef.name"],
  ]);
  for (const p of problems) assert.match(p.message, /required: expected/);
  assert.deepEqual(resources.components, []);
});

test("resources - wrong types name the field and what was expected", async () => {
  const dir = await dirWith({
    "t.yaml": [
      component("a", "  metadata: {redisHost: localhost}\n"),
      component("b", "  ignoreErrors: maybe\n"),
      component("c") + "scopes: app1\n",
      component("d", "  metadata:\n  - name: 5\n    value: x\n  - just-a-string\n"),
      component("e", "", "  type: state.redis\n  version: 2\n"),
      component("f") + "auth: {secretStore: [a]}\n",
    ].join("---\n"),
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [
    ["t.yaml", 1, "spec.metadata"],
    ["t.yaml", 2, "spec.ignoreErrors"],
    ["t.yaml", 3, "scopes"],
    ["t.yaml", 4, "spec.metadata[0].name"],
    ["t.yaml", 4, "spec.metadata[1]"],
    ["t.yaml", 5, "spec.version"],
    ["t.yaml", 6, "auth.secretStore"],
  ]);
  assert.match(problems[0]?.message ?? "", /expected a list, got a mapping/);
  assert.match(problems[1]?.message ?? "", /expected true or false, got the string "maybe"/);
  assert.match(problems[5]?.message ?? "", /expected a string, got the number 2/);
  assert.deepEqual(resources.components, []);
});

test("resources - metadata.name must be a valid path segment", async () => {
  const names = ["a/b", "50%", ".", ".."];
  const dir = await dirWith({ "n.yaml": names.map((n) => component(JSON.stringify(n))).join("---\n") + `---\n${component("fine.name-1")}` });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), names.map((_, i) => ["n.yaml", i + 1, "metadata.name"]));
  assert.match(problems[0]?.message ?? "", /invalid name "a\/b": a name may not contain "\/"/);
  assert.deepEqual(resources.components.map((c) => c.name), ["fine.name-1"]);
});

test("resources - spec.type must be <category>.<name> with a known category", async () => {
  const good = ["state.redis", "pubsub.in-memory", "bindings.azure.blobstorage", "secretstores.local.file", "middleware.http.oauth2", "nameresolution.mdns", "conversation.echo", "lock.redis", "crypto.dapr.localstorage", "configuration.redis", "workflow.dapr"];
  const bad = ["redis", "cache.redis", "state.", "middleware.grpc.x", "middleware.http"];
  const docs = [...good, ...bad].map((t, i) => component(`c${i}`, "", `  type: ${t}\n`));
  const dir = await dirWith({ "types.yaml": docs.join("---\n") });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(resources.components.map((c) => c.type), good);
  assert.deepEqual(where(problems, dir), bad.map((_, i) => ["types.yaml", good.length + i + 1, "spec.type"]));
  assert.match(problems[0]?.message ?? "", /expected "<category>\.<name>" with a category among state, pubsub/);
});

test("resources - value wins over envRef; envRef is read only when value is absent and then replaces secretKeyRef", async () => {
  const dir = await dirWith({
    "e.yaml": component(
      "env",
      `  metadata:
  - {name: both, value: literal, envRef: MY_VAR}
  - {name: fromEnv, envRef: MY_VAR}
  - {name: unset, envRef: NOT_SET}
  - {name: envAndSecret, envRef: MY_VAR, secretKeyRef: {name: s, key: k}}
  - {name: valueAndSecret, value: fallback, secretKeyRef: {name: s}}
`,
    ) + "auth: {secretStore: vault}\n",
  });
  const { resources, problems } = await loadResources([dir], ctx({ env: { MY_VAR: "from-env" } }));
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.components[0]?.metadata, [
    { name: "both", value: "literal" },
    { name: "fromEnv", value: "from-env" },
    { name: "unset", value: "" },
    { name: "envAndSecret", value: "from-env" },
    { name: "valueAndSecret", value: "fallback", secretKeyRef: { name: "s", key: "" } },
  ]);
});

test("resources - envRef is refused for APP_API_TOKEN, DAPR_* names and names with spaces", async () => {
  const refused = ["APP_API_TOKEN", "app_api_token", "DAPR_API_TOKEN", "dapr_http_port", "MY VAR"];
  const items = refused.map((r, i) => `  - {name: m${i}, envRef: ${JSON.stringify(r)}}\n`).join("");
  const dir = await dirWith({ "r.yaml": component("refused", `  metadata:\n${items}`) });
  const env = Object.fromEntries(refused.map((r) => [r, "secret"]));
  const { resources, problems } = await loadResources([dir], ctx({ env }));
  assert.deepEqual(where(problems, dir), refused.map((_, i) => ["r.yaml", 1, `spec.metadata[${i}].envRef`]));
  assert.match(problems[0]?.message ?? "", /APP_API_TOKEN may not be read through envRef/);
  assert.match(problems[2]?.message ?? "", /DAPR_\* variables may not be read/);
  assert.match(problems[4]?.message ?? "", /may not contain spaces/);
  assert.deepEqual(resources.components, []);
});

test("resources - DAPR_ENV_KEYS limits envRef to the names it lists", async () => {
  const dir = await dirWith({ "k.yaml": component("keys", "  metadata:\n  - {name: a, envRef: ALLOWED_ONE}\n  - {name: b, envRef: OTHER}\n") });
  const env = { DAPR_ENV_KEYS: "ALLOWED_ONE ALLOWED_TWO", ALLOWED_ONE: "1", OTHER: "2" };
  const { problems } = await loadResources([dir], ctx({ env }));
  assert.deepEqual(where(problems, dir), [["k.yaml", 1, "spec.metadata[1].envRef"]]);
  assert.match(problems[0]?.message ?? "", /OTHER is not listed in DAPR_ENV_KEYS/);
  const open = await loadResources([dir], ctx({ env: { ALLOWED_ONE: "1", OTHER: "2" } }));
  assert.deepEqual(open.problems, []);
  assert.deepEqual(open.resources.components[0]?.metadata, [{ name: "a", value: "1" }, { name: "b", value: "2" }]);
});

test("resources - template tokens {uuid}, {appID}, {namespace} and {podName} are replaced in values", async () => {
  const dir = await dirWith({
    "t.yaml": component(
      "tpl",
      `  metadata:
  - {name: consumerID, value: "{uuid}"}
  - {name: two, value: "{uuid}/{uuid}"}
  - {name: app, value: "{appID}-group"}
  - {name: ns, value: "{namespace}"}
  - {name: pod, value: "{podName}"}
  - {name: fromEnv, envRef: TPL}
  - {name: plain, value: "{other}"}
`,
      "  type: pubsub.redis\n",
    ),
  });
  const { resources, problems } = await loadResources([dir], ctx({ namespace: "prod", env: { POD_NAME: "pod-1", TPL: "{appID}" } }));
  assert.deepEqual(problems, []);
  const c = resources.components[0];
  assert.ok(c);
  const byName = Object.fromEntries(c.metadata.map((m) => [m.name, m]));
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(byName["consumerID"]?.value ?? "", uuid);
  const [u1, u2] = (byName["two"]?.value ?? "").split("/");
  assert.match(u1 ?? "", uuid);
  assert.notEqual(u1, u2, "a new UUID per occurrence");
  assert.equal(byName["app"]?.value, "app1-group");
  assert.equal(byName["ns"]?.value, "prod.app1");
  assert.equal(byName["pod"]?.value, "pod-1");
  assert.equal(byName["fromEnv"]?.value, "app1");
  assert.deepEqual(byName["plain"], { name: "plain", value: "{other}" });
  assert.equal(byName["consumerID"]?.template, "{uuid}", "the value as written is kept for reload diffs");
  assert.equal(c.namespaceScoped, true, "{namespace} makes a pub/sub namespace-scoped");
});

test("resources - {podName} without POD_NAME is a problem naming the field", async () => {
  const dir = await dirWith({ "p.yaml": component("pod", '  metadata:\n  - {name: a, value: x}\n  - {name: b, value: "{podName}"}\n') });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [["p.yaml", 1, "spec.metadata[1].value"]]);
  assert.match(problems[0]?.message ?? "", /POD_NAME/);
  assert.deepEqual(resources.components, []);
});

test("resources - initTimeout is a Go duration, 5s by default and when invalid", async () => {
  const cases: [string, number][] = [["", 5000], ["  initTimeout: 30s\n", 30_000], ["  initTimeout: 1m30s\n", 90_000], ["  initTimeout: 500ms\n", 500], ["  initTimeout: soon\n", 5000], ["  initTimeout: 10\n", 5000]];
  const dir = await dirWith({ "t.yaml": cases.map(([extra], i) => component(`t${i}`, extra)).join("---\n") });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.components.map((c) => c.initTimeoutMs), cases.map(([, ms]) => ms));
});

test("resources - a secretKeyRef without auth.secretStore is a problem", async () => {
  const dir = await dirWith({ "s.yaml": component("nostore", "  metadata:\n  - name: password\n    secretKeyRef: {name: db, key: pw}\n") });
  const { problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [["s.yaml", 1, "spec.metadata[0].secretKeyRef"]]);
  assert.match(problems[0]?.message ?? "", /auth\.secretStore/);
});

test("resources - the same metadata name twice is a problem (names match case-insensitively)", async () => {
  const dir = await dirWith({ "d.yaml": component("dup", "  metadata:\n  - {name: redisHost, value: a}\n  - {name: REDISHOST, value: b}\n") });
  const { problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [["d.yaml", 1, "spec.metadata[1].name"]]);
});

test("resources - scopes: a document for other apps is ignored, but its name still counts as a duplicate", async () => {
  const dir = await dirWith({
    "1.yaml": component("shared") + "scopes: [other-app]\n",
    "2.yaml": component("shared"),
    "3.yaml": component("mine") + "scopes: [app1, app2]\n",
    "4.yaml": component("theirs") + "scopes: [app2]\n",
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [["2.yaml", 1, "metadata.name"]]);
  assert.match(problems[0]?.message ?? "", new RegExp(`duplicate Component name "shared": already defined in ${join(dir, "1.yaml").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, document 1`));
  assert.deepEqual(resources.components.map((c) => c.name), ["mine"]);
});

test("resources - an out-of-scope document is not validated beyond its name", async () => {
  const dir = await dirWith({ "o.yaml": component("theirs", "", "  type: nonsense\n") + "scopes: [app2]\n" });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.components, []);
});

test("resources - the namespace filter applies only when NAMESPACE is set, before the duplicate check", async () => {
  const ns = (name: string, namespace: string): string =>
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: {type: state.in-memory, version: v1}\n`;
  const dir = await dirWith({ "a.yaml": ns("store", "dev"), "b.yaml": ns("store", "prod"), "c.yaml": component("nons") });
  const inProd = await loadResources([dir], ctx({ namespace: "prod" }));
  assert.deepEqual(inProd.problems, []);
  assert.deepEqual(inProd.resources.components.map((c) => [c.name, c.namespace]), [["store", "prod"], ["nons", undefined]]);
  const noNamespace = await loadResources([dir], ctx());
  assert.deepEqual(where(noNamespace.problems, dir), [["b.yaml", 1, "metadata.name"]]);
});

test("resources - problems of a Component with ignoreErrors are ignorable and the component is left out", async () => {
  const dir = await dirWith({
    "i.yaml": [
      component("tolerant", "  ignoreErrors: true\n  metadata:\n  - {name: x, envRef: DAPR_X}\n", "  type: state.\n"),
      component("strict", "  ignoreErrors: false\n", "  type: bogus\n"),
      component("fine"),
    ].join("---\n"),
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(
    problems.map((p) => [p.document, p.field, p.ignorable]),
    [[1, "spec.type", true], [1, "spec.metadata[0].envRef", true], [2, "spec.type", false]],
  );
  assert.deepEqual(resources.components.map((c) => c.name), ["fine"]);
});

test("resources - unknown kinds, Configuration documents and other API groups are ignored", async () => {
  const dir = await dirWith({
    "mixed.yaml": [
      "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: appconfig}\nspec: {tracing: {samplingRate: '1'}}\n",
      "apiVersion: dapr.io/v1alpha1\nkind: WorkflowAccessPolicy\nmetadata: {name: w}\n",
      "apiVersion: example.com/v1\nkind: Component\nmetadata: {name: not-dapr}\nspec: {}\n",
      "just a string\n",
      "- a list\n",
      "name: no-kind\n",
      component("real"),
    ].join("---\n"),
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.components.map((c) => c.name), ["real"]);
});

test("resources - a known kind with a wrong dapr.io apiVersion is a problem", async () => {
  const dir = await dirWith({
    "v.yaml": [
      "apiVersion: dapr.io/v2alpha1\nkind: Component\nmetadata: {name: a}\nspec: {type: state.redis}\n",
      "kind: HTTPEndpoint\nmetadata: {name: b}\nspec: {baseUrl: 'http://x'}\n",
      "apiVersion: dapr.io/v3\nkind: Subscription\nmetadata: {name: c}\nspec: {pubsubname: p, topic: t, route: /x}\n",
    ].join("---\n"),
  });
  const { problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [["v.yaml", 1, "apiVersion"], ["v.yaml", 2, "apiVersion"], ["v.yaml", 3, "apiVersion"]]);
  assert.match(problems[1]?.message ?? "", /expected "dapr\.io\/v1alpha1" for kind HTTPEndpoint, it is missing/);
});

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { expandEnv } from "./expand-env.js";
import { loadConfiguration } from "./load-configuration.js";
import type { LoadContext, ResourceProblem } from "./types.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tandem-configuration-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function file(text: string): Promise<string> {
  const path = join(dir, `config-${++counter}.yaml`);
  await writeFile(path, text);
  return path;
}

function ctx(env: Record<string, string> = {}): LoadContext {
  return { appId: "app1", namespace: "", env };
}

function config(spec: string, name = "appconfig"): string {
  return `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: ${name}}\nspec:\n${spec}`;
}

function fields(problems: readonly ResourceProblem[]): [string, number | undefined, string | undefined][] {
  return problems.map((p) => [p.file.slice(dir.length + 1), p.document, p.field]);
}

// resources.md §4, unchanged.
const DOCUMENTED_CONFIGURATION = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: appconfig}
spec:
  tracing:
    samplingRate: "1"                 # string float 0..1; "0" = off; absent/unparsable = 0.0001
    stdout: true
    zipkin: {endpointAddress: "http://localhost:9411/api/v2/spans"}
    otel: {endpointAddress: "localhost:4317", protocol: grpc, isSecure: false, headers: [{name: k, value: v}], timeout: 10s}   # isSecure defaults to true
  metric:                             # alias key \`metrics\`
    enabled: true                     # default true
    recordErrorCodes: false
    http: {increasedCardinality: true, pathMatching: ["/orders/{id}"], excludeVerbs: false}
    rules: [{name: dapr_runtime_service_invocation_req_sent_total, labels: [{name: method, regex: {"orders/": "orders/.+"}}]}]
    latencyDistributionBuckets: [1, 2, 5, 10, 50, 100, 500, 1000]
  httpPipeline:                       # middleware on requests INTO the Dapr HTTP API
    handlers: [{name: oauth2, type: middleware.http.oauth2}]
  appHttpPipeline:                    # middleware on requests daprd makes TO the app
    handlers: [{name: upper, type: middleware.http.uppercase}]
  nameResolution:
    component: sqlite                 # mdns (self-hosted default) | kubernetes | consul | sqlite | ...
    version: v1
    configuration: {connectionString: "nr.db"}
  secrets:
    scopes:
    - storeName: localsecretstore
      defaultAccess: deny             # allow (default) | deny
      allowedSecrets: ["db-password"]
      deniedSecrets: []
  accessControl:                      # service-invocation ACL on the CALLEE (needs mTLS identities)
    defaultAction: deny
    trustDomain: public
    policies:
    - appId: app1
      defaultAction: allow
      trustDomain: public
      namespace: default
      operations:
      - {name: /op1, httpVerb: [POST, GET], action: deny}
      - {name: /op2/*, httpVerb: ["*"], action: allow}
  api:                                # protocol is mandatory in practice (http|grpc)
    allowed: [{name: state, version: v1.0, protocol: http}]
    denied: [{name: publish, version: v1.0, protocol: grpc}]
  components:
    deny: [bindings.smtp, secretstores.local.file/v1]
  features:
  - {name: ActorStateTTL, enabled: true}
  logging:
    apiLogging: {enabled: true, obfuscateURLs: false, omitHealthChecks: true}
  workflow:
    maxConcurrentWorkflowInvocations: 100
    maxConcurrentActivityInvocations: 100
    stateRetentionPolicy: {anyTerminal: 24h, completed: 1h, failed: 72h, terminated: 1h}
  mtls:                               # control-plane config (k8s \`daprsystem\`)
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
  wasm: {strictSandbox: false}
`;

test("resources - without a configuration file daprd's defaults apply", async () => {
  const { configuration, problems } = await loadConfiguration([], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(configuration, {
    kind: "Configuration",
    name: "",
    tracing: { stdout: false },
    metric: { enabled: true },
    secrets: { scopes: [] },
    accessControl: { defaultAction: "allow", trustDomain: "public" },
    api: { allowed: [], denied: [] },
    components: { deny: [] },
    features: { HotReload: true, WorkflowsRemoteActivityReminder: true },
    logging: { apiLogging: { enabled: false, obfuscateURLs: false, omitHealthChecks: false } },
    appHttpPipeline: [],
    httpPipeline: [],
  });
});

test("resources - the documented Configuration example loads with every section", async () => {
  const path = await file(DOCUMENTED_CONFIGURATION);
  const { configuration, problems } = await loadConfiguration([path], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(configuration, {
    kind: "Configuration",
    name: "appconfig",
    tracing: {
      samplingRate: "1",
      stdout: true,
      zipkin: { endpointAddress: "http://localhost:9411/api/v2/spans" },
      otel: { endpointAddress: "localhost:4317", protocol: "grpc", isSecure: false },
    },
    metric: { enabled: true, http: { increasedCardinality: true, pathMatching: ["/orders/{id}"] } },
    nameResolution: { component: "sqlite", version: "v1", configuration: { connectionString: "nr.db" } },
    secrets: { scopes: [{ storeName: "localsecretstore", defaultAccess: "deny", allowedSecrets: ["db-password"], deniedSecrets: [] }] },
    accessControl: {
      defaultAction: "deny",
      trustDomain: "public",
      policies: [
        {
          appId: "app1",
          defaultAction: "allow",
          trustDomain: "public",
          namespace: "default",
          operations: [
            { name: "/op1", httpVerb: ["POST", "GET"], action: "deny" },
            { name: "/op2/*", httpVerb: ["*"], action: "allow" },
          ],
        },
      ],
    },
    api: { allowed: [{ name: "state", version: "v1.0", protocol: "http" }], denied: [{ name: "publish", version: "v1.0", protocol: "grpc" }] },
    components: { deny: ["bindings.smtp", "secretstores.local.file/v1"] },
    features: { HotReload: true, WorkflowsRemoteActivityReminder: true, ActorStateTTL: true },
    logging: { apiLogging: { enabled: true, obfuscateURLs: false, omitHealthChecks: true } },
    appHttpPipeline: [{ name: "upper", type: "middleware.http.uppercase" }],
    httpPipeline: [{ name: "oauth2", type: "middleware.http.oauth2" }],
    origin: { file: path, document: 1 },
  });
});

test("resources - configuration files get $VAR and ${VAR} expansion, unknown variables become empty", async () => {
  const path = await file(config("  tracing:\n    samplingRate: \"${RATE}\"\n    zipkin: {endpointAddress: \"http://$ZIPKIN_HOST:9411$NOPE/api\"}\n", "${CONFIG_NAME}"));
  const { configuration, problems } = await loadConfiguration([path], ctx({ RATE: "0.5", ZIPKIN_HOST: "zipkin", CONFIG_NAME: "from-env" }));
  assert.deepEqual(problems, []);
  assert.equal(configuration.name, "from-env");
  assert.equal(configuration.tracing.samplingRate, "0.5");
  assert.deepEqual(configuration.tracing.zipkin, { endpointAddress: "http://zipkin:9411/api" });
});

test("resources - expandEnv follows Go's os.ExpandEnv", () => {
  const env = { A: "x", B_2: "y", "1": "one" };
  assert.equal(expandEnv("$A ${A} $B_2- ${B_2}", env), "x x y- y");
  assert.equal(expandEnv("$UNKNOWN|${UNKNOWN}", env), "|");
  assert.equal(expandEnv("cost: 5$ and $ alone", env), "cost: 5$ and $ alone");
  assert.equal(expandEnv("bad ${} and ${unclosed", env), "bad  and unclosed");
  assert.equal(expandEnv("$1 $$", env), "one ");
  assert.equal(expandEnv("trailing $", env), "trailing $");
});

test("resources - later configuration files overlay earlier ones: mappings merge, lists are replaced", async () => {
  const first = await file(
    config(`  tracing: {samplingRate: "0.1", zipkin: {endpointAddress: "http://a"}}
  features: [{name: ActorStateTTL, enabled: true}]
  secrets: {scopes: [{storeName: one}]}
  logging: {apiLogging: {enabled: true}}
`, "first"),
  );
  const second = await file(
    config(`  tracing: {samplingRate: "1"}
  features: [{name: HotReload, enabled: false}]
  logging: {apiLogging: {omitHealthChecks: true}}
`, "second"),
  );
  const { configuration, problems } = await loadConfiguration([first, second], ctx());
  assert.deepEqual(problems, []);
  assert.equal(configuration.name, "second");
  assert.deepEqual(configuration.tracing, { samplingRate: "1", stdout: false, zipkin: { endpointAddress: "http://a" } });
  assert.deepEqual(configuration.features, { HotReload: false, WorkflowsRemoteActivityReminder: true });
  assert.deepEqual(configuration.secrets.scopes.map((s) => s.storeName), ["one"]);
  assert.deepEqual(configuration.logging.apiLogging, { enabled: true, obfuscateURLs: false, omitHealthChecks: true });
  assert.deepEqual(configuration.origin, { file: second, document: 1 });
});

test("resources - spec.metrics overlays spec.metric field by field", async () => {
  const path = await file(config("  metric: {enabled: true, http: {increasedCardinality: true}}\n  metrics: {enabled: false}\n"));
  const { configuration, problems } = await loadConfiguration([path], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(configuration.metric, { enabled: false, http: { increasedCardinality: true } });
});

test("resources - OTEL_EXPORTER_OTLP_* fills an unset OpenTelemetry endpoint", async () => {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf", OTEL_EXPORTER_OTLP_INSECURE: "true" };
  const { configuration } = await loadConfiguration([], ctx(env));
  assert.deepEqual(configuration.tracing, { samplingRate: "1", stdout: false, otel: { endpointAddress: "collector:4318", protocol: "http", isSecure: false } });
  const configured = await file(config('  tracing: {samplingRate: "0.2", otel: {endpointAddress: "mine:4317"}}\n'));
  const mine = await loadConfiguration([configured], ctx(env));
  assert.deepEqual(mine.configuration.tracing, { samplingRate: "0.2", stdout: false, otel: { endpointAddress: "mine:4317", isSecure: true } });
});

test("resources - configuration problems name the file, document and field", async () => {
  const bad = await file(
    config(`  tracing: {samplingRate: often, stdout: yes-please}
  secrets:
    scopes:
    - {storeName: a, defaultAccess: maybe}
    - {storeName: a}
    - {defaultAccess: deny}
  api:
    allowed: [{name: state, version: v1.0}]
  features: [{enabled: true}]
  httpPipeline: {handlers: [{name: x, type: bindings.http}]}
  nameResolution: {version: v1}
  components: {deny: bindings.smtp}
`),
  );
  const { configuration, problems } = await loadConfiguration([bad], ctx());
  const name = bad.slice(dir.length + 1);
  assert.deepEqual(fields(problems), [
    [name, 1, "spec.nameResolution.component"],
    [name, 1, "spec.tracing.stdout"],
    [name, 1, "spec.tracing.samplingRate"],
    [name, 1, "spec.secrets.scopes[0].defaultAccess"],
    [name, 1, "spec.secrets.scopes[1].storeName"],
    [name, 1, "spec.secrets.scopes[2].storeName"],
    [name, 1, "spec.api.allowed[0].protocol"],
    [name, 1, "spec.components.deny"],
    [name, 1, "spec.features[0].name"],
    [name, 1, "spec.httpPipeline.handlers[0].type"],
  ]);
  assert.match(problems[4]?.message ?? "", /scoped twice/);
  assert.deepEqual(configuration.secrets.scopes, [], "a file with problems is left out of the merge");
});

test("resources - a configuration file must hold one Configuration document", async () => {
  const wrongKind = await file("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {}\n");
  const twoDocs = await file(`${config("  features: []\n")}---\n${config("  features: []\n", "again")}`);
  const empty = await file("# nothing here\n");
  const missing = join(dir, "does-not-exist.yaml");
  const { problems } = await loadConfiguration([wrongKind, twoDocs, empty, missing], ctx());
  assert.deepEqual(
    problems.map((p) => [p.file, p.document, p.field]),
    [
      [wrongKind, 1, "kind"],
      [twoDocs, 2, undefined],
      [empty, undefined, undefined],
      [missing, undefined, undefined],
    ],
  );
  assert.match(problems[0]?.message ?? "", /expected "Configuration", got "Component"/);
  assert.match(problems[3]?.message ?? "", /does not exist/);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadResources } from "./load-resources.js";
import type { LoadContext, ResourceProblem } from "./types.js";
import { dirWith } from "../../test/harness/resource-fixtures.js";

const ctx: LoadContext = { appId: "app1", namespace: "", env: {} };

function fields(problems: readonly ResourceProblem[]): [number | undefined, string | undefined][] {
  return problems.map((p) => [p.document, p.field]);
}

function resiliency(name: string, spec: string, extra = ""): string {
  return `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: ${name}}\n${extra}spec:\n${spec}`;
}

// resources.md §5, unchanged.
const DOCUMENTED_RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: myresiliency}
scopes: [app1]
spec:
  policies:
    timeouts:
      general: 5s                      # Go duration, or a quoted plain integer = milliseconds
    retries:
      retryForever: {policy: constant, duration: 5s, maxRetries: -1}
      important:
        policy: exponential            # constant (default) | exponential
        maxInterval: 15s               # exponential cap; default 60s
        maxRetries: 10                 # -1 = unlimited (default); 0 = no retry
        matching: {httpStatusCodes: "429,500-599", gRPCStatusCodes: "1-4,8-11,13,14"}
    circuitBreakers:
      simpleCB:
        maxRequests: 1                 # probes allowed in half-open (default 1)
        interval: 8s                   # closed-state counter reset period (0 = never)
        timeout: 45s                   # open -> half-open after (default 60s)
        trip: consecutiveFailures > 5  # CEL over requests, totalSuccesses, totalFailures, consecutiveSuccesses, consecutiveFailures
  targets:
    apps:
      appB: {timeout: general, retry: important, circuitBreaker: simpleCB, circuitBreakerCacheSize: 100}
    actors:
      myActorType: {timeout: general, retry: important, circuitBreaker: simpleCB,
                    circuitBreakerScope: both, circuitBreakerCacheSize: 5000}   # scope: type | id | both; required when circuitBreaker is set
    components:
      statestore:
        outbound: {timeout: general, retry: retryForever, circuitBreaker: simpleCB}
      pubsub:
        inbound: {retry: important}     # app delivery of messages / input binding events
        outbound: {retry: important}    # publishing / calls to the broker
`;

test("resources - the documented Resiliency example loads with every policy and target", async () => {
  const dir = await dirWith({ "resiliency.yaml": DOCUMENTED_RESILIENCY });
  const { resources, problems } = await loadResources([dir], ctx);
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.resiliencies, [
    {
      kind: "Resiliency",
      name: "myresiliency",
      timeouts: { general: 5000 },
      retries: {
        retryForever: { policy: "constant", durationMs: 5000, maxIntervalMs: 60_000, maxRetries: -1 },
        important: {
          policy: "exponential",
          durationMs: 5000,
          maxIntervalMs: 15_000,
          maxRetries: 10,
          matching: { httpStatusCodes: "429,500-599", gRPCStatusCodes: "1-4,8-11,13,14" },
        },
      },
      circuitBreakers: { simpleCB: { maxRequests: 1, intervalMs: 8000, timeoutMs: 45_000, trip: "consecutiveFailures > 5" } },
      targets: {
        apps: { appB: { timeout: "general", retry: "important", circuitBreaker: "simpleCB", circuitBreakerCacheSize: 100 } },
        actors: {
          myActorType: { timeout: "general", retry: "important", circuitBreaker: "simpleCB", circuitBreakerScope: "both", circuitBreakerCacheSize: 5000 },
        },
        components: {
          statestore: { outbound: { timeout: "general", retry: "retryForever", circuitBreaker: "simpleCB" } },
          pubsub: { inbound: { retry: "important" }, outbound: { retry: "important" } },
        },
      },
      scopes: ["app1"],
      origin: { file: join(dir, "resiliency.yaml"), document: 1 },
    },
  ]);
});

test("resources - Resiliency policies get daprd's defaults", async () => {
  const dir = await dirWith({
    "r.yaml": resiliency(
      "defaults",
      `  policies:
    retries:
      plain: {}
      exp: {policy: Exponential}
    circuitBreakers:
      cb: {trip: consecutiveFailures > 1}
      zero: {maxRequests: 0, timeout: 0, trip: "true"}
`,
    ),
  });
  const { resources, problems } = await loadResources([dir], ctx);
  assert.deepEqual(problems, []);
  const r = resources.resiliencies[0];
  assert.deepEqual(r?.retries, {
    plain: { policy: "constant", durationMs: 5000, maxIntervalMs: 60_000, maxRetries: -1 },
    exp: { policy: "exponential", durationMs: 5000, maxIntervalMs: 60_000, maxRetries: -1 },
  });
  assert.deepEqual(r?.circuitBreakers, {
    cb: { maxRequests: 1, intervalMs: 0, timeoutMs: 60_000, trip: "consecutiveFailures > 1" },
    zero: { maxRequests: 1, intervalMs: 0, timeoutMs: 60_000, trip: "true" },
  });
  assert.deepEqual(r?.targets, { apps: {}, actors: {}, components: {} });
});

test("resources - Resiliency durations accept Go durations and integer strings of milliseconds", async () => {
  const dir = await dirWith({
    "r.yaml": resiliency(
      "durations",
      `  policies:
    timeouts: {quoted: "1500", bare: 250, go: 1m30s, fraction: 1.5s}
    retries:
      r: {duration: "200", maxInterval: 2s}
    circuitBreakers:
      cb: {interval: "100", timeout: 3s, trip: "true"}
`,
    ),
  });
  const { resources, problems } = await loadResources([dir], ctx);
  assert.deepEqual(problems, []);
  const r = resources.resiliencies[0];
  assert.deepEqual(r?.timeouts, { quoted: 1500, bare: 250, go: 90_000, fraction: 1500 });
  assert.equal(r?.retries["r"]?.durationMs, 200);
  assert.equal(r?.retries["r"]?.maxIntervalMs, 2000);
  assert.equal(r?.circuitBreakers["cb"]?.intervalMs, 100);
});

test("resources - Resiliency problems name the policy field", async () => {
  const dir = await dirWith({
    "r.yaml": resiliency(
      "bad",
      `  policies:
    timeouts: {t: soon, empty: ""}
    retries:
      r1: {policy: linear}
      r2: {duration: forever, maxRetries: -2}
      r3: {matching: {httpStatusCodes: "200-99", gRPCStatusCodes: "17"}}
      r4: [not, a, map]
    circuitBreakers:
      cb: {maxRequests: 1}
`,
    ),
  });
  const { resources, problems } = await loadResources([dir], ctx);
  assert.deepEqual(fields(problems), [
    [1, "spec.policies.timeouts.t"],
    [1, "spec.policies.timeouts.empty"],
    [1, "spec.policies.retries.r1.policy"],
    [1, "spec.policies.retries.r2.duration"],
    [1, "spec.policies.retries.r2.maxRetries"],
    [1, "spec.policies.retries.r3.matching.httpStatusCodes"],
    [1, "spec.policies.retries.r3.matching.gRPCStatusCodes"],
    [1, "spec.policies.retries.r4"],
    [1, "spec.policies.circuitBreakers.cb.trip"],
  ]);
  assert.match(problems[2]?.message ?? "", /expected one of "constant", "exponential", got the string "linear"/);
  assert.match(problems[6]?.message ?? "", /within 0-16/);
  assert.deepEqual(resources.resiliencies, []);
});

test("resources - a Resiliency target naming an unknown policy is a problem; built-ins and other documents' policies resolve", async () => {
  const dir = await dirWith({
    "a.yaml": resiliency("policies", "  policies:\n    timeouts: {shared: 2s}\n"),
    "b.yaml": resiliency(
      "targets",
      `  targets:
    apps:
      appB: {timeout: shared, retry: DaprBuiltInServiceRetries}
      appC: {retry: missing}
    components:
      statestore:
        outbound: {circuitBreaker: nope}
`,
    ),
  });
  const { resources, problems } = await loadResources([dir], ctx);
  assert.deepEqual(
    problems.map((p) => [p.file, p.document, p.field]),
    [
      [join(dir, "b.yaml"), 1, "spec.targets.apps.appC.retry"],
      [join(dir, "b.yaml"), 1, "spec.targets.components.statestore.outbound.circuitBreaker"],
    ],
  );
  assert.match(problems[0]?.message ?? "", /unknown retry policy "missing": expected a name defined under spec\.policies\.retries/);
  assert.deepEqual(resources.resiliencies.map((r) => r.name), ["policies"]);
});

test("resources - an actor target with a circuit breaker needs circuitBreakerScope", async () => {
  const dir = await dirWith({
    "r.yaml": resiliency(
      "actors",
      `  policies:
    circuitBreakers: {cb: {trip: "true"}}
  targets:
    actors:
      noScope: {circuitBreaker: cb}
      badScope: {circuitBreaker: cb, circuitBreakerScope: instance}
`,
    ),
  });
  const { problems } = await loadResources([dir], ctx);
  assert.deepEqual(fields(problems), [
    [1, "spec.targets.actors.noScope.circuitBreakerScope"],
    [1, "spec.targets.actors.badScope.circuitBreakerScope"],
  ]);
});

test("resources - every Resiliency document of a multi-document file is read (daprd reads only the first)", async () => {
  const dir = await dirWith({
    "r.yaml": [
      resiliency("one", "  policies:\n    timeouts: {a: 1s}\n"),
      resiliency("two", "  policies:\n    timeouts: {a: 2s}\n"),
      resiliency("three", "  policies:\n    timeouts: {a: 3s}\n", "scopes: [someone-else]\n"),
    ].join("---\n"),
  });
  const { resources, problems } = await loadResources([dir], ctx);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    resources.resiliencies.map((r) => [r.name, r.timeouts["a"], r.origin.document]),
    [["one", 1000, 1], ["two", 2000, 2]],
  );
});

test("resources - the protected DaprBuiltInActorNotFoundRetries cannot be overridden", async () => {
  const dir = await dirWith({
    "r.yaml": resiliency("p", "  policies:\n    retries:\n      DaprBuiltInActorNotFoundRetries: {maxRetries: 1}\n      DaprBuiltInServiceRetries: {maxRetries: 5}\n"),
  });
  const { problems } = await loadResources([dir], ctx);
  assert.deepEqual(fields(problems), [[1, "spec.policies.retries.DaprBuiltInActorNotFoundRetries"]]);
});

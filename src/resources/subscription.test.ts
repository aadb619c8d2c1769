import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadResources } from "./load-resources.js";
import { dirWith, loadContext as ctx, where } from "../../test/harness/resource-fixtures.js";

// resources.md §3, unchanged.
const DOCUMENTED_SUBSCRIPTION = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: order-sub}
spec:
  pubsubname: pubsub
  topic: orders
  routes:
    rules:
    - match: event.type == "order.created"   # CEL, variable \`event\` = CloudEvent map
      path: /orders/created
    default: /orders
  deadLetterTopic: orders-dead               # optional, same pubsub
  metadata: {rawPayload: "false"}            # passed to the component Subscribe
  bulkSubscribe: {enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 40}
scopes: [order-processor]
`;

test("resources - the documented v2alpha1 Subscription loads with its rules, default last", async () => {
  const dir = await dirWith({ "sub.yaml": DOCUMENTED_SUBSCRIPTION });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.subscriptions, [
    {
      kind: "Subscription",
      apiVersion: "dapr.io/v2alpha1",
      name: "order-sub",
      pubsubname: "pubsub",
      topic: "orders",
      rules: [{ match: 'event.type == "order.created"', path: "/orders/created" }, { path: "/orders" }],
      deadLetterTopic: "orders-dead",
      metadata: { rawPayload: "false" },
      bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 40 },
      scopes: ["order-processor"],
      origin: { file: join(dir, "sub.yaml"), document: 1 },
    },
  ]);
});

test("resources - a v1alpha1 Subscription's route becomes one default rule", async () => {
  const dir = await dirWith({
    "v1.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Subscription\nmetadata: {name: old}\nspec:\n  pubsubname: pubsub\n  topic: orders\n  route: /orders\n  metadata: {rawPayload: true, maxConcurrency: 4}\n",
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.subscriptions[0]?.rules, [{ path: "/orders" }]);
  assert.equal(resources.subscriptions[0]?.apiVersion, "dapr.io/v1alpha1");
  assert.deepEqual(resources.subscriptions[0]?.metadata, { rawPayload: "true", maxConcurrency: "4" });
});

test("resources - Subscriptions get no namespace filter and no duplicate check; scopes stay on the record", async () => {
  const sub = (ns: string, scope: string): string =>
    `apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata: {name: same, namespace: ${ns}}\nspec: {pubsubname: p, topic: t, routes: {default: /t}}\nscopes: [${scope}]\n`;
  const dir = await dirWith({ "s.yaml": `${sub("dev", "other")}---\n${sub("prod", "app1")}` });
  const { resources, problems } = await loadResources([dir], ctx({ namespace: "prod" }));
  assert.deepEqual(problems, []);
  assert.deepEqual(resources.subscriptions.map((s) => s.scopes), [["other"], ["app1"]]);
});

test("resources - Subscription problems name the field", async () => {
  const head = "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata: {name: s}\n";
  const dir = await dirWith({
    "s.yaml": [
      `${head}spec: {topic: t, routes: {default: /t}}\n`,
      `${head}spec: {pubsubname: p, topic: t}\n`,
      `${head}spec: {pubsubname: p, topic: t, routes: {}}\n`,
      `${head}spec: {pubsubname: p, topic: t, routes: {rules: [{match: 'true'}]}}\n`,
      "apiVersion: dapr.io/v1alpha1\nkind: Subscription\nmetadata: {name: s}\nspec: {pubsubname: p, topic: t}\n",
      `${head}spec: {pubsubname: p, topic: t, routes: {default: /t}, bulkSubscribe: {enabled: true, maxMessagesCount: 0}}\n`,
    ].join("---\n"),
  });
  const { resources, problems } = await loadResources([dir], ctx());
  assert.deepEqual(where(problems, dir), [
    ["s.yaml", 1, "spec.pubsubname"],
    ["s.yaml", 2, "spec.routes"],
    ["s.yaml", 3, "spec.routes"],
    ["s.yaml", 4, "spec.routes.rules[0].path"],
    ["s.yaml", 5, "spec.route"],
    ["s.yaml", 6, "spec.bulkSubscribe.maxMessagesCount"],
  ]);
  assert.deepEqual(resources.subscriptions, []);
});

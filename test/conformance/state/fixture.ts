/** What every state conformance test shares: a fresh store behind a block, item builders, assertions. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GetResponse, StateFeature } from "../../../src/blocks/state/contract.js";
import { keyPrefixStrategy } from "../../../src/blocks/state/key-prefix.js";
import { StateBlock, type DeleteItem, type SaveItem, type TransactionItem } from "../../../src/blocks/state/state.js";
import { TandemError } from "../../../src/errors/index.js";
import type { ComponentUnderTest, OpenedStore } from "./components.js";

export const APP_ID = "myapp";
export const STORE = "statestore";

export interface ItemOptions {
  readonly etag?: string;
  /** Becomes metadata `ttlInSeconds`. */
  readonly ttl?: number | string;
  readonly concurrency?: string;
  readonly consistency?: string;
  readonly metadata?: Record<string, string>;
}

/** A save item: a Buffer is a binary value, anything else is encoded as JSON. */
export function item(key: string, value: unknown, o: ItemOptions = {}): SaveItem {
  const binary = Buffer.isBuffer(value);
  return {
    key,
    value: binary ? value : Buffer.from(JSON.stringify(value), "utf8"),
    isBinary: binary,
    ...common(o),
  };
}

/** A save item whose JSON text is given verbatim. */
export function jsonText(key: string, text: string, o: ItemOptions = {}): SaveItem {
  return { key, value: Buffer.from(text, "utf8"), isBinary: false, ...common(o) };
}

export function deleteItem(key: string, o: ItemOptions = {}): DeleteItem {
  return { key, ...common(o) };
}

export const upsert = (key: string, value: unknown, o: ItemOptions = {}): TransactionItem => ({ operation: "upsert", item: item(key, value, o) });
export const remove = (key: string, o: ItemOptions = {}): TransactionItem => ({ operation: "delete", item: deleteItem(key, o) });

function common(o: ItemOptions) {
  const metadata = { ...(o.metadata ?? {}), ...(o.ttl !== undefined ? { ttlInSeconds: String(o.ttl) } : {}) };
  const options = { ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}), ...(o.consistency !== undefined ? { consistency: o.consistency } : {}) };
  return { metadata, options, ...(o.etag !== undefined ? { etag: o.etag } : {}) };
}

export interface Env {
  readonly opened: OpenedStore;
  readonly block: StateBlock;
  save(key: string, value: unknown, o?: ItemOptions): Promise<void>;
  get(key: string): Promise<GetResponse | undefined>;
  /** The stored value as text, or undefined when absent. */
  text(key: string): Promise<string | undefined>;
  etag(key: string): Promise<string>;
  del(key: string, o?: ItemOptions): Promise<void>;
  /** Another app's block over the same store (its own key prefix). */
  blockFor(appId: string, keyPrefix?: string): StateBlock;
}

export function blockOver(opened: OpenedStore, appId: string, keyPrefix?: string, actorStateStore = false): StateBlock {
  const block = new StateBlock(appId);
  block.register({ name: STORE, store: opened.store, keyPrefix: keyPrefixStrategy(keyPrefix, { appId, storeName: STORE, namespace: "" }), actorStateStore });
  return block;
}

export async function withEnv(c: ComponentUnderTest, fn: (env: Env) => Promise<void>): Promise<void> {
  const opened = await c.open();
  const block = blockOver(opened, APP_ID);
  const env: Env = {
    opened,
    block,
    save: (key, value, o) => block.save({ storeName: STORE, items: [item(key, value, o)] }),
    get: (key) => block.get({ storeName: STORE, key, metadata: {} }),
    text: async (key) => (await env.get(key))?.data.toString("utf8"),
    etag: async (key) => {
      const got = await env.get(key);
      assert.ok(got?.etag, `${key} should exist with an etag`);
      return got.etag;
    },
    del: (key, o) => block.delete({ storeName: STORE, ...deleteItem(key, o) }),
    blockFor: (appId, keyPrefix) => blockOver(opened, appId, keyPrefix),
  };
  try {
    await fn(env);
  } finally {
    await opened.dispose();
  }
}

export interface Needs {
  /** Features the component must claim; otherwise the test is skipped (the refusal has its own test). */
  readonly features?: readonly StateFeature[];
  /** Features the component must NOT claim: for the tests that check the refusal. */
  readonly lacks?: readonly StateFeature[];
  readonly scans?: boolean;
  readonly durable?: boolean;
  /** true: only for stores with Redis's ETag rules; false: only for the others (ComponentUnderTest.redisEtagRules). */
  readonly redisEtagRules?: boolean;
}

const usedBehaviours = new Map<string, Set<string>>();

/** Register one behaviour for one component, titled "state - <behaviour> [<component>]", skipped with a printed reason when it does not apply. */
export function stateTest(c: ComponentUnderTest, behaviour: string, needs: Needs, fn: (env: Env) => Promise<void>): void {
  let used = usedBehaviours.get(c.name);
  if (!used) usedBehaviours.set(c.name, (used = new Set()));
  used.add(behaviour);
  const skip = skipReason(c, behaviour, needs);
  test(`state - ${behaviour} [${c.name}]`, skip !== undefined ? { skip } : {}, () => withEnv(c, fn));
}

/** Every behaviour named in a component's skip table must exist (a typo would silently run the test). */
export function checkSkipTable(c: ComponentUnderTest): void {
  test(`state - every skip in the component table names a behaviour [${c.name}]`, () => {
    const used = usedBehaviours.get(c.name) ?? new Set<string>();
    for (const name of Object.keys(c.skips)) assert.ok(used.has(name), `skip "${name}" names no behaviour`);
  });
}

function skipReason(c: ComponentUnderTest, behaviour: string, needs: Needs): string | undefined {
  const explicit = c.skips[behaviour];
  if (explicit !== undefined) return explicit;
  const missing = (needs.features ?? []).filter((f) => !c.features.includes(f));
  if (missing.length > 0) return `${c.name} does not claim ${missing.join(", ")}; its absence is tested instead`;
  const claimed = (needs.lacks ?? []).filter((f) => c.features.includes(f));
  if (claimed.length > 0) return `${c.name} claims ${claimed.join(", ")}; the claimed behaviour is tested instead`;
  if (needs.scans === true && !c.scans) return `${c.name} has no scan; the refusal of list keys and query is tested instead`;
  if (needs.scans === false && c.scans) return `${c.name} can scan; list keys and query are tested instead`;
  if (needs.durable === true && !c.durable) return `${c.name} keeps its data in the process only, as Dapr's does`;
  if (needs.redisEtagRules === true && c.redisEtagRules !== true) return `${c.name} follows the SQL stores' ETag rules; those are tested instead`;
  if (needs.redisEtagRules === false && c.redisEtagRules === true) return `${c.name} follows Redis's ETag rules (semantics.md §1.3); those are tested instead`;
  return undefined;
}

export const claims = (c: ComponentUnderTest, f: StateFeature): boolean => c.features.includes(f);

/** Await a call that must fail with a TandemError of this code (and HTTP status, when given). */
export async function rejectsWith(p: Promise<unknown>, code: string, httpStatus?: number): Promise<TandemError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TandemError, `expected a TandemError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `unexpected error: ${err.message}`);
    if (httpStatus !== undefined) assert.equal(err.httpStatus, httpStatus, `unexpected status for: ${err.message}`);
    return err;
  }
  return assert.fail(`expected ${code}, but the call succeeded`);
}

/**
 * Poll until `probe` returns true, or fail at the deadline. Only for waiting on the clock (TTL
 * expiry), where there is no event to wait on.
 */
export async function until(what: string, probe: () => Promise<boolean>, deadlineMs = 5_000, everyMs = 50): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > deadlineMs) assert.fail(`timed out after ${deadlineMs}ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** What every pub/sub conformance test shares: a fresh environment per test, an inbox handler, deadlines. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test, type TestContext } from "node:test";
import type { Message, MessageHandler, Metadata, PubSub, PubSubFeature } from "../../../src/blocks/pubsub/contract.js";
import { deferred } from "../../../src/kit/deferred.js";
import type { ComponentUnderTest } from "./components.js";

/** Default deadline for a wait; tests that depend on a broker's redelivery timer pass a longer one. */
export const DEADLINE_MS = 10_000;
export const REDELIVERY_DEADLINE_MS = 20_000;
/** How long a promise that must stay pending (close() while a handler runs) is watched. */
export const PENDING_WINDOW_MS = 300;

export interface Env {
  /** Unique to this test; every topic and consumerID of the test starts with it. */
  readonly prefix: string;
  topic(name: string): string;
  /** A new component instance (another sidecar) whose consumerID is `<prefix>-<name>`. */
  open(name?: string): Promise<PubSub>;
}

export interface Needs {
  readonly features?: readonly PubSubFeature[];
  readonly durable?: true;
  readonly consumerGroups?: true;
  readonly deliversEarlierMessages?: true;
}

const runId = randomBytes(3).toString("hex");
let testCounter = 0;
const usedBehaviours = new Map<string, Map<string, Needs>>();

/** Register one behaviour for one component, titled "pubsub - <behaviour> [<component>]", skipped with a printed reason when it does not apply. */
export function pubsubTest(c: ComponentUnderTest, behaviour: string, needs: Needs, fn: (env: Env, t: TestContext) => Promise<void>): void {
  let used = usedBehaviours.get(c.name);
  if (!used) usedBehaviours.set(c.name, (used = new Map()));
  used.set(behaviour, needs);
  const skip = skipReason(c, behaviour, needs);
  test(`pubsub - ${behaviour} [${c.name}]`, skip !== undefined ? { skip } : {}, async (t) => {
    testCounter += 1;
    const prefix = `cf${runId}t${testCounter}`;
    const componentEnv = await c.environment(prefix);
    const env: Env = {
      prefix,
      topic: (name) => `${prefix}-${name}`,
      open: (name = "app") => componentEnv.open({ consumerID: `${prefix}-${name}` }),
    };
    try {
      await fn(env, t);
    } finally {
      await componentEnv.dispose();
    }
  });
}

/**
 * Every behaviour named in a component's skip table must exist (a typo would silently run the
 * test), and the test of a claimed feature cannot be skipped: a claimed feature must work.
 */
export function checkSkipTable(c: ComponentUnderTest): void {
  test(`pubsub - every skip in the component table names a behaviour [${c.name}]`, () => {
    const used = usedBehaviours.get(c.name) ?? new Map<string, Needs>();
    for (const name of Object.keys(c.skips)) {
      const needs = used.get(name);
      assert.ok(needs, `skip "${name}" names no behaviour`);
      const claimed = (needs.features ?? []).filter((f) => c.features.includes(f));
      assert.deepEqual(claimed, [], `skip "${name}" would leave claimed ${claimed.join(", ")} untested`);
    }
  });
}

function skipReason(c: ComponentUnderTest, behaviour: string, needs: Needs): string | undefined {
  const explicit = c.skips[behaviour];
  if (explicit !== undefined) return explicit;
  const missing = (needs.features ?? []).filter((f) => !c.features.includes(f));
  if (missing.length > 0) return `${c.name} does not claim ${missing.join(", ")}`;
  if (needs.durable && !c.durable) return `${c.name} keeps no messages while no subscription runs (durable: false)`;
  if (needs.consumerGroups && !c.consumerGroups) return `${c.name} has no consumer groups: every subscriber gets every message (consumerGroups: false)`;
  if (needs.deliversEarlierMessages && !c.deliversEarlierMessages) {
    return `${c.name} does not promise messages published before the first subscribe (deliversEarlierMessages: false); not asserted`;
  }
  return undefined;
}

export const claims = (c: ComponentUnderTest, f: PubSubFeature): boolean => c.features.includes(f);

/** Publish a text (or bytes) with a content type and metadata. */
export function send(ps: PubSub, topic: string, payload: string | Buffer, o: { contentType?: string; metadata?: Metadata } = {}): Promise<void> {
  const data = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  return ps.publish({ topic, data, contentType: o.contentType ?? "text/plain", metadata: o.metadata ?? {} });
}

/** `count` distinct payloads `<stem>-0`, `<stem>-1`... */
export const payloads = (stem: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${stem}-${i}`);

/** What the handler does after the call was recorded; `attempt` counts the calls for this payload, from 1. */
export type Behaviour = (message: Message, signal: AbortSignal, attempt: number) => Promise<void>;

/** A handler that records every call (by payload text) and lets a test wait for a condition on them. */
export class Inbox {
  readonly calls: Message[] = [];
  private readonly seen = new Map<string, number>();
  private readonly done = new Set<string>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly behaviour?: Behaviour) {}

  readonly handler: MessageHandler = async (message, signal) => {
    const text = message.data.toString("utf8");
    const attempt = (this.seen.get(text) ?? 0) + 1;
    this.seen.set(text, attempt);
    this.calls.push(message);
    this.notify();
    if (this.behaviour) await this.behaviour(message, signal, attempt);
    this.done.add(text);
    this.notify();
  };

  /** Calls for this payload. */
  count(text: string): number {
    return this.seen.get(text) ?? 0;
  }
  /** Whether a call for this payload resolved. */
  handled(text: string): boolean {
    return this.done.has(text);
  }
  has(text: string): boolean {
    return this.seen.has(text);
  }
  get distinct(): number {
    return this.seen.size;
  }
  /** Calls beyond the first one per payload. */
  get duplicates(): number {
    return this.calls.length - this.seen.size;
  }
  texts(): string[] {
    return [...this.seen.keys()];
  }

  /** Resolves once `condition` holds (checked at every call and every resolved call), or fails at the deadline. */
  until(what: string, condition: () => boolean, ms = DEADLINE_MS): Promise<void> {
    return untilAcross([this], what, condition, ms);
  }

  /** Run `check` after every call and every resolved call; returns the function that stops it. */
  watch(check: () => void): () => void {
    this.waiters.add(check);
    return () => this.waiters.delete(check);
  }

  /** Until every one of `texts` was received at least once. */
  untilAll(texts: readonly string[], ms = DEADLINE_MS): Promise<void> {
    return this.until(`all ${texts.length} messages`, () => texts.every((t) => this.seen.has(t)), ms);
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** Resolves once `condition` holds, checked whenever any of the inboxes records something; fails at the deadline. */
export async function untilAcross(inboxes: readonly Inbox[], what: string, condition: () => boolean, ms = DEADLINE_MS): Promise<void> {
  if (condition()) return;
  const reached = deferred();
  const stops = inboxes.map((inbox) =>
    inbox.watch(() => {
      if (condition()) reached.resolve();
    }),
  );
  const progress = () => inboxes.map((i) => `${i.calls.length} calls/${i.distinct} distinct`).join(", ");
  try {
    await within(what, reached.promise, ms).catch((err: unknown) => {
      throw err instanceof assert.AssertionError ? new assert.AssertionError({ message: `${err.message} (so far: ${progress()})` }) : err;
    });
  } finally {
    for (const stop of stops) stop();
  }
}

/** `promise`, or a failure naming `what` once `ms` passed. */
export async function within<T>(what: string, promise: Promise<T>, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `timed out after ${ms}ms waiting for ${what}` })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `promise` settles within `ms`. Used only to show something does NOT happen (close()
 * resolving while a handler still runs): there is no event for an absence, so it is watched for a
 * bounded window; the wait ends early when it does settle.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = promise.then(
    () => true,
    () => true,
  );
  const window = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([settled, window]);
  } finally {
    clearTimeout(timer);
  }
}

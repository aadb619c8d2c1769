/**
 * "Nothing lost": the kill scenario every durable pub/sub component runs. A publisher sidecar (no
 * app) takes N publishes from the test, a subscriber sidecar delivers them to a plain HTTP app that
 * records the `seq` of each event; once a third of them arrived, something is killed mid-stream
 * (the subscriber's sidecar, the broker, or the publisher's sidecar) and brought back while
 * publishing goes on. Every publish the sidecar acknowledged (204) must reach the app; duplicates
 * are allowed and printed. Waiting is event-driven: the app's deliveries resolve the latches.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { TestContext } from "node:test";
import { deferred } from "../../../src/kit/deferred.js";
import { freePort } from "../../harness/ports.js";
import { startSidecar, type SidecarProcess } from "../../harness/sidecar.js";

export const PUBSUB = "pubsub";
export const MESSAGES = 10_000;
/** Per test: above the scenario's own deadline, and above the suite runner's default (--test-timeout=120000), which these tests exceed on a loaded 2-core machine. */
export const TEST_TIMEOUT_MS = 540_000;

export type Role = "pub" | "sub";

export type Disruption =
  /** SIGKILL the subscriber's sidecar, start a new one with the same app id, resources and app port. */
  | { readonly kind: "subscriber-sidecar" }
  /** SIGKILL the publisher's sidecar and start a new one; publishes in flight are retried on it. */
  | { readonly kind: "publisher-sidecar" }
  /** Take the broker down and bring it back on the same port and data (`restart` does both; `what` names it in the report). */
  | { readonly kind: "broker"; readonly what: string; restart(): Promise<void> };

export interface ScenarioOptions {
  /** Topic of this scenario (one per scenario, so the two scenarios of a file do not mix). */
  readonly topic: string;
  /** The component YAML (named `pubsub`) for the sidecar of `role`. */
  readonly component: (role: Role) => string;
  readonly disruption: Disruption;
  readonly messages?: number;
  /** Publishes in flight at once. */
  readonly concurrency?: number;
  /**
   * How far publishing may run ahead of the deliveries (default: a third of the messages). Publishing
   * is faster than delivering on a small machine; without this bound every publish could be
   * acknowledged before the disruption, which must happen while publishing goes on.
   */
  readonly maxAhead?: number;
  /** Give up when nothing progressed (no new delivery, no new acknowledged publish) for this long, outside the disruption. */
  readonly stallMs?: number;
  /** Give up in any case after this long. */
  readonly deadlineMs?: number;
}

export interface ScenarioResult {
  readonly published: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
}

interface RecordingApp {
  readonly port: number;
  readonly seen: Uint8Array;
  distinct: number;
  deliveries: number;
  /** Called after each delivery. */
  onDelivery: () => void;
  close(): Promise<void>;
}

/** The subscriber app: records each event's `data.seq` and answers SUCCESS. */
async function startRecordingApp(topic: string, messages: number): Promise<RecordingApp> {
  const subscriptions = JSON.stringify([{ pubsubname: PUBSUB, topic, route: "/events" }]);
  const port = await freePort();
  const app: RecordingApp = {
    port,
    seen: new Uint8Array(messages),
    distinct: 0,
    deliveries: 0,
    onDelivery: () => undefined,
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/dapr/subscribe") {
        res.writeHead(200, { "content-type": "application/json" }).end(subscriptions);
        return;
      }
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data?: { seq?: unknown } };
      const seq = event.data?.seq;
      if (typeof seq === "number" && seq >= 0 && seq < messages) {
        app.deliveries += 1;
        if (app.seen[seq] === 0) app.distinct += 1;
        app.seen[seq] = Math.min(255, (app.seen[seq] ?? 0) + 1);
      }
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"SUCCESS"}');
      app.onDelivery();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  app.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return app;
}

const sidecar = (role: Role, opts: ScenarioOptions, appPort?: number): Promise<SidecarProcess> =>
  startSidecar({
    appId: role,
    resources: { "pubsub.yaml": opts.component(role) },
    args: appPort === undefined ? ["--log-level", "info"] : ["--app-port", String(appPort), "--log-level", "info"],
    waitFor: "ready",
  });

/** Runs one scenario, reports its figures with `t.diagnostic` and asserts that nothing was lost. */
export async function runNothingLost(t: TestContext, opts: ScenarioOptions): Promise<ScenarioResult> {
  const messages = opts.messages ?? MESSAGES;
  const concurrency = opts.concurrency ?? 32;
  const maxAhead = opts.maxAhead ?? Math.ceil(messages / 3);
  const stallMs = opts.stallMs ?? 45_000;
  const deadlineMs = opts.deadlineMs ?? 480_000;
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;

  const app = await startRecordingApp(opts.topic, messages);
  let sub: SidecarProcess | undefined;
  let pub: SidecarProcess | undefined;
  const acknowledged = new Uint8Array(messages);
  let published = 0;
  let publishedAt = "";
  let failedAttempts = 0;
  let disruptedAt = "";
  let recoveredAt = "";
  let stopped = false;
  let delivery = deferred();
  let watchdog: NodeJS.Timeout | undefined;
  try {
    sub = await sidecar("sub", opts, app.port);
    pub = await sidecar("pub", opts);

    // Progress is a new distinct delivery or a new acknowledged publish; time spent in the disruption
    // itself (a broker restart may take a while on a loaded machine) does not count as a stall.
    let lastProgress = performance.now();
    let disrupting = false;
    let disruptionDone: Promise<void> = Promise.resolve();
    const allArrived = deferred();
    let triggered = false;
    const disrupt = async (): Promise<void> => {
      disrupting = true;
      disruptedAt = `${elapsed()} (${app.distinct} delivered, ${published} acknowledged)`;
      try {
        switch (opts.disruption.kind) {
          case "subscriber-sidecar":
            await sub?.kill();
            sub = await sidecar("sub", opts, app.port);
            break;
          case "publisher-sidecar":
            await pub?.kill();
            pub = await sidecar("pub", opts);
            break;
          case "broker":
            await opts.disruption.restart();
            break;
        }
        recoveredAt = elapsed();
      } finally {
        disrupting = false;
        lastProgress = performance.now();
      }
    };
    let distinctBefore = 0;
    app.onDelivery = () => {
      if (app.distinct !== distinctBefore) {
        distinctBefore = app.distinct;
        lastProgress = performance.now();
      }
      delivery.resolve();
      delivery = deferred();
      if (!triggered && app.distinct >= Math.floor(messages / 3)) {
        triggered = true;
        disruptionDone = disrupt();
        disruptionDone.catch(() => undefined);
      }
      if (app.distinct >= messages) allArrived.resolve();
    };

    // Each worker publishes the next seq until its publish is acknowledged (retrying on any failure, on
    // whichever publisher sidecar is current), then takes the next one.
    let next = 0;
    const publishOne = async (seq: number): Promise<void> => {
      const body = `{"seq":${seq}}`;
      for (let attempt = 1; !stopped; attempt++) {
        const url = `${(pub as SidecarProcess).url}/v1.0/publish/${PUBSUB}/${opts.topic}`;
        try {
          const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(30_000) });
          await res.arrayBuffer();
          if (res.status === 204) {
            acknowledged[seq] = 1;
            published += 1;
            lastProgress = performance.now();
            if (published === messages) publishedAt = elapsed();
            return;
          }
        } catch {
          // the sidecar is down or the request timed out: not acknowledged, so publish again
        }
        failedAttempts += 1;
        // A retry delay, not a synchronisation: the next attempt is tried whatever the state.
        await new Promise((r) => setTimeout(r, Math.min(500, 20 * attempt)));
      }
    };
    const worker = async (): Promise<void> => {
      while (next < messages && !stopped) {
        if (next - app.distinct >= maxAhead) await delivery.promise;
        else await publishOne(next++);
      }
    };
    const publishing = Promise.all(Array.from({ length: concurrency }, worker));

    const gaveUp = deferred<"stalled" | "deadline">();
    watchdog = setInterval(() => {
      const now = performance.now();
      if (disrupting) lastProgress = now;
      else if (now - lastProgress > stallMs) gaveUp.resolve("stalled");
      if (now - started > deadlineMs) gaveUp.resolve("deadline");
    }, 1_000);
    const outcome = await Promise.race([Promise.all([publishing, allArrived.promise]).then(() => "done" as const), gaveUp.promise]);
    await disruptionDone;

    const missing: number[] = [];
    for (let seq = 0; seq < messages; seq++) if (acknowledged[seq] === 1 && app.seen[seq] === 0) missing.push(seq);
    const result: ScenarioResult = { published, delivered: app.distinct, lost: missing.length, duplicates: app.deliveries - app.distinct };
    const what = opts.disruption.kind === "broker" ? opts.disruption.what : `${opts.disruption.kind} kill -9 + restart`;
    t.diagnostic(
      `${what}: ${outcome}; published ${published}/${messages} (acknowledged; failed attempts retried: ${failedAttempts}; last at ${publishedAt || "never"}), ` +
        `delivered distinct ${result.delivered}, lost ${result.lost}, duplicates ${result.duplicates}; disrupted at ${disruptedAt || "never"}, back at ${recoveredAt || "never"}; total ${elapsed()}`,
    );
    assert.ok(triggered, "the disruption never happened");
    assert.equal(result.lost, 0, `${result.lost} acknowledged messages never arrived (${outcome}), e.g. seq ${missing.slice(0, 20).join(", ")}`);
    assert.equal(outcome, "done", `${outcome}: ${published} of ${messages} publishes acknowledged, ${app.distinct} delivered`);
    return result;
  } catch (err) {
    if (sub !== undefined) t.diagnostic(`subscriber sidecar output (tail):\n${sub.output().slice(-4000)}`);
    if (pub !== undefined) t.diagnostic(`publisher sidecar output (tail):\n${pub.output().slice(-4000)}`);
    throw err;
  } finally {
    stopped = true;
    delivery.resolve();
    clearInterval(watchdog);
    await Promise.all([sub?.stop(), pub?.stop()]);
    await app.close();
  }
}

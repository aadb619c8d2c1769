/**
 * A child process of sqlite-component.test.ts: one pubsub.sqlite instance, as one sidecar would hold,
 * driven by JSON lines on stdin and reporting JSON lines on stdout.
 * argv[2]: the component metadata (JSON). Commands:
 *   {"op":"subscribe","topic":"t","hold":true}   handler reports {"ev":"msg","text"}; with hold it resolves only after "release"
 *   {"op":"publish","topic":"t","stem":"m","count":100}   all at once; reports {"ev":"published","count"} once every publish resolved
 *   {"op":"release"}   resolves held handlers, later ones resolve at once
 *   {"op":"close"}     closes the component, reports {"ev":"closed"} and exits
 */
import { createInterface } from "node:readline";
import { deferred } from "../../../src/kit/deferred.js";
import { openSqlitePubSub } from "./sqlite-env.js";

const metadata = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
const ps = await openSqlitePubSub(metadata);
const report = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
let released = deferred();

interface Command {
  op: "subscribe" | "publish" | "release" | "close";
  topic?: string;
  hold?: boolean;
  stem?: string;
  count?: number;
}

async function run(cmd: Command): Promise<void> {
  const topic = cmd.topic ?? "";
  switch (cmd.op) {
    case "subscribe": {
      const hold = cmd.hold === true;
      await ps.subscribe({ topic, metadata: {} }, async (m) => {
        report({ ev: "msg", topic: m.topic, text: m.data.toString("utf8") });
        if (hold) await released.promise;
      });
      report({ ev: "subscribed", topic });
      return;
    }
    case "publish": {
      const count = cmd.count ?? 1;
      const sends: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        sends.push(ps.publish({ topic, data: Buffer.from(`${cmd.stem ?? "m"}-${i}`), contentType: "text/plain", metadata: {} }));
      }
      await Promise.all(sends);
      report({ ev: "published", topic, count });
      return;
    }
    case "release":
      released.resolve();
      released = deferred();
      released.resolve();
      return;
    case "close":
      await ps.close();
      report({ ev: "closed" });
      process.exit(0);
  }
}

report({ ev: "ready" });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  run(JSON.parse(line) as Command).catch((err: unknown) => report({ ev: "error", message: String(err) }));
}

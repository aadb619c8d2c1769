/**
 * Integration: two apps started with `tandem run` and no resources share the durable local pub/sub
 * (`pubsub.sqlite` under TANDEM_HOME): no broker, and messages published while the subscriber is
 * stopped reach it when it comes back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort } from "../../harness/ports.js";
import { startCli, stopCli, tempHome, uniqueAppId, type CliProcess } from "./cli-harness.js";

const SUBSCRIBER = `
const http = require("node:http");
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/dapr/subscribe") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify([{ pubsubname: "pubsub", topic: "greetings", route: "/greet" }]));
      return;
    }
    const event = JSON.parse(Buffer.concat(chunks).toString());
    console.log("got " + event.data.text);
    res.end();
  });
}).listen(Number(process.env.APP_PORT), "127.0.0.1", () => console.log("subscriber listening"));
`;

/** Publishes the texts given in argv through its own sidecar, then exits. */
const PUBLISHER = `
(async () => {
  for (const text of process.argv.slice(1)) {
    const res = await fetch("http://127.0.0.1:" + process.env.DAPR_HTTP_PORT + "/v1.0/publish/pubsub/greetings", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }),
    });
    if (res.status !== 204) { console.log("publish failed " + res.status + " " + await res.text()); process.exit(1); }
  }
  console.log("published " + (process.argv.length - 1));
})();
`;

async function publish(home: string, texts: string[]): Promise<void> {
  const cli = startCli(["run", "-a", uniqueAppId("publisher"), "--", process.execPath, "-e", PUBLISHER, ...texts], { home });
  try {
    await cli.waitFor(new RegExp(`== APP == published ${texts.length}`), 60_000);
  } finally {
    await stopCli(cli);
  }
}

test("cli - two apps started with tandem run share a durable local pub/sub with no broker", async () => {
  const home = tempHome();
  const subscriberId = uniqueAppId("subscriber");
  const appPort = await freePort();
  const startSubscriber = () => startCli(["run", "-a", subscriberId, "-p", String(appPort), "--", process.execPath, "-e", SUBSCRIBER], { home });
  let sub: CliProcess | undefined;
  try {
    sub = startSubscriber();
    await sub.waitFor(/You're up and running/, 60_000);
    await publish(home, ["hello-1", "hello-2"]);
    await sub.waitFor(/== APP == got hello-1/);
    await sub.waitFor(/== APP == got hello-2/);

    await stopCli(sub);
    await publish(home, ["while-away"]);
    sub = startSubscriber();
    await sub.waitFor(/== APP == got while-away/, 60_000);
    assert.doesNotMatch(sub.output(), /got hello-1/, "acknowledged messages are not delivered again");
  } finally {
    await stopCli(sub);
  }
});

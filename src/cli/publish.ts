/**
 * `tandem publish --publish-app-id <id> --pubsub <ps> --topic <t> [--data | --data-file]
 * [--metadata <json>]`: `POST /v1.0/publish/<ps>/<t>?metadata.k=v` through that app's sidecar.
 * JSON data goes as application/json, a CloudEvent envelope as application/cloudevents+json.
 */
import { Command } from "commander";
import { CliError, type CliContext } from "./context.js";
import { findApp } from "./list.js";
import { requestBody } from "./request-body.js";
import { callSidecar } from "./sidecar-client.js";

interface PublishFlags {
  readonly publishAppId: string;
  readonly pubsub: string;
  readonly topic: string;
  readonly data?: string;
  readonly dataFile?: string;
  readonly metadata?: string;
}

/** The Content-Type dapr's CLI sends for a payload. */
export function publishContentType(body: string): string {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v === "object" && v !== null && ["id", "source", "specversion", "type"].every((k) => k in v)) return "application/cloudevents+json";
  } catch {
    /* not JSON: still sent as application/json, as the dapr CLI does */
  }
  return "application/json";
}

/** `--metadata '{"ttlInSeconds":"10"}'` -> `?metadata.ttlInSeconds=10`. */
export function metadataQuery(json: string | undefined): string {
  if (json === undefined) return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new CliError("--metadata must be a JSON object, e.g. '{\"ttlInSeconds\":\"10\"}'");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CliError("--metadata must be a JSON object");
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(parsed)) q.append(`metadata.${k}`, typeof v === "string" ? v : JSON.stringify(v));
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

export function publishCommand(ctx: CliContext): Command {
  return new Command("publish")
    .description("Publish an event through the sidecar of a running app")
    .requiredOption("-i, --publish-app-id <id>", "the app whose sidecar publishes")
    .requiredOption("-p, --pubsub <name>", "the pub/sub component")
    .requiredOption("-t, --topic <topic>", "the topic")
    .option("-d, --data <data>", "the event (JSON)")
    .option("-f, --data-file <file>", "a file holding the event")
    .option("-m, --metadata <json>", "metadata as a JSON object, sent as metadata.<key> query parameters")
    .option("-u, --unix-domain-socket <dir>", "accepted for compatibility: the sidecar's own socket setting is used")
    .action(async (flags: PublishFlags) => {
      const body = requestBody(flags.data, flags.dataFile) ?? "";
      const query = metadataQuery(flags.metadata);
      const app = await findApp(flags.publishAppId, ctx.env.DAPR_API_TOKEN);
      const path = `/v1.0/publish/${encodeURIComponent(flags.pubsub)}/${encodeURIComponent(flags.topic)}${query}`;
      const reply = await callSidecar(app.address, path, {
        method: "POST",
        headers: { "content-type": publishContentType(body) },
        body,
        ...(ctx.env.DAPR_API_TOKEN !== undefined ? { apiToken: ctx.env.DAPR_API_TOKEN } : {}),
      });
      if (reply.status < 200 || reply.status >= 300) {
        throw new CliError(`error publishing to ${flags.pubsub}/${flags.topic}: ${reply.status}${reply.body !== "" ? ` ${reply.body}` : ""}`);
      }
      ctx.out("✅  Event published successfully\n");
    });
}

/**
 * `tandem invoke --app-id <id> --method <m> [--verb POST] [--data <json> | --data-file <f>]`:
 * `<VERB> /v1.0/invoke/<id>/method/<m>` through that app's own sidecar, found as `tandem list`
 * finds it. The response body goes to stdout; a non-2xx answer is an error (exit 1).
 */
import { Command } from "commander";
import { CliError, type CliContext } from "./context.js";
import { findApp } from "./list.js";
import { requestBody } from "./request-body.js";
import { callSidecar } from "./sidecar-client.js";

const VERBS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT"];

interface InvokeFlags {
  readonly appId: string;
  readonly method: string;
  readonly verb: string;
  readonly data?: string;
  readonly dataFile?: string;
}

export function invokeCommand(ctx: CliContext): Command {
  return new Command("invoke")
    .description("Invoke a method of a running app through its sidecar")
    .requiredOption("-a, --app-id <id>", "the app to invoke")
    .requiredOption("-m, --method <method>", "the method (path, may carry a query string)")
    .option("-v, --verb <verb>", "the HTTP verb", "POST")
    .option("-d, --data <data>", "the request body (JSON)")
    .option("-f, --data-file <file>", "a file holding the request body")
    .option("-u, --unix-domain-socket <dir>", "accepted for compatibility: the sidecar's own socket setting is used")
    .action(async (flags: InvokeFlags) => {
      const verb = flags.verb.toUpperCase();
      if (!VERBS.includes(verb)) throw new CliError(`invalid --verb ${flags.verb}: expected one of ${VERBS.join(", ")}`);
      const body = requestBody(flags.data, flags.dataFile);
      const app = await findApp(flags.appId, ctx.env.DAPR_API_TOKEN);
      const method = flags.method.replace(/^\/+/, "");
      const reply = await callSidecar(app.address, `/v1.0/invoke/${encodeURIComponent(flags.appId)}/method/${method}`, {
        method: verb as "POST",
        headers: { "content-type": "application/json" },
        ...(body !== undefined && verb !== "GET" && verb !== "HEAD" ? { body } : {}),
        ...(ctx.env.DAPR_API_TOKEN !== undefined ? { apiToken: ctx.env.DAPR_API_TOKEN } : {}),
      });
      if (reply.status < 200 || reply.status >= 300) {
        throw new CliError(`error invoking app ${flags.appId}: ${reply.status}${reply.body !== "" ? ` ${reply.body}` : ""}`);
      }
      if (reply.body !== "") ctx.out(reply.body.endsWith("\n") ? reply.body : `${reply.body}\n`);
      ctx.err("✅  App invoked successfully\n");
    });
}

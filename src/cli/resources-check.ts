/**
 * What `dapr run` checks before it starts anything: every resources path exists, the manifests in it
 * pass the disk loader (readable YAML, valid documents, no duplicate names), and the config file
 * exists. The sidecar checks the same again; failing here means nothing was started.
 */
import { existsSync, statSync } from "node:fs";
import { loadResources } from "../resources/load-resources.js";
import { formatProblem } from "../resources/types.js";
import type { AppSpec } from "./app-spec.js";
import { CliError } from "./context.js";
import type { Env } from "./home.js";

export function checkPaths(spec: AppSpec): void {
  for (const p of spec.resourcesPaths) {
    if (!existsSync(p)) throw new CliError(`resources path ${p} does not exist`);
    if (!statSync(p).isDirectory()) throw new CliError(`resources path ${p} is not a directory`);
  }
  if (spec.configFile !== undefined && !existsSync(spec.configFile)) throw new CliError(`config file ${spec.configFile} does not exist`);
}

export async function checkResources(spec: AppSpec, env: Env): Promise<void> {
  checkPaths(spec);
  const { problems } = await loadResources(spec.resourcesPaths, { appId: spec.appId, namespace: env.NAMESPACE ?? "", env });
  const fatal = problems.filter((p) => !p.ignorable);
  if (fatal.length > 0) throw new CliError(`invalid resources for app ${spec.appId}:\n  ${fatal.map(formatProblem).join("\n  ")}`);
}

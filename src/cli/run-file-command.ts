/**
 * `tandem run -f <file|dir>`: every app of a run file with its sidecar. Console lines are prefixed
 * `== APP - <id> == ` / `== TANDEM - <id> == `; log files go to `<appDirPath>/.dapr/logs/` as the
 * destinations say (app: fileAndConsole, sidecar: file by default). Ctrl-C stops them all.
 */
import { join } from "node:path";
import { AppInstance, outcomeExitCode } from "./app-process.js";
import { assignPorts } from "./app-spec.js";
import type { CliContext } from "./context.js";
import { ensureDefaults, tandemHome } from "./home.js";
import { consoleSink, logFileName, sinkFor } from "./output.js";
import { PortPicker } from "./ports.js";
import { loadRunFile, runFilePath } from "./run-file.js";
import { writeRunRecord } from "./run-records.js";
import { checkResources } from "./resources-check.js";
import { supervise } from "./supervise.js";

export async function runFileCommand(ctx: CliContext, given: string): Promise<number> {
  const home = tandemHome(ctx.env);
  const path = runFilePath(given, process.cwd(), ctx.env);
  const file = loadRunFile(path, home, ctx.env);
  for (const w of file.warnings) ctx.err(`⚠  ${path}: ${w}\n`);
  for (const step of ensureDefaults(home, { components: file.defaultResources, config: file.defaultConfig })) ctx.out(`ℹ️  Created ${step.path}\n`);
  for (const app of file.apps) await checkResources(app.spec, ctx.env);

  const picker = new PortPicker();
  const now = new Date();
  const instances: AppInstance[] = [];
  for (const app of file.apps) {
    const { spec } = app;
    const ports = await assignPorts(spec, picker);
    const logs = join(app.appDirPath, ".dapr", "logs");
    const appPrefix = `== APP - ${spec.appId} == `;
    const appSink = spec.command.length > 0 ? sinkFor(app.appLogDestination, appPrefix, logFileName(logs, spec.appId, "app", now)) : consoleSink(appPrefix);
    const sidecarSink = sinkFor(app.daprdLogDestination, `== TANDEM - ${spec.appId} == `, logFileName(logs, spec.appId, "daprd", now));
    const extended: Record<string, string> = { runTemplatePath: file.path };
    if (file.name !== undefined) extended.runTemplateName = file.name;
    if (appSink.filePath !== undefined) extended.appLogPath = appSink.filePath;
    if (sidecarSink.filePath !== undefined) extended.daprdLogPath = sidecarSink.filePath;
    if (appSink.filePath !== undefined || sidecarSink.filePath !== undefined) ctx.out(`ℹ️  Writing log files of ${spec.appId} to directory: ${logs}\n`);
    instances.push(
      new AppInstance({
        spec,
        ports,
        baseEnv: ctx.env,
        appSink,
        sidecarSink,
        extended,
        notice: (line) => ctx.out(`${line} [${spec.appId}]\n`),
        stdout: process.stdout,
        stderr: process.stderr,
      }),
    );
  }
  const removeRecord = writeRunRecord(home, { pid: process.pid, runFile: file.path, appIds: file.apps.map((a) => a.spec.appId), startedAt: now.toISOString() });
  try {
    const outcomes = await supervise(instances, (line) => ctx.out(`${line}\n`));
    return outcomes.map(outcomeExitCode).find((c) => c !== 0) ?? 0;
  } finally {
    removeRecord();
  }
}

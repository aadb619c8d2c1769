/**
 * `tandem stop --app-id <id>` / `tandem stop -f <file|dir>`: SIGTERM to the `tandem run` process
 * of that app (which stops the app, then the sidecar), or to the sidecar itself when no CLI PID is
 * recorded or that CLI runs several apps; `-f` stops the `tandem run -f` process of that run file.
 */
import { Command } from "commander";
import { CliError, type CliContext } from "./context.js";
import { tandemHome } from "./home.js";
import { listApps } from "./list.js";
import { isAlive } from "./processes.js";
import { runFilePath } from "./run-file.js";
import { readRunRecords } from "./run-records.js";

const STOP_TIMEOUT_MS = 30_000;

const collect = (value: string, previous: readonly string[]): string[] => [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];

export function stopCommand(ctx: CliContext): Command {
  return new Command("stop")
    .description("Stop apps started with tandem run")
    .option("-a, --app-id <id>", "the app to stop (repeatable, or CSV)", collect, [] as string[])
    .option("-f, --run-file <path>", "stop every app of this run file (a file or a directory holding dapr.yaml)")
    .action(async (opts: { appId: string[]; runFile?: string }) => {
      if (opts.runFile !== undefined) await stopRunFile(ctx, opts.runFile);
      if (opts.appId.length > 0) await stopAppIds(ctx, opts.appId);
      if (opts.runFile === undefined && opts.appId.length === 0) throw new CliError("give --app-id <id> or --run-file <path>");
    });
}

async function stopAppIds(ctx: CliContext, ids: readonly string[]): Promise<void> {
  const apps = (await listApps(ctx.env.DAPR_API_TOKEN)).map((a) => a.row);
  const appsPerCli = new Map<number, number>();
  for (const a of apps) appsPerCli.set(a.cliPid, (appsPerCli.get(a.cliPid) ?? 0) + 1);
  const missing: string[] = [];
  for (const id of ids) {
    const rows = apps.filter((a) => a.appId === id);
    if (rows.length === 0) {
      missing.push(id);
      continue;
    }
    for (const row of rows) {
      const viaCli = row.cliPid !== 0 && appsPerCli.get(row.cliPid) === 1 && isAlive(row.cliPid);
      const pid = viaCli ? row.cliPid : row.daprdPid;
      await terminate(pid);
      ctx.out(`✅  app stopped successfully: ${id}\n`);
    }
  }
  if (missing.length > 0) throw new CliError(`couldn't find app id ${missing.join(", ")}`);
}

async function stopRunFile(ctx: CliContext, given: string): Promise<void> {
  const path = runFilePath(given, process.cwd(), ctx.env);
  const pids = new Set(readRunRecords(tandemHome(ctx.env)).filter((r) => r.runFile === path).map((r) => r.pid));
  if (pids.size === 0) {
    for (const { row } of await listApps(ctx.env.DAPR_API_TOKEN)) {
      if (row.runTemplatePath === path && row.cliPid !== 0 && isAlive(row.cliPid)) pids.add(row.cliPid);
    }
  }
  if (pids.size === 0) throw new CliError(`couldn't find apps with run file ${path}`);
  await Promise.all([...pids].map(terminate));
  ctx.out(`✅  Stopped the apps of run file ${path}\n`);
}

async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return; // gone already
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new CliError(`process ${pid} is still running ${STOP_TIMEOUT_MS / 1000}s after SIGTERM`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

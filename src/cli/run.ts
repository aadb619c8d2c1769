/**
 * `tandem run [flags] [--] <command...>`: what `dapr run` does (spec/cli.md §3) — a sidecar and the
 * app, each in its own process group, output prefixed `== TANDEM == ` / `== APP == `, extended
 * metadata for `tandem list`, signals forwarded, the app's exit code returned. `-f` runs a
 * multi-app run file instead.
 */
import { Command } from "commander";
import { AppInstance, outcomeExitCode } from "./app-process.js";
import { randomAppId } from "./app-names.js";
import { assignPorts } from "./app-spec.js";
import { CliError, type CliContext } from "./context.js";
import { ensureDefaults, tandemHome } from "./home.js";
import { consoleSink } from "./output.js";
import { PortPicker } from "./ports.js";
import { findSidecars } from "./processes.js";
import { runFileCommand } from "./run-file-command.js";
import { checkResources } from "./resources-check.js";
import { addRunOptions, specFromFlags, type RunFlags } from "./run-flags.js";
import { supervise } from "./supervise.js";

export function runCommand(ctx: CliContext): Command {
  const cmd = new Command("run")
    .description("Run an app with a Tandem sidecar (as `dapr run` does), or every app of a run file with -f")
    .usage("[flags] [--] <app command...>")
    .argument("[command...]", "the app's command; none = the sidecar runs alone until stopped")
    .passThroughOptions();
  addRunOptions(cmd).action(async (command: string[], flags: RunFlags) => {
    ctx.exitCode = await run(ctx, command, flags);
  });
  return cmd;
}

async function run(ctx: CliContext, command: readonly string[], flags: RunFlags): Promise<number> {
  if (flags.kubernetes === true) throw new CliError("Kubernetes mode (-k) is not supported: Tandem runs apps on this machine");
  if (flags.runFile !== undefined) {
    if (command.length > 0) throw new CliError("--run-file cannot be combined with an app command");
    return runFileCommand(ctx, flags.runFile);
  }
  const home = tandemHome(ctx.env);
  const running = new Set(findSidecars().map((s) => s.config.appId));
  const { spec, defaultResources, defaultConfig } = specFromFlags(flags, command, {
    cwd: process.cwd(),
    env: ctx.env,
    home,
    randomAppId: () => randomAppId(running),
  });
  if (flags.appId !== undefined && running.has(spec.appId)) ctx.err(`⚠  a sidecar with app id ${spec.appId} is already running on this machine\n`);
  for (const step of ensureDefaults(home, { components: defaultResources, config: defaultConfig })) ctx.out(`ℹ️  Created ${step.path}\n`);
  await checkResources(spec, ctx.env);
  const ports = await assignPorts(spec, new PortPicker());
  const instance = new AppInstance({
    spec,
    ports,
    baseEnv: ctx.env,
    appSink: consoleSink("== APP == "),
    sidecarSink: consoleSink("== TANDEM == "),
    notice: (line) => ctx.out(`${line}\n`),
    stdout: process.stdout,
    stderr: process.stderr,
  });
  const [outcome] = await supervise([instance], (line) => ctx.out(`${line}\n`));
  return outcome ? outcomeExitCode(outcome) : 1;
}

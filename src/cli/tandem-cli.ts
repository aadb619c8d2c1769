/**
 * The `tandem` commands other than `sidecar` (which main.ts dispatches before this module loads):
 * init, run, list, stop, invoke, publish, version, help. Parsed with commander; a bad flag or a
 * CliError prints one line and exits 1 (no stack trace).
 */
import { Command, CommanderError } from "commander";
import { RUNTIME_VERSION } from "../runtime/config.js";
import { CliError, processContext, type CliContext } from "./context.js";
import { initCommand } from "./init.js";
import { invokeCommand } from "./invoke.js";
import { listCommand } from "./list.js";
import { publishCommand } from "./publish.js";
import { runCommand } from "./run.js";
import { normalizeBooleanFlags } from "./run-flags.js";
import { FlagError } from "./sidecar-flags.js";
import { stopCommand } from "./stop.js";

export const CLI_VERSION = `Tandem CLI version: ${RUNTIME_VERSION}\nRuntime version: ${RUNTIME_VERSION}`;

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("tandem")
    .description("Tandem: a Dapr-compatible sidecar runtime for Node.js")
    .version(CLI_VERSION, "-v, --version", "print the version")
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  program
    .command("version")
    .description("Print the version")
    .action(() => ctx.out(`${CLI_VERSION}\n`));
  program.addCommand(initCommand(ctx));
  program.addCommand(runCommand(ctx));
  program.addCommand(listCommand(ctx));
  program.addCommand(stopCommand(ctx));
  program.addCommand(invokeCommand(ctx));
  program.addCommand(publishCommand(ctx));
  program
    .command("sidecar")
    .description("Run the sidecar alone, with daprd's flags (see tandem sidecar --help)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments();
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => ctx.out(s),
      writeErr: (s) => ctx.err(s),
      outputError: (s, write) => write(`tandem: ${s.replace(/^error: /, "")}`),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

export async function tandemCli(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    ctx.out(program.helpInformation());
    return 0;
  }
  let args = [...argv];
  const run = program.commands.find((c) => c.name() === "run");
  if (args[0] === "run" && run) args = ["run", ...normalizeBooleanFlags(run, args.slice(1))];
  try {
    await program.parseAsync(args, { from: "user" });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError || err instanceof FlagError) {
      ctx.err(`❌  ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** Process entry of the `tandem` CLI: dispatch the subcommand, exit with its code. */
import { sidecarCommand } from "./cli/sidecar.js";

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "sidecar") return sidecarCommand(rest);
  const { tandemCli } = await import("./cli/tandem-cli.js");
  return tandemCli(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Components and pools are closed by now; do not wait on stray handles.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`tandem: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

/** The `tandem` commands other than `sidecar` (run, init, list, stop, invoke, publish) land next. */
import { RUNTIME_VERSION } from "../runtime/config.js";

export function tandemCli(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  if (command === "--version" || command === "version") {
    process.stdout.write(`Tandem ${RUNTIME_VERSION}\n`);
    return Promise.resolve(0);
  }
  process.stderr.write(`tandem: unknown command "${command ?? ""}"; try: tandem sidecar --help\n`);
  return Promise.resolve(1);
}

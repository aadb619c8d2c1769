/** `tandem sidecar`: parse daprd's flags, start the runtime, stop on SIGTERM/SIGINT. */
import { createWriteStream } from "node:fs";
import { PassThrough } from "node:stream";
import { createLogger } from "../observability/logger.js";
import { RUNTIME_VERSION } from "../runtime/config.js";
import { startRuntime } from "../runtime/runtime.js";
import { StartupError } from "../runtime/startup-error.js";
import { FlagError, sidecarConfig, sidecarHelp } from "./sidecar-flags.js";

export async function sidecarCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h") || argv.includes("-help")) {
    process.stdout.write(sidecarHelp());
    return 0;
  }
  if (argv.includes("--version") || argv.includes("-version")) {
    process.stdout.write(`${RUNTIME_VERSION}\n`);
    return 0;
  }
  let config;
  try {
    config = sidecarConfig(argv, process.env);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`tandem sidecar: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let destination: NodeJS.WritableStream = process.stdout;
  if (config.logFile !== undefined) {
    const tee = new PassThrough();
    const file = createWriteStream(config.logFile, { flags: "a" });
    tee.pipe(process.stdout);
    tee.pipe(file);
    destination = tee;
  }
  const logger = createLogger({ level: config.logLevel, json: config.logAsJson, appId: config.appId, destination });
  let runtime;
  try {
    runtime = await startRuntime(config, logger);
  } catch (err) {
    if (err instanceof StartupError) {
      logger.fatal(err.message);
      process.stderr.write(`tandem sidecar: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const onSignal = (signal: string) => {
    logger.info(`received ${signal}`);
    runtime.shutdown(false);
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  return runtime.exited;
}

/** What every `tandem` command receives: the environment, output, and a place for its exit code. */
import type { Env } from "./home.js";

export interface CliContext {
  readonly env: Env;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  exitCode: number;
}

/** A user-facing failure: printed as one line (no stack), exit code 1. */
export class CliError extends Error {}

export function processContext(): CliContext {
  return {
    env: process.env,
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    exitCode: 0,
  };
}

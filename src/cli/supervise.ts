/**
 * Runs a set of apps until they end: SIGINT / SIGTERM / SIGHUP to the CLI stops every app (the
 * app gets the signal first, then its sidecar drains); a second signal kills them outright.
 */
import type { AppInstance, RunOutcome } from "./app-process.js";

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export async function supervise(instances: readonly AppInstance[], notice: (line: string) => void): Promise<RunOutcome[]> {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      notice(`ℹ️  Received ${signal}: stopping (send it again to kill)`);
      for (const i of instances) void i.stop(signal === "SIGHUP" ? "SIGTERM" : signal);
    } else {
      notice(`ℹ️  Received ${signal} again: killing`);
      for (const i of instances) i.kill();
    }
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    await Promise.all(instances.map((i) => i.start()));
    return await Promise.all(instances.map((i) => i.done()));
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

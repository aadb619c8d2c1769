/** One pino logger for the process; every part takes a child with its scope. */
import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;
export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

export interface LoggerOptions {
  level: LogLevel;
  json: boolean;
  appId: string;
  /** Where logs go; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = { app_id: opts.appId, scope: "tandem.runtime" };
  if (opts.json) {
    return pino({ level: opts.level, base, timestamp: pino.stdTimeFunctions.isoTime, messageKey: "msg" }, opts.destination ?? process.stdout);
  }
  // Plain text, one line per entry, as daprd prints when not in JSON mode.
  const out = opts.destination ?? process.stdout;
  const stream = {
    write(line: string) {
      try {
        const e = JSON.parse(line) as Record<string, unknown>;
        const { level, time, msg, scope, app_id, pid: _pid, hostname: _h, ...rest } = e;
        const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
        out.write(`time="${String(time)}" level=${pino.levels.labels[level as number] ?? String(level)} msg="${String(msg)}" app_id=${String(app_id)} scope=${String(scope)}${extra}\n`);
      } catch {
        out.write(line);
      }
    },
  };
  return pino({ level: opts.level, base, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

/** A logger that discards everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

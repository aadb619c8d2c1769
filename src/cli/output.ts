/**
 * Where the output of an app or a sidecar goes: the console, each line prefixed (`== APP == `), and/or
 * a log file, unprefixed (run file `appLogDestination` / `daprdLogDestination`).
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";

export type LogDestination = "console" | "file" | "fileAndConsole";

export interface OutputSink {
  /** Console prefix; undefined = not shown on the console. */
  readonly prefix?: string;
  readonly file?: WriteStream;
  readonly filePath?: string;
}

export function consoleSink(prefix: string): OutputSink {
  return { prefix };
}

/** `<dir>/<appId>_<kind>_<yyyymmddhhmmss>.log`, as the dapr CLI names them. */
export function logFileName(dir: string, appId: string, kind: "app" | "daprd", now: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const ts = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join(dir, `${appId}_${kind}_${ts}.log`);
}

export function sinkFor(destination: LogDestination, prefix: string, filePath: string): OutputSink {
  if (destination === "console") return { prefix };
  mkdirSync(join(filePath, ".."), { recursive: true });
  const file = createWriteStream(filePath, { flags: "a" });
  return destination === "file" ? { file, filePath } : { prefix, file, filePath };
}

/**
 * Copy `source` line by line into the sink. Console lines go to `consoleStream` with the prefix; a
 * last line without a newline is completed when the source ends.
 */
export function pipeLines(source: Readable, sink: OutputSink, consoleStream: NodeJS.WritableStream): Promise<void> {
  let pending = "";
  const emit = (line: string) => {
    if (sink.prefix !== undefined) consoleStream.write(`${sink.prefix}${line}\n`);
    sink.file?.write(`${line}\n`);
  };
  source.setEncoding("utf8");
  source.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) emit(line.endsWith("\r") ? line.slice(0, -1) : line);
  });
  return new Promise((resolve) => {
    const done = () => {
      if (pending !== "") emit(pending);
      pending = "";
      resolve();
    };
    source.once("end", done);
    source.once("error", done);
  });
}

export function closeSink(sink: OutputSink): Promise<void> {
  const file = sink.file;
  if (file === undefined) return Promise.resolve();
  return new Promise((resolve) => file.end(resolve));
}

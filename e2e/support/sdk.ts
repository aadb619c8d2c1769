/**
 * Shared set-up for the end-to-end tests: the official `@dapr/dapr` client, unchanged, pointed at a
 * harness sidecar over HTTP, with its chatty logger silenced (kept in memory for diagnostics).
 */
import { randomUUID } from "node:crypto";
import { CommunicationProtocolEnum, DaprClient, LogLevel, type LoggerOptions, type LoggerService } from "@dapr/dapr";

/** A LoggerService that keeps the SDK's messages instead of printing them. */
export class QuietLog implements LoggerService {
  readonly lines: string[] = [];
  error(message: unknown): void {
    this.lines.push(`error: ${String(message)}`);
  }
  warn(message: unknown): void {
    this.lines.push(`warn: ${String(message)}`);
  }
  info(): void {}
  verbose(): void {}
  debug(): void {}
}

export function quietLogger(log = new QuietLog()): LoggerOptions {
  return { level: LogLevel.Error, service: log };
}

/** A DaprClient over HTTP to the sidecar on `127.0.0.1:<httpPort>`. */
export function sdkClient(httpPort: number): DaprClient {
  return new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: String(httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    logger: quietLogger(),
  });
}

/** A key (or tag) no other test uses. */
export function uniqueKey(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The text of whatever the SDK threw or returned as an error. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : JSON.stringify(err);
}

/**
 * The SDK (HTTP) reports a failed call as `Error(JSON.stringify({error, error_msg, status}))`;
 * this reads the status and the sidecar's `errorCode` out of it.
 */
export function sdkFailure(err: unknown): { status: number | undefined; errorCode: string | undefined; text: string } {
  const text = errorText(err);
  let status: number | undefined;
  let errorCode: string | undefined;
  try {
    const outer: unknown = JSON.parse(text);
    if (typeof outer === "object" && outer !== null) {
      const o = outer as { status?: unknown; error_msg?: unknown };
      if (typeof o.status === "number") status = o.status;
      if (typeof o.error_msg === "string") {
        const inner: unknown = JSON.parse(o.error_msg);
        if (typeof inner === "object" && inner !== null && typeof (inner as { errorCode?: unknown }).errorCode === "string") {
          errorCode = (inner as { errorCode: string }).errorCode;
        }
      }
    }
  } catch {
    /* not the SDK's JSON shape: the caller asserts on `text` */
  }
  return { status, errorCode, text };
}

/** Poll `check` every 50 ms until it holds or the deadline passes (no fixed sleeps as synchronisation). */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

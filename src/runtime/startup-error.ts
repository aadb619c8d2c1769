/** A start-up failure the CLI prints as one clear message and exit code 1 (never a stack trace). */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
  }
}

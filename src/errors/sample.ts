/** Instantiates each catalogue factory with placeholder arguments, and renders the docs table rows. */
import { catalogue } from "./catalogue.js";
import { GrpcCode, type TandemError } from "./tandem-error.js";

const PLACEHOLDERS = ["<a>", "<b>", "<c>", "<d>"];

export function sampleErrors(block: string): { name: string; error: TandemError }[] {
  const factories = catalogue[block] ?? {};
  return Object.entries(factories).flatMap(([name, f]) => {
    const fn = f as (...args: unknown[]) => TandemError;
    // Factories whose last parameter picks a variant (state save/delete) are sampled once per variant.
    if (name === "save" || name === "delete") {
      return (["etag-mismatch", "etag-invalid", "invalid-input", "other"] as const).map((kind) => ({ name: `${name}(${kind})`, error: fn("<a>", new Error("<cause>"), kind) }));
    }
    if (name === "tooManyTransactionalOps") return [{ name, error: fn("<a>", 3, 2) }];
    if (name === "bodyTooLarge") return [{ name, error: fn(1024) }];
    if (name === "healthNotReady") return [{ name, error: fn(["<target>"]) }];
    return [{ name, error: fn(...PLACEHOLDERS.slice(0, fn.length)) }];
  });
}

const GRPC_NAMES = Object.fromEntries(Object.entries(GrpcCode).map(([k, v]) => [v, k])) as Record<number, string>;

/** The Markdown table rows of docs/errors.md, one per catalogue entry. */
export function errorTableRows(): string[] {
  return Object.keys(catalogue).flatMap((block) =>
    sampleErrors(block).map(({ error }) => `| ${block} | ${error.code} | ${error.httpStatus} | ${GRPC_NAMES[error.grpcCode] ?? error.grpcCode} | ${error.message.replace(/\|/g, "\\|")} |`),
  );
}

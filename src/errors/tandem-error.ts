/**
 * The one error type that crosses layers. It carries Dapr's error code, the HTTP status, the gRPC
 * status code and the rich google.rpc details Dapr attaches, and renders itself both ways.
 */

/** gRPC status codes (google.rpc.Code) used by the catalogue. */
export const GrpcCode = {
  OK: 0,
  Cancelled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** What the caller of an operation should do next when it fails. */
export type ErrorClass = "retry" | "terminal" | "drop";

export type ErrorDetail =
  | { "@type": "type.googleapis.com/google.rpc.ErrorInfo"; reason: string; domain: "dapr.io"; metadata: Record<string, string> | null }
  | { "@type": "type.googleapis.com/google.rpc.ResourceInfo"; resource_type: string; resource_name: string; owner: string; description: string }
  | { "@type": "type.googleapis.com/google.rpc.BadRequest"; field_violations: { field: string; description: string }[] }
  | { "@type": "type.googleapis.com/google.rpc.Help"; links: { description: string; url: string }[] };

export interface TandemErrorInit {
  code: string;
  message: string;
  httpStatus: number;
  grpcCode: GrpcCode;
  details?: ErrorDetail[];
  errorClass?: ErrorClass;
  cause?: unknown;
}

/** The HTTP error body daprd sends: `errorCode`, `message` and, for rich errors, `details`. */
export interface HttpErrorBody {
  errorCode: string;
  message: string;
  details?: ErrorDetail[];
}

export class TandemError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly grpcCode: GrpcCode;
  readonly details: readonly ErrorDetail[];
  readonly errorClass: ErrorClass;

  constructor(init: TandemErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "TandemError";
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.grpcCode = init.grpcCode;
    this.details = init.details ?? [];
    this.errorClass = init.errorClass ?? (init.httpStatus >= 500 ? "retry" : "terminal");
  }

  toHttpBody(): HttpErrorBody {
    const body: HttpErrorBody = { errorCode: this.code, message: this.message };
    if (this.details.length > 0) body.details = [...this.details];
    return body;
  }
}

export function errorInfo(reason: string, metadata: Record<string, string> | null = null): ErrorDetail {
  return { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "dapr.io", metadata };
}

export function resourceInfo(type: string, name: string): ErrorDetail {
  return { "@type": "type.googleapis.com/google.rpc.ResourceInfo", resource_type: type, resource_name: name, owner: "", description: "" };
}

export function badRequest(field: string, description: string): ErrorDetail {
  return { "@type": "type.googleapis.com/google.rpc.BadRequest", field_violations: [{ field, description }] };
}

export function help(url: string, description: string): ErrorDetail {
  return { "@type": "type.googleapis.com/google.rpc.Help", links: [{ description, url }] };
}

/** Text of any thrown value, for messages that wrap a cause. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Wrap anything thrown into a TandemError; unknown errors become Dapr's generic `ERROR` 500. */
export function asTandemError(err: unknown): TandemError {
  if (err instanceof TandemError) return err;
  return new TandemError({ code: "ERROR", message: messageOf(err), httpStatus: 500, grpcCode: GrpcCode.Internal, cause: err });
}

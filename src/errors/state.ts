/** The state block's errors, with daprd's codes, statuses, messages and rich details. */
import { GrpcCode, TandemError, badRequest, errorInfo, help, messageOf, resourceInfo } from "./tandem-error.js";

const reason = (code: string) => `DAPR_STATE_${code}`;

export const stateErrors = {
  notConfigured: (store: string, appId: string) =>
    new TandemError({
      code: "ERR_STATE_STORE_NOT_CONFIGURED",
      message: `state store ${store} is not configured`,
      httpStatus: 500,
      grpcCode: GrpcCode.FailedPrecondition,
      details: [errorInfo(reason("NOT_CONFIGURED"), appId ? { appID: appId } : null)],
    }),
  notFound: (store: string, appId: string | null) =>
    new TandemError({
      code: "ERR_STATE_STORE_NOT_FOUND",
      message: `state store ${store} is not found`,
      httpStatus: 400,
      grpcCode: GrpcCode.InvalidArgument,
      details: [errorInfo(reason("NOT_FOUND"), appId ? { appID: appId } : null)],
    }),
  illegalKey: (store: string, key: string) => {
    const message = `input key/keyPrefix '${key}' can't contain '||'`;
    return new TandemError({
      code: "ERR_MALFORMED_REQUEST",
      message,
      httpStatus: 400,
      grpcCode: GrpcCode.InvalidArgument,
      details: [badRequest(key, message), resourceInfo("state", store), errorInfo(reason("ILLEGAL_KEY"))],
    });
  },
  keyRequired: () =>
    new TandemError({ code: "ERR_MALFORMED_REQUEST", message: '"key" is a required field', httpStatus: 400, grpcCode: GrpcCode.InvalidArgument }),
  get: (key: string, store: string, cause: unknown, status = 500) =>
    new TandemError({
      code: "ERR_STATE_GET",
      message: `fail to get ${key} from state store ${store}: ${messageOf(cause)}`,
      httpStatus: status,
      grpcCode: GrpcCode.Internal,
      cause,
    }),
  bulkGet: (store: string, cause: unknown) =>
    new TandemError({
      code: "ERR_STATE_BULK_GET",
      message: `failed getting state in state store ${store}: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      cause,
    }),
  save: (store: string, cause: unknown, kind: StateFailureKind) =>
    new TandemError({
      code: "ERR_STATE_SAVE",
      message: `failed saving state in state store ${store}: ${describe(cause, kind)}`,
      httpStatus: statusOf(kind),
      grpcCode: grpcOf(kind),
      errorClass: kind === "other" ? "retry" : "terminal",
      cause,
    }),
  delete: (key: string, cause: unknown, kind: StateFailureKind) =>
    new TandemError({
      code: "ERR_STATE_DELETE",
      message: `failed deleting state with key ${key}: ${describe(cause, kind)}`,
      httpStatus: statusOf(kind),
      grpcCode: grpcOf(kind),
      errorClass: kind === "other" ? "retry" : "terminal",
      cause,
    }),
  bulkDelete: (store: string, cause: unknown) =>
    new TandemError({
      code: "ERR_STATE_BULK_DELETE",
      message: `failed deleting state in state store ${store}: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      cause,
    }),
  transaction: (cause: unknown) =>
    new TandemError({
      code: "ERR_STATE_TRANSACTION",
      message: `error while executing state transaction: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      cause,
    }),
  transactionsNotSupported: (store: string) =>
    new TandemError({
      code: "ERR_STATE_STORE_NOT_SUPPORTED",
      message: `state store ${store} doesn't support transactions`,
      httpStatus: 500,
      grpcCode: GrpcCode.Unimplemented,
      details: [
        help("https://docs.dapr.io/reference/components-reference/supported-state-stores/", "Check the list of state stores and the features they support"),
        resourceInfo("state", store),
        errorInfo(reason("TRANSACTIONS_NOT_SUPPORTED")),
      ],
    }),
  tooManyTransactionalOps: (store: string, count: number, max: number) =>
    new TandemError({
      code: "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS",
      message: `the transaction contains ${count} operations, which is more than what the state store supports: ${max}`,
      httpStatus: 400,
      grpcCode: GrpcCode.InvalidArgument,
      details: [
        resourceInfo("state", store),
        errorInfo(reason("TOO_MANY_TRANSACTIONS"), { currentOpsTransaction: String(count), maxOpsPerTransaction: String(max) }),
      ],
    }),
  operationNotSupported: (op: string) =>
    new TandemError({
      code: "ERR_NOT_SUPPORTED_STATE_OPERATION",
      message: `operation type ${op} not supported`,
      httpStatus: 400,
      grpcCode: GrpcCode.InvalidArgument,
    }),
  queryUnsupported: (store: string) =>
    new TandemError({
      code: "ERR_STATE_STORE_NOT_SUPPORTED",
      message: "state store does not support querying",
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      details: [resourceInfo("state", store), errorInfo(reason("QUERYING_NOT_SUPPORTED"))],
    }),
  queryFailed: (store: string, detail: string, cause?: unknown) =>
    new TandemError({
      code: "ERR_STATE_QUERY",
      message: `state store ${store} query failed: ${detail}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      details: [resourceInfo("state", store), errorInfo(reason("QUERY_FAILED"))],
      cause,
    }),
  /** Tandem extension: list keys on a store that cannot. */
  listKeysUnsupported: (store: string) =>
    new TandemError({
      code: "ERR_STATE_STORE_NOT_SUPPORTED",
      message: `state store ${store} does not support listing keys`,
      httpStatus: 500,
      grpcCode: GrpcCode.Unimplemented,
      details: [resourceInfo("state", store), errorInfo(reason("LIST_KEYS_NOT_SUPPORTED"))],
    }),
  listKeysFailed: (store: string, cause: unknown) =>
    new TandemError({
      code: "ERR_STATE_QUERY",
      message: `state store ${store} failed listing keys: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      cause,
    }),
};

/**
 * How a single-key write failed, which decides the status as daprd does: 409 ETag mismatch,
 * 400 invalid ETag, 500 anything else (an invalid option or TTL is a store error in Dapr: 500, but
 * classed terminal so nothing retries it).
 */
export type StateFailureKind = "etag-mismatch" | "etag-invalid" | "invalid-input" | "other";

function statusOf(kind: StateFailureKind): number {
  return kind === "etag-mismatch" ? 409 : kind === "etag-invalid" ? 400 : 500;
}
function grpcOf(kind: StateFailureKind): GrpcCode {
  return kind === "etag-mismatch" ? GrpcCode.Aborted : kind === "etag-invalid" ? GrpcCode.InvalidArgument : GrpcCode.Internal;
}
function describe(cause: unknown, kind: StateFailureKind): string {
  return kind === "etag-mismatch" ? `possible etag mismatch. error from state store: ${messageOf(cause)}` : messageOf(cause);
}

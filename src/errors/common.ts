/** Errors shared by every API: request shape, health, routing. Messages follow daprd's pkg/messages. */
import { GrpcCode, TandemError } from "./tandem-error.js";

export const commonErrors = {
  malformedRequest: (detail: string) =>
    new TandemError({ code: "ERR_MALFORMED_REQUEST", message: detail, httpStatus: 400, grpcCode: GrpcCode.InvalidArgument }),
  /** A body that is not the JSON the route expects, with daprd's `failed deserializing HTTP body:` prefix. */
  undecodableBody: (detail: string) =>
    new TandemError({
      code: "ERR_MALFORMED_REQUEST",
      message: `failed deserializing HTTP body: ${detail}`,
      httpStatus: 400,
      grpcCode: GrpcCode.InvalidArgument,
    }),
  /** Tandem note: an oversize body gets 413 as soon as the limit is passed. */
  bodyTooLarge: (limit: number) =>
    new TandemError({
      code: "ERR_MALFORMED_REQUEST",
      message: `request body too large: the limit is ${limit} bytes (--max-body-size)`,
      httpStatus: 413,
      grpcCode: GrpcCode.ResourceExhausted,
    }),
  bodyRead: (detail: string) =>
    new TandemError({ code: "ERR_BODY_READ", message: `failed to read request body: ${detail}`, httpStatus: 400, grpcCode: GrpcCode.InvalidArgument }),
  badRequest: (detail: string) =>
    new TandemError({ code: "ERR_BAD_REQUEST", message: `invalid request: ${detail}`, httpStatus: 400, grpcCode: GrpcCode.InvalidArgument }),
  healthNotReady: (targets: readonly string[]) =>
    new TandemError({
      code: "ERR_HEALTH_NOT_READY",
      message: `dapr is not ready: [${targets.join(" ")}]`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
    }),
  healthAppIdNotMatch: () =>
    new TandemError({ code: "ERR_HEALTH_APPID_NOT_MATCH", message: "dapr app-id does not match", httpStatus: 500, grpcCode: GrpcCode.Internal }),
  outboundHealthNotReady: () =>
    new TandemError({ code: "ERR_OUTBOUND_HEALTH_NOT_READY", message: "dapr outbound is not ready", httpStatus: 500, grpcCode: GrpcCode.Internal }),
  /** Unknown route without an app id: daprd's invoke fallback answers this. */
  noAppId: () =>
    new TandemError({
      code: "ERR_DIRECT_INVOKE",
      message: "failed getting app id either from the URL path or the header dapr-app-id",
      httpStatus: 404,
      grpcCode: GrpcCode.NotFound,
    }),
  unimplemented: (what: string) =>
    new TandemError({
      code: "ERR_API_UNIMPLEMENTED",
      message: `${what} is not implemented by this Tandem version yet`,
      httpStatus: 501,
      grpcCode: GrpcCode.Unimplemented,
    }),
  internal: (detail: string, cause?: unknown) =>
    new TandemError({ code: "ERR_INTERNAL", message: detail, httpStatus: 500, grpcCode: GrpcCode.Internal, cause }),
};

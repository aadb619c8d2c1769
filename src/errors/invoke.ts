/** Service invocation errors (daprd's ERR_DIRECT_INVOKE family). */
import { GrpcCode, TandemError, messageOf } from "./tandem-error.js";

export const invokeErrors = {
  failed: (appId: string, cause: unknown) =>
    new TandemError({
      code: "ERR_DIRECT_INVOKE",
      message: `failed to invoke, id: ${appId}, err: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      cause,
    }),
  invalidMethod: (appId: string, method: string) =>
    new TandemError({
      code: "ERR_DIRECT_INVOKE",
      message: `failed to invoke, id: ${appId}, err: invalid method: ${JSON.stringify(method)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.InvalidArgument,
      errorClass: "terminal",
    }),
  noAppChannel: () =>
    new TandemError({ code: "ERR_APP_CHANNEL_NIL", message: "app channel is not initialized", httpStatus: 500, grpcCode: GrpcCode.Internal }),
  appUnhealthy: (appId: string) =>
    new TandemError({
      code: "ERR_DIRECT_INVOKE",
      message: `failed to invoke, id: ${appId}, err: app is not in a healthy state`,
      httpStatus: 500,
      grpcCode: GrpcCode.Unavailable,
    }),
};

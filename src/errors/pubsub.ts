/** The pub/sub block's errors, with daprd's codes, statuses, messages and rich details. */
import { GrpcCode, TandemError, errorInfo, messageOf, resourceInfo } from "./tandem-error.js";

const reason = (code: string) => `DAPR_PUBSUB_${code}`;
const resource = (type: string, name: string) => resourceInfo(type ? `pubsub.${type.replace(/^pubsub\./, "")}` : "pubsub", name);

export const pubsubErrors = {
  notConfigured: (name: string) =>
    new TandemError({
      code: "ERR_PUBSUB_NOT_CONFIGURED",
      message: "pubsub is not configured",
      httpStatus: 400,
      grpcCode: GrpcCode.FailedPrecondition,
      details: [errorInfo(reason("NOT_CONFIGURED")), resource("", name)],
    }),
  nameEmpty: () =>
    new TandemError({
      code: "ERR_PUBSUB_EMPTY",
      message: "pubsub name is empty",
      httpStatus: 404,
      grpcCode: GrpcCode.InvalidArgument,
      details: [errorInfo(reason("NAME_EMPTY")), resource("", "")],
    }),
  notFound: (name: string) =>
    new TandemError({
      code: "ERR_PUBSUB_NOT_FOUND",
      message: `pubsub ${name} not found`,
      httpStatus: 404,
      grpcCode: GrpcCode.InvalidArgument,
      details: [errorInfo(reason("NOT_FOUND")), resource("", name)],
    }),
  topicEmpty: (name: string, type: string) =>
    new TandemError({
      code: "ERR_TOPIC_NAME_EMPTY",
      message: `topic is empty in pubsub ${name}`,
      httpStatus: 404,
      grpcCode: GrpcCode.InvalidArgument,
      details: [errorInfo(reason("TOPIC_NAME_EMPTY")), resource(type, name)],
    }),
  requestMetadata: (name: string, type: string, cause: unknown) =>
    new TandemError({
      code: "ERR_PUBSUB_REQUEST_METADATA",
      message: `failed deserializing metadata. Error: ${messageOf(cause)}`,
      httpStatus: 400,
      grpcCode: GrpcCode.InvalidArgument,
      details: [errorInfo(reason("METADATA_DESERIALIZATION")), resource(type, name)],
      cause,
    }),
  forbidden: (name: string, type: string, topic: string, appId: string) =>
    new TandemError({
      code: "ERR_PUBSUB_FORBIDDEN",
      message: `topic ${topic} is not allowed for app id ${appId}`,
      httpStatus: 403,
      grpcCode: GrpcCode.PermissionDenied,
      details: [errorInfo(reason("FORBIDDEN"), { topic, error: `topic ${topic} is not allowed for app id ${appId}` }), resource(type, name)],
      errorClass: "terminal",
    }),
  publish: (name: string, type: string, topic: string, cause: unknown) =>
    new TandemError({
      code: "ERR_PUBSUB_PUBLISH_MESSAGE",
      message: `error when publishing to topic ${topic} in pubsub ${name}: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      details: [errorInfo(reason("PUBLISH_MESSAGE"), { topic, error: messageOf(cause) }), resource(type, name)],
      errorClass: "retry",
      cause,
    }),
  cloudEvent: (name: string, type: string, cause: unknown) =>
    new TandemError({
      code: "ERR_PUBSUB_CLOUD_EVENTS_SER",
      message: `cannot create cloudevent: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.InvalidArgument,
      details: [errorInfo(reason("CLOUD_EVENT_CREATION")), resource(type, name)],
      cause,
    }),
  bulkEvents: (name: string, type: string, topic: string, problem: string) =>
    new TandemError({
      code: "ERR_PUBSUB_EVENTS_SER",
      message: `error when unmarshaling the request for topic ${topic} pubsub ${name}: ${problem}`,
      httpStatus: 400,
      grpcCode: GrpcCode.InvalidArgument,
      details: [errorInfo(reason("UNMARSHAL_EVENTS")), resource(type, name)],
    }),
  outbox: (appId: string, cause: unknown) =>
    new TandemError({
      code: "ERR_PUBLISH_OUTBOX",
      message: `error while publishing outbox message: ${messageOf(cause)}`,
      httpStatus: 500,
      grpcCode: GrpcCode.Internal,
      details: [errorInfo(reason("OUTBOX"), { appID: appId, error: messageOf(cause) })],
      cause,
    }),
};

export * from "./tandem-error.js";
export { commonErrors } from "./common.js";
export { stateErrors, type StateFailureKind } from "./state.js";
export { invokeErrors } from "./invoke.js";
export { pubsubErrors } from "./pubsub.js";

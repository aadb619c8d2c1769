/** Every error factory of the catalogue, by block: the docs test walks this list. */
import { commonErrors } from "./common.js";
import { invokeErrors } from "./invoke.js";
import { pubsubErrors } from "./pubsub.js";
import { stateErrors } from "./state.js";
import type { TandemError } from "./tandem-error.js";

type Factory = (...args: never[]) => TandemError;

export const catalogue: Readonly<Record<string, Readonly<Record<string, Factory>>>> = {
  common: commonErrors,
  state: stateErrors,
  invoke: invokeErrors,
  pubsub: pubsubErrors,
};

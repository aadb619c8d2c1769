/**
 * Picking a subscription's route for an event. Rules without `match` need no evaluation: the first
 * one wins. Rules with CEL expressions load the CEL router on demand.
 */
import type { CloudEvent } from "./cloudevent.js";
import type { RouteRule } from "./types.js";

export class RoutingError extends Error {}

export interface RouteSelector {
  /** The path for the event, or undefined when no rule matches. Throws RoutingError when a rule fails to evaluate. */
  route(event: CloudEvent): string | undefined;
}

/** Compiles the rules; rejects with RoutingError naming an expression that does not compile. */
export async function createRouter(rules: readonly RouteRule[]): Promise<RouteSelector> {
  if (rules.every((r) => r.match === undefined || r.match.trim() === "")) {
    const path = rules[0]?.path;
    return { route: () => path };
  }
  const { CelRouter } = await import("./cel-router.js");
  return new CelRouter(rules);
}

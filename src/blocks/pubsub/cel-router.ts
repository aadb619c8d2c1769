/**
 * Routing rules with CEL expressions over the CloudEvent as `event`, evaluated in order, the first
 * `true` wins; a rule without `match` always matches. Compiled once per subscription. Loaded only
 * when a subscription has a `match` (the CEL library is large).
 */
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import type { CloudEvent } from "./cloudevent.js";
import { RoutingError, type RouteSelector } from "./routing.js";
import type { RouteRule } from "./types.js";

type Program = ReturnType<typeof plan>;

interface CompiledRule {
  readonly path: string;
  readonly program?: Program;
  readonly source?: string;
}

/** JSON values as CEL inputs: objects become maps; integral numbers stay doubles (CEL compares them with ints). */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === "object") return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

export class CelRouter implements RouteSelector {
  private readonly rules: readonly CompiledRule[];

  /** Throws RoutingError naming the expression that does not compile. */
  constructor(rules: readonly RouteRule[]) {
    const env = celEnv();
    this.rules = rules.map((r) => {
      if (r.match === undefined || r.match.trim() === "") return { path: r.path };
      try {
        return { path: r.path, program: plan(env, parse(r.match)), source: r.match };
      } catch (err) {
        throw new RoutingError(`invalid routing rule ${JSON.stringify(r.match)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  /** The path for the event, or undefined when no rule matches. Throws RoutingError when a rule fails to evaluate. */
  route(event: CloudEvent | undefined): string | undefined {
    let input: { event: unknown } | undefined;
    for (const rule of this.rules) {
      if (rule.program === undefined) return rule.path;
      input ??= { event: toCel(event ?? {}) };
      const result: unknown = rule.program(input as never);
      if (isCelError(result)) throw new RoutingError(`routing rule ${JSON.stringify(rule.source)} failed: ${result.message}`);
      if (typeof result !== "boolean") throw new RoutingError(`routing rule ${JSON.stringify(rule.source)} did not return a boolean`);
      if (result) return rule.path;
    }
    return undefined;
  }
}

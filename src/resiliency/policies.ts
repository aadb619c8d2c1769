/**
 * Which Resiliency policies apply to a target, with Dapr's naming-convention defaults
 * (`DefaultPubsubComponentInboundRetryPolicy`, then `DefaultComponentInboundRetryPolicy`, ...),
 * looked up independently for timeout and retry. The runtime hands in the merged documents.
 */
import type { RetrySpec } from "./retry.js";

export interface PolicyRefs {
  readonly timeout?: string;
  readonly retry?: string;
  readonly circuitBreaker?: string;
}

/** The merged Resiliency documents in scope for this app (later documents already won). */
export interface ResiliencyPolicies {
  readonly timeouts: Readonly<Record<string, number>>;
  readonly retries: Readonly<Record<string, RetrySpec>>;
  readonly components: Readonly<Record<string, { readonly inbound?: PolicyRefs; readonly outbound?: PolicyRefs }>>;
}

export interface ResolvedPolicy {
  readonly timeoutMs?: number;
  readonly retry?: RetrySpec;
}

export type ComponentKind = "Statestore" | "Pubsub" | "Binding" | "Secretstore" | "Configuration" | "Lock" | "Crypto";

export const NO_POLICIES: ResiliencyPolicies = { timeouts: {}, retries: {}, components: {} };

/** The policy for a component in one direction; defaults apply only when the component is not a target at all. */
export function componentPolicy(p: ResiliencyPolicies, name: string, kind: ComponentKind, direction: "inbound" | "outbound"): ResolvedPolicy {
  const target = p.components[name];
  if (target !== undefined) {
    const refs = target[direction];
    if (refs === undefined) return {};
    return build(p, refs.timeout, refs.retry);
  }
  const dir = direction === "inbound" ? "Inbound" : "Outbound";
  const candidates = (suffix: string) => [`Default${kind}Component${dir}${suffix}`, `DefaultComponent${dir}${suffix}`, `DefaultComponent${suffix}`, `Default${suffix}`];
  const timeout = candidates("TimeoutPolicy").find((n) => p.timeouts[n] !== undefined);
  const retry = candidates("RetryPolicy").find((n) => p.retries[n] !== undefined);
  return build(p, timeout, retry);
}

function build(p: ResiliencyPolicies, timeout: string | undefined, retry: string | undefined): ResolvedPolicy {
  const timeoutMs = timeout !== undefined ? p.timeouts[timeout] : undefined;
  const retrySpec = retry !== undefined ? p.retries[retry] : undefined;
  return { ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(retrySpec !== undefined ? { retry: retrySpec } : {}) };
}

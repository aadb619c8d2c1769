/**
 * Retry backoff as Dapr computes it: constant (`duration` between attempts) or exponential (initial
 * 500 ms, multiplier 1.5, randomization ±50%, capped at `maxInterval`), bounded by `maxRetries`
 * (-1 = unlimited).
 */

export interface RetrySpec {
  readonly policy: "constant" | "exponential";
  readonly durationMs: number;
  readonly maxIntervalMs: number;
  /** -1 = unlimited; 0 = no retry. */
  readonly maxRetries: number;
}

const INITIAL_MS = 500;
const MULTIPLIER = 1.5;
const RANDOMIZATION = 0.5;

/** Delay before retry number `retry` (1-based), or undefined when the policy allows no more. */
export function retryDelay(spec: RetrySpec, retry: number, random: () => number = Math.random): number | undefined {
  if (spec.maxRetries >= 0 && retry > spec.maxRetries) return undefined;
  if (spec.policy === "constant") return spec.durationMs;
  const base = Math.min(INITIAL_MS * MULTIPLIER ** (retry - 1), spec.maxIntervalMs);
  const delta = RANDOMIZATION * base;
  return Math.min(base - delta + random() * 2 * delta, spec.maxIntervalMs);
}

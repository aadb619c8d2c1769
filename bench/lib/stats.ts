/** Small statistics and run-order helpers shared by the scenarios. */

export function median(values: readonly number[]): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

/** Median of each numeric field over a list of records with the same shape. */
export function medianOf<T extends Record<string, number>>(runs: readonly T[]): T {
  const first = runs[0];
  if (first === undefined) throw new Error("medianOf: no runs");
  const out: Record<string, number> = {};
  for (const k of Object.keys(first)) out[k] = median(runs.map((r) => r[k] as number));
  return out as T;
}

/** Repeat `r` runs the subjects rotated by r: A B C, B C A, C A B, A B C... */
export function rotation<T>(subjects: readonly T[], r: number): T[] {
  const n = subjects.length;
  return subjects.map((_, i) => subjects[(i + r) % n] as T);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Kubernetes resource quantities ("4Mi", "4Ki", "1G", "512") as daprd's size flags take them. */

const SUFFIX: Record<string, number> = {
  "": 1,
  k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

/**
 * Parse a quantity into bytes; undefined when malformed.
 * @example parseQuantity("4Mi") // 4194304
 */
export function parseQuantity(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKMGT]i?|)\s*$/.exec(text);
  if (m === null) return undefined;
  const factor = SUFFIX[m[2] as string];
  if (factor === undefined) return undefined;
  return Math.floor(Number(m[1]) * factor);
}

/**
 * Dapr's state key prefixing (`keyPrefix` component metadata), applied by the block so every
 * component stores `appid||key` exactly as daprd does.
 */

export const KEY_SEPARATOR = "||";

export type KeyPrefixStrategy = { readonly kind: "none" } | { readonly kind: "literal"; readonly prefix: string };

export interface KeyPrefixContext {
  readonly appId: string;
  readonly storeName: string;
  /** Env NAMESPACE, or empty. */
  readonly namespace: string;
}

/** Resolve the `keyPrefix` metadata value into the literal prefix stored before `||`. */
export function keyPrefixStrategy(value: string | undefined, ctx: KeyPrefixContext): KeyPrefixStrategy {
  const v = (value ?? "appid").toLowerCase();
  if (v.includes(KEY_SEPARATOR)) throw new Error(`keyPrefix '${value ?? ""}' can't contain '${KEY_SEPARATOR}'`);
  switch (v) {
    case "appid":
      return ctx.appId === "" ? { kind: "none" } : { kind: "literal", prefix: ctx.appId };
    case "name":
      return { kind: "literal", prefix: ctx.storeName };
    case "namespace":
      if (ctx.appId === "") return { kind: "none" };
      return { kind: "literal", prefix: ctx.namespace === "" ? ctx.appId : `${ctx.namespace}.${ctx.appId}` };
    case "none":
      return { kind: "none" };
    default:
      return { kind: "literal", prefix: v };
  }
}

/** The text every stored key of this strategy starts with. */
export function storedPrefix(s: KeyPrefixStrategy): string {
  return s.kind === "none" ? "" : s.prefix + KEY_SEPARATOR;
}

export function prefixKey(s: KeyPrefixStrategy, key: string): string {
  return s.kind === "none" ? key : s.prefix + KEY_SEPARATOR + key;
}

/** Dapr's rule: the text between the first and the second `||` (a key without `||` is unchanged). */
export function unprefixKey(stored: string): string {
  const first = stored.indexOf(KEY_SEPARATOR);
  if (first < 0) return stored;
  const rest = stored.slice(first + KEY_SEPARATOR.length);
  const second = rest.indexOf(KEY_SEPARATOR);
  return second < 0 ? rest : rest.slice(0, second);
}

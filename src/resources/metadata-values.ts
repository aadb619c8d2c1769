/**
 * Name/value items shared by Component `spec.metadata` and HTTPEndpoint `spec.headers`: the value
 * rendered as a string, `envRef` (only when `value` is absent, with daprd's deny rules), kept
 * `secretKeyRef`, and the `{uuid}`/`{podName}`/`{namespace}`/`{appID}` templates of components.
 */
import { randomUUID } from "node:crypto";
import { child, describe, isMap, type ProblemSink, readMap, readString, renderScalar } from "./decode.js";
import type { LoadContext, SecretKeyRef } from "./types.js";

/**
 * daprd's `isEnvVarAllowed`: refuses empty names, `APP_API_TOKEN`, any `DAPR_*` name and names with
 * spaces (case-insensitively); when `DAPR_ENV_KEYS` is set, only the names it lists (space-separated).
 * Returns the reason for a refusal, or undefined when allowed.
 */
export function envRefRefusal(name: string, env: LoadContext["env"]): string | undefined {
  const key = name.toUpperCase();
  if (key === "") return "an empty variable name";
  if (key === "APP_API_TOKEN") return "APP_API_TOKEN may not be read through envRef";
  if (key.startsWith("DAPR_")) return "DAPR_* variables may not be read through envRef";
  if (key.includes(" ")) return "a variable name may not contain spaces";
  const allowlist = env["DAPR_ENV_KEYS"];
  if (allowlist === undefined || allowlist === "") return undefined;
  if (allowlist.split(" ").includes(key)) return undefined;
  return `${name} is not listed in DAPR_ENV_KEYS`;
}

/** True when a value uses one of the component template tokens. */
export function hasTemplate(value: string): boolean {
  return /\{(uuid|podName|namespace|appID)\}/.test(value);
}

/**
 * Replace daprd's component metadata templates, in daprd's order: `{uuid}` (a new UUIDv4 per
 * occurrence), `{podName}` (env POD_NAME; an error when unset), `{namespace}` (`<namespace>.<appId>`)
 * and `{appID}`. The runtime applies it again to values it resolves from secrets.
 * @example applyTemplates("{appID}-consumer", ctx) // "orders-consumer"
 */
export function applyTemplates(value: string, ctx: LoadContext): { value: string } | { error: string } {
  let v = value;
  while (v.includes("{uuid}")) v = v.replace("{uuid}", randomUUID());
  if (v.includes("{podName}")) {
    const pod = ctx.env["POD_NAME"];
    if (pod === undefined || pod === "") return { error: "the value uses {podName} but the POD_NAME environment variable is not set" };
    v = v.replaceAll("{podName}", pod);
  }
  v = v.replaceAll("{namespace}", `${ctx.namespace}.${ctx.appId}`);
  v = v.replaceAll("{appID}", ctx.appId);
  return { value: v };
}

export interface NameValue {
  readonly name: string;
  readonly value?: string;
  readonly secretKeyRef?: SecretKeyRef;
  /** True when the value came from `envRef`. */
  readonly fromEnv: boolean;
}

/**
 * Decode one `{name, value | envRef | secretKeyRef}` item. Resolution follows daprd: `value` wins;
 * `envRef` is read only when `value` is absent (and then `secretKeyRef` is not used); a refused
 * `envRef` is a problem (Tandem: daprd warns and leaves the value empty). Returns undefined when
 * the item is malformed.
 */
export function readNameValue(sink: ProblemSink, item: unknown, path: string, ctx: LoadContext): NameValue | undefined {
  if (!isMap(item)) {
    sink.report(path, `expected a mapping with name and value, got ${describe(item)}`);
    return undefined;
  }
  const before = sink.count;
  const name = readString(sink, item["name"], child(path, "name"), { required: true });
  const rawValue = item["value"];
  let value = rawValue === null || rawValue === undefined ? undefined : renderScalar(rawValue);
  const envRef = readString(sink, item["envRef"], child(path, "envRef"));
  let secretKeyRef: SecretKeyRef | undefined;
  const refMap = readMap(sink, item["secretKeyRef"], child(path, "secretKeyRef"));
  if (refMap !== undefined) {
    const refName = readString(sink, refMap["name"], child(child(path, "secretKeyRef"), "name"), { required: true });
    const key = readString(sink, refMap["key"], child(child(path, "secretKeyRef"), "key")) ?? "";
    if (refName !== undefined) secretKeyRef = { name: refName, key };
  }
  let fromEnv = false;
  if (value === undefined && envRef !== undefined && envRef !== "") {
    const refusal = envRefRefusal(envRef, ctx.env);
    if (refusal !== undefined) {
      sink.report(child(path, "envRef"), `environment variable ${JSON.stringify(envRef)} refused: ${refusal}`);
    } else {
      value = ctx.env[envRef] ?? "";
      fromEnv = true;
      secretKeyRef = undefined;
    }
  }
  if (sink.count > before || name === undefined) return undefined;
  const out: { -readonly [K in keyof NameValue]: NameValue[K] } = { name, fromEnv };
  if (value !== undefined) out.value = value;
  if (secretKeyRef !== undefined) out.secretKeyRef = secretKeyRef;
  return out;
}

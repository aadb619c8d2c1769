/**
 * Typed component metadata: each component declares its fields once; the registry parses the
 * YAML metadata into a frozen typed options object, and the docs are generated from the same schema.
 * Names match case-insensitively, as Dapr's components do; unknown names are left to the block.
 */
import { parseDurationOrNumber } from "./duration.js";

export type FieldType = "string" | "integer" | "boolean" | "duration";

interface FieldBase {
  readonly description: string;
  readonly aliases?: readonly string[];
  readonly required?: boolean;
  readonly sensitive?: boolean;
}
export interface StringField extends FieldBase { readonly type: "string"; readonly default?: string; readonly oneOf?: readonly string[] }
export interface IntegerField extends FieldBase { readonly type: "integer"; readonly default?: number; readonly min?: number }
export interface BooleanField extends FieldBase { readonly type: "boolean"; readonly default?: boolean }
/** Milliseconds; a bare integer counts in `bareUnitMs` (seconds unless said otherwise). */
export interface DurationField extends FieldBase { readonly type: "duration"; readonly default?: number; readonly bareUnitMs?: number }
export type Field = StringField | IntegerField | BooleanField | DurationField;
export type MetadataSchema = Readonly<Record<string, Field>>;

type ValueOf<F extends Field> = F extends StringField ? string : F extends BooleanField ? boolean : number;
type HasValue<F> = F extends { required: true } ? true : F extends { default: unknown } ? true : false;
export type OptionsOf<S extends MetadataSchema> = {
  readonly [K in keyof S]: HasValue<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/** Declares a schema while keeping its literal types for OptionsOf. */
export function defineSchema<const S extends MetadataSchema>(schema: S): S {
  return schema;
}

export class MetadataError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = "MetadataError";
  }
}

/** Find a metadata value by field name or alias, case-insensitively. */
export function lookup(metadata: Readonly<Record<string, string>>, names: readonly string[]): string | undefined {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  for (const [k, v] of Object.entries(metadata)) if (wanted.has(k.toLowerCase())) return v;
  return undefined;
}

/**
 * @example parseMetadata(defineSchema({ timeout: { type: "duration", default: 20000, description: "per operation" } }), { timeout: "5s" }) // { timeout: 5000 }
 */
export function parseMetadata<S extends MetadataSchema>(schema: S, metadata: Readonly<Record<string, string>>): OptionsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema)) {
    const raw = lookup(metadata, [name, ...(field.aliases ?? [])]);
    if (raw === undefined || raw === "") {
      if (field.required) throw new MetadataError(name, `metadata field "${name}" is required`);
      if (field.default !== undefined) out[name] = field.default;
      continue;
    }
    out[name] = convert(name, field, raw);
  }
  return Object.freeze(out) as OptionsOf<S>;
}

function convert(name: string, field: Field, raw: string): string | number | boolean {
  const bad = (expected: string) => new MetadataError(name, `metadata field "${name}" must be ${expected}, got "${raw}"`);
  switch (field.type) {
    case "string":
      if (field.oneOf && !field.oneOf.includes(raw)) throw bad(`one of ${field.oneOf.join(", ")}`);
      return raw;
    case "integer": {
      if (!/^-?\d+$/.test(raw.trim())) throw bad("an integer");
      const n = Number(raw.trim());
      if (field.min !== undefined && n < field.min) throw bad(`an integer >= ${field.min}`);
      return n;
    }
    case "boolean": {
      const v = raw.trim().toLowerCase();
      if (["true", "1", "yes", "y", "on"].includes(v)) return true;
      if (["false", "0", "no", "n", "off"].includes(v)) return false;
      throw bad("a boolean");
    }
    case "duration": {
      const ms = parseDurationOrNumber(raw, field.bareUnitMs ?? 1000);
      if (ms === undefined) throw bad('a duration such as "5s" or "1m30s"');
      return ms;
    }
  }
}

/**
 * The one table from a Component's `spec.type` (+ version, aliases) to a lazy factory. A driver is
 * imported only when a YAML file names its component.
 */
import type { PubSub } from "../blocks/pubsub/contract.js";
import type { StateStore } from "../blocks/state/contract.js";
import type { MetadataSchema } from "../kit/metadata-schema.js";
import type { ComponentContext } from "./shared/context.js";

/** The component interface each block defines, by the block's type prefix. */
export interface ComponentKinds {
  state: StateStore;
  pubsub: PubSub;
}
export type BlockKind = keyof ComponentKinds;

export interface ComponentModule<T> {
  readonly metadataSchema: MetadataSchema;
  /** `options` is the metadata parsed by `metadataSchema` (frozen). */
  create(options: never, ctx: ComponentContext): Promise<T>;
}

interface Entry<B extends BlockKind> {
  readonly block: B;
  readonly defaultVersion: string;
  readonly versions: Readonly<Record<string, () => Promise<ComponentModule<ComponentKinds[B]>>>>;
  readonly aliases?: readonly string[];
  /** Tandem's own type, not one of Dapr's. */
  readonly tandemOnly?: boolean;
}

type AnyEntry = { [B in BlockKind]: Entry<B> }[BlockKind];

const table: Readonly<Record<string, AnyEntry>> = {
  "state.in-memory": { block: "state", defaultVersion: "v1", versions: { v1: () => import("./state/in-memory.js") } },
  "state.sqlite": { block: "state", defaultVersion: "v1", versions: { v1: () => import("./state/sqlite.js") } },
  "state.postgresql": {
    block: "state",
    defaultVersion: "v1",
    versions: { v1: () => import("./state/postgresql-v1.js"), v2: () => import("./state/postgresql-v2.js") },
    aliases: ["state.postgres"],
  },
  "state.redis": { block: "state", defaultVersion: "v1", versions: { v1: () => import("./state/redis.js") } },
  "state.mysql": { block: "state", defaultVersion: "v1", versions: { v1: () => import("./state/mysql.js") } },
  // pubsub
  "pubsub.in-memory": { block: "pubsub", defaultVersion: "v1", versions: { v1: () => import("./pubsub/in-memory.js") } },
  "pubsub.jetstream": { block: "pubsub", defaultVersion: "v1", versions: { v1: () => import("./pubsub/jetstream.js") } },
  "pubsub.rabbitmq": { block: "pubsub", defaultVersion: "v1", versions: { v1: () => import("./pubsub/rabbitmq.js") } },
  "pubsub.mqtt3": { block: "pubsub", defaultVersion: "v1", versions: { v1: () => import("./pubsub/mqtt3.js") } },
  "pubsub.sqlite": { block: "pubsub", defaultVersion: "v1", versions: { v1: () => import("./pubsub/sqlite.js") }, tandemOnly: true },
  "pubsub.redis": { block: "pubsub", defaultVersion: "v1", versions: { v1: () => import("./pubsub/redis.js") } },
};

export interface ResolvedType {
  readonly type: string;
  readonly block: BlockKind;
  readonly version: string;
  load(): Promise<ComponentModule<ComponentKinds[BlockKind]>>;
}

export class UnknownComponentError extends Error {}

/** Every registered type name (aliases included), sorted: for error messages and docs. */
export function knownComponentTypes(): string[] {
  const names = new Set<string>();
  for (const [name, e] of Object.entries(table)) {
    names.add(name);
    for (const a of e.aliases ?? []) names.add(a);
  }
  return [...names].sort();
}

export function resolveComponentType(type: string, version: string): ResolvedType {
  const entry = table[type] ?? Object.values(table).find((e) => e.aliases?.includes(type));
  const canonical = table[type] ? type : Object.keys(table).find((k) => table[k] === entry);
  if (!entry || !canonical) {
    throw new UnknownComponentError(`unknown component type "${type}"; known types: ${knownComponentTypes().join(", ")}`);
  }
  const v = version === "" ? entry.defaultVersion : version;
  const load = entry.versions[v];
  if (!load) {
    throw new UnknownComponentError(
      `component type "${type}" has no version "${version}"; supported versions: ${Object.keys(entry.versions).join(", ")}`,
    );
  }
  return { type: canonical, block: entry.block, version: v, load };
}

/** The blocks whose components this table can build (for the metadata API and docs). */
export function registeredTypes(): { type: string; block: BlockKind; versions: string[]; aliases: readonly string[] }[] {
  return Object.entries(table).map(([type, e]) => ({ type, block: e.block, versions: Object.keys(e.versions), aliases: e.aliases ?? [] }));
}

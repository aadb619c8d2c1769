/**
 * Builds components from Component resources: resolves metadata values, finds the type in the
 * registry, parses the typed options, initialises within `initTimeout`, and hands the result to
 * its block. Only the runtime knows both the resources and the blocks.
 */
import { createHash } from "node:crypto";
import type { PubSub } from "../blocks/pubsub/contract.js";
import type { RegisteredPubSub } from "../blocks/pubsub/pubsub.js";
import { parseTopicScopes } from "../blocks/pubsub/scopes.js";
import type { StateStore } from "../blocks/state/contract.js";
import { keyPrefixStrategy } from "../blocks/state/key-prefix.js";
import type { OutboxSettings, RegisteredStore } from "../blocks/state/state.js";
import { resolveComponentType } from "../components/registry.js";
import { withTimeout } from "../kit/deferred.js";
import { lookup, MetadataError, parseMetadata } from "../kit/metadata-schema.js";
import type { Logger } from "../observability/logger.js";
import type { ComponentResource } from "../resources/types.js";

export class ComponentInitError extends Error {
  constructor(
    readonly component: ComponentResource,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`component ${component.name} (${component.type}) from ${component.origin.file}: ${message}`, options);
    this.name = "ComponentInitError";
  }
}

export interface BuiltComponent {
  readonly resource: ComponentResource;
  readonly type: string;
  readonly version: string;
  /** A digest of the resource's spec: hot reload rebuilds a component only when it changed. */
  readonly digest: string;
  readonly state?: RegisteredStore;
  readonly pubsub?: RegisteredPubSub;
  close(): Promise<void>;
}

export interface BuildContext {
  readonly appId: string;
  readonly namespace: string;
  readonly logger: Logger;
}

export function componentDigest(c: ComponentResource): string {
  return createHash("sha256")
    // Templates such as {uuid} render anew on every load: hash what was written, not what it rendered to.
    .update(JSON.stringify([c.type, c.version, c.metadata.map((m) => [m.name, m.template ?? m.value, m.secretKeyRef]), c.secretStore, c.initTimeoutMs]))
    .digest("hex");
}

/** Metadata values by name; secret references cannot resolve until secret stores exist. */
function resolveMetadata(c: ComponentResource): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of c.metadata) {
    if (item.secretKeyRef) {
      throw new ComponentInitError(
        c,
        `metadata "${item.name}" uses secretKeyRef {name: ${item.secretKeyRef.name}, key: ${item.secretKeyRef.key}}, but secret stores are not available in this Tandem version; give the value directly or through envRef`,
      );
    }
    out[item.name] = item.value ?? "";
  }
  return out;
}

export async function buildComponent(c: ComponentResource, ctx: BuildContext): Promise<BuiltComponent> {
  let resolved;
  try {
    resolved = resolveComponentType(c.type, c.version);
  } catch (err) {
    throw new ComponentInitError(c, err instanceof Error ? err.message : String(err), { cause: err });
  }
  const metadata = resolveMetadata(c);
  // daprd gives every pub/sub its consumer group identity: the app id unless the YAML sets one.
  if (resolved.block === "pubsub" && lookup(metadata, ["consumerID"]) === undefined) metadata["consumerID"] = ctx.appId;
  const module = await resolved.load();
  let options;
  try {
    options = parseMetadata(module.metadataSchema, metadata);
  } catch (err) {
    if (err instanceof MetadataError) throw new ComponentInitError(c, err.message, { cause: err });
    throw err;
  }
  const logger = ctx.logger.child({ component: c.name, type: resolved.type });
  const init = module.create(options as never, { name: c.name, logger, rawMetadata: metadata });
  const component = await withTimeout(init, c.initTimeoutMs, () => new ComponentInitError(c, `init timed out after ${c.initTimeoutMs} ms (initTimeout)`)).catch(
    (err: unknown) => {
      if (err instanceof ComponentInitError) throw err;
      throw new ComponentInitError(c, `init failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    },
  );
  const base = { resource: c, type: resolved.type, version: resolved.version, digest: componentDigest(c), close: () => component.close() };
  if (resolved.block === "pubsub") {
    const ps = component as PubSub;
    // Namespace-scoped pub/sub (a value written with {namespace}): broker topics carry the namespace.
    const namespaced = c.metadata.some((m) => m.template?.includes("{namespace}") ?? false);
    return {
      ...base,
      pubsub: { name: c.name, type: resolved.type, component: ps, scopes: parseTopicScopes(metadata), topicPrefix: namespaced ? ctx.namespace : "", features: ps.features() },
    };
  }
  if (resolved.block === "state") {
    const store = component as StateStore;
    try {
      const keyPrefix = keyPrefixStrategy(lookup(metadata, ["keyPrefix"]), { appId: ctx.appId, storeName: c.name, namespace: ctx.namespace });
      const actorStateStore = (lookup(metadata, ["actorStateStore"]) ?? "").toLowerCase() === "true";
      if (actorStateStore) {
        const f = store.features();
        if (!f.includes("ETAG") || !f.includes("TRANSACTIONAL")) throw new Error("actorStateStore needs a store with ETAG and TRANSACTIONAL features");
      }
      const outbox = outboxSettings(metadata);
      return { ...base, state: { name: c.name, store, keyPrefix, actorStateStore, ...(outbox ? { outbox } : {}) } };
    } catch (err) {
      await store.close();
      throw new ComponentInitError(c, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }
  return base;
}

/** The outbox keys of a state component (semantics.md §7); undefined when it is not an outbox. */
function outboxSettings(metadata: Readonly<Record<string, string>>): OutboxSettings | undefined {
  const publishPubsub = lookup(metadata, ["outboxPublishPubsub"]) ?? "";
  const publishTopic = lookup(metadata, ["outboxPublishTopic"]) ?? "";
  if (publishPubsub === "" && publishTopic === "") return undefined;
  if (publishPubsub === "" || publishTopic === "") throw new Error("an outbox needs both outboxPublishPubsub and outboxPublishTopic");
  const internal = lookup(metadata, ["outboxPubsub"]) ?? "";
  const discard = (lookup(metadata, ["outboxDiscardWhenMissingState"]) ?? "").toLowerCase() === "true";
  return { publishPubsub, publishTopic, internalPubsub: internal === "" ? publishPubsub : internal, discardWhenMissingState: discard };
}

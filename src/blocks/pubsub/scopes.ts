/**
 * Topic scoping from a pub/sub component's metadata (semantics.md §2.3): `publishingScopes`,
 * `subscriptionScopes` ("app1=t1,t2;app2=t3"), `allowedTopics` and `protectedTopics`. Key names
 * match case-insensitively and spaces in values are removed.
 */

export interface TopicScopes {
  readonly allowed: ReadonlySet<string>;
  readonly protectedTopics: ReadonlySet<string>;
  readonly publishing: ReadonlyMap<string, ReadonlySet<string>>;
  readonly subscribing: ReadonlyMap<string, ReadonlySet<string>>;
}

function value(metadata: Readonly<Record<string, string>>, name: string): string {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(metadata)) if (k.toLowerCase() === wanted) return v.replace(/\s+/g, "");
  return "";
}

function list(text: string): Set<string> {
  return new Set(text === "" ? [] : text.split(","));
}

/** `app1=t1,t2;app2=` -> app1: {t1,t2}, app2: {""} (an empty list denies every topic). */
function scopeMap(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (text === "") return out;
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    out.set(part.slice(0, eq), new Set(part.slice(eq + 1).split(",")));
  }
  return out;
}

export function parseTopicScopes(metadata: Readonly<Record<string, string>>): TopicScopes {
  return {
    allowed: list(value(metadata, "allowedTopics")),
    protectedTopics: list(value(metadata, "protectedTopics")),
    publishing: scopeMap(value(metadata, "publishingScopes")),
    subscribing: scopeMap(value(metadata, "subscriptionScopes")),
  };
}

function allowed(scopes: TopicScopes, perApp: ReadonlyMap<string, ReadonlySet<string>>, appId: string, topic: string): boolean {
  if (scopes.allowed.size > 0 && !scopes.allowed.has(topic)) return false;
  const appTopics = perApp.get(appId);
  if (!scopes.protectedTopics.has(topic) && appTopics === undefined) return true;
  return appTopics?.has(topic) ?? false;
}

export function canPublish(scopes: TopicScopes, appId: string, topic: string): boolean {
  return allowed(scopes, scopes.publishing, appId, topic);
}

export function canSubscribe(scopes: TopicScopes, appId: string, topic: string): boolean {
  return allowed(scopes, scopes.subscribing, appId, topic);
}

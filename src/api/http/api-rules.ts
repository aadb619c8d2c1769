/**
 * Configuration `spec.api.allowed` / `spec.api.denied` for the HTTP API, as daprd applies them:
 * only rules naming protocol `http` count; the deny list first, then a non-empty allow list
 * restricts; health routes are always served. Disallowed routes are not registered at all.
 */
import type { Route } from "./router.js";

export interface ApiRule {
  readonly name: string;
  readonly version: string;
  readonly protocol?: string;
}

/** `v1.0-alpha1` -> `v1alpha1` (the group form of a URL version). */
function groupVersion(urlVersion: string): string {
  return urlVersion.replace(/^v1\.0-?/, "v1");
}

function ruleMatches(rule: ApiRule, route: Route): boolean {
  if (rule.protocol !== "http") return false;
  const path = route.path.slice(1);
  const urlVersion = path.split("/")[0] ?? "";
  const key = `${rule.version}/${rule.name}`;
  if (key === `${groupVersion(urlVersion)}/${route.group}`) return true;
  return path.startsWith(key);
}

export function applyApiRules(routes: readonly Route[], allowed: readonly ApiRule[], denied: readonly ApiRule[]): Route[] {
  const httpAllowed = allowed.filter((r) => r.protocol === "http");
  return routes.filter((route) => {
    if (route.group === "healthz") return true;
    if (denied.some((r) => ruleMatches(r, route))) return false;
    if (httpAllowed.length > 0) return httpAllowed.some((r) => ruleMatches(r, route));
    return true;
  });
}

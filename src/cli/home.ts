/**
 * `$TANDEM_HOME` (default `~/.tandem`): the default resources `tandem init` writes and `tandem run`
 * uses when no `--resources-path` / `--config` is given, plus the records of running run files.
 * Files that exist are never rewritten: the user may have edited them.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

export function tandemHome(env: Env): string {
  const given = env.TANDEM_HOME;
  return given !== undefined && given !== "" ? resolve(expandHome(given, env)) : join(homeDir(env), ".tandem");
}

export const componentsDir = (home: string): string => join(home, "components");
export const configFile = (home: string): string => join(home, "config.yaml");
export const runsDir = (home: string): string => join(home, "runs");

function homeDir(env: Env): string {
  return env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
}

/** `~` and `~/x` -> the user's home directory. */
export function expandHome(path: string, env: Env): string {
  if (path === "~") return homeDir(env);
  if (path.startsWith("~/")) return join(homeDir(env), path.slice(2));
  return path;
}

export function statestoreYaml(home: string): string {
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.sqlite
  version: v1
  metadata:
  - name: connectionString
    value: ${JSON.stringify(join(home, "state.db"))}
  - name: actorStateStore
    value: "true"
`;
}

/** The durable local pub/sub: every app on this machine shares one SQLite file, no broker needed. */
export function pubsubYaml(home: string): string {
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.sqlite
  version: v1
  metadata:
  - name: connectionString
    value: ${JSON.stringify(join(home, "pubsub.db"))}
`;
}

function defaultComponents(home: string): InitStep[] {
  return [
    writeIfMissing(join(componentsDir(home), "statestore.yaml"), statestoreYaml(home)),
    writeIfMissing(join(componentsDir(home), "pubsub.yaml"), pubsubYaml(home)),
  ];
}

export const CONFIG_YAML = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprConfig
spec:
  # Spans are sampled but not exported: add spec.tracing.otel or spec.tracing.zipkin to send them.
  tracing:
    samplingRate: "1"
  metric:
    enabled: true
`;

export interface InitStep {
  readonly path: string;
  readonly action: "created" | "kept";
}

/** `tandem init`: create the home layout, writing only the files that are missing. */
export function initHome(home: string): InitStep[] {
  mkdirSync(componentsDir(home), { recursive: true });
  return [...defaultComponents(home), writeIfMissing(configFile(home), CONFIG_YAML)];
}

/**
 * `tandem run` on first use: create the defaults it is about to use when they do not exist. An
 * existing components directory is left alone, even when the user removed a default file from it.
 */
export function ensureDefaults(home: string, parts: { components: boolean; config: boolean }): InitStep[] {
  const steps: InitStep[] = [];
  if (parts.components && !existsSync(componentsDir(home))) {
    mkdirSync(componentsDir(home), { recursive: true });
    steps.push(...defaultComponents(home));
  }
  if (parts.config && !existsSync(configFile(home))) {
    mkdirSync(home, { recursive: true });
    steps.push(writeIfMissing(configFile(home), CONFIG_YAML));
  }
  return steps;
}

function writeIfMissing(path: string, text: string): InitStep {
  try {
    writeFileSync(path, text, { flag: "wx" });
    return { path, action: "created" };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return { path, action: "kept" };
    throw err;
  }
}

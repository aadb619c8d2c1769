/**
 * The composition root: reads Configuration and resources, builds components into their blocks,
 * starts the API and metrics servers, connects to the app in daprd's start-up order, and owns
 * hot reload and graceful shutdown.
 */
import { rm } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import { applyApiRules } from "../api/http/api-rules.js";
import { createHttpApiServer } from "../api/http/server.js";
import { invokeRoutes } from "../api/http/invoke.js";
import { sidecarRoutes } from "../api/http/sidecar.js";
import { stateRoutes } from "../api/http/state.js";
import { pubsubRoutes } from "../api/http/pubsub.js";
import { PubSubBlock } from "../blocks/pubsub/pubsub.js";
import { Outbox } from "../blocks/outbox/outbox.js";
import type { Route } from "../api/http/router.js";
import { HealthBlock } from "../blocks/health/health.js";
import { InvokeBlock } from "../blocks/invoke/invoke.js";
import { MetadataBlock, type SubscriptionMetadata } from "../blocks/metadata/metadata.js";
import { StateBlock } from "../blocks/state/state.js";
import type { AppChannel } from "../channels/contract.js";
import { deferred } from "../kit/deferred.js";
import type { Logger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { loadConfiguration } from "../resources/load-configuration.js";
import { loadResources } from "../resources/load-resources.js";
import { formatProblem, type ConfigurationResource, type ResourceSet } from "../resources/types.js";
import { AppHealth } from "./app-health.js";
import { discoverHttpSubscriptions, HttpEventSink } from "../blocks/pubsub/app-http-sink.js";
import { DEFAULT_BULK, mergeSubscriptions } from "../blocks/pubsub/discovery.js";
import type { SubscriptionSpec } from "../blocks/pubsub/types.js";
import type { PolicyRefs, ResiliencyPolicies } from "../resiliency/policies.js";
import type { RetrySpec } from "../resiliency/retry.js";
import { ComponentSet } from "./component-set.js";
import { RUNTIME_VERSION, type SidecarConfig } from "./config.js";
import { StartupError } from "./startup-error.js";

export interface Runtime {
  readonly config: SidecarConfig;
  /** Resolves with the exit code once the runtime has stopped. */
  readonly exited: Promise<number>;
  shutdown(force?: boolean): void;
}

const TARGET_INIT = "runtime-init";
const TARGET_APP = "app-channel";

export async function startRuntime(config: SidecarConfig, logger: Logger): Promise<Runtime> {
  const started = performance.now();
  const loadCtx = { appId: config.appId, namespace: config.namespace, env: process.env };
  const { configuration, problems: configProblems } = await loadConfiguration(config.configFiles, loadCtx);
  if (configProblems.length > 0) throw new StartupError(`invalid configuration:\n${configProblems.map(formatProblem).join("\n")}`);
  const loaded = await loadResources(config.resourcesPaths, loadCtx);
  for (const file of loaded.skipped) logger.warn(`skipping ${file}: resources are read from *.yaml and *.yml files only`);
  const fatal = loaded.problems.filter((p) => !p.ignorable);
  for (const p of loaded.problems.filter((x) => x.ignorable)) logger.warn(`ignoring a bad component (ignoreErrors): ${formatProblem(p)}`);
  if (fatal.length > 0) throw new StartupError(`invalid resources:\n${fatal.map(formatProblem).join("\n")}`);

  const health = new HealthBlock([TARGET_INIT, ...(config.appPort !== undefined ? [TARGET_APP] : [])]);
  const metrics = config.enableMetrics && configuration.metric.enabled ? new Metrics(config.appId, config.namespace) : undefined;
  const state = new StateBlock(config.appId);
  const pubsub = new PubSubBlock(config.appId, logger.child({ scope: "tandem.runtime.pubsub" }), metrics);
  pubsub.setPolicies(mergeResiliency(loaded.resources, config.appId));
  const components = new ComponentSet({ appId: config.appId, namespace: config.namespace, logger, state, pubsub, metrics, deny: configuration.components.deny });
  await components.apply(loaded.resources.components, { startup: true });
  const outbox = new Outbox(config.appId, config.namespace, state, pubsub, logger.child({ scope: "tandem.runtime.outbox" }));
  state.outboxInterceptor = outbox.intercept;
  await outbox.start(components.outboxStores());

  let channel: AppChannel | undefined;
  let subscriptionsStarted = false;
  let appHealth: AppHealth | undefined;
  const invoke = new InvokeBlock(config.appId, config.namespace, () => channel, () => appHealth?.isHealthy() ?? false);
  const metadata = new MetadataBlock({
    appId: config.appId,
    runtimeVersion: RUNTIME_VERSION,
    enabledFeatures: () => Object.entries(configuration.features).filter(([, on]) => on).map(([name]) => name),
    components: () => components.describe(),
    subscriptions: () => (subscriptionsStarted ? pubsub.subscriptions().map(subscriptionMetadata) : declarativeSubscriptions(loaded.resources, config.appId).map(subscriptionMetadata)),
    httpEndpoints: () => loaded.resources.httpEndpoints.map((e) => e.name),
    resiliencies: () => loaded.resources.resiliencies.map((r) => r.name),
    appConnection: () => appConnection(config),
  });

  const stopping = deferred<number>();
  const shutdownController = new AbortController();
  let shuttingDown = false;
  const routes: Route[] = applyApiRules(
    [...sidecarRoutes({ appId: config.appId, metadata, health, shutdown: (force) => shutdown(force) }), ...stateRoutes(state), ...pubsubRoutes(pubsub), ...invokeRoutes(invoke)],
    configuration.api.allowed,
    configuration.api.denied,
  );
  const apiLogging = config.enableApiLogging || configuration.logging.apiLogging.enabled;
  const makeServer = () => createHttpApiServer({
    routes,
    maxBodyBytes: config.maxBodyBytes,
    maxHeaderBytes: config.readBufferBytes,
    allowedOrigins: config.allowedOrigins,
    logger: logger.child({ scope: "tandem.runtime.http" }),
    apiLogging,
    invoke,
    ...(config.apiToken !== undefined ? { apiToken: config.apiToken } : {}),
    ...(metrics ? { metrics } : {}),
  });
  const servers: Server[] = [];
  try {
    if (config.unixDomainSocket !== undefined) {
      servers.push(await listenSocket(makeServer(), join(config.unixDomainSocket, `dapr-${config.appId}-http.socket`)));
    } else {
      for (const host of config.daprListenAddresses.length > 0 ? config.daprListenAddresses : [undefined]) {
        servers.push(await listen(makeServer(), config.daprHttpPort, host));
      }
    }
    if (config.daprPublicPort !== undefined) {
      const publicRoutes = routes.filter((r) => r.group === "healthz" || r.group === "metadata");
      const publicServer = createHttpApiServer({ routes: publicRoutes, maxBodyBytes: Number.MAX_SAFE_INTEGER, maxHeaderBytes: config.readBufferBytes, allowedOrigins: "", logger, apiLogging: false });
      servers.push(await listen(publicServer, config.daprPublicPort, config.daprPublicListenAddress));
    }
    if (metrics) servers.push(await metrics.listen(config.metricsPort, config.metricsListenAddress));
  } catch (err) {
    for (const s of servers) s.close();
    await components.closeAll();
    throw new StartupError(`cannot listen: ${err instanceof Error ? err.message : String(err)}`);
  }
  health.markOutboundReady();
  health.markReady(TARGET_INIT);
  logger.info(`HTTP API listening on port ${config.daprHttpPort}; components loaded: ${components.describe().length}`);

  if (config.appPort !== undefined) {
    // Loaded only when there is an app: the HTTP client library is the heaviest import at start-up.
    const { HttpAppChannel } = await import("../channels/app-http.js");
    if (config.appProtocol === "grpc" || config.appProtocol === "grpcs") {
      logger.warn(`app protocol ${config.appProtocol} is not served yet: the sidecar waits for the port but does not call the app`);
    } else {
      channel = new HttpAppChannel({
        protocol: config.appProtocol,
        address: config.appChannelAddress,
        port: config.appPort,
        maxConcurrency: config.appMaxConcurrency,
        ...(config.appToken !== undefined ? { appToken: config.appToken } : {}),
      });
    }
    const app = channel;
    void (async () => {
      const dialer = app ?? new HttpAppChannel({ protocol: "http", address: config.appChannelAddress, port: config.appPort as number, maxConcurrency: -1 });
      try {
        logger.info(`waiting for the app on ${config.appChannelAddress}:${config.appPort}`);
        await dialer.waitForPort(shutdownController.signal);
      } catch {
        return; // shutting down
      } finally {
        if (!app) await dialer.close();
      }
      if (app) {
        appHealth = new AppHealth(
          app,
          config.enableAppHealthCheck
            ? { path: config.appHealthCheckPath, intervalMs: config.appHealthProbeIntervalMs, timeoutMs: config.appHealthProbeTimeoutMs, threshold: config.appHealthThreshold }
            : undefined,
          logger,
        );
        appHealth.start();
      }
      if (app) {
        // Subscriptions start before the sidecar reports ready, as daprd's: a publish after readiness is never missed.
        subscriptionsStarted = true;
        await startSubscriptions(app, pubsub, declarativeSubscriptions(loaded.resources, config.appId), config.appId, logger, shutdownController.signal);
      }
      health.markReady(TARGET_APP);
      logger.info(`app connected on port ${config.appPort}; sidecar ready in ${Math.round(performance.now() - started)} ms`);
    })();
  } else {
    logger.info(`sidecar ready in ${Math.round(performance.now() - started)} ms (no app port)`);
  }

  const stopWatching = components.watch(config.resourcesPaths, configuration, loadCtx);

  function shutdown(force = false): void {
    if (force) {
      logger.warn("forced shutdown");
      setTimeout(() => stopping.resolve(1), 100).unref();
      return;
    }
    if (shuttingDown) return;
    shuttingDown = true;
    void (async () => {
      if (config.blockShutdownDurationMs !== undefined && appHealth?.isHealthy()) {
        logger.info(`shutdown blocked for up to ${config.blockShutdownDurationMs} ms while the app is healthy (--dapr-block-shutdown-duration)`);
        await blockWhileHealthy(appHealth, config.blockShutdownDurationMs);
      }
      logger.info(`graceful shutdown: draining for up to ${config.gracefulShutdownMs} ms`);
      shutdownController.abort();
      stopWatching();
      // Stop pulling first; in-flight deliveries finish (or stay on the broker) within the grace period.
      await Promise.all([pubsub.stop(config.gracefulShutdownMs), outbox.stop()]);
      appHealth?.stop();
      const drained = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      for (const s of servers) s.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const s of servers) s.closeAllConnections();
      }, config.gracefulShutdownMs);
      await drained;
      clearTimeout(timer);
      await channel?.close();
      await components.closeAll();
      logger.info("stopped");
      stopping.resolve(0);
    })();
  }

  return { config, exited: stopping.promise, shutdown };
}

async function listenSocket(server: Server, path: string): Promise<Server> {
  await rm(path, { force: true });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function listen(server: Server, port: number, host: string | undefined): Promise<Server> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server);
    });
  });
}

function blockWhileHealthy(appHealth: AppHealth, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    appHealth.onChange((healthy) => {
      if (!healthy) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Declarative subscriptions in scope, in load order (rules in evaluation order, default last). */
function declarativeSubscriptions(resources: ResourceSet, appId: string): SubscriptionSpec[] {
  return resources.subscriptions
    .filter((s) => s.scopes.length === 0 || s.scopes.includes(appId))
    .map((s) => ({
      pubsubname: s.pubsubname,
      topic: s.topic,
      rules: s.rules.map((r) => (r.match ? { match: r.match, path: r.path } : { path: r.path })),
      metadata: s.metadata,
      ...(s.deadLetterTopic !== undefined ? { deadLetterTopic: s.deadLetterTopic } : {}),
      ...(s.bulkSubscribe !== undefined
        ? { bulkSubscribe: { enabled: s.bulkSubscribe.enabled, maxMessagesCount: s.bulkSubscribe.maxMessagesCount ?? DEFAULT_BULK.maxMessagesCount, maxAwaitDurationMs: s.bulkSubscribe.maxAwaitDurationMs ?? DEFAULT_BULK.maxAwaitDurationMs } }
        : {}),
      type: "DECLARATIVE" as const,
    }));
}

function subscriptionMetadata(s: SubscriptionSpec): SubscriptionMetadata {
  return {
    pubsubname: s.pubsubname,
    topic: s.topic,
    ...(Object.keys(s.metadata).length > 0 ? { metadata: s.metadata } : {}),
    ...(s.rules.length > 0 ? { rules: s.rules.map((r) => (r.match !== undefined ? { match: r.match, path: r.path } : { path: r.path })) } : {}),
    deadLetterTopic: s.deadLetterTopic ?? "",
    type: s.type,
  };
}

/** Asks the app for its subscriptions (only when a pub/sub is loaded), merges the declarative ones and starts them. */
async function startSubscriptions(app: AppChannel, pubsub: PubSubBlock, declarative: SubscriptionSpec[], appId: string, logger: Logger, signal: AbortSignal): Promise<void> {
  let programmatic: SubscriptionSpec[] = [];
  if (pubsub.names().length > 0) {
    try {
      programmatic = await discoverHttpSubscriptions(app, appId, (m) => logger.warn(m), signal);
    } catch (err) {
      if (signal.aborted) return;
      logger.error(`${err instanceof Error ? err.message : String(err)}; no subscription is started`);
      await pubsub.start([], new HttpEventSink(app));
      return;
    }
  }
  await pubsub.start(mergeSubscriptions(declarative, programmatic), new HttpEventSink(app));
}

/** The Resiliency documents in scope, merged (a later document wins per policy and target name). */
function mergeResiliency(resources: ResourceSet, appId: string): ResiliencyPolicies {
  const timeouts: Record<string, number> = {};
  const retries: Record<string, RetrySpec> = {};
  const components: Record<string, { inbound?: PolicyRefs; outbound?: PolicyRefs }> = {};
  for (const r of resources.resiliencies) {
    if (r.scopes.length > 0 && !r.scopes.includes(appId)) continue;
    Object.assign(timeouts, r.timeouts);
    Object.assign(retries, r.retries);
    Object.assign(components, r.targets.components);
  }
  return { timeouts, retries, components };
}

function appConnection(config: SidecarConfig) {
  if (config.appPort === undefined) return { protocol: config.appProtocol, channelAddress: config.appChannelAddress };
  return {
    port: config.appPort,
    protocol: config.appProtocol,
    channelAddress: config.appChannelAddress,
    ...(config.appMaxConcurrency > 0 ? { maxConcurrency: config.appMaxConcurrency } : {}),
    ...(config.enableAppHealthCheck
      ? {
          health: {
            healthCheckPath: config.appHealthCheckPath,
            healthProbeInterval: `${config.appHealthProbeIntervalMs / 1000}s`,
            healthProbeTimeout: `${config.appHealthProbeTimeoutMs}ms`,
            healthThreshold: config.appHealthThreshold,
          },
        }
      : {}),
  };
}

export type { ConfigurationResource, ResourceSet };

/**
 * Prometheus metrics with Dapr's names. Labels stay low-cardinality: never a raw request path
 * (Dapr's path labels have run sidecars out of memory).
 */
import { createServer, type Server } from "node:http";
import { Counter, Histogram, Gauge, Registry, collectDefaultMetrics } from "prom-client";

const LATENCY_BUCKETS_MS = [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 300, 400, 500, 650, 800, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const SIZE_BUCKETS = [1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

export class Metrics {
  readonly registry = new Registry();
  private readonly httpCount: Counter<"app_id" | "method" | "status">;
  private readonly httpLatency: Histogram<"app_id" | "method" | "status">;
  private readonly httpRequestBytes: Histogram<"app_id" | "method">;
  private readonly httpResponseBytes: Histogram<"app_id" | "method" | "status">;
  private readonly componentLoaded: Gauge<"app_id">;
  private readonly componentInit: Counter<"app_id" | "component_type" | "component_name" | "success">;
  private readonly pubsubEgressCount: Counter<"app_id" | "component" | "namespace" | "success" | "topic">;
  private readonly pubsubEgressLatency: Histogram<"app_id" | "component" | "namespace" | "success" | "topic">;
  private readonly pubsubIngressCount: Counter<"app_id" | "component" | "namespace" | "process_status" | "topic">;
  private readonly pubsubIngressLatency: Histogram<"app_id" | "component" | "namespace" | "process_status" | "topic">;

  constructor(
    private readonly appId: string,
    private readonly namespace = "",
  ) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.httpCount = new Counter({ name: "dapr_http_server_request_count", help: "Number of HTTP requests started in server.", labelNames: ["app_id", "method", "status"], registers });
    this.httpLatency = new Histogram({ name: "dapr_http_server_latency", help: "HTTP server latency in milliseconds.", labelNames: ["app_id", "method", "status"], buckets: LATENCY_BUCKETS_MS, registers });
    this.httpRequestBytes = new Histogram({ name: "dapr_http_server_request_bytes", help: "HTTP server request size in bytes.", labelNames: ["app_id", "method"], buckets: SIZE_BUCKETS, registers });
    this.httpResponseBytes = new Histogram({ name: "dapr_http_server_response_bytes", help: "HTTP server response size in bytes.", labelNames: ["app_id", "method", "status"], buckets: SIZE_BUCKETS, registers });
    this.componentLoaded = new Gauge({ name: "dapr_runtime_component_loaded", help: "The number of successfully loaded components.", labelNames: ["app_id"], registers });
    this.componentInit = new Counter({ name: "dapr_runtime_component_init_total", help: "The number of initialized components.", labelNames: ["app_id", "component_type", "component_name", "success"], registers });
    const egress = ["app_id", "component", "namespace", "success", "topic"] as const;
    const ingress = ["app_id", "component", "namespace", "process_status", "topic"] as const;
    this.pubsubEgressCount = new Counter({ name: "dapr_component_pubsub_egress_count", help: "The number of outgoing messages published to the pubsub component.", labelNames: egress, registers });
    this.pubsubEgressLatency = new Histogram({ name: "dapr_component_pubsub_egress_latencies", help: "The latency of the response from the pubsub component.", labelNames: egress, buckets: LATENCY_BUCKETS_MS, registers });
    this.pubsubIngressCount = new Counter({ name: "dapr_component_pubsub_ingress_count", help: "The number of incoming messages arriving from the pubsub component.", labelNames: ingress, registers });
    this.pubsubIngressLatency = new Histogram({ name: "dapr_component_pubsub_ingress_latencies", help: "The consuming app event processing latency.", labelNames: ingress, buckets: LATENCY_BUCKETS_MS, registers });
  }

  /** One finished HTTP API request; `method` is the HTTP verb. */
  httpRequest(method: string, status: number, ms: number, requestBytes: number, responseBytes: number): void {
    const labels = { app_id: this.appId, method, status: String(status) };
    this.httpCount.inc(labels);
    this.httpLatency.observe(labels, ms);
    this.httpRequestBytes.observe({ app_id: this.appId, method }, requestBytes);
    this.httpResponseBytes.observe(labels, responseBytes);
  }

  componentInitialised(type: string, name: string, success: boolean): void {
    this.componentInit.inc({ app_id: this.appId, component_type: type, component_name: name, success: String(success) });
    if (success) this.componentLoaded.inc({ app_id: this.appId });
  }

  /** One publish to a pub/sub component. */
  pubsubEgress(component: string, topic: string, success: boolean, ms: number): void {
    const labels = { app_id: this.appId, component, namespace: this.namespace, success: String(success), topic };
    this.pubsubEgressCount.inc(labels);
    this.pubsubEgressLatency.observe(labels, ms);
  }

  /** One message handled for the app: `status` is success, retry or drop. */
  pubsubIngress(component: string, topic: string, status: "success" | "retry" | "drop", ms: number): void {
    const labels = { app_id: this.appId, component, namespace: this.namespace, process_status: status, topic };
    this.pubsubIngressCount.inc(labels);
    this.pubsubIngressLatency.observe(labels, ms);
  }

  componentRemoved(): void {
    this.componentLoaded.dec({ app_id: this.appId });
  }

  /** Serves the exposition on every path, as daprd's metrics server does. */
  listen(port: number, host: string | undefined): Promise<Server> {
    const server = createServer((_req, res) => {
      this.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": this.registry.contentType });
          res.end(text);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}

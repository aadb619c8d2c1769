/** Sidecar routes: metadata (GET, PUT), health (ready, outbound) and shutdown. */
import type { HealthBlock } from "../../blocks/health/health.js";
import type { MetadataBlock } from "../../blocks/metadata/metadata.js";
import { commonErrors } from "../../errors/index.js";
import { json, noContent } from "./body.js";
import type { Route } from "./router.js";

export interface SidecarRoutesDeps {
  readonly appId: string;
  readonly metadata: MetadataBlock;
  readonly health: HealthBlock;
  /** Starts a graceful (or, with force, immediate) shutdown after the reply is sent. */
  readonly shutdown: (force: boolean) => void;
}

export function sidecarRoutes(d: SidecarRoutesDeps): Route[] {
  return [
    { methods: ["GET"], path: "/v1.0/metadata", group: "metadata", handler: () => json(200, d.metadata.snapshot()) },
    {
      methods: ["PUT"],
      path: "/v1.0/metadata/:key",
      group: "metadata",
      handler: async (ctx) => {
        d.metadata.setExtended(ctx.params.key as string, (await ctx.body()).toString("utf8"));
        return noContent;
      },
    },
    {
      methods: ["GET"],
      path: "/v1.0/healthz",
      group: "healthz",
      handler: (ctx) => {
        const unready = d.health.unready();
        if (unready.length > 0) throw commonErrors.healthNotReady(unready);
        const appId = ctx.query.get("appid");
        if (appId !== null && appId !== d.appId) throw commonErrors.healthAppIdNotMatch();
        return noContent;
      },
    },
    {
      methods: ["GET"],
      path: "/v1.0/healthz/outbound",
      group: "healthz",
      handler: () => {
        if (!d.health.isOutboundReady()) throw commonErrors.outboundHealthNotReady();
        return noContent;
      },
    },
    {
      methods: ["POST"],
      path: "/v1.0/shutdown",
      group: "shutdown",
      handler: (ctx) => {
        const force = String(ctx.req.headers["dapr-force-shutdown"] ?? "").toLowerCase() === "true";
        ctx.res.once("finish", () => d.shutdown(force));
        return noContent;
      },
    },
  ];
}

/**
 * `tandem list [-o table|json|yaml]`: the sidecars running on this machine, with the extended
 * metadata `tandem run` wrote into them. Same fields as `dapr list` (JSON/YAML names included; the
 * sidecar's PID keeps dapr's name, `DAPRD PID` / `daprdPid`, so tools reading dapr's output work).
 */
import { Command, Option } from "commander";
import { stringify } from "yaml";
import { CliError, type CliContext } from "./context.js";
import { findSidecars, sidecarAddress, type SidecarProcess } from "./processes.js";
import { closeAgents, getMetadata, type SidecarAddress } from "./sidecar-client.js";

export interface ListRow {
  readonly appId: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly appPort: number;
  readonly metricsEnabled: boolean;
  readonly command: string;
  readonly age: string;
  readonly created: string;
  readonly daprdPid: number;
  readonly cliPid: number;
  readonly appPid: number;
  readonly maxRequestBodySize: number;
  readonly httpReadBufferSize: number;
  readonly runTemplatePath: string;
  readonly appLogPath: string;
  readonly daprdLogPath: string;
  readonly runTemplateName: string;
}

export interface RunningApp {
  readonly row: ListRow;
  readonly address: SidecarAddress;
}

/** The running apps (sidecars with an app id), optionally only those with one app id. */
export async function listApps(apiToken: string | undefined, appId?: string, now = Date.now()): Promise<RunningApp[]> {
  const sidecars = findSidecars().filter((s) => s.config.appId !== "" && (appId === undefined || s.config.appId === appId));
  const apps = await Promise.all(sidecars.map((s) => describe(s, apiToken, now)));
  await closeAgents();
  return apps.sort((a, b) => a.row.appId.localeCompare(b.row.appId) || a.row.daprdPid - b.row.daprdPid);
}

/** The running app with this id, or a CliError saying it is not running. */
export async function findApp(appId: string, apiToken: string | undefined): Promise<RunningApp> {
  const app = (await listApps(apiToken, appId))[0];
  if (app === undefined) throw new CliError(`app ID ${appId} not found: is it running? (see tandem list)`);
  return app;
}

async function describe(s: SidecarProcess, apiToken: string | undefined, now: number): Promise<RunningApp> {
  const address = sidecarAddress(s.config);
  const extended = (await getMetadata(address, apiToken))?.extended ?? {};
  const int = (key: string) => {
    const n = Number.parseInt(extended[key] ?? "", 10);
    return Number.isFinite(n) ? n : 0;
  };
  const row: ListRow = {
    appId: s.config.appId,
    httpPort: s.config.daprHttpPort,
    grpcPort: s.config.daprGrpcPort,
    appPort: s.config.appPort ?? 0,
    metricsEnabled: s.config.enableMetrics,
    command: extended.appCommand ?? "",
    age: s.startedAt !== undefined ? age(now - s.startedAt) : "",
    created: s.startedAt !== undefined ? created(new Date(s.startedAt)) : "",
    daprdPid: s.pid,
    cliPid: int("cliPID"),
    appPid: int("appPID"),
    maxRequestBodySize: Math.round(s.config.maxBodyBytes / (1024 * 1024)),
    httpReadBufferSize: Math.round(s.config.readBufferBytes / 1024),
    runTemplatePath: extended.runTemplatePath ?? "",
    appLogPath: extended.appLogPath ?? "",
    daprdLogPath: extended.daprdLogPath ?? "",
    runTemplateName: extended.runTemplateName ?? "",
  };
  return { row, address };
}

/** dapr's age format: the largest whole unit (`3d`, `5h`, `12m`, `40s`). */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d`;
  if (s >= 3_600) return `${Math.floor(s / 3_600)}h`;
  if (s >= 60) return `${Math.floor(s / 60)}m`;
  return `${s}s`;
}

/** dapr's CREATED format, local time: `2006-01-02 15:04.05`. */
export function created(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}.${p(d.getSeconds())}`;
}

const COLUMNS: readonly [string, (r: ListRow) => string][] = [
  ["APP ID", (r) => r.appId],
  ["HTTP PORT", (r) => String(r.httpPort)],
  ["GRPC PORT", (r) => String(r.grpcPort)],
  ["APP PORT", (r) => String(r.appPort)],
  ["COMMAND", (r) => (r.command.length > 20 ? `${r.command.slice(0, 20)}...` : r.command)],
  ["AGE", (r) => r.age],
  ["CREATED", (r) => r.created],
  ["DAPRD PID", (r) => String(r.daprdPid)],
  ["CLI PID", (r) => String(r.cliPid)],
  ["APP PID", (r) => String(r.appPid)],
];

export function formatTable(rows: readonly ListRow[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => (line[i] as string).length)));
  return cells.map((line) => line.map((c, i) => c.padEnd(widths[i] as number)).join("  ").trimEnd()).join("\n") + "\n";
}

export function listCommand(ctx: CliContext): Command {
  return new Command("list")
    .description("List the Tandem sidecars (and their apps) running on this machine")
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json", "yaml"]).default("table"))
    .action(async (opts: { output: "table" | "json" | "yaml" }) => {
      const rows = (await listApps(ctx.env.DAPR_API_TOKEN)).map((a) => a.row);
      if (opts.output === "json") ctx.out(JSON.stringify(rows, null, 2) + "\n");
      else if (opts.output === "yaml") ctx.out(rows.length === 0 ? "[]\n" : stringify(rows));
      else if (rows.length === 0) ctx.out("No Tandem instances found.\n");
      else ctx.out(formatTable(rows));
    });
}

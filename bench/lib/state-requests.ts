/** The state API requests the state benchmarks send: 1 KiB JSON values over a fixed key set. */
import type { RequestShape } from "./load-gen.js";

export const STORE = "statestore";
export const KEYS = 100;
export type Op = "GET" | "SET";

/** A JSON object that serialises to exactly 1,024 bytes. */
function oneKiBValue(): string {
  const shell = { id: "order-0001", customer: "bench", items: [{ sku: "A-1", qty: 2 }], note: "" };
  const pad = 1024 - JSON.stringify(shell).length;
  return JSON.stringify({ ...shell, note: "x".repeat(pad) });
}
export const VALUE = oneKiBValue();

/** GET cycles `GET /v1.0/state/<store>/k<i>`; SET cycles `POST /v1.0/state/<store>` with `[{"key":"k<i>","value":<1 KiB>}]`. */
export function stateRequests(op: Op): RequestShape[] {
  return Array.from({ length: KEYS }, (_, i) =>
    op === "GET"
      ? { method: "GET", path: `/v1.0/state/${STORE}/k${i}` }
      : { method: "POST", path: `/v1.0/state/${STORE}`, body: `[{"key":"k${i}","value":${VALUE}}]` },
  );
}

/** Store every key once, so GETs find a value. */
export async function preload(origin: string): Promise<void> {
  for (const r of stateRequests("SET")) {
    const res = await fetch(origin + r.path, { method: "POST", body: r.body ?? "", headers: { "content-type": "application/json" } });
    if (res.status !== 204) throw new Error(`preload ${origin}: HTTP ${res.status}: ${await res.text()}`);
  }
}

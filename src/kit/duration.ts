/** Go-style durations ("1h2m3.5s", "500ms", "5s") as Dapr YAML and flags use them. */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parse a Go duration into milliseconds. Returns undefined when the text is not a duration.
 * @example parseDuration("1m30s") // 90000
 */
export function parseDuration(text: string): number | undefined {
  let s = text.trim();
  if (s === "0") return 0;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return sign * total;
}

/**
 * Parse a duration that may also be a bare integer in a given unit (Dapr accepts "5" as seconds in
 * many component fields, and as milliseconds in Resiliency policies).
 */
export function parseDurationOrNumber(text: string, bareUnitMs: number): number | undefined {
  if (/^-?\d+$/.test(text.trim())) return Number(text.trim()) * bareUnitMs;
  return parseDuration(text);
}

/** Render milliseconds the way Go prints a time.Duration ("5s", "500ms", "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = "";
  const h = Math.floor(rest / 3_600_000);
  if (h > 0) {
    out += `${h}h`;
    rest -= h * 3_600_000;
  }
  const m = Math.floor(rest / 60_000);
  if (m > 0 || h > 0) {
    out += `${m}m`;
    rest -= m * 60_000;
  }
  out += `${rest / 1000}s`;
  return out;
}

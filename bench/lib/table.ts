/** Aligned Markdown tables and number formatting for the console output. */

export type Cell = string | number;

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map((c) => (typeof c === "number" ? num(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`;
  return [line(headers), rule, ...text.map(line)].join("\n");
}

/** A number with sensible precision: 3 decimals under 10, 2 under 100, none above. */
export function num(n: number): string {
  if (Number.isNaN(n)) return "–";
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(a >= 1 ? 2 : 3);
}

/** A signed difference: "+0.123". */
export function signed(n: number): string {
  return Number.isNaN(n) ? "–" : `${n >= 0 ? "+" : ""}${num(n)}`;
}

export function verdict(pass: boolean, text: string): string {
  return `${pass ? "PASS" : "FAIL"} — ${text}`;
}

/** Shared fixtures for the resources loader's unit tests: temp dirs of YAML files, a load context, located problems. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { LoadContext, ResourceProblem } from "../../src/resources/types.js";

const dirs: string[] = [];
let cleanupRegistered = false;

/** A fresh temp directory holding `files` (name -> text), removed after the test file. */
export async function dirWith(files: Record<string, string>): Promise<string> {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    after(async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });
  }
  const dir = await mkdtemp(join(tmpdir(), "tandem-resources-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

export function loadContext(over: Partial<LoadContext> = {}): LoadContext {
  return { appId: "app1", namespace: "", env: {}, ...over };
}

/** The problems as comparable tuples: [file name relative to dir, document, field]. */
export function where(problems: readonly ResourceProblem[], dir: string): [string, number | undefined, string | undefined][] {
  return problems.map((p) => [p.file.startsWith(dir) ? p.file.slice(dir.length + 1) : p.file, p.document, p.field]);
}

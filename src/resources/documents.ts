/**
 * Reads the YAML documents of resource directories in daprd's order: directory order, then file
 * name order (non-recursive, `*.yaml`/`*.yml` only), then document order within a file.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ProblemSink } from "./decode.js";
import type { ResourceProblem } from "./types.js";

/** One YAML document: its file, its 1-based position in the file, and its parsed value. */
export interface RawDocument {
  readonly file: string;
  readonly document: number;
  readonly value: unknown;
}

/** daprd's `utils.IsYaml`: the extension, case-insensitively. */
export function isYamlFile(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith(".yaml") || lower.endsWith(".yml");
}

/**
 * Parse the documents of one YAML text. Empty documents (a trailing `---`) are dropped but still
 * counted, so document numbers match what a reader counts in the file.
 */
export function parseDocuments(file: string, text: string, problems: ResourceProblem[]): RawDocument[] {
  const out: RawDocument[] = [];
  // intAsBigInt keeps integers beyond 2^53 exact when they are rendered back as strings.
  // merge: `<<` merge keys work as in Go's YAML (YAML 1.1), which Dapr users may rely on.
  const docs = parseAllDocuments(text, { intAsBigInt: true, prettyErrors: true, merge: true });
  docs.forEach((doc, i) => {
    const sink = new ProblemSink(file, i + 1, problems);
    const [firstError] = doc.errors;
    if (firstError !== undefined) {
      // Later errors of a document mostly follow from the first; one problem per document.
      sink.report(undefined, `invalid YAML: ${(firstError.message.split("\n")[0] ?? "").replace(/:$/, "")}`);
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    out.push({ file, document: i + 1, value });
  });
  return out;
}

export interface DirectoryRead {
  readonly documents: RawDocument[];
  /** Files that were not YAML and were skipped (daprd warns about them). */
  readonly skipped: string[];
}

/** Read every directory; a missing directory or unreadable file is a problem. */
export async function readResourceDirectories(paths: readonly string[], problems: ResourceProblem[]): Promise<DirectoryRead> {
  const documents: RawDocument[] = [];
  const skipped: string[] = [];
  for (const dir of paths) {
    let names: string[];
    try {
      const info = await stat(dir);
      if (!info.isDirectory()) {
        problems.push({ file: dir, message: "the resources path is not a directory", ignorable: false });
        continue;
      }
      names = await readdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const message = code === "ENOENT" ? "the resources directory does not exist" : `cannot read the resources directory: ${(err as Error).message}`;
      problems.push({ file: dir, message, ignorable: false });
      continue;
    }
    // os.ReadDir order: by file name, byte-wise.
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const file = join(dir, name);
      let isFile: boolean;
      try {
        isFile = (await stat(file)).isFile();
      } catch {
        // A dangling symlink or a file removed while reading: nothing to load.
        continue;
      }
      if (!isFile) continue;
      if (!isYamlFile(name)) {
        skipped.push(file);
        continue;
      }
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        problems.push({ file, message: `cannot read the file: ${(err as Error).message}`, ignorable: false });
        continue;
      }
      documents.push(...parseDocuments(file, text, problems));
    }
  }
  return { documents, skipped };
}

/**
 * Watches resource directories for hot reload: one `fs.watch` per directory, changes to YAML files
 * only, debounced so a burst of writes (an editor's save, a `cp *.yaml`) calls back once.
 */
import { type FSWatcher, watch } from "node:fs";
import { isYamlFile } from "./documents.js";

export interface WatchOptions {
  /** Quiet time after the last change before `onChange` runs; default 200 ms. */
  readonly debounceMs?: number;
  /** Called when a directory cannot be watched (missing, removed, out of watches). */
  readonly onError?: (dir: string, err: Error) => void;
}

/**
 * Call `onChange` once after YAML files in `paths` change. The runtime reloads, diffs and keeps the
 * running configuration when the new files are bad.
 * @example
 * const watcher = watchResources(["./components"], () => void reload());
 * // later
 * watcher.close();
 */
export function watchResources(paths: readonly string[], onChange: () => void, opts: WatchOptions = {}): { close(): void } {
  const debounceMs = opts.debounceMs ?? 200;
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = (filename: string | null): void => {
    // Without a file name (some platforms) the change may be ours: reload to be safe.
    if (closed || (filename !== null && !isYamlFile(filename))) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
  };

  for (const dir of paths) {
    try {
      const w = watch(dir, (_event, filename) => changed(filename));
      w.on("error", (err) => opts.onError?.(dir, err));
      watchers.push(w);
    } catch (err) {
      opts.onError?.(dir, err as Error);
    }
  }

  return {
    close(): void {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/** One private server per test process: started on first use, stopped when the test file ends. */
import { after } from "node:test";

export function suiteServer<T extends { stop(): Promise<unknown> }>(start: () => Promise<T>): () => Promise<T> {
  let server: Promise<T> | undefined;
  after(async () => {
    if (server === undefined) return;
    const s = await server.catch(() => undefined);
    server = undefined;
    await s?.stop();
  });
  return () => (server ??= start());
}

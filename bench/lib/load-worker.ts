/**
 * Entry of the load-generator process (forked by load-client.ts): runs one LoadJob per message
 * and reports window events and the result over IPC, so the generator never shares an event loop
 * (or a CPU account) with the processes it measures.
 */
import { runLoad, type LoadJob } from "./load-gen.js";

process.on("message", ({ id, job }: { id: number; job: LoadJob }) => {
  runLoad(
    job,
    (event) => process.send?.({ id, event }),
    (progress) => process.send?.({ id, progress }),
  ).then(
    (result) => process.send?.({ id, result }),
    (err: unknown) => process.send?.({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.once("disconnect", () => process.exit(0));
process.send?.({ ready: true });

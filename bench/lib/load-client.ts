/** The orchestrator's side of the load generator: one forked process, one job at a time. */
import { fork, type ChildProcess } from "node:child_process";
import type { LoadEvent, LoadJob, LoadResult } from "./load-gen.js";

type Message = { ready: true } | { id: number; event: LoadEvent } | { id: number; progress: number } | { id: number; result: LoadResult } | { id: number; error: string };

export class LoadGenerator {
  private jobs = 0;

  private constructor(private readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Fork bench/lib/load-worker.ts (with this process's --import tsx) and wait until it listens. */
  static async start(): Promise<LoadGenerator> {
    const child = fork(new URL("./load-worker.ts", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`load generator exited (${code})`)));
    });
    return new LoadGenerator(child);
  }

  /**
   * Run one job; `onEvent` is called as the measured window opens and closes, `onProgress` with the
   * running count of 2xx answers when the job sets `progressMs`.
   */
  run(job: LoadJob, onEvent: (e: LoadEvent) => void, onProgress?: (okTotal: number) => void): Promise<LoadResult> {
    const id = ++this.jobs;
    return new Promise((resolve, reject) => {
      const onMessage = (m: Message) => {
        if (!("id" in m) || m.id !== id) return;
        if ("event" in m) onEvent(m.event);
        else if ("progress" in m) onProgress?.(m.progress);
        else if ("result" in m) finish(() => resolve(m.result));
        else if ("error" in m) finish(() => reject(new Error(`load generator: ${m.error}`)));
      };
      const onExit = (code: number | null) => finish(() => reject(new Error(`load generator exited (${code})`)));
      const finish = (then: () => void) => {
        this.child.off("message", onMessage);
        this.child.off("exit", onExit);
        then();
      };
      this.child.on("message", onMessage);
      this.child.once("exit", onExit);
      this.child.send({ id, job });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** A counting semaphore: `acquire()` resolves with a release function once a slot is free. */
export class Semaphore {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(slots: number) {
    this.free = slots;
  }

  acquire(): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => this.waiters.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    };
  }
}

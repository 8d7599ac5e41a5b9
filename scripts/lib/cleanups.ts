// What a run must undo when it ends (stop btcd and the hub, remove a data directory), registered as
// it goes and run newest first. The helpers in scripts/lib take anything with `teardown(fn)`: a tap
// Test in the tests, a Cleanups in the demo and the benchmarks.

export interface Teardown { teardown (fn: () => Promise<void> | void): void }

export class Cleanups implements Teardown {
  private readonly fns: Array<() => Promise<void> | void> = []

  teardown (fn: () => Promise<void> | void): void { this.fns.push(fn) }

  push (...fns: Array<() => Promise<void> | void>): void { this.fns.push(...fns) }

  /** Runs every cleanup, newest first; one that fails does not stop the others (best effort). */
  async run (): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) { try { await fn() } catch { /* best effort */ } }
  }
}

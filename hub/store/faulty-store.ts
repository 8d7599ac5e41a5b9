// Failure and stall injection around any Store, for the persist-before-send tests (scenario 1) and
// crash-point tests (scenario 3). It sits in front of the real store: a failed write never reaches
// it, a stalled write reaches it only when released, in order.
import { StoreError, type IterateOptions, type Store, type StoreOp } from './store.ts'

interface Held { readonly ops: readonly StoreOp[]; readonly index: number; readonly resolve: () => void; readonly reject: (e: unknown) => void }

export class FaultyStore implements Store {
  private failures = 0 // 0 or 1
  private failure: StoreError | null = null
  private stalled = false
  private held: Held[] = []
  private stallWaiters: Array<{ count: number; resolve: () => void }> = []
  /** Every write() call, in order, with whether it reached the inner store. */
  readonly log: Array<{ readonly ops: readonly StoreOp[]; outcome: 'committed' | 'failed' | 'pending' }> = []
  /** Called before each write is passed on (or failed); lets a test act at an exact write point. */
  onWrite: ((ops: readonly StoreOp[], index: number) => void) | null = null

  constructor (readonly inner: Store) {}

  /** The next write rejects with a StoreError('write_failed') and does not reach the inner store; as
   *  with a real store (store.ts contract), every write after it rejects with 'store_failed' and does
   *  not reach it either. Reopening = a new FaultyStore over the same inner store. */
  failNext (): void { this.failures = 1 }

  /** Hold every write from now on until release(). */
  stall (): void { this.stalled = true }

  /** Pass the held writes on to the inner store, in order, and stop holding. */
  release (): void {
    this.stalled = false
    const held = this.held
    this.held = []
    for (const h of held) this.forward(h.ops, h.index).then(h.resolve, h.reject)
  }

  /** Writes waiting for release(). */
  get stalledCount (): number { return this.held.length }

  /** Resolves once at least `count` writes are held. */
  waitForStalled (count: number): Promise<void> {
    if (this.held.length >= count) return Promise.resolve()
    return new Promise(resolve => this.stallWaiters.push({ count, resolve }))
  }

  /** Writes that reached the inner store. */
  get committedWrites (): number { return this.log.filter(e => e.outcome === 'committed').length }

  get (key: string): Promise<Uint8Array | undefined> { return this.inner.get(key) }
  iterate (prefix: string, opts?: IterateOptions): AsyncIterable<readonly [string, Uint8Array]> { return this.inner.iterate(prefix, opts) }
  close (): Promise<void> { return this.inner.close() }

  write (ops: readonly StoreOp[]): Promise<void> {
    const index = this.log.length
    const entry = { ops, outcome: 'pending' as 'committed' | 'failed' | 'pending' }
    this.log.push(entry)
    this.onWrite?.(ops, index)
    if (this.failure !== null) {
      // The Store contract (store.ts): after a failed write the store refuses every later one, so a
      // write issued behind the failed one (a pipelined driver) can never become durable without it.
      entry.outcome = 'failed'
      return Promise.reject(new StoreError('store_failed', 'an earlier write failed; reopen the store', { cause: this.failure }))
    }
    if (this.failures > 0) {
      this.failures--
      entry.outcome = 'failed'
      this.failure = new StoreError('write_failed', `injected failure (write #${index})`)
      return Promise.reject(this.failure)
    }
    if (this.stalled) {
      return new Promise<void>((resolve, reject) => {
        this.held.push({ ops, index, resolve, reject })
        for (const w of this.stallWaiters.filter(w => this.held.length >= w.count)) w.resolve()
        this.stallWaiters = this.stallWaiters.filter(w => this.held.length < w.count)
      })
    }
    return this.forward(ops, index)
  }

  private async forward (ops: readonly StoreOp[], index: number): Promise<void> {
    const entry = this.log[index]!
    try {
      await this.inner.write(ops)
      entry.outcome = 'committed'
    } catch (e) {
      entry.outcome = 'failed'
      throw e
    }
  }
}

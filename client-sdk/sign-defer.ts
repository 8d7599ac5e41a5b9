// When a channel driver signs (ports.defer, host/channel): at once (a microtask) or after the
// current event-loop turn (setImmediate). The store merges writes by group commit: the first write
// of an idle store goes out on the next setImmediate (host/store/group-commit.ts), and the driver asks
// to defer the signature only after the step's own write was handed in. So:
//
// - no write from an earlier turn in flight (the store is idle): sign at once. The signature's write
//   then joins the batch of this turn's writes — e.g. a fulfil's preimage and the commitment_signed
//   after it cost one fsync, not two, and go out together.
// - a write from an earlier turn still in flight (a batch is on its way to disk): new writes wait for
//   it anyway, so waiting for the end of the turn costs nothing, and every message read in this
//   turn goes into one commitment_signed (fewer signatures under load).
const nextTurn: (fn: () => void) => void = typeof globalThis.setImmediate === 'function'
  ? fn => { setImmediate(fn) }
  : fn => { setTimeout(fn, 0) }

export class SignDefer {
  private inFlight = 0
  private thisTurn = 0
  private turnEndScheduled = false

  /** Wraps a store write of a channel (so the count knows it). */
  async write (work: () => Promise<void>): Promise<void> {
    this.inFlight++
    this.thisTurn++
    if (!this.turnEndScheduled) {
      this.turnEndScheduled = true
      nextTurn(() => { this.thisTurn = 0; this.turnEndScheduled = false })
    }
    try {
      await work()
    } finally {
      this.inFlight--
      // A write cannot be durable in the turn it was handed in (group commit starts on setImmediate);
      // this only keeps the count sane for stores that are faster than that.
      this.thisTurn = Math.min(this.thisTurn, this.inFlight)
    }
  }

  /** ports.defer for every channel of the client. */
  readonly defer = (fn: () => void): void => {
    if (this.inFlight > this.thisTurn) nextTurn(fn)
    else queueMicrotask(fn)
  }
}

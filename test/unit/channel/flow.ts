// One payment A → B through the whole commitment dance, as a list of named atomic actions. Scenario
// tests cut into this list: stall or crash a store at an action, disconnect before or after it.
import { Pair, type Party } from './harness.ts'

export interface Action {
  name: string
  /** Which party acts (whose store writes, whose messages leave). */
  actor: 'A' | 'B'
  /** The message this action sends or receives, and how (for scenario 2's names). */
  message: string
  run: (p: Pair) => void
  /** Durable writes the actor makes (the persistence contract). */
  writes: number
}

export const AMOUNT = 7_000_000

const actor = (p: Pair, a: 'A' | 'B'): Party => (a === 'A' ? p.a : p.b)
const deliver = (to: 'A' | 'B', message: string, writes: number): Action =>
  ({ name: `${to} receives ${message}`, actor: to, message, writes, run: p => { const m = p.deliver(actor(p, to)); if (m?.type !== message) throw new Error(`expected ${message}, got ${m?.type}`) } })

/** A pays B: add, sign both ways, fulfill, sign both ways. */
export const PAYMENT_FLOW: Action[] = [
  { name: 'A adds an HTLC', actor: 'A', message: 'update_add_htlc', writes: 0, run: p => { p.add(p.a, AMOUNT) } },
  deliver('B', 'update_add_htlc', 0),
  { name: 'A signs', actor: 'A', message: 'commitment_signed', writes: 1, run: p => { p.sign(p.a) } },
  deliver('B', 'commitment_signed', 1),
  deliver('A', 'revoke_and_ack', 1),
  { name: 'B signs', actor: 'B', message: 'commitment_signed', writes: 1, run: p => { p.sign(p.b) } },
  deliver('A', 'commitment_signed', 1),
  deliver('B', 'revoke_and_ack', 1),
  { name: 'B fulfills', actor: 'B', message: 'update_fulfill_htlc', writes: 1, run: p => { p.fulfill(p.b, 0) } },
  deliver('A', 'update_fulfill_htlc', 1),
  { name: 'B signs the fulfill', actor: 'B', message: 'commitment_signed', writes: 1, run: p => { p.sign(p.b) } },
  deliver('A', 'commitment_signed', 1),
  deliver('B', 'revoke_and_ack', 1),
  { name: 'A signs the fulfill', actor: 'A', message: 'commitment_signed', writes: 1, run: p => { p.sign(p.a) } },
  deliver('B', 'commitment_signed', 1),
  deliver('A', 'revoke_and_ack', 1),
]

/** The same with a fail instead of a fulfill (B fails the HTLC back). */
export const FAIL_FLOW: Action[] = PAYMENT_FLOW.map(a =>
  a.name === 'B fulfills'
    ? { name: 'B fails', actor: 'B', message: 'update_fail_htlc', writes: 0, run: (p: Pair) => { p.fail(p.b, 0) } }
    : a.name === 'A receives update_fulfill_htlc' ? deliver('A', 'update_fail_htlc', 0) : a)

/** Mirror a flow: B pays A. */
export function reversed (flow: Action[]): Action[] {
  const swap = (x: 'A' | 'B'): 'A' | 'B' => (x === 'A' ? 'B' : 'A')
  return flow.map(a => ({
    ...a,
    actor: swap(a.actor),
    name: a.name.replace(/\b[AB]\b/g, m => swap(m as 'A' | 'B')),
    run: (p: Pair) => a.run(swapped(p)),
  }))
}

/** A view of the pair with the roles of A and B exchanged (for running mirrored flows). */
function swapped (p: Pair): Pair {
  return new Proxy(p, {
    get (target, key, recv) {
      if (key === 'a') return target.b
      if (key === 'b') return target.a
      const v = Reflect.get(target, key, recv)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}

/** Drives the channel to quiescence: settle, then fulfill everything settleable, until no HTLC remains. */
export function finish (p: Pair): void {
  for (let i = 0; i < 20; i++) {
    p.settle()
    const todo = [...p.settleable(p.a).map(id => [p.a, id] as const), ...p.settleable(p.b).map(id => [p.b, id] as const)]
    const left = (p.a.state.localCommit?.spec.htlcs.length ?? 0) + (p.b.state.localCommit?.spec.htlcs.length ?? 0)
    if (todo.length === 0 && left === 0) return
    for (const [who, id] of todo) p.fulfill(who, id)
  }
  p.settle()
}

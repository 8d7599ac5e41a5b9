// Crash injection for the SDK's crash tests (test/chaos/sdk-kill-*.test.ts): with
//   SDK_CRASH_AT=<before|after>:<point>:<n>
// the process SIGKILLs itself just before (or just after) the n-th time (1-based) it reaches <point>.
// No cleanup runs: exactly what a power cut or the OOM killer does. Unset (and in a browser, which
// has no process to kill), every call is a no-op.
//
// The points, by name (each a durable write of the client, or the delivery of an event):
//   persist:<kind>      a channel write (channels.ts), named like the hub's (hub/crash-points.ts):
//                       <kind> is the first monitor update in the batch, or `state` when it has none.
//                       The batch also carries the PaymentBook's records and events (payments.ts):
//     persist:remote_commitment   before our commitment_signed leaves (a payment's pending record rides here)
//     persist:local_commitment    before our revoke_and_ack leaves
//     persist:revocation          the hub's revoke_and_ack stored (then htlc_received / htlc_failed)
//     persist:preimage            a preimage learned (payer: the payment succeeded, payment_sent) or
//                                 about to be sent (payee: the invoice paid, payment_received)
//   record:payment      a payment's outcome written on its own (a failure; a success learned on-chain)
//   record:invoice      an invoice written on its own (created, cancelled, or its paid mark when no
//                       channel batch took it)
//   event:deliver       an event handed to the application's listeners (before: not yet delivered;
//                       after: every listener returned, the acknowledgement not yet written)
//   event:ack           acknowledgements written on their own
// Example: SDK_CRASH_AT=after:persist:preimage:1 kills a payee right after the batch that marks its
// first paid invoice, before the fulfil leaves and before payment_received is delivered.
type Spec = { phase: 'before' | 'after'; point: string; n: number }

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
const spec = parse(env?.SDK_CRASH_AT)
const seen = new Map<string, number>()

function parse (v: string | undefined): Spec | null {
  if (v === undefined || v === '') return null
  const m = /^(before|after):([a-z_]+(?::[a-z_]+)?):(\d+)$/.exec(v)
  if (m === null) throw new Error(`SDK_CRASH_AT: expected <before|after>:<point>:<n>, got ${JSON.stringify(v)}`)
  return { phase: m[1] as 'before' | 'after', point: m[2]!, n: Number(m[3]) }
}

/** Call with 'before' right before a durable write (or a delivery) and 'after' right after it. */
export function crashPoint (phase: 'before' | 'after', point: string): void {
  if (spec === null || spec.point !== point) return
  if (phase === 'before') seen.set(point, (seen.get(point) ?? 0) + 1)
  if (spec.phase === phase && seen.get(point) === spec.n) {
    const p = (globalThis as { process?: { pid: number; kill (pid: number, signal: string): void; stderr?: { write (s: string): void } } }).process
    p?.stderr?.write(`SDK_CRASH_AT ${phase}:${point}:${spec.n}: SIGKILL\n`)
    p?.kill(p.pid, 'SIGKILL')
  }
}

// Crash injection for the crash tests (scenario 3: "process kill at every durable write"). The hub
// reads HUB_CRASH_AT, an SDK client SDK_CRASH_AT, each of the form
//   <before|after>:<point>:<n>
// and the process SIGKILLs itself just before (or just after) the n-th time (1-based) it reaches
// <point>. No cleanup runs: exactly what a power cut or the OOM killer does. Unset, and wherever there
// is no process to kill (a browser), every call is a no-op.
//
// The points, by name (each a durable write, or the SDK's delivery of an event):
//   persist:<kind>          a channel write (host/channel/persist.ts), hub and SDK alike. <kind> is the
//                           first monitor update in the batch, or `state` when it carries none:
//     persist:funding             funding_created/funding_signed stored (channel exists from here)
//     persist:remote_commitment   before our commitment_signed leaves (an SDK payment's pending record rides here)
//     persist:local_commitment    before our revoke_and_ack leaves
//     persist:revocation          the peer's revoke_and_ack stored (then htlc_received/htlc_failed)
//     persist:preimage            a preimage learned (the peer's update_fulfill_htlc; an SDK payer's
//                                 payment succeeded, payment_sent) or about to be sent (an SDK payee's
//                                 invoice paid, payment_received)
//     persist:closing_signed      a closing_signed we send / the closing agreement
//     persist:force_close         the channel failed
//     persist:state               channel_ready, shutdown, ... (state only)
//   Hub only (hub/router/circuits.ts):
//     circuit:forward         the router's circuit, before the downstream update_add_htlc is sent
//     circuit:fulfilled       downstream fulfilled: preimage recorded, before the upstream fulfill
//     circuit:failed          downstream failed: recorded, before the upstream fail
//   Hub only (hub/router/holds.ts):
//     hold:held               a payment held for an offline payee, before payment_held is sent
//     hold:failed             a hold that ended (deadline, caps): recorded, before the upstream fail
//   Hub only (hub/audit/anchoring.ts):
//     anchor:carrier          the anchoring transaction is built (the wallet stored it); its record as
//                             the anchor's carrier is written next, then it is broadcast
//   Hub only (hub/settlement/coordinator.ts, a payout batch's record, hub/settlement/record.ts):
//     settle:negotiating      before the first splice_init of a round
//     settle:signed           every peer signed: the signed transaction, before the hub's tx_signatures leave
//     settle:broadcast        handed to our node
//     settle:confirmed        at settlement.finalityDepth (also settle:abandoned: no round left)
//   SDK only (client-sdk/payments.ts, client-sdk/event-outbox.ts):
//     record:payment          a payment's outcome written on its own (a failure; a success learned on-chain)
//     record:invoice          an invoice written on its own (created, cancelled, or its paid mark when
//                             no channel batch took it)
//     event:deliver           an event handed to the application's listeners (before: not yet
//                             delivered; after: every listener returned, the acknowledgement not yet written)
//     event:ack               acknowledgements written on their own
//     stream:tick             a stream tick written (client-sdk/stream.ts): new, its next attempt, paid or failed
// Examples: HUB_CRASH_AT=before:persist:local_commitment:3 kills the hub right before its third
// revoke_and_ack-enabling write reaches the store; SDK_CRASH_AT=after:persist:preimage:1 kills a payee
// right after the batch that marks its first paid invoice, before the fulfil leaves and before
// payment_received is delivered.

/** Call with 'before' right before a durable write (or a delivery) and 'after' right after it. */
export type CrashPoint = (phase: 'before' | 'after', point: string) => void

type Spec = { phase: 'before' | 'after'; point: string; n: number }

/** What a process offers here; absent in a browser (then nothing is ever armed). */
interface ProcessLike {
  env?: Record<string, string | undefined>
  pid: number
  kill (pid: number, signal: string): void
  stderr?: { write (s: string): void }
}
const proc = (globalThis as { process?: ProcessLike }).process

const armed = new Map<string, CrashPoint>()

/** The crash points armed by the environment variable `variable`: one instance per variable, so
 *  every module of the hub (or of the SDK) counts the same occurrences. Throws on a malformed value. */
export function crashPoints (variable: string): CrashPoint {
  let cp = armed.get(variable)
  if (cp === undefined) armed.set(variable, cp = arm(variable, parse(variable, proc?.env?.[variable])))
  return cp
}

function parse (variable: string, v: string | undefined): Spec | null {
  if (v === undefined || v === '') return null
  const m = /^(before|after):([a-z_]+(?::[a-z_]+)?):(\d+)$/.exec(v)
  if (m === null) throw new Error(`${variable}: expected <before|after>:<point>:<n>, got ${JSON.stringify(v)}`)
  return { phase: m[1] as 'before' | 'after', point: m[2]!, n: Number(m[3]) }
}

function arm (variable: string, spec: Spec | null): CrashPoint {
  if (spec === null || proc === undefined) return () => {}
  const seen = new Map<string, number>()
  return (phase, point) => {
    if (spec.point !== point) return
    if (phase === 'before') seen.set(point, (seen.get(point) ?? 0) + 1)
    if (spec.phase === phase && seen.get(point) === spec.n) {
      proc.stderr?.write(`${variable} ${phase}:${point}:${spec.n}: SIGKILL\n`)
      proc.kill(proc.pid, 'SIGKILL')
    }
  }
}

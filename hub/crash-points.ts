// Crash injection for scenario 3 ("process kill at every durable write"): with
//   HUB_CRASH_AT=<before|after>:<point>:<n>
// the hub SIGKILLs itself just before (or just after) the n-th time (1-based) it reaches <point>.
// No cleanup runs: exactly what a power cut or the OOM killer does.
//
// The write points (every durable write the hub makes), by name:
//   persist:<kind>          a channel write (hub/channels/manager.ts). <kind> is the first monitor
//                           update in the batch, or `state` when it carries none:
//     persist:funding             funding_created/funding_signed stored (channel exists from here)
//     persist:remote_commitment   before our commitment_signed leaves
//     persist:local_commitment    before our revoke_and_ack leaves
//     persist:revocation          the peer's revoke_and_ack stored (then htlc_received/htlc_failed)
//     persist:preimage            a preimage learned (peer's update_fulfill_htlc) or about to be sent
//     persist:closing_signed      a closing_signed we send / the closing agreement
//     persist:force_close         the channel failed
//     persist:state               channel_ready, shutdown, ... (state only)
//   circuit:forward         the router's circuit, before the downstream update_add_htlc is sent
//   circuit:fulfilled       downstream fulfilled: preimage recorded, before the upstream fulfill
//   circuit:failed          downstream failed: recorded, before the upstream fail
// Example: HUB_CRASH_AT=before:persist:local_commitment:3 kills the hub right before its third
// revoke_and_ack-enabling write reaches the store.
const spec = parse(process.env.HUB_CRASH_AT)
const seen = new Map<string, number>()

function parse (v: string | undefined): { phase: 'before' | 'after'; point: string; n: number } | null {
  if (v === undefined || v === '') return null
  const m = /^(before|after):([a-z_]+(?::[a-z_]+)?):(\d+)$/.exec(v)
  if (m === null) throw new Error(`HUB_CRASH_AT: expected <before|after>:<point>:<n>, got ${JSON.stringify(v)}`)
  return { phase: m[1] as 'before' | 'after', point: m[2]!, n: Number(m[3]) }
}

/** Call with 'before' right before a durable write and 'after' right after it resolved. */
export function crashPoint (phase: 'before' | 'after', point: string): void {
  if (spec === null || spec.point !== point) return
  if (phase === 'before') seen.set(point, (seen.get(point) ?? 0) + 1)
  if (spec.phase === phase && seen.get(point) === spec.n) {
    process.stderr.write(`HUB_CRASH_AT ${phase}:${point}:${spec.n}: SIGKILL\n`)
    process.kill(process.pid, 'SIGKILL')
  }
}

export const crashInjectionActive = spec !== null

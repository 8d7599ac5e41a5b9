// What became of one add_htlc command, read from its own step (the driver's observer): the HTLC id
// it was given, or the error that refused it. A refusal is an emitted `command_failed`, which the
// step either returns at once or holds in the outbox behind an unacknowledged write; reading it from
// the step that made it attributes it to this command, whatever else is in flight.
import { channelError, type ChannelError } from '../errors.ts'
import type { Effect } from './effects.ts'
import type { ChannelState } from './state.ts'

export type AddOutcome =
  | { kind: 'added'; htlcId: number }
  | { kind: 'refused'; error: ChannelError }

export function addOutcome (before: ChannelState, after: ChannelState, effects: readonly Effect[]): AddOutcome {
  // BOLT #2: "MUST increase the value of `id` by 1 for each successive offer": an accepted add takes
  // the next id, a refused one changes nothing.
  if (after.nextLocalHtlcId === before.nextLocalHtlcId + 1) return { kind: 'added', htlcId: before.nextLocalHtlcId }
  const heldBefore = new Set(before.outbox)
  const emitted = [...effects, ...after.outbox.filter(o => !heldBefore.has(o)).map(o => o.effect)]
  for (const e of emitted) {
    if (e.kind === 'emit' && e.event.type === 'command_failed' && e.event.command === 'add_htlc') return {
      kind: 'refused', error: e.event.error,
    }
  }
  // Every refusing branch of addHtlc emits command_failed; a step that did neither is still not an
  // HTLC that left (total, so an observer never throws inside the driver).
  return { kind: 'refused', error: channelError('unexpected_message', 'the add_htlc step took no id', 'ignore') }
}

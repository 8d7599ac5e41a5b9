// The hub's coordination of one payout batch across its splice sessions (docs/DESIGN.md "Batched
// settlement"), pure: each channel's session reports to it, blocks pass, and it answers with what the
// host does to the channels. Stages:
//   negotiating   splice sessions running; each reports `session_complete` (the hub's machine asks for
//                 its witnesses: the transaction is final and its commitment_signed held)
//   released      every session complete: the held commitment_signed went out; peers sign
//   signed        every peer's tx_signatures is in: the host gives every session its witnesses
//   dropped       a peer failed before release: every session aborted, the batch to be rebuilt
//                 without it (a new round) or, after `maxRounds`, left for the next window
//   stuck         a peer failed after release (docs/DESIGN.md "Open"): nothing more is done here
export type Stage = 'negotiating' | 'released' | 'signed' | 'dropped' | 'stuck'

export interface BatchRound {
  txid: string
  channels: string[]
  stage: Stage
  round: number
  startHeight: number
  complete: string[]
  peerSigned: string[]
  /** Channels dropped in this round, and why. */
  dropped: Array<{ channelId: string; reason: string }>
}

export type CoordinatorInput =
  | { type: 'session_complete'; channelId: string; txid: string }
  | { type: 'peer_signed'; channelId: string }
  | { type: 'session_aborted'; channelId: string; reason: string }
  | { type: 'block'; height: number }

export type CoordinatorCommand =
  | { type: 'release'; channelId: string; txid: string }
  | { type: 'give_witnesses'; channelIds: string[] }
  | { type: 'abort'; channelId: string; reason: string }
  /** Plan the batch again with `channels` (the dropped ones wait for the next window). */
  | { type: 'rebuild'; channels: string[]; round: number }
  /** Leave the remaining payouts for the next window. */
  | { type: 'give_up'; reason: string }

export interface CoordinatorLimits { signTimeoutBlocks: number; maxRounds: number }

export function newRound (txid: string, channels: readonly string[], startHeight: number, round = 1): BatchRound {
  return { txid, channels: [...channels], stage: 'negotiating', round, startHeight, complete: [], peerSigned: [], dropped: [] }
}

export function coordinate (
  r: BatchRound, input: CoordinatorInput, limits: CoordinatorLimits,
): { round: BatchRound; commands: CoordinatorCommand[] } {
  const member = 'channelId' in input && r.channels.includes(input.channelId)
  if ('channelId' in input && !member) return { round: r, commands: [] }
  switch (input.type) {
    case 'session_complete': {
      if (r.stage !== 'negotiating') return { round: r, commands: [] }
      // A session that built another transaction cannot be part of this batch.
      if (input.txid !== r.txid) return drop(r, [{ channelId: input.channelId, reason: `built ${input.txid}, not the batch` }], limits)
      const complete = r.complete.includes(input.channelId) ? r.complete : [...r.complete, input.channelId]
      if (complete.length < r.channels.length) return { round: { ...r, complete }, commands: [] }
      return {
        round: { ...r, complete, stage: 'released' },
        commands: r.channels.map(channelId => ({ type: 'release' as const, channelId, txid: r.txid })),
      }
    }
    case 'peer_signed': {
      if (r.stage !== 'released') return { round: r, commands: [] }
      const peerSigned = r.peerSigned.includes(input.channelId) ? r.peerSigned : [...r.peerSigned, input.channelId]
      if (peerSigned.length < r.channels.length) return { round: { ...r, peerSigned }, commands: [] }
      return { round: { ...r, peerSigned, stage: 'signed' }, commands: [{ type: 'give_witnesses', channelIds: [...r.channels] }] }
    }
    case 'session_aborted':
      if (r.stage === 'negotiating') return drop(r, [{ channelId: input.channelId, reason: input.reason }], limits)
      if (r.stage === 'released') return {
        round: { ...r, stage: 'stuck', dropped: [{ channelId: input.channelId, reason: input.reason }] }, commands: [],
      }
      return { round: r, commands: [] }
    case 'block': {
      if (input.height - r.startHeight < limits.signTimeoutBlocks) return { round: r, commands: [] }
      if (r.stage === 'negotiating') {
        const late = r.channels.filter(c => !r.complete.includes(c))
        return drop(r, late.map(channelId => ({ channelId, reason: `not complete within ${limits.signTimeoutBlocks} blocks` })), limits)
      }
      if (r.stage === 'released') {
        const late = r.channels.filter(c => !r.peerSigned.includes(c))
        return {
          round: { ...r, stage: 'stuck', dropped: late.map(channelId => ({ channelId, reason: 'did not sign after release' })) },
          commands: [],
        }
      }
      return { round: r, commands: [] }
    }
  }
}

/** Drops `failed` before release: every session aborts (nothing of it is signed by anyone), and the
 *  batch is planned again with the others, within `maxRounds`. */
function drop (r: BatchRound, failed: Array<{ channelId: string; reason: string }>, limits: CoordinatorLimits): {
  round: BatchRound; commands: CoordinatorCommand[]
} {
  const out = new Set(failed.map(f => f.channelId))
  const rest = r.channels.filter(c => !out.has(c))
  const commands: CoordinatorCommand[] = r.channels.map(channelId => ({
    type: 'abort' as const, channelId, reason: out.has(channelId) ? failed.find(f => f.channelId === channelId)!.reason : 'batch rebuilt',
  }))
  if (rest.length > 0 && r.round < limits.maxRounds) commands.push({ type: 'rebuild', channels: rest, round: r.round + 1 })
  else commands.push({ type: 'give_up', reason: rest.length === 0 ? 'no channel left' : `${limits.maxRounds} rounds` })
  return { round: { ...r, stage: 'dropped', dropped: failed }, commands }
}

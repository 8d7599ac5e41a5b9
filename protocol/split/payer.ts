// The payer's side of a split as a pure machine (DESIGN.md "Splits"): step(split, input) → { split,
// effects }. The host (client-sdk/split-pay.ts) carries out the effects in order: `persist` first
// (the new state durable), then the messages. So the decision to release is on disk before any x
// leaves, and a payer that restarts finds either `released` (it sends the release again) or not (it
// aborts): never both.
//
//   locking  ─ a valid leg_locked for every leg, before release_by ─▶ released (send x to every leg)
//   locking  ─ release_by passed, or any leg failed ─────────────────▶ aborted  (send the signed abort)
//   released ─ never aborts: every leg is locked and claimable by its recipient
//
// A leg_locked that comes again (the recipient reconnected or restarted and asks again) is answered
// with what the split decided: the release for that leg, or the abort.
import type { Curve } from '../crypto/index.ts'
import { legLockedDigest, verifyDigest } from './statements.ts'

export interface PayerLeg {
  to: string
  amountMsat: number
  paymentHash: string
  /** sha256(r_i) (secrets.ts rCommitment): what the recipient's leg_locked must name. */
  rHash: string
  /** The recipient's leg_locked signature, once valid. */
  locked?: string
  outcome?: 'fulfilled' | 'failed'
}

export interface PayerSplit {
  splitId: string
  payer: string
  /** Seconds since 1970: released before this, or aborted. */
  releaseBy: number
  phase: 'locking' | 'released' | 'aborted'
  /** Why it was aborted. */
  reason?: string
  legs: PayerLeg[]
}

/** A leg_locked message as the hub relayed it (fields already schema-checked). */
export interface LegLockedClaim { index: number; paymentHash: string; amountMsat: number; rHash: string; signature: string }

export type PayerInput =
  | { kind: 'leg_locked'; claim: LegLockedClaim; nowSec: number }
  | { kind: 'leg_fulfilled'; index: number }
  | { kind: 'leg_failed'; index: number; reason: string }
  /** Time passes (and at a restart): past release_by, a split still locking aborts. */
  | { kind: 'tick'; nowSec: number }

export type PayerEffect =
  | { kind: 'persist' }
  | { kind: 'send_release'; index: number }
  | { kind: 'send_abort' }
  /** A claim that is not a valid leg_locked of this split (ignored; the host may log it). */
  | { kind: 'refused'; detail: string }

export interface Step { split: PayerSplit; effects: PayerEffect[] }

/** Every leg has its outcome: the split is over (all fulfilled, all failed, or, when a recipient did
 *  not claim a released leg before its expiry, some of each). */
export const isOver = (s: PayerSplit): boolean => s.legs.every(l => l.outcome !== undefined)

export function step (s: PayerSplit, input: PayerInput, curve?: Curve): Step {
  switch (input.kind) {
    case 'leg_locked': return legLocked(s, input.claim, input.nowSec, curve)
    case 'leg_fulfilled': return outcome(s, input.index, 'fulfilled')
    case 'leg_failed': {
      const r = outcome(s, input.index, 'failed')
      return r.split.phase === 'locking' ? abort(r.split, `leg ${input.index} failed before the release: ${input.reason}`) : r
    }
    case 'tick':
      return s.phase === 'locking' && input.nowSec > s.releaseBy
        ? abort(s, `not every leg was locked by release_by (${s.releaseBy} s since 1970)`)
        : { split: s, effects: [] }
  }
}

function legLocked (s: PayerSplit, c: LegLockedClaim, nowSec: number, curve?: Curve): Step {
  const leg = s.legs[c.index]
  const refuse = (detail: string): Step => ({ split: s, effects: [{ kind: 'refused', detail: `leg_locked of leg ${c.index}: ${detail}` }] })
  if (leg === undefined) return refuse(`the split has ${s.legs.length} legs`)
  if (c.paymentHash !== leg.paymentHash) return refuse('names another payment hash')
  if (c.amountMsat !== leg.amountMsat) return refuse(`names ${c.amountMsat} msat, the leg is ${leg.amountMsat} msat`)
  if (c.rHash !== leg.rHash) return refuse('names another leg secret (the sealed secret was replaced on the way)')
  const digest = legLockedDigest({
    splitId: s.splitId, index: c.index, paymentHash: c.paymentHash, amountMsat: c.amountMsat, rHash: c.rHash, payer: s.payer,
    recipient: leg.to,
  })
  if (!verifyDigest(digest, c.signature, leg.to, curve)) return refuse('the signature is not the recipient\'s')
  if (s.phase === 'released') return { split: s, effects: [{ kind: 'send_release', index: c.index }] }
  if (s.phase === 'aborted') return { split: s, effects: [{ kind: 'send_abort' }] }
  if (nowSec > s.releaseBy) return abort(s, `not every leg was locked by release_by (${s.releaseBy} s since 1970)`)
  const legs = s.legs.map((l, i) => i === c.index ? { ...l, locked: c.signature } : l)
  if (!legs.every(l => l.locked !== undefined)) return { split: { ...s, legs }, effects: [{ kind: 'persist' }] }
  return {
    split: { ...s, legs, phase: 'released' },
    effects: [{ kind: 'persist' }, ...legs.map((_, index) => ({ kind: 'send_release', index }) as const)],
  }
}

function outcome (s: PayerSplit, index: number, o: 'fulfilled' | 'failed'): Step {
  const leg = s.legs[index]
  if (leg === undefined || leg.outcome !== undefined) return { split: s, effects: [] }
  return { split: { ...s, legs: s.legs.map((l, i) => i === index ? { ...l, outcome: o } : l) }, effects: [{ kind: 'persist' }] }
}

function abort (s: PayerSplit, reason: string): Step {
  if (s.phase !== 'locking') return { split: s, effects: [] }
  return { split: { ...s, phase: 'aborted', reason }, effects: [{ kind: 'persist' }, { kind: 'send_abort' }] }
}

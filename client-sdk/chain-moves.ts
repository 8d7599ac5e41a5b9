// What the chain took from or gave to our channel balance, for the accounting export
// (client-sdk/accounting.ts, DESIGN.md "Accounting"): a splice-out (a payout to an address and our
// share of its fee), a splice-in (coins of our wallet added), a mutual close (the whole balance: what
// the closing transaction pays us, and the rest as fee), a force close (the whole balance of our latest
// commitment: what that commitment pays us, and the rest as fee). One record per splice or close,
// written when the channel reports it signed (a splice), agreed (a mutual close) or failed with a
// commitment to broadcast (a force close), and again at every start for what the
// stored channel states show, so a crash between the channel's write and this one loses no row:
//
//   chain-move/<channel>/<txid>               the record (a splice's RBF replacement is its own txid:
//                                             the record of the transaction replaced is deleted; a
//                                             force close's txid slot holds the channel id)
//   chain-move-at/<at ms>/<channel>/<txid>    '' (the export pages by time)
//
// Each record's amountMsat is what the balance moved, to the msat: a splice's contribution, a close's
// whole balance; onchainSat and feeMsat split it (amount = −(onchain·1000 + fee) when money leaves).
//
// A splice dropped because an input of its transaction was spent elsewhere (it can never confirm:
// protocol/channel/splice/double-spent.ts) has a `splice_dropped` record reversing its row: every
// amount the negative of the splice row's, `spentBy` the spending transaction. It is stored under
// `<txid>.dropped` in the txid slot, written when the channel reports the drop and again, if missing,
// at every start from the channel state's list of dropped candidates (SpliceState.dropped, stored in
// the write that drops one); a splice without a row (a stop before it was written) gets no reversal.
//
// After a force close, what the chain monitor saw (protocol/accounting/onchain.ts): an HTLC in flight
// that the chain gave back to us or that we claimed (`htlc_onchain`, its txid slot the payment hash),
// recorded when the monitor reports the HTLC resolved, and each of our claims (`sweep`, its own txid),
// recorded when the monitor reports every output resolved; both again, if missing, at every start
// (recordOnchainMoves).
import { z } from 'zod'
import { forceCloseAmounts } from '../protocol/accounting/force-close.ts'
import type { OnchainMove } from '../protocol/accounting/onchain.ts'
import type { ChannelState } from '../protocol/channel/index.ts'
import { del, keys, put, type Store, type StoreOp } from '../host/store/index.ts'
import { readRecord } from './records.ts'

export const chainMove = z.strictObject({
  /** When we first recorded it, ms since 1970. */
  at: z.number().int().min(0),
  kind: z.enum(['splice_out', 'splice_in', 'splice_dropped', 'close_mutual', 'close_force', 'htlc_onchain', 'sweep']),
  channelId: z.string().regex(/^[0-9a-f]{64}$/),
  /** The splice's, close's or claim's txid; a force close's channel id; an HTLC's payment hash. */
  txid: z.string().regex(/^[0-9a-f]{64}$/),
  amountMsat: z.number().int(),
  /** Negative only in a splice_dropped record (the reversed splice's, negated). */
  onchainSat: z.number().int(),
  feeMsat: z.number().int(),
  /** A splice_dropped record: the transaction that spent the splice's input ('unknown' if the host
   *  saw the spend only deeper than the blocks it looked at). */
  spentBy: z.string().regex(/^([0-9a-f]{64}|unknown)$/).optional(),
}).refine(m => m.kind === 'splice_dropped' || (m.onchainSat >= 0 && m.feeMsat >= 0), {
  message: 'onchainSat and feeMsat are negative only in a splice_dropped record',
})
export type ChainMove = z.infer<typeof chainMove>

/** The splices and the close a channel's stored state shows (the latest splice candidate: an RBF
 *  replaces the others; a mutual close once both signed it; a force close once the channel failed
 *  with a commitment of ours to broadcast). */
export function movesOf (s: ChannelState, at: number): ChainMove[] {
  const moves: ChainMove[] = []
  const last = s.splice?.candidates.at(-1)
  if (last?.signedTx !== undefined) {
    const contribution = last.contributionSat.local
    if (contribution < 0) {
      const onchainSat = (last.ownOutputs ?? []).reduce((t, o) => t + o.sats, 0)
      moves.push({
        at, kind: 'splice_out', channelId: s.channelId, txid: last.txid, amountMsat: contribution * 1000, onchainSat,
        feeMsat: -contribution * 1000 - onchainSat * 1000,
      })
    } else if (contribution > 0) {
      moves.push({
        at, kind: 'splice_in', channelId: s.channelId, txid: last.txid, amountMsat: contribution * 1000, onchainSat: contribution,
        feeMsat: 0,
      })
    }
  }
  const closing = s.closing.signedTx
  if (closing !== undefined && s.localCommit !== undefined) {
    const balanceMsat = s.localCommit.spec.toLocalMsat
    moves.push({
      at, kind: 'close_mutual', channelId: s.channelId, txid: closing.txid, amountMsat: -balanceMsat, onchainSat: closing.localSat,
      feeMsat: balanceMsat - closing.localSat * 1000,
    })
  }
  if (s.phase === 'failed' && s.localCommit !== undefined) {
    const f = forceCloseAmounts(s.setup.channelType, s.localCommit.spec, 'local', s.setup.isFunder, s.setup.local.dustLimitSat)
    moves.push({
      at, kind: 'close_force', channelId: s.channelId, txid: s.channelId, amountMsat: -f.balanceMsat, onchainSat: f.onchainSat,
      feeMsat: f.balanceMsat - f.onchainSat * 1000,
    })
  }
  return moves
}

/** Stores the moves a channel's state shows that are not stored yet; a splice candidate replaced by
 *  a newer one (RBF) loses its record (only one of them can confirm: the newest, BOLT #2); a dropped
 *  splice's record gets its reversal. */
export async function recordMoves (store: Store, s: ChannelState, now: number): Promise<void> {
  const ops: StoreOp[] = []
  for (const m of movesOf(s, now)) {
    if (await store.get(keys.chainMove(m.channelId, m.txid)) !== undefined) continue
    ops.push(put(keys.chainMove(m.channelId, m.txid), m), put(keys.chainMoveByTime(m.at, m.channelId, m.txid), ''))
  }
  for (const old of (s.splice?.candidates ?? []).slice(0, -1)) {
    const rec = await readRecord(store, keys.chainMove(s.channelId, old.txid), chainMove)
    if (rec !== undefined) ops.push(del(keys.chainMove(s.channelId, old.txid)), del(keys.chainMoveByTime(rec.at, s.channelId, old.txid)))
  }
  ops.push(...await droppedOps(store, s, now))
  if (ops.length > 0) await store.write(ops)
}

/** Where a dropped splice's reversal is stored: beside the splice's own record. */
export const droppedSlot = (txid: string): string => `${txid}.dropped`

/** The reversals, not stored yet, of the splices the state lists as dropped whose row is stored. */
async function droppedOps (store: Store, s: ChannelState, now: number): Promise<StoreOp[]> {
  const ops: StoreOp[] = []
  for (const d of s.splice?.dropped ?? []) {
    const slot = droppedSlot(d.txid)
    if (await store.get(keys.chainMove(s.channelId, slot)) !== undefined) continue
    const splice = await readRecord(store, keys.chainMove(s.channelId, d.txid), chainMove)
    if (splice === undefined || (splice.kind !== 'splice_in' && splice.kind !== 'splice_out')) continue
    const rec: ChainMove = {
      at: now, kind: 'splice_dropped', channelId: s.channelId, txid: d.txid, amountMsat: -splice.amountMsat,
      onchainSat: -splice.onchainSat, feeMsat: -splice.feeMsat, spentBy: d.spentBy,
    }
    ops.push(put(keys.chainMove(s.channelId, slot), rec), put(keys.chainMoveByTime(now, s.channelId, slot), ''))
  }
  return ops
}

/** Stores the on-chain outcomes of a force-closed channel (protocol/accounting/onchain.ts) not
 *  stored yet: an HTLC's under its payment hash, a sweep's under its txid. */
export async function recordOnchainMoves (store: Store, channelId: string, moves: readonly OnchainMove[], now: number): Promise<void> {
  const ops: StoreOp[] = []
  for (const m of moves) {
    const slot = m.kind === 'htlc_onchain' ? m.paymentHash : m.ref
    if (await store.get(keys.chainMove(channelId, slot)) !== undefined) continue
    const rec: ChainMove = {
      at: now, kind: m.kind, channelId, txid: slot, amountMsat: m.amountMsat, onchainSat: m.onchainSat, feeMsat: m.feeMsat,
    }
    ops.push(put(keys.chainMove(channelId, slot), rec), put(keys.chainMoveByTime(now, channelId, slot), ''))
  }
  if (ops.length > 0) await store.write(ops)
}

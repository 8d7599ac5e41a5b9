// Which HTLCs and balances a commitment contains: a commitment spec plus the updates applied to it.
// BOLT #2 "Normal Operation": "these updates apply to the *other node's* commitment transaction; the
// node only adds those updates to its own commitment transaction when the remote node acknowledges
// it has applied them via `revoke_and_ack`." Which update lists go into which commitment is decided
// by the caller (commit.ts); this file only applies them.
import type { Msat } from '../types.ts'
import type { CommitmentSpec, Htlc, Side, Update } from './state.ts'

/** The spec after applying `ours` (sent by us) and `theirs` (sent by the peer): adds first, then
 *  removals, then the last fee update. A balance may come out negative when a candidate add is more
 *  than its sender has: the add rules (reserve) refuse such a spec, so it never enters the state.
 *  Throws (a programmer error: removals are checked before they are accepted) if a removal names no
 *  HTLC. */
export function reduce (spec: CommitmentSpec, ours: readonly Update[], theirs: readonly Update[]): CommitmentSpec {
  let toLocal: number = spec.toLocalMsat
  let toRemote: number = spec.toRemoteMsat
  const htlcs: Htlc[] = [...spec.htlcs]
  let feerate = spec.feeratePerKw
  const addAll = (updates: readonly Update[]): void => {
    for (const u of updates) {
      if (u.kind !== 'add') continue
      htlcs.push(u.htlc)
      if (u.htlc.offerer === 'local') toLocal -= u.htlc.amountMsat
      else toRemote -= u.htlc.amountMsat
    }
  }
  // A removal sent by `remover` settles an HTLC the other side offered.
  const removeAll = (updates: readonly Update[], remover: Side): void => {
    const offerer: Side = remover === 'local' ? 'remote' : 'local'
    for (const u of updates) {
      if (u.kind !== 'fulfill' && u.kind !== 'fail') continue
      const i = htlcs.findIndex(h => h.offerer === offerer && h.id === u.id)
      if (i < 0) throw new Error(`reduce: ${u.kind} of unknown ${offerer} HTLC ${u.id}`)
      const h = htlcs[i]!
      htlcs.splice(i, 1)
      // A fulfill pays the HTLC to the side that removed it; a fail returns it to the offerer.
      const payee: Side = u.kind === 'fulfill' ? remover : offerer
      if (payee === 'local') toLocal += h.amountMsat
      else toRemote += h.amountMsat
    }
  }
  addAll(ours)
  addAll(theirs)
  removeAll(ours, 'local')
  removeAll(theirs, 'remote')
  for (const u of [...ours, ...theirs]) if (u.kind === 'fee') feerate = u.feeratePerKw
  return { htlcs, toLocalMsat: toLocal as Msat, toRemoteMsat: toRemote as Msat, feeratePerKw: feerate }
}

export function findHtlc (spec: CommitmentSpec, offerer: Side, id: number): Htlc | undefined {
  return spec.htlcs.find(h => h.offerer === offerer && h.id === id)
}

/** Total value in a spec: balances plus HTLCs. Always the channel capacity in msat. */
export function specTotalMsat (spec: CommitmentSpec): number {
  return spec.toLocalMsat + spec.toRemoteMsat + spec.htlcs.reduce((a, h) => a + h.amountMsat, 0)
}

/** Sum of the HTLCs `offerer` has in flight in a spec. */
export function inFlightMsat (spec: CommitmentSpec, offerer: Side): number {
  return spec.htlcs.reduce((a, h) => (h.offerer === offerer ? a + h.amountMsat : a), 0)
}

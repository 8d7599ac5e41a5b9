// What the chain did with a force-closed channel after its commitment confirmed, for the accounting
// export (DESIGN.md "Accounting"), read from the channel's chain monitor (protocol/monitor): the HTLCs
// in flight that the chain gave to a party, and the fees of each party's claims (sweeps).
//
// HTLC rows. A force close's close_force row (force-close.ts) takes the party's balance in the
// exporter's latest commitment; the HTLCs in flight in that commitment are not in it. An HTLC the
// party offered that is fulfilled has its payment row (the payment succeeded); one the party received
// that times out was never the party's. The two others leave the channel to the party on-chain:
//   - one the party offered that timed out (BOLT #5: "the HTLC output has timed out ... MUST spend the
//     output" by HTLC-timeout), back to the party;
//   - one the party received that it claimed with the preimage (HTLC-success), whose payment row
//     (payment_in) says it arrived.
// Each is an `htlc_onchain` row: −the HTLC's amount, `onchain_sat` its output in the exporter's
// commitment (BOLT #3: "amount_msat / 1000", rounded down; 0 if trimmed), `fee_msat` the rest, written
// once the claim with the preimage confirmed, or once the timeout is at the monitor's depth.
//
// Sweep rows. Every claim of the party that confirmed (a transaction spending an output of the
// commitment or of one of its second-stage transactions: the to_local sweep after its delay, an
// HTLC-success or HTLC-timeout transaction and the sweep of its output, a claim from the peer's
// commitment) is a `sweep` row: `amount_msat` 0 (the channel's balance does not move: the close rows
// took it), `fee_msat` the transaction's fee (what it spends less what it pays), `onchain_sat` what it
// pays that no other claim spends (what reached a wallet), `ref` its txid. So for a channel whose
// outputs are all swept, the close and HTLC rows' onchain_sat less the sweep rows' fees is the sweep
// rows' onchain_sat, to the satoshi: what reached the wallet.
import type { Htlc, Side } from '../channel/state.ts'
import { isTrimmed } from '../channel/fees.ts'
import type { MonitorKeys } from '../monitor/keys.ts'
import { resolve } from '../monitor/resolve.ts'
import type { MonitorState, SeenTx } from '../monitor/state.ts'

export interface OnchainMove {
  kind: 'htlc_onchain' | 'sweep'
  /** htlc_onchain: the channel id; sweep: the claim's txid. */
  ref: string
  /** htlc_onchain: the HTLC's payment hash; sweep: ''. */
  paymentHash: string
  amountMsat: number
  onchainSat: number
  feeMsat: number
}

/** The monitor's owner ('local') or its peer ('remote'): whose rows. */
export type Party = Side

/** The HTLCs of the owner's latest commitment that the chain gave to `party`, once final. */
export function htlcMoves (s: MonitorState, keys: MonitorKeys, party: Party): OnchainMove[] {
  const spec = s.local?.spec
  if (s.setup === undefined || spec === undefined) return []
  const setup = s.setup
  const inCommitment = new Map(spec.htlcs.map(h => [`${h.offerer}:${h.id}`, h]))
  const moves: OnchainMove[] = []
  for (const o of resolve(s, keys).outcomes) {
    const h: Htlc | undefined = inCommitment.get(`${o.htlc.offerer}:${o.htlc.id}`)
    // A claim with the preimage is final once seen (the preimage is known whatever a reorg does, as the
    // monitor's owner fulfils upstream at once); a timeout only at the monitor's depth.
    if (h === undefined || !(o.outcome === 'fulfilled' || o.final)) continue
    const toParty = (o.outcome === 'failed' && h.offerer === party) || (o.outcome === 'fulfilled' && h.offerer !== party)
    if (!toParty) continue
    const trimmed = isTrimmed(setup.channelType, h, 'local', setup.local.dustLimitSat, spec.feeratePerKw)
    const onchainSat = trimmed ? 0 : Math.floor(h.amountMsat / 1000)
    moves.push({
      kind: 'htlc_onchain', ref: s.channelId, paymentHash: h.paymentHash, amountMsat: -h.amountMsat, onchainSat,
      feeMsat: h.amountMsat - onchainSat * 1000,
    })
  }
  return moves
}

/**
 * The claims of `party` the monitor saw confirm, once every output is resolved (`s.closed`): the
 * owner's are the transactions paying its wallet (`config.sweepScript`) and those whose outputs its
 * claims spend; the peer's are the other spends of the commitment's outputs and of theirs. A claim
 * spending an output the monitor did not see (a wallet input) has no row: its fee is unknown.
 */
export function sweepMoves (s: MonitorState, party: Party): OnchainMove[] {
  if (!s.closed) return []
  const claims = s.seen.filter(t => t.stage > 0)
  const spentBy = new Map<string, SeenTx>()
  for (const t of claims) for (const i of t.inputs) spentBy.set(`${i.txid}:${i.vout}`, t)
  const owners = new Set<string>()
  // Newest stage first: a second-stage transaction is the owner's if a claim of the owner spends it.
  for (const t of [...claims].sort((a, b) => b.stage - a.stage)) {
    const paysOwner = t.outputs.some(o => o.script === s.config.sweepScript)
    const spentByOwner = t.outputs.some((_, vout) => {
      const by = spentBy.get(`${t.txid}:${vout}`)
      return by !== undefined && owners.has(by.txid)
    })
    if (paysOwner || spentByOwner) owners.add(t.txid)
  }
  const outputsOf = new Map(s.seen.map(t => [t.txid, t.outputs]))
  const moves: OnchainMove[] = []
  for (const t of claims) {
    if (owners.has(t.txid) !== (party === 'local')) continue
    const spent = t.inputs.map(i => outputsOf.get(i.txid)?.[i.vout]?.valueSat)
    if (spent.some(v => v === undefined)) continue
    const inSat = spent.reduce<number>((n, v) => n + (v ?? 0), 0)
    const outSat = t.outputs.reduce((n, o) => n + o.valueSat, 0)
    const keptSat = t.outputs.reduce((n, o, vout) => n + (spentBy.has(`${t.txid}:${vout}`) ? 0 : o.valueSat), 0)
    moves.push({ kind: 'sweep', ref: t.txid, paymentHash: '', amountMsat: 0, onchainSat: keptSat, feeMsat: (inSat - outSat) * 1000 })
  }
  return moves
}

// The splices and mutual closes of an account's channel in the hub's ledger (ledger.ts ledger-chain),
// so GET /accounts/:node_id/accounting has the rows the account's own export has (client-sdk/chain-moves.ts),
// from the hub's side of the same channel: the peer's contribution to a splice (what its balance moved),
// the payout and its share of the fee as negotiated (splice_negotiated), a mutual close's whole peer
// balance and what the closing transaction pays it, a force close's whole peer balance in the hub's
// latest commitment and what that commitment pays it (protocol/accounting/force-close.ts).
//
// Written when the channel reports the splice signed, the close agreed or the channel failed with a
// commitment to broadcast (each durable by then), in a write of its own: a hub that stops between the
// two lacks a splice's or mutual close's row (the account's own export has it); a force close's is
// written at the next start (rebuild) from the stored failed channel.
// A splice's RBF replacement replaces the row of the transaction it replaces. A splice dropped because
// an input of its transaction was spent elsewhere (protocol/channel/splice/double-spent.ts) gets a
// `splice_dropped` row reversing its row (every amount negated, `spent_by` the spending transaction),
// written when the channel reports the drop and again, if missing, at every start (rebuild) from the
// channel state's list of dropped candidates (SpliceState.dropped, stored in the write that drops one).
//
// After a force close, what the hub's chain monitor saw (protocol/accounting/onchain.ts, the account
// being the monitor's peer): an HTLC in flight the chain gave to the account (`htlc_onchain`, its
// payment hash in the txid slot), written when the monitor reports the HTLC resolved, and the
// account's claims the monitor saw (`sweep`), written when it reports every output resolved; both
// again, if missing, at every start (hub/main.ts). The hub's monitor stops following a channel once
// its own outputs and the HTLC outputs are resolved: a claim of the account after that (its delayed
// to_local, the sweep of its HTLC transaction's output) is in the account's own export only.
import { forceCloseAmounts } from '../../protocol/accounting/force-close.ts'
import { htlcMoves, sweepMoves } from '../../protocol/accounting/onchain.ts'
import { channelKeys } from '../../protocol/keys/channel.ts'
import { monitorKeys, type MonitorState } from '../../protocol/monitor/index.ts'
import { hexToBytes } from '../../protocol/types.ts'
import type { ChannelEvent, ChannelState } from '../../protocol/channel/index.ts'
import type { Txid } from '../../protocol/types.ts'
import type { ChannelListener, ManagedChannel } from '../channels/manager.ts'
import type { ChainEntry, Ledger } from './ledger.ts'

export class AccountChainMoves implements ChannelListener {
  /** The peer's fee share of each splice negotiated in this run, by txid. */
  private readonly peerFees = new Map<string, number>()
  /** The force-close rows being looked at or written (forceClose), one after another. */
  private forceCloses: Promise<void> = Promise.resolve()

  constructor (
    private readonly ledger: Pick<Ledger, 'recordChain' | 'accountChain'>, private readonly log: (e: Record<string, unknown>) => void,
  ) {}

  event (ch: ManagedChannel, e: ChannelEvent): void {
    if (e.type === 'splice_negotiated') { this.peerFees.set(e.txid, e.feeSat.remote); return }
    if (e.type === 'splice_signed') {
      this.splice(ch.peer, ch.state, e.txid).catch((err: unknown) => {
        this.log({ event: 'ledger_chain_not_recorded', channel_id: ch.channelId, txid: e.txid, detail: String(err) })
      })
      return
    }
    if (e.type === 'closing_agreed' && ch.state.localCommit !== undefined) {
      const balanceMsat = ch.state.localCommit.spec.toRemoteMsat
      void this.record({
        at: Date.now(), node: ch.peer, channel_id: ch.channelId, kind: 'close_mutual', txid: e.tx.txid, amount_msat: -balanceMsat,
        onchain_sat: e.tx.remoteSat, fee_msat: balanceMsat - e.tx.remoteSat * 1000,
      })
    }
    if (e.type === 'channel_failed' && e.broadcastOurCommitment) void this.forceClose(ch)
    if (e.type === 'splice_double_spent') void this.dropped(ch)
  }

  /** At start, before any channel runs: the force close of every stored failed channel and the
   *  reversal of every dropped splice whose row a stop between the channel's write and the row's kept
   *  from being written. */
  async rebuild (channels: readonly ManagedChannel[]): Promise<void> {
    for (const ch of channels) {
      await this.forceClose(ch)
      await this.dropped(ch)
    }
  }

  /** The reversal of each splice the channel state lists as dropped that has a row and no reversal
   *  yet; in the same queue as the force-close rows (each look reads the rows, then writes). */
  private dropped (ch: ManagedChannel): Promise<void> {
    const next = this.forceCloses.then(async () => {
      const dropped = ch.state.splice?.dropped ?? []
      if (dropped.length === 0) return
      const rows = (await this.ledger.accountChain(ch.peer, 0, Number.MAX_SAFE_INTEGER)).filter(r => r.channel_id === ch.channelId)
      for (const d of dropped) {
        const splice = rows.find(r => r.txid === d.txid && (r.kind === 'splice_in' || r.kind === 'splice_out'))
        if (splice === undefined || rows.some(r => r.txid === d.txid && r.kind === 'splice_dropped')) continue
        await this.record({
          at: Date.now(), node: ch.peer, channel_id: ch.channelId, kind: 'splice_dropped', txid: d.txid, amount_msat: -splice.amount_msat,
          onchain_sat: -splice.onchain_sat, fee_msat: -splice.fee_msat, spent_by: d.spentBy,
        })
      }
    })
    this.forceCloses = next.catch(() => {})
    return next
  }

  /** A failed channel's close_force row, unless it has one. One at a time: a channel can fail again
   *  (its peer's error after a restart) while the start's rebuild looks, and each row is keyed by its
   *  time, so two looks at once would write two rows. */
  private forceClose (ch: ManagedChannel): Promise<void> {
    const next = this.forceCloses.then(async () => {
      const entry = forceCloseEntry(ch)
      if (entry === undefined) return
      const rows = await this.ledger.accountChain(ch.peer, 0, Number.MAX_SAFE_INTEGER)
      if (!rows.some(r => r.kind === 'close_force' && r.channel_id === ch.channelId)) await this.record(entry)
    })
    this.forceCloses = next.catch(() => {})
    return next
  }

  /** The rows of what the chain did with a force-closed channel (`state`: its monitor's), each
   *  unless it has one; in the same queue as the force-close rows, after the channel's close_force row. */
  onchain (ch: ManagedChannel, state: MonitorState): Promise<void> {
    const next = this.forceCloses.then(async () => {
      const keys = monitorKeys(channelKeys(hexToBytes(ch.seed)))
      const moves = [...htlcMoves(state, keys, 'remote'), ...sweepMoves(state, 'remote')]
      if (moves.length === 0) return
      const rows = await this.ledger.accountChain(ch.peer, 0, Number.MAX_SAFE_INTEGER)
      // Only after a force close (the channel failed, or closed since: its monitor resolved everything).
      if (!rows.some(r => r.kind === 'close_force' && r.channel_id === ch.channelId)) return
      const have = new Set(rows.filter(r => r.channel_id === ch.channelId).map(r => `${r.kind}:${r.txid}`))
      for (const m of moves) {
        const txid = m.kind === 'htlc_onchain' ? m.paymentHash : m.ref
        if (have.has(`${m.kind}:${txid}`)) continue
        await this.record({
          at: Date.now(), node: ch.peer, channel_id: ch.channelId, kind: m.kind, txid, amount_msat: m.amountMsat,
          onchain_sat: m.onchainSat, fee_msat: m.feeMsat,
        })
      }
    })
    this.forceCloses = next.catch(() => {})
    return next
  }

  private async splice (peer: string, s: ChannelState, txid: Txid): Promise<void> {
    const candidates = s.splice?.candidates ?? []
    const c = candidates.find(x => x.txid === txid)
    const fee = this.peerFees.get(txid)
    if (c === undefined || fee === undefined || c.contributionSat.remote === 0) return
    const contribution = c.contributionSat.remote
    const base = { at: Date.now(), node: peer, channel_id: s.channelId, txid, amount_msat: contribution * 1000 }
    const entry: ChainEntry = contribution < 0
      ? { ...base, kind: 'splice_out', onchain_sat: -contribution - fee, fee_msat: fee * 1000 }
      : { ...base, kind: 'splice_in', onchain_sat: contribution, fee_msat: 0 }
    const others = new Set<string>(candidates.filter(x => x.txid !== txid).map(x => x.txid))
    const replaced = (await this.ledger.accountChain(peer, 0, Number.MAX_SAFE_INTEGER))
      .filter(r => r.channel_id === s.channelId && others.has(r.txid))
    await this.record(entry, replaced)
  }

  private async record (e: ChainEntry, replaces: ChainEntry[] = []): Promise<void> {
    try {
      await this.ledger.recordChain(e, replaces)
    } catch (err) {
      this.log({ event: 'ledger_chain_not_recorded', channel_id: e.channel_id, txid: e.txid, detail: String(err) })
    }
  }
}

/** A failed channel's force close as the peer's balance saw it: its side of the hub's latest commitment. */
function forceCloseEntry (ch: ManagedChannel): ChainEntry | undefined {
  const s = ch.state
  if (s.phase !== 'failed' || s.localCommit === undefined) return undefined
  const f = forceCloseAmounts(s.setup.channelType, s.localCommit.spec, 'remote', s.setup.isFunder, s.setup.local.dustLimitSat)
  return {
    at: Date.now(), node: ch.peer, channel_id: ch.channelId, kind: 'close_force', txid: ch.channelId, amount_msat: -f.balanceMsat,
    onchain_sat: f.onchainSat, fee_msat: f.balanceMsat - f.onchainSat * 1000,
  }
}

// Splicing, on the host side, for the hub and the SDK alike (protocol/channel/README.md "Host
// contract" item 8). The channel machine negotiates and signs; this answers what it asks of its host:
//
//   splice / splice_rbf        the owner's wish (out to an address, in from the wallet; an RBF the
//                              replaced splice's again) becomes our contribution: the fee from
//                              protocol/channel/splice/fees.ts, wallet coins chosen and reserved
//                              (confirmed ones: every coin the wallet holds is from a connected
//                              block), their whole previous transactions fetched
//   splice_requested           the owner's policy decides (`respond`): splice_respond or splice_reject
//   splice_sign_inputs         our coins in the transaction are locked durably in the wallet (until it,
//                              or a transaction spending the same funding output, confirms), then
//                              signed (P2WPKH, SIGHASH_ALL) → splice_witnesses
//   broadcast_splice           the transaction goes to the node; the machine issues it after the write
//                              that stores it, so it is broadcast only once it can never be forgotten
//   quiescence_started {seq}   a timer of QUIESCENCE_TIMEOUT_SECONDS → quiescence_timeout {seq}
//   each block, splice_signed  every pending candidate's depth on our node → splice_depth; a signed
//                              candidate our node does not know is broadcast again (a restart between
//                              the write and the broadcast, a reorg, a node that dropped it)
//   splice_aborted             reserved coins are freed, and locks of transactions that can no longer
//                              happen (the peer never got our signatures) are released
//   each block, a signed       an input other than the funding output spent by another transaction in
//   candidate our node lost    the chain: splice_double_spent at each depth of that spend, final at
//                              `finalityDepth` (the machine then drops the candidate); else broadcast
//   splice_double_spent        the wallet's lock of the dropped transaction is released
//
// The owner hears of the splice's progress through `progress`: negotiated, signed, confirmed (each new
// depth), locked, aborted, dropped (double-spent), and each broadcast.
import { DEFAULT_FINALITY_DEPTH, QUIESCENCE_TIMEOUT_SECONDS } from '../../protocol/limits.ts'
import { parseTx } from '../../protocol/tx/serialize.ts'
import { isFinal, type ChannelEvent, type ChannelState, type Effect } from '../../protocol/channel/index.ts'
import type { SpliceCommand } from '../../protocol/channel/splice/route.ts'
import { channelError, type ChannelError } from '../../protocol/errors.ts'
import type { BatchTerms } from '../../protocol/interactive-tx/index.ts'
import { err, ok, type Result } from '../../protocol/result.ts'
import { MAX_PREVTX_BYTES } from '../../protocol/limits.ts'
import { bytesToHex, type NodeId, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../chain/backend.ts'
import { broadcastTx } from '../chain/broadcast.ts'
import { random32 } from '../random.ts'
import type { Wallet } from '../wallet/wallet.ts'
import type { ChannelDriver } from './driver.ts'
import {
  noPartPlan, spliceInPlan, spliceOutPlan, type ContributionParams, type PlanFailure, type PlannedContribution, type SpliceCoin,
  type SpliceWish,
} from './splice-contribution.ts'

/** BIP 125: a sequence below 0xfffffffe signals replaceability (a splice may be RBF'd). */
const RBF_SEQUENCE = 0xfffffffd

/** A channel as splicing sees it. */
export interface SpliceChannel { readonly driver: ChannelDriver }

/** The peer's request, as the machine reports it (event `splice_requested`). */
export type SpliceRequest = Extract<ChannelEvent, { type: 'splice_requested' }>

/** The owner's answer to a peer's splice: take part (with nothing, or with a splice-in of our own), or
 *  refuse with a reason the peer reads in tx_abort. */
export type SpliceAnswer =
  | { accept: true; wish?: SpliceWish }
  /** A batched settlement's session (docs/DESIGN.md "Batched settlement"): the owner checked the hub's
   *  terms (protocol/settlement/peer-check.ts); our balance pays the payout and the fee share, the
   *  hub adds the payout output, and the machine checks it at tx_complete. */
  | { accept: true; batch: { contributionSat: number; terms: BatchTerms } }
  | { accept: false; reason: string }

/** What happened to a splice, for the owner (SDK events, hub log). */
export type SpliceProgress =
  | {
    kind: 'negotiated'; txid: Txid; capacitySat: Sat; contributionSat: { local: number; remote: number };
    feeSat: { local: number; remote: number }
  }
  | { kind: 'signed'; txid: Txid }
  | { kind: 'broadcast'; txid: Txid; ok: boolean; detail?: string }
  | { kind: 'confirmed'; txid: Txid; depth: number }
  | { kind: 'locked'; txid: Txid; capacitySat: Sat }
  | { kind: 'aborted'; reason: string; byPeer: boolean }
  /** A signed splice dropped: an input of its transaction is spent elsewhere, final; the channel stays
   *  on its current funding. */
  | { kind: 'dropped'; txid: Txid; reason: string }

/** Why a splice was not started. */
export type SpliceRefusal =
  /** The channel machine refused the command (its error says why: not normal, a splice pending, a
   *  balance or reserve rule, the feerate). */
  | { kind: 'refused'; error: ChannelError }
  /** The wallet cannot pay a splice-in, or the payout is below the dust limit. */
  | PlanFailure
  /** A coin's previous transaction could not be fetched from our node. */
  | { kind: 'chain_unavailable'; detail: string }

/** The contribution of an RBF (Splicing.rbf): what the replaced splice did, at the new feerate. */
export type Replacement = PlannedContribution & { kind: 'out' | 'in'; amountSat: number }

export type SpliceWallet = Pick<Wallet,
'freeCoins' | 'utxos' | 'reserve' | 'unreserve' | 'newChangeScript' | 'signInputs' | 'release' | 'pendingTxs'>

export interface SplicingOptions<C extends SpliceChannel> {
  chain: Pick<ChainBackend, 'broadcast' | 'getRawTransaction' | 'getTxOut' | 'getBlock' | 'tip'>
  wallet: SpliceWallet
  /** Our node id, and the peer's of a channel (BOLT #2 orders tx_signatures by node id). A hub
   *  rotating its node key gives the id this channel's peer authenticated it under. */
  localNodeId: NodeId | ((ch: C) => NodeId)
  remoteNodeId: (ch: C) => NodeId
  /** The owner's policy on a peer's splice. */
  respond: (ch: C, request: SpliceRequest) => SpliceAnswer | Promise<SpliceAnswer>
  progress?: (ch: C, p: SpliceProgress) => void
  log: (event: Record<string, unknown>) => void
  /** The depth at which a spend of a splice transaction's input elsewhere is final (the candidate is
   *  then dropped); default DEFAULT_FINALITY_DEPTH. */
  finalityDepth?: number
  /** Default QUIESCENCE_TIMEOUT_SECONDS (tests shorten it). */
  quiescenceTimeoutMs?: number
}

const outpoint = (o: { txid: string; vout: number }): string => `${o.txid}:${o.vout}`
const fundingOutpoint = (s: ChannelState): string | undefined => s.setup.funding === undefined
  ? undefined
  : `${s.setup.funding.txid}:${s.setup.funding.outputIndex}`

/** Our node's answer about a transaction (ChainBackend.getRawTransaction). */
type Lookup = ReturnType<ChainBackend['getRawTransaction']>

export class Splicing<C extends SpliceChannel> {
  private readonly timers = new Map<C, ReturnType<typeof setTimeout>>()
  /** The depth each channel's candidate was last reported at, by channel id and txid (a payout batch is
   *  one transaction, a candidate of many channels). */
  private readonly depths = new Map<string, number>()
  private stopped = false

  constructor (private readonly opts: SplicingOptions<C>) {}

  /** Starts a splice on `ch` (a splice-in or -out). Resolves once the channel machine took the command:
   *  the splice then runs on its own (progress). */
  async splice (
    ch: C, wish: Exclude<SpliceWish, { kind: 'none' }>, feeratePerKw: number,
  ): Promise<Result<PlannedContribution, SpliceRefusal>> {
    const planned = this.plan(ch.driver.state, wish, feeratePerKw, true)
    if (!planned.ok) return planned
    return await this.start(ch, 'splice', planned.value, feeratePerKw, new Set())
  }

  /**
   * Replaces our pending splice `txid` (the last one signed, not locked) by one at `feeratePerKw` (BOLT #2
   * tx_init_rbf): the same contribution — the payout of a splice-out again, its fee from our balance at the
   * new rate; the wallet coins of a splice-in again (they stay locked by the transaction it replaces), more
   * coins only if they no longer pay the fee. The machine refuses a feerate below 25/24 of the last one's and
   * a splice we sent splice_locked for.
   */
  async rbf (ch: C, txid: Txid, feeratePerKw: number): Promise<Result<Replacement, SpliceRefusal>> {
    const s = ch.driver.state
    const candidates = s.splice?.candidates ?? []
    const last = candidates.at(-1)
    const refuse = (detail: string): Result<Replacement, SpliceRefusal> =>
      err({ kind: 'refused', error: channelError('unexpected_message', detail, 'ignore') })
    if (last === undefined || !candidates.some(c => c.txid === txid)) return refuse(`no pending splice ${txid} on channel ${s.channelId}`)
    if (last.txid !== txid) return refuse(`splice ${txid} is replaced by ${last.txid} already: replace that one`)
    if (last.initiator !== 'local') return refuse(`splice ${txid} is the peer's: only its initiator replaces it`)
    if (last.ownOutputs === undefined) return refuse(`splice ${txid} was stored without our outputs: it cannot be repeated`)
    const p = this.params(s, feeratePerKw, true)
    const shared = fundingOutpoint(s)
    const spent = new Set(this.opts.wallet.pendingTxs().find(t => t.txid === txid)?.inputs.filter(op => op !== shared) ?? [])
    let replacement: Result<Replacement, PlanFailure>
    if (spent.size > 0) {
      const utxos = this.opts.wallet.utxos().filter(u => spent.has(outpoint(u)))
      const mine = utxos.map(u => ({ txid: u.txid as Txid, vout: u.vout, valueSat: u.value, script: u.script }))
      const amountSat = last.contributionSat.local
      const change = last.ownOutputs[0]?.script ?? bytesToHex(this.opts.wallet.newChangeScript())
      let planned = spliceInPlan(mine, amountSat, change, p)
      if (!planned.ok && planned.error.kind === 'insufficient_funds') {
        planned = spliceInPlan([...mine, ...this.freeCoins()], amountSat, change, p)
      }
      replacement = planned.ok ? ok({ ...planned.value, kind: 'in', amountSat }) : planned
    } else if (last.ownOutputs.length === 1 && last.contributionSat.local < 0) {
      const payout = last.ownOutputs[0]!
      const planned = spliceOutPlan(payout.sats, payout.script, p)
      replacement = planned.ok ? ok({ ...planned.value, kind: 'out', amountSat: payout.sats }) : planned
    } else {
      return refuse(`splice ${txid} has no splice-in or payout of ours to repeat`)
    }
    if (!replacement.ok) return replacement
    const started = await this.start(ch, 'splice_rbf', replacement.value, feeratePerKw, spent)
    return started.ok ? ok(replacement.value) : started
  }

  /** Issues a splice or splice_rbf command with our contribution: its new coins reserved (`locked`:
   *  coins the replaced transaction holds already), their previous transactions fetched. */
  private async start (
    ch: C, type: 'splice' | 'splice_rbf', planned: PlannedContribution, feeratePerKw: number, locked: ReadonlySet<string>,
  ): Promise<Result<PlannedContribution, SpliceRefusal>> {
    const owner = ch.driver.state.channelId
    const contribution = await this.contribution(owner, planned, locked)
    if (!contribution.ok) return contribution
    const cmd: SpliceCommand = {
      type, feeratePerKw, locktime: ch.driver.state.height, contribution: contribution.value, nodeIds: this.nodeIds(ch),
    }
    let refusal: ChannelError | undefined
    await ch.driver.command(cmd, (before, after, effects) => { refusal = commandRefusal(before, after, effects, type) })
    if (refusal !== undefined) {
      this.opts.wallet.unreserve(owner)
      return err({ kind: 'refused', error: refusal })
    }
    return ok(planned)
  }

  /** A channel event (the driver's emit): what the machine asks of its host. Never waits. */
  event (ch: C, ev: ChannelEvent): void {
    switch (ev.type) {
      case 'quiescence_started': this.armQuiescenceTimer(ch, ev.seq); return
      case 'splice_requested': void this.answer(ch, ev); return
      case 'splice_negotiated':
        this.progress(
          ch, { kind: 'negotiated', txid: ev.txid, capacitySat: ev.capacitySat, contributionSat: ev.contributionSat, feeSat: ev.feeSat },
        )
        return
      case 'splice_sign_inputs': void this.sign(ch, ev); return
      case 'splice_signed':
        this.clearTimer(ch)
        this.progress(ch, { kind: 'signed', txid: ev.txid })
        // Its depth now, not at the next block: a splice completed late (resumed by channel_reestablish
        // after a restart) may be deep already, and no block may come for a while.
        void this.onBlock([ch])
        return
      case 'splice_locked':
        this.opts.wallet.unreserve(ch.driver.state.channelId)
        this.progress(ch, { kind: 'locked', txid: ev.txid, capacitySat: ev.capacitySat })
        return
      case 'splice_aborted':
        this.clearTimer(ch)
        this.opts.wallet.unreserve(ch.driver.state.channelId)
        this.releaseStale(ch)
        this.progress(ch, { kind: 'aborted', reason: ev.reason, byPeer: ev.byPeer })
        return
      case 'splice_double_spent':
        this.opts.wallet.unreserve(ch.driver.state.channelId)
        this.releaseStale(ch)
        this.progress(ch, { kind: 'dropped', txid: ev.txid, reason: ev.reason })
        return
      case 'command_failed':
        if (ev.command === 'splice' || ev.command === 'splice_rbf' || ev.command === 'splice_respond') this.opts.wallet.unreserve(
          ch.driver.state.channelId
        )
        // Our request refused once the channel got to it (the peer became the quiescence initiator
        // first, or the balances moved): it ended. (A refused splice_respond ends with tx_abort, which
        // reports splice_aborted itself.)
        if (ev.command === 'splice' || ev.command === 'splice_rbf') this.progress(
          ch, { kind: 'aborted', reason: `${ev.error.reason}: ${ev.error.detail}`, byPeer: false },
        )
        return
      case 'channel_failed': this.clearTimer(ch); return
      default:
    }
  }

  /** Effect `broadcast_splice` (the driver's port): the complete splice transaction, stored. */
  async broadcast (ch: C, txid: Txid, tx: string): Promise<void> {
    const r = await broadcastTx(this.opts.chain, tx)
    const detail = r.ok ? undefined : `${r.error.kind}: ${r.error.detail}`
    this.opts.log({
      event: 'splice_broadcast', channel_id: ch.driver.state.channelId, txid, ok: r.ok, ...(detail !== undefined ? { error: detail } : {})
    })
    this.progress(ch, { kind: 'broadcast', txid, ok: r.ok, ...(detail !== undefined ? { detail } : {}) })
  }

  /** Lookups of a candidate on our node now under way, by txid: a payout batch is one transaction, a
   *  candidate of every channel in it, whose channels all ask at once (each when it stores it). */
  private readonly lookups = new Map<Txid, Lookup>()

  private lookup (txid: Txid, pass: Map<Txid, Lookup>): Lookup {
    let r = pass.get(txid) ?? this.lookups.get(txid)
    if (r === undefined) {
      const started = this.opts.chain.getRawTransaction(txid)
      r = started
      this.lookups.set(txid, started)
      const done = (): void => { if (this.lookups.get(txid) === started) this.lookups.delete(txid) }
      started.then(done, done)
    }
    pass.set(txid, r)
    return r
  }

  /** A block (or a restart): each pending candidate's depth on our node goes to its channel, and a
   *  signed candidate our node does not know goes out again. Only channels with candidates cost a
   *  lookup, and a candidate shared by several channels (a payout batch) one per pass. */
  async onBlock (channels: Iterable<C>): Promise<void> {
    const pass = new Map<Txid, Lookup>()
    for (const ch of channels) {
      const s = ch.driver.state
      const candidates = s.splice?.candidates ?? []
      if (candidates.length === 0 || isFinal(s.phase) || ch.driver.stoppedBy !== undefined) continue
      for (const c of candidates) {
        const r = await this.lookup(c.txid, pass)
        if (!r.ok) continue
        if (r.value === null) {
          if (c.signedTx === undefined) continue
          const spent = await this.spentElsewhere(s, c.signedTx, c.spentElsewhere)
          if (spent === undefined) {
            await this.broadcast(ch, c.txid, c.signedTx)
            pass.delete(c.txid) // out now: the next channel of this candidate looks again
            continue
          }
          const key = `${s.channelId}:${c.txid}:spent`
          const final = spent.depth >= this.finalityDepth
          if (this.depths.get(key) === (final ? -1 : spent.depth)) continue
          this.depths.set(key, final ? -1 : spent.depth)
          this.opts.log({
            event: 'splice_input_spent', channel_id: s.channelId, txid: c.txid, input: spent.input, spent_by: spent.spentBy,
            depth: spent.depth,
          })
          await ch.driver.chain({ type: 'splice_double_spent', txid: c.txid, input: spent.input, spentBy: spent.spentBy, final })
          continue
        }
        const depth = r.value.confirmations
        const key = `${s.channelId}:${c.txid}`
        if (this.depths.get(key) === depth) continue
        this.depths.set(key, depth)
        if (depth > 0) this.progress(ch, { kind: 'confirmed', txid: c.txid, depth })
        await ch.driver.chain({ type: 'splice_depth', txid: c.txid, depth })
      }
    }
  }

  private get finalityDepth (): number { return this.opts.finalityDepth ?? DEFAULT_FINALITY_DEPTH }

  /** The first input of splice transaction `tx`, other than the channel's funding output, that a
   *  confirmed transaction of the main chain spends, with that spend's depth (at least the finality
   *  depth when it is deeper than the blocks looked at, its spender then as `seen` before, if it was);
   *  undefined when every input is unspent, or one cannot be looked up. */
  private async spentElsewhere (
    s: ChannelState, tx: string, seen: { input: string; spentBy: Txid } | undefined,
  ): Promise<{ input: string; spentBy: Txid; depth: number } | undefined> {
    const shared = fundingOutpoint(s)
    let inputs: ReadonlyArray<{ txid: string; vout: number }>
    try { inputs = parseTx(tx).inputs } catch { return undefined }
    for (const i of inputs) {
      const op = outpoint(i)
      if (op === shared) continue
      const unspent = await this.opts.chain.getTxOut(i.txid, i.vout, false)
      if (!unspent.ok || unspent.value !== null) continue
      // Spent, or never in the chain: the output's own transaction must be confirmed.
      const prev = await this.opts.chain.getRawTransaction(i.txid)
      if (!prev.ok || prev.value === null || prev.value.confirmations === 0 || prev.value.tx.outputs[i.vout] === undefined) continue
      const tip = await this.opts.chain.tip()
      if (!tip.ok) return undefined
      for (let depth = 1; depth <= this.finalityDepth; depth++) {
        const block = await this.opts.chain.getBlock(tip.value.height - depth + 1)
        if (!block.ok || block.value === null) return undefined
        const spender = block.value.txs.find(t => t.inputs.some(x => x.txid === i.txid && x.vout === i.vout))
        if (spender !== undefined) return { input: op, spentBy: spender.txid, depth }
      }
      // Spent deeper than the blocks looked at: final.
      if (prev.value.confirmations > this.finalityDepth) {
        return { input: op, spentBy: seen?.input === op ? seen.spentBy : 'unknown' as Txid, depth: this.finalityDepth }
      }
    }
    return undefined
  }

  /** After a restart: wallet locks of splices that can no longer happen are released, and the
   *  candidates' depths are looked up (and unknown ones broadcast). */
  async resume (channels: Iterable<C>): Promise<void> {
    const list = [...channels]
    for (const ch of list) this.releaseStale(ch)
    await this.onBlock(list)
  }

  stop (): void {
    this.stopped = true
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  // ── the peer's splice ──

  private async answer (ch: C, req: SpliceRequest): Promise<void> {
    let answer: SpliceAnswer
    try {
      answer = await this.opts.respond(ch, req)
    } catch (e) {
      answer = { accept: false, reason: `the splice policy failed: ${String(e)}` }
    }
    if (this.stopped) return
    if (!answer.accept) {
      this.opts.log({ event: 'splice_rejected', channel_id: ch.driver.state.channelId, reason: answer.reason })
      await ch.driver.command({ type: 'splice_reject', reason: answer.reason })
      return
    }
    if ('batch' in answer) {
      const contribution = {
        contributionSat: answer.batch.contributionSat, inputs: [], outputs: [], entropy: bytesToHex(random32()), batch: answer.batch.terms,
      }
      await ch.driver.command({ type: 'splice_respond', contribution, nodeIds: this.nodeIds(ch) })
      return
    }
    const s = ch.driver.state
    const wish = answer.wish ?? { kind: 'none' }
    const planned = this.plan(s, wish, req.feeratePerKw, false)
    const contribution = planned.ok ? await this.contribution(s.channelId, planned.value) : planned
    if (!contribution.ok) {
      const reason = `our contribution failed: ${refusalText(contribution.error)}`
      this.opts.log({ event: 'splice_rejected', channel_id: s.channelId, reason })
      await ch.driver.command({ type: 'splice_reject', reason })
      return
    }
    await ch.driver.command({ type: 'splice_respond', contribution: contribution.value, nodeIds: this.nodeIds(ch) })
  }

  // ── our side's contribution ──

  private plan (s: ChannelState, wish: SpliceWish, feeratePerKw: number, initiator: boolean): Result<PlannedContribution, PlanFailure> {
    const p = this.params(s, feeratePerKw, initiator)
    switch (wish.kind) {
      case 'out': return spliceOutPlan(wish.amountSat, wish.script, p)
      case 'none': return ok(noPartPlan(p))
      case 'in': return spliceInPlan(this.freeCoins(), wish.amountSat, bytesToHex(this.opts.wallet.newChangeScript()), p)
    }
  }

  private params (s: ChannelState, feeratePerKw: number, initiator: boolean): ContributionParams {
    const dustLimitSat = Math.max(s.setup.local.dustLimitSat, s.setup.remote?.dustLimitSat ?? 0)
    return { initiator, feeratePerKw, dustLimitSat }
  }

  private freeCoins (): SpliceCoin[] {
    return this.opts.wallet.freeCoins().map(u => ({ txid: u.txid as Txid, vout: u.vout, valueSat: u.value, script: u.script }))
  }

  /** The planned contribution as the machine takes it: coins reserved for `owner` and given with
   *  their whole previous transactions (BOLT #2 tx_add_input `prevtx`). */
  private async contribution (
    owner: string, plan: PlannedContribution, locked: ReadonlySet<string> = new Set(),
  ): Promise<Result<SpliceCommandContribution, SpliceRefusal>> {
    const entropy = bytesToHex(random32())
    const base = { contributionSat: plan.contributionSat, outputs: plan.outputs, entropy }
    if (plan.coins.length === 0) return ok({ ...base, inputs: [] })
    if (!this.opts.wallet.reserve(owner, plan.coins.map(outpoint).filter(op => !locked.has(op)))) {
      return err({ kind: 'insufficient_funds', neededSat: plan.contributionSat + plan.feeSat, availableSat: 0 })
    }
    const inputs = []
    for (const c of plan.coins) {
      const prev = await this.opts.chain.getRawTransaction(c.txid)
      const failed = !prev.ok ? prev.error.detail : prev.value === null ? `our node does not know ${c.txid}` : undefined
      if (failed !== undefined || !prev.ok || prev.value === null) {
        this.opts.wallet.unreserve(owner)
        return err({ kind: 'chain_unavailable', detail: `the previous transaction of our coin ${outpoint(c)}: ${failed ?? ''}` })
      }
      if (prev.value.tx.hex.length / 2 > MAX_PREVTX_BYTES) {
        this.opts.wallet.unreserve(owner)
        return err({
          kind: 'chain_unavailable', detail: `the previous transaction of our coin ${outpoint(c)} is over ${MAX_PREVTX_BYTES} bytes`,
        })
      }
      inputs.push({ prevtx: prev.value.tx.hex, prevtxVout: c.vout, sequence: RBF_SEQUENCE })
    }
    return ok({ ...base, inputs })
  }

  // ── signing our inputs ──

  private async sign (ch: C, ev: Extract<ChannelEvent, { type: 'splice_sign_inputs' }>): Promise<void> {
    const s = ch.driver.state
    const owner = s.channelId
    const shared = fundingOutpoint(s)
    // The wallet locks the coins durably before it returns the witnesses: a restart finds them spent
    // by a transaction that may confirm, and never spends them elsewhere meanwhile.
    const signed = this.opts.wallet.signInputs(ev.txid, ev.tx, ev.inputs, shared !== undefined ? [shared] : [])
    this.opts.wallet.unreserve(owner)
    if (!signed.ok) {
      // Not answered: the splice cannot complete without our signatures; the quiescence timer ends it.
      this.opts.log({ event: 'splice_not_signed', channel_id: owner, txid: ev.txid, error: signed.error })
      return
    }
    await ch.driver.command({ type: 'splice_witnesses', txid: ev.txid, witnesses: signed.value })
  }

  /** Releases the wallet locks of splice transactions of `ch` that can no longer confirm with our
   *  signatures: they spend its funding output, and it knows them no more (neither a candidate nor
   *  the transaction being signed). */
  private releaseStale (ch: C): void {
    const s = ch.driver.state
    const shared = fundingOutpoint(s)
    if (shared === undefined) return
    const live = new Set<string>([...(s.splice?.candidates ?? []).map(c => c.txid)])
    const signing = s.splice?.session?.signing?.candidate.txid
    if (signing !== undefined) live.add(signing)
    for (const p of this.opts.wallet.pendingTxs()) {
      if (p.inputs.includes(shared) && !live.has(p.txid)) this.opts.wallet.release(p.txid)
    }
  }

  // ── quiescence ──

  private armQuiescenceTimer (ch: C, seq: number): void {
    this.clearTimer(ch)
    if (this.stopped) return
    const ms = this.opts.quiescenceTimeoutMs ?? QUIESCENCE_TIMEOUT_SECONDS * 1000
    const timer = setTimeout(() => {
      this.timers.delete(ch)
      void ch.driver.command({ type: 'quiescence_timeout', seq })
    }, ms)
    ;(timer as { unref?: () => void }).unref?.()
    this.timers.set(ch, timer)
  }

  private clearTimer (ch: C): void {
    const t = this.timers.get(ch)
    if (t !== undefined) { clearTimeout(t); this.timers.delete(ch) }
  }

  private nodeIds (ch: C): { local: NodeId; remote: NodeId } {
    const local = this.opts.localNodeId
    return { local: typeof local === 'string' ? local : local(ch), remote: this.opts.remoteNodeId(ch) }
  }

  private progress (ch: C, p: SpliceProgress): void {
    if (p.kind !== 'broadcast' && p.kind !== 'confirmed') this.opts.log({
      event: `splice_${p.kind}`, channel_id: ch.driver.state.channelId, ...p
    })
    this.opts.progress?.(ch, p)
  }
}

type SpliceCommandContribution = Extract<SpliceCommand, { type: 'splice' }>['contribution']

/** The error a splice command's own step refused it with, if it did (read from that step, as
 *  protocol/channel/add-outcome.ts reads an add's: a refusal may be held behind another write). */
function commandRefusal (before: ChannelState, after: ChannelState, effects: readonly Effect[], command: string): ChannelError | undefined {
  const heldBefore = new Set(before.outbox)
  const emitted = [...effects, ...after.outbox.filter(o => !heldBefore.has(o)).map(o => o.effect)]
  for (const e of emitted) {
    if (e.kind === 'emit' && e.event.type === 'command_failed' && e.event.command === command) return e.event.error
  }
  // Taken: the request waits for quiescence.
  if (after.splice?.request !== undefined) return undefined
  return channelError('unexpected_message', `the ${command} step neither took nor refused the command`, 'ignore')
}

export function refusalText (r: SpliceRefusal): string {
  switch (r.kind) {
    case 'refused': return `${r.error.reason}: ${r.error.detail}`
    case 'insufficient_funds': return `the wallet has ${r.availableSat} sat spendable and the splice needs ${r.neededSat} sat (the ` +
      `amount and the fee)`
    case 'below_dust': return r.detail
    case 'chain_unavailable': return r.detail
  }
}

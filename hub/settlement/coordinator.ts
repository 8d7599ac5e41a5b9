// The hub's coordinator of payout batches (docs/DESIGN.md "Batched settlement"). At a window end (or
// on the operator's demand) it plans a batch from the policies and the channels' balances
// (protocol/settlement/plan.ts), writes its record (stage negotiating) before the first splice_init,
// and drives one splice session per channel with the batch terms (session-command.ts). The sessions'
// events feed the pure coordination (protocol/settlement/coordinate.ts), whose commands it carries out:
//
//   every session complete      → splice_batch_release in each: the held commitment_signed leave
//   every peer signed           → the hub signs every input, assembles every 2-of-2 witness, records the
//                                 anchor's carrier and writes stage signed with the signed transaction,
//                                 then gives each session its witnesses (its tx_signatures leave)
//   every channel stored it     → broadcast (stage broadcast)
//   a peer fails before release → tx_abort in every session, the batch planned again without it
//                                 (settlement.maxRounds), or abandoned; its payout waits
//   each block                  → the sign timeout; a broadcast batch's depth: done at
//                                 settlement.finalityDepth (stage confirmed), broadcast again if reorged
//
// Restart (resume): a batch in negotiating whose commitment_signed are all still held is abandoned
// (every session aborted: no peer can have signed); one released in any session goes on (its peers
// may have signed); a batch in signed gives every session its witnesses from the stored transaction
// and broadcasts it; one broadcast is followed to its depth.
import { quiescence, type ChannelEvent } from '../../protocol/channel/index.ts'
import { withWitnesses } from '../../protocol/interactive-tx/signatures.ts'
import { buildBatchTx, type BatchTx, type FundedPayout } from '../../protocol/settlement/build.ts'
import {
  coordinate, newRound, type BatchRound, type CoordinatorCommand, type CoordinatorInput,
} from '../../protocol/settlement/coordinate.ts'
import { planBatch, type DueCandidate } from '../../protocol/settlement/plan.ts'
import { batchChainState, isWindowEnd, windowDecision } from '../../protocol/settlement/schedule.ts'
import type { Deferred, ExtraOutput } from '../../protocol/settlement/types.ts'
import { vbytes as vbytesOf } from '../../protocol/settlement/weight.ts'
import { batchInputWitnesses, sessionWitnesses, type InputSignatures } from '../../protocol/settlement/witnesses.ts'
import { fundingScriptPubkey } from '../../protocol/tx/funding.ts'
import { parseTx, txHex } from '../../protocol/tx/serialize.ts'
import { bytesToHex, hexToBytes, type NodeId, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { broadcastTx } from '../../host/chain/broadcast.ts'
import { crashPoints } from '../../host/crash-points.ts'
import type { Store } from '../../host/store/store.ts'
import type { Anchoring } from '../audit/anchoring.ts'
import { lazySigner, type ManagedChannel } from '../channels/channel.ts'
import type { ChannelListener, ChannelManager } from '../channels/manager.ts'
import { accountsNow } from './accounts.ts'
import type { SettlementConfig } from './config.ts'
import type { IdleCloses } from './idle-closes.ts'
import type { PolicyStore } from './policy.ts'
import { loadBatches, saveBatch, type BatchRecord } from './record.ts'
import { batchSpliceCommand, isBatchSession, payoutTerms } from './session-command.ts'
import { settlementStatus } from './status.ts'

const crashPoint = crashPoints('HUB_CRASH_AT')
/** Dust limit of the payouts: BOLT #3's 546 sat of a P2PKH output, the largest standard payout script's. */
const PAYOUT_DUST_LIMIT_SAT = 546
/** How long a rebuilt round waits for the aborted sessions to end (tx_abort echoed) before it starts. */
const SESSIONS_END_WAIT_MS = 30_000

export interface SettlementOptions {
  store: Store
  manager: Pick<ChannelManager, 'get' | 'channelsOf' | 'isOnline' | 'send'>
  chain: Pick<ChainBackend, 'getRawTransaction' | 'broadcast'>
  policies: Pick<PolicyStore, 'list'>
  anchoring: Pick<Anchoring, 'output' | 'carriedBy' | 'list'>
  config: SettlementConfig
  /** The node id the hub proved to `peer` in its session (a node-key rotation's grace serves two):
   *  BOLT #2 orders tx_signatures by it. */
  hubIdFor: (peer: NodeId) => NodeId
  height: () => number
  log: (event: Record<string, unknown>) => void
  /** The height of a channel's last activity (hub/settlement/activity.ts). */
  lastActivityHeight?: (channelId: string) => number | undefined
  /** Carries out a window's idle closes (hub/settlement/idle-closes.ts). */
  idleCloses?: Pick<IdleCloses, 'close' | 'view'>
  /** A batch ended (confirmed at depth, or abandoned): the metrics (hub/admin/metrics.ts). */
  ended?: (b: { outcome: 'confirmed' | 'failed'; vbytes: number; channels: number }) => void
}

export type RunOutcome =
  | { started: true; batch: BatchRecord; deferred: Deferred[] }
  | { started: false; reason: string; deferred: Deferred[]; waiting: Array<{ channel_id?: string; node_id?: string; reason: string }> }

/** The batch being negotiated and signed. */
interface Active {
  record: BatchRecord
  round: BatchRound
  batch: BatchTx
  payouts: FundedPayout[]
  prevtx: Map<string, string>
  /** Channels whose machine stored the signed transaction (splice_signed). */
  stored: Set<string>
  deferred: Deferred[]
}

export class SettlementCoordinator implements ChannelListener {
  private readonly records: BatchRecord[]
  private active: Active | undefined
  private running = false
  /** The depth each broadcast batch was last seen at. */
  private readonly depths = new Map<string, number>()
  /** The pass of follow() running now, if any (passes run one after another). */
  private following: Promise<void> = Promise.resolve()

  private constructor (private readonly opts: SettlementOptions, records: BatchRecord[]) {
    this.records = records
  }

  static async open (opts: SettlementOptions): Promise<SettlementCoordinator> {
    return new SettlementCoordinator(opts, await loadBatches(opts.store))
  }

  // ── GET /settlement ──

  status (): Record<string, unknown> {
    const a = this.active
    return {
      ...settlementStatus(this.opts.config, this.opts.height(), this.records, a === undefined ? undefined : {
        record: a.record, roundStage: a.round.stage, complete: a.round.complete.length, signed: a.round.peerSigned.length,
      }),
      last_closes: this.opts.idleCloses?.view() ?? [],
    }
  }

  /** Every batch record, oldest first. */
  batches (): readonly BatchRecord[] { return this.records }

  // ── starting a batch ──

  /** Plans and starts a batch now (a window end, or the operator's POST /settlement/run). */
  async run (trigger: 'window' | 'operator'): Promise<RunOutcome> {
    if (this.running || this.active !== undefined) {
      return { started: false, reason: 'a batch is in progress', deferred: [], waiting: [] }
    }
    this.running = true
    try {
      return await this.start(trigger)
    } finally {
      this.running = false
    }
  }

  private async start (trigger: string): Promise<RunOutcome> {
    const height = this.opts.height()
    const { accounts, skipped } = await accountsNow({
      policies: this.opts.policies,
      channelsOf: n => this.opts.manager.channelsOf(n as NodeId),
      online: n => this.opts.manager.isOnline(n as NodeId),
      lastPayoutHeight: n => this.lastPayoutHeight(n),
      ...(this.opts.lastActivityHeight !== undefined ? { lastActivityHeight: this.opts.lastActivityHeight } : {}),
    }, height)
    const decision = windowDecision(accounts, height)
    if (decision.closes.length > 0) await this.opts.idleCloses?.close(decision.closes, accounts, height)
    const waiting = [
      ...skipped.map(s => ({ node_id: s.nodeId, ...(s.channelId !== undefined ? { channel_id: s.channelId } : {}), reason: s.reason })),
      ...decision.waiting.map(w => ({ channel_id: w.channelId, reason: w.reason })),
    ]
    if (decision.due.length === 0) {
      this.opts.log({ event: 'settlement_nothing_due', trigger, height, waiting: waiting.length })
      return { started: false, reason: 'no payout is due', deferred: [], waiting }
    }
    const anchor = await this.opts.anchoring.output()
    const extra: ExtraOutput[] = anchor === undefined ? [] : [{ script: anchor.script, value: 0 }]
    const nodes = new Map(accounts.map(a => [a.channelId, a.nodeId]))
    const id = (this.records.at(-1)?.id ?? -1) + 1
    const anchorRecord = anchor === undefined ? null : this.opts.anchoring.list().find(x => x.seq === anchor.seq)
    const r = await this.startRound({
      id, round: 1, height, due: decision.due, extra, nodes, dropped: [],
      anchor: anchor === undefined || anchorRecord == null ? null : { seq: anchor.seq, script: anchor.script, root: anchorRecord.root },
    })
    if (r.record === undefined) return { started: false, reason: r.reason, deferred: r.deferred, waiting }
    this.opts.log({ event: 'settlement_started', trigger, batch: id, txid: r.record.txid, channels: r.record.payouts.length, height })
    return { started: true, batch: r.record, deferred: r.deferred }
  }

  /** Plans a round from `due`, writes its record (negotiating) and starts a session per channel. */
  private async startRound (o: {
    id: number; round: number; height: number; due: DueCandidate[]; extra: ExtraOutput[]; nodes: Map<string, string>;
    dropped: BatchRecord['dropped']; anchor: BatchRecord['anchor']; startedHeight?: number
  }): Promise<{ record?: BatchRecord; reason: string; deferred: Deferred[] }> {
    const c = this.opts.config
    const plan = planBatch(o.due, {
      feeratePerKw: c.feeratePerKw, dustLimitSat: PAYOUT_DUST_LIMIT_SAT, maxFeeSharePercent: c.maxFeeSharePercent,
      maxChannels: c.maxChannelsPerBatch, extraOutputs: o.extra,
    })
    if (plan.payouts.length === 0) return { reason: 'every due payout is deferred', deferred: plan.deferred }
    const funded: FundedPayout[] = []
    for (const p of plan.payouts) {
      const ch = this.opts.manager.get(p.channelId)!
      const s = ch.state.setup
      funded.push({
        ...p, newFundingScript: bytesToHex(fundingScriptPubkey(hexToBytes(s.local.fundingPubkey), hexToBytes(s.remote!.fundingPubkey))),
      })
    }
    const locktime = o.height
    const batch = buildBatchTx(funded, o.extra, locktime)
    // Every session adds the other channels' funding outputs with their whole transactions (prevtx).
    const prevtx = new Map<string, string>()
    for (const p of funded) {
      if (prevtx.has(p.funding.txid)) continue
      const r = await this.opts.chain.getRawTransaction(p.funding.txid)
      if (!r.ok || r.value === null) return {
        reason: `the funding transaction ${p.funding.txid} is not on our node`, deferred: plan.deferred,
      }
      prevtx.set(p.funding.txid, r.value.tx.hex)
    }
    const record: BatchRecord = {
      id: o.id, stage: 'negotiating', round: o.round, started_height: o.startedHeight ?? o.height, round_height: o.height,
      feerate_per_kw: c.feeratePerKw, locktime,
      payouts: funded.map(p => ({
        channel_id: p.channelId, node_id: o.nodes.get(p.channelId)!, funding_txid: p.funding.txid, funding_vout: p.funding.vout,
        capacity_sat: p.capacitySat, new_capacity_sat: p.newCapacitySat, payout_script: p.payoutScript, payout_sat: p.payoutSat,
        fee_sat: p.feeSat,
      })),
      anchor: o.anchor, txid: batch.txid, vbytes: vbytesOf(plan.weight), tx_hex: null, dropped: o.dropped,
      broadcast_height: null, confirmed_height: null, reason: null,
    }
    await this.save(record, 'negotiating')
    const round = newRound(batch.txid, funded.map(p => p.channelId), o.height, o.round)
    this.active = { record, round, batch, payouts: funded, prevtx, stored: new Set(), deferred: plan.deferred }
    for (const p of funded) await this.startSession(p)
    return { record, reason: '', deferred: plan.deferred }
  }

  private async startSession (p: FundedPayout): Promise<void> {
    const a = this.active!
    const ch = this.opts.manager.get(p.channelId)!
    const terms = payoutTerms(a.batch, p, a.record.feerate_per_kw)
    this.opts.manager.send(ch.peer, {
      type: 'payout_proposal', channel_id: ch.channelId, payout_script: terms.payoutScript, payout_sat: terms.payoutSat as Sat,
      fee_sat: terms.feeSat as Sat, feerate_per_kw: terms.feeratePerKw, payout_serial_id: terms.payoutSerialId,
    })
    const cmd = batchSpliceCommand(a.batch, p, a.prevtx, {
      feeratePerKw: a.record.feerate_per_kw, locktime: a.record.locktime, nodeIds: { local: this.opts.hubIdFor(ch.peer), remote: ch.peer },
    })
    let refused: string | undefined
    await ch.driver.command(cmd, (_before, after, effects) => {
      for (const e of [...effects, ...after.outbox.map(x => x.effect)]) {
        if (e.kind === 'emit' && e.event.type === 'command_failed' &&
          e.event.command === 'splice') refused = `${e.event.error.reason}: ${e.event.error.detail}`
      }
    })
    if (refused !== undefined) await this.feed({ type: 'session_aborted', channelId: p.channelId, reason: `refused: ${refused}` })
  }

  // ── the sessions' events ──

  event (ch: ManagedChannel, ev: ChannelEvent): void {
    const a = this.active
    if (a === undefined || !a.round.channels.includes(ch.channelId)) return
    switch (ev.type) {
      case 'splice_sign_inputs':
        if (isBatchSession(ch)) void this.feed({ type: 'session_complete', channelId: ch.channelId, txid: ev.txid })
        return
      case 'splice_peer_signed':
        if (ev.txid === a.batch.txid) void this.feed({ type: 'peer_signed', channelId: ch.channelId })
        return
      case 'splice_aborted':
        void this.feed({ type: 'session_aborted', channelId: ch.channelId, reason: ev.reason })
        return
      case 'channel_failed':
        void this.feed({ type: 'session_aborted', channelId: ch.channelId, reason: `channel failed: ${ev.error.reason}` })
        return
      case 'splice_signed':
        if (ev.txid === a.batch.txid) {
          a.stored.add(ch.channelId)
          if (a.stored.size === a.round.channels.length) void this.broadcast(a)
        }
        return
      default:
    }
  }

  /** One coordination step at a time: inputs queue behind the commands of the one before. */
  private queue: Promise<void> = Promise.resolve()
  /** `txid`: the batch the input is about, as it was when the input arrived (an abort's echo must not
   *  reach the round rebuilt after it). */
  private feed (input: CoordinatorInput, txid = this.active?.batch.txid): Promise<void> {
    const next = this.queue.then(async () => {
      const a = this.active
      if (a === undefined || a.batch.txid !== txid) return
      const r = coordinate(a.round, input, { signTimeoutBlocks: this.opts.config.signTimeoutBlocks, maxRounds: this.opts.config.maxRounds })
      a.round = r.round
      for (const cmd of r.commands) await this.carryOut(a, cmd)
    }).catch(e => { this.opts.log({ event: 'settlement_step_failed', error: String(e instanceof Error ? e.stack ?? e.message : e) }) })
    this.queue = next
    return next
  }

  private async carryOut (a: Active, cmd: CoordinatorCommand): Promise<void> {
    switch (cmd.type) {
      case 'release': {
        const ch = this.opts.manager.get(cmd.channelId)
        await ch?.driver.command({ type: 'splice_batch_release', txid: cmd.txid as Txid })
        return
      }
      case 'give_witnesses': return await this.sign(a)
      case 'abort': {
        const ch = this.opts.manager.get(cmd.channelId)
        this.opts.log({ event: 'settlement_session_aborted', batch: a.record.id, channel_id: cmd.channelId, reason: cmd.reason })
        if (ch !== undefined && (ch.state.splice?.session !== undefined || ch.state.splice?.request !== undefined)) {
          await ch.driver.command({ type: 'splice_abort', reason: `batch ${a.record.id}: ${cmd.reason}` })
        }
        return
      }
      case 'rebuild': return await this.rebuild(a, cmd.channels, cmd.round)
      case 'give_up': return await this.abandon(a, cmd.reason)
    }
  }

  /** Every peer signed: the hub's signature on every input, every input's witness, stage signed (the
   *  signed transaction stored, the anchor's carrier recorded), then each session's witnesses. */
  private async sign (a: Active): Promise<void> {
    const sigs: InputSignatures[] = []
    for (const p of a.payouts) {
      const ch = this.opts.manager.get(p.channelId)!
      const s = ch.state
      const peerSig = s.splice?.session?.signing?.received?.shared_input_signature
      if (peerSig === undefined) throw new Error(`settlement: no shared_input_signature of ${p.channelId}`)
      const index = a.batch.inputs.findIndex(i => i.channelId === p.channelId)
      sigs.push({
        channelId: p.channelId,
        hub: { pubkey: s.setup.local.fundingPubkey, sig: lazySigner(ch.seed).signFundingInput(s.setup, a.batch.tx, index) },
        peer: { pubkey: s.setup.remote!.fundingPubkey, sig: peerSig },
      })
    }
    const all = batchInputWitnesses(a.batch, sigs)
    const signed = txHex(withWitnesses(a.batch.tx, new Map(all.map((w, k) => [k, w.map(hexToBytes)]))))
    if (a.record.anchor !== null) await this.opts.anchoring.carriedBy(a.record.anchor.seq, a.batch.txid)
    a.record = { ...a.record, stage: 'signed', tx_hex: signed }
    await this.save(a.record, 'signed')
    this.giveWitnesses(a.batch, all, a.payouts.map(p => p.channelId))
  }

  private giveWitnesses (batch: BatchTx, all: string[][], channels: readonly string[]): void {
    for (const id of channels) {
      const ch = this.opts.manager.get(id)
      if (ch?.state.splice?.session?.signing?.candidate.txid !== batch.txid) continue
      void ch.driver.command({ type: 'splice_witnesses', txid: batch.txid, witnesses: sessionWitnesses(batch, all, id) })
    }
  }

  /** Every channel stored the signed transaction: it goes to our node (each channel's host broadcast
   *  it too; the node takes it once). */
  private async broadcast (a: Active): Promise<void> {
    if (a.record.tx_hex === null || a.record.stage !== 'signed') return
    const r = await broadcastTx(this.opts.chain, a.record.tx_hex)
    this.opts.log({
      event: 'settlement_broadcast', batch: a.record.id, txid: a.record.txid, ok: r.ok, channels: a.record.payouts.length,
      vbytes: a.record.vbytes, ...(r.ok ? {} : { error: `${r.error.kind}: ${r.error.detail}` }),
    })
    a.record = { ...a.record, stage: 'broadcast', broadcast_height: this.opts.height() }
    await this.save(a.record, 'broadcast')
    this.active = undefined
  }

  /** Plans the round again with `channels` (the dropped ones wait for the next window), once every
   *  aborted session has ended. */
  private async rebuild (a: Active, channels: string[], round: number): Promise<void> {
    const keep = new Set(channels)
    const dropped = [...a.record.dropped, ...a.round.dropped.map(d => ({ channel_id: d.channelId, reason: d.reason.slice(0, 500) }))]
    this.active = undefined
    await this.sessionsEnded(channels)
    const height = this.opts.height()
    const { accounts } = await accountsNow({
      policies: this.opts.policies,
      channelsOf: n => this.opts.manager.channelsOf(n as NodeId),
      online: n => this.opts.manager.isOnline(n as NodeId),
      lastPayoutHeight: n => this.lastPayoutHeight(n),
    }, height)
    const decision = windowDecision(accounts.filter(x => keep.has(x.channelId)), height)
    const extra: ExtraOutput[] = a.record.anchor === null ? [] : [{ script: a.record.anchor.script, value: 0 }]
    this.opts.log({ event: 'settlement_rebuild', batch: a.record.id, round, channels: channels.length, dropped })
    const r = await this.startRound({
      id: a.record.id, round, height, due: decision.due, extra, nodes: new Map(accounts.map(x => [x.channelId, x.nodeId])), dropped,
      anchor: a.record.anchor, startedHeight: a.record.started_height,
    })
    if (r.record === undefined) await this.abandon({ ...a, record: { ...a.record, dropped } }, r.reason)
  }

  private async sessionsEnded (channels: readonly string[]): Promise<void> {
    const deadline = Date.now() + SESSIONS_END_WAIT_MS
    const busy = (): boolean => channels.some(id => {
      const s = this.opts.manager.get(id)?.state
      return s !== undefined && (s.splice?.session !== undefined || s.splice?.request !== undefined || s.splice?.abortSent === true ||
        quiescence(s) !== 'none')
    })
    while (busy() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  }

  private async abandon (a: Active, reason: string): Promise<void> {
    this.active = undefined
    const record: BatchRecord = { ...a.record, stage: 'abandoned', reason: reason.slice(0, 500) }
    await this.save(record, 'abandoned')
    this.opts.log({ event: 'settlement_abandoned', batch: record.id, reason })
    this.opts.ended?.({ outcome: 'failed', vbytes: record.vbytes, channels: record.payouts.length })
  }

  // ── blocks ──

  /** A block: the sign timeout of the batch being negotiated, broadcast batches' depths, and the window. */
  async onBlock (height: number): Promise<void> {
    if (this.active !== undefined) await this.feed({ type: 'block', height })
    await this.follow()
    if (isWindowEnd(height, this.opts.config.windowBlocks) && this.active === undefined && !this.running) {
      const r = await this.run('window')
      if (!r.started) this.opts.log({ event: 'settlement_window', height, started: false, reason: r.reason })
    }
  }

  /** A block was disconnected: broadcast batches' depths again (one reorged out is not done). */
  async onReorg (): Promise<void> { await this.follow() }

  /** Broadcast batches: done at the finality depth; a batch no longer in the chain (reorged) or lost by
   *  our node is not done, and is broadcast again from its stored transaction. One pass at a time:
   *  blocks arrive while a pass waits for our node, and two passes would both find a batch at depth
   *  and record (and count) its confirmation twice. */
  private follow (): Promise<void> {
    const pass = this.following.then(async () => { await this.followOnce() })
    this.following = pass.catch(() => {})
    return pass
  }

  private async followOnce (): Promise<void> {
    for (const b of this.records) {
      if (b.stage !== 'broadcast' || b.tx_hex === null) continue
      const r = await this.opts.chain.getRawTransaction(b.txid)
      if (!r.ok) return
      const depth = r.value?.confirmations ?? 0
      const previous = this.depths.get(b.txid) ?? 0
      this.depths.set(b.txid, depth)
      const state = batchChainState(depth, previous, this.opts.config.finalityDepth)
      if (state === 'reorged') this.opts.log({ event: 'settlement_reorged', batch: b.id, txid: b.txid, depth: previous })
      if (r.value === null) {
        // A channel dropped the batch as double-spent (host/channel/splicing.ts: an input of it, another
        // channel's funding output, is spent by that channel's commitment, final): it never confirms.
        const gone = b.payouts.find(p => {
          const s = this.opts.manager.get(p.channel_id)?.state
          return s !== undefined && s.setup.funding?.txid !== b.txid && s.splice?.candidates.some(c => c.txid === b.txid) !== true
        })
        if (gone !== undefined) {
          const reason = `an input is spent elsewhere: channel ${gone.channel_id} dropped the batch as double-spent`
          await this.save({ ...b, stage: 'abandoned', reason }, 'abandoned')
          this.opts.log({ event: 'settlement_abandoned', batch: b.id, reason })
          this.opts.ended?.({ outcome: 'failed', vbytes: b.vbytes, channels: b.payouts.length })
          continue
        }
        const sent = await broadcastTx(this.opts.chain, b.tx_hex)
        this.opts.log({ event: 'settlement_rebroadcast', batch: b.id, txid: b.txid, ok: sent.ok })
        continue
      }
      if (state !== 'done') continue
      const done: BatchRecord = { ...b, stage: 'confirmed', confirmed_height: r.value.block?.height ?? this.opts.height() - depth + 1 }
      await this.save(done, 'confirmed')
      this.opts.log({ event: 'settlement_confirmed', batch: b.id, txid: b.txid, depth, channels: b.payouts.length })
      this.opts.ended?.({ outcome: 'confirmed', vbytes: b.vbytes, channels: b.payouts.length })
    }
  }

  // ── restart ──

  /** After a restart, once the channels are loaded: see the file comment. */
  async resume (): Promise<void> {
    for (const b of [...this.records]) {
      if (b.stage === 'negotiating') await this.resumeNegotiating(b)
      else if (b.stage === 'signed') await this.resumeSigned(b)
    }
    await this.follow()
  }

  private rebuilt (b: BatchRecord): { batch: BatchTx; payouts: FundedPayout[] } {
    const payouts: FundedPayout[] = b.payouts.map(p => {
      const ch = this.opts.manager.get(p.channel_id)
      if (ch === undefined) throw new Error(`settlement: batch ${b.id} names channel ${p.channel_id}, which the hub does not have`)
      const s = ch.state.setup
      return {
        channelId: p.channel_id, funding: { txid: p.funding_txid as Txid, vout: p.funding_vout }, capacitySat: p.capacity_sat as Sat,
        payoutScript: p.payout_script, payoutSat: p.payout_sat as Sat, feeSat: p.fee_sat as Sat, newCapacitySat: p.new_capacity_sat as Sat,
        newFundingScript: bytesToHex(fundingScriptPubkey(hexToBytes(s.local.fundingPubkey), hexToBytes(s.remote!.fundingPubkey))),
      }
    })
    const extra: ExtraOutput[] = b.anchor === null ? [] : [{ script: b.anchor.script, value: 0 }]
    const batch = buildBatchTx(payouts, extra, b.locktime)
    if (batch.txid !== b.txid) throw new Error(`settlement: batch ${b.id} rebuilds to ${batch.txid}, its record says ${b.txid}`)
    return { batch, payouts }
  }

  private async resumeNegotiating (b: BatchRecord): Promise<void> {
    let rebuilt: ReturnType<SettlementCoordinator['rebuilt']>
    try {
      rebuilt = this.rebuilt(b)
    } catch (e) {
      // A channel of the batch is gone (abandoned, forgotten): no session of it can go on.
      await this.abandon({ record: b } as Active, `at the restart: ${(e as Error).message}`)
      return
    }
    const { batch, payouts } = rebuilt
    const sessions = payouts.map(p => this.opts.manager.get(p.channelId)!.state.splice?.session?.signing)
    const released = sessions.some(sg => sg !== undefined && sg.candidate.txid === b.txid && sg.held !== true)
    if (!released) {
      // No commitment_signed of the batch left: no peer can have signed. Every session ends.
      for (const p of payouts) {
        const ch = this.opts.manager.get(p.channelId)!
        if (ch.state.splice?.session !== undefined) await ch.driver.command({
          type: 'splice_abort', reason: `batch ${b.id} abandoned at a restart`,
        })
      }
      await this.abandon({ record: b } as Active, 'the hub restarted while the batch was negotiated')
      return
    }
    // Released: every session was complete and peers may have signed; they send tx_signatures again
    // after channel_reestablish (splice_peer_signed), and the batch goes on.
    const round: BatchRound = {
      ...newRound(b.txid, payouts.map(p => p.channelId), this.opts.height(), b.round), stage: 'released',
      complete: payouts.map(p => p.channelId),
      peerSigned: payouts.filter(p => this.opts.manager.get(p.channelId)!.state.splice?.session?.signing?.received !== undefined)
        .map(p => p.channelId),
    }
    this.active = { record: b, round, batch, payouts, prevtx: new Map(), stored: new Set(), deferred: [] }
    for (const p of payouts) {
      const sg = this.opts.manager.get(p.channelId)!.state.splice?.session?.signing
      if (sg?.held === true) await this.opts.manager.get(p.channelId)!.driver.command({
        type: 'splice_batch_release', txid: b.txid as Txid,
      })
    }
    this.opts.log({ event: 'settlement_resumed', batch: b.id, stage: b.stage, released: true })
  }

  private async resumeSigned (b: BatchRecord): Promise<void> {
    const signed = parseTx(b.tx_hex!)
    const all = signed.inputs.map(i => i.witness.map(w => bytesToHex(w)))
    // The transaction is complete without them; a session still being signed needs its witnesses.
    const live = b.payouts.filter(p => this.opts.manager.get(p.channel_id) !== undefined)
    if (live.length === b.payouts.length) this.giveWitnesses(this.rebuilt(b).batch, all, live.map(p => p.channel_id))
    else this.opts.log({ event: 'settlement_resume_channels_missing', batch: b.id, missing: b.payouts.length - live.length })
    const r = await broadcastTx(this.opts.chain, b.tx_hex!)
    this.opts.log({ event: 'settlement_resumed', batch: b.id, stage: b.stage, broadcast: r.ok })
    await this.save({ ...b, stage: 'broadcast', broadcast_height: this.opts.height() }, 'broadcast')
  }

  // ── records ──

  private async save (b: BatchRecord, point: string): Promise<void> {
    crashPoint('before', `settle:${point}`)
    await saveBatch(this.opts.store, b)
    crashPoint('after', `settle:${point}`)
    const i = this.records.findIndex(x => x.id === b.id)
    if (i < 0) this.records.push(b)
    else this.records[i] = b
  }

  private lastPayoutHeight (nodeId: string): number | undefined {
    let h: number | undefined
    for (const b of this.records) {
      if (b.stage !== 'broadcast' && b.stage !== 'confirmed') continue
      if (b.payouts.some(p => p.node_id === nodeId)) h = Math.max(h ?? 0, b.started_height)
    }
    return h
  }
}

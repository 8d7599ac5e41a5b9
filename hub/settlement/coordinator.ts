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
// The round's plan is round.ts, the hub's signatures sign.ts, the confirmation follower follow.ts and
// the restart resume.ts: a batch in negotiating whose commitment_signed are all still held is
// abandoned (every session aborted: no peer can have signed); one released in any session goes on
// (its peers may have signed); a batch in signed gives every session its witnesses from the stored
// transaction and broadcasts it; one broadcast is followed to its depth.
import type { ChannelEvent } from '../../protocol/channel/index.ts'
import type { FundedPayout } from '../../protocol/settlement/build.ts'
import {
  coordinate, newRound, type CoordinatorCommand, type CoordinatorInput,
} from '../../protocol/settlement/coordinate.ts'
import { isWindowEnd, windowDecision } from '../../protocol/settlement/schedule.ts'
import type { Deferred, ExtraOutput } from '../../protocol/settlement/types.ts'
import type { NodeId, Sat, Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { broadcastTx } from '../../host/chain/broadcast.ts'
import { crashPoints } from '../../host/crash-points.ts'
import type { Store } from '../../host/store/store.ts'
import type { Anchoring } from '../audit/anchoring.ts'
import type { ManagedChannel } from '../channels/channel.ts'
import type { ChannelListener, ChannelManager } from '../channels/manager.ts'
import { giveWitnesses, sessionsEnded, type Active } from './active.ts'
import { accountsNow } from './accounts.ts'
import type { SettlementConfig } from './config.ts'
import { BatchFollower } from './follow.ts'
import type { IdleCloses } from './idle-closes.ts'
import type { PolicyStore } from './policy.ts'
import { loadBatches, saveBatch, type BatchRecord } from './record.ts'
import { dueReplacement, isReplacement, withoutReplacement } from './replace.ts'
import { planReplacement, planRound, type RoundInput } from './round.ts'
import { resumeNegotiating, resumeSigned, type ResumeContext } from './resume.ts'
import { batchSpliceCommand, isBatchSession, payoutTerms } from './session-command.ts'
import { signBatch } from './sign.ts'
import { settlementStatus } from './status.ts'

const crashPoint = crashPoints('HUB_CRASH_AT')

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

export class SettlementCoordinator implements ChannelListener {
  private readonly records: BatchRecord[]
  private active: Active | undefined
  private running = false
  private readonly follower: BatchFollower

  private constructor (private readonly opts: SettlementOptions, records: BatchRecord[]) {
    this.records = records
    this.follower = new BatchFollower({
      chain: opts.chain, finalityDepth: opts.config.finalityDepth, height: opts.height, records: () => this.records,
      save: async (b, point) => { await this.save(b, point) }, log: opts.log, ended: opts.ended,
      confirmedWhileReplacing: async (id, txid) => { await this.confirmedWhileReplacing(id, txid) },
      droppedBy: (b, txids) => b.payouts.find(p =>
        opts.manager.get(p.channel_id)?.state.splice?.dropped?.some(d => txids.includes(d.txid)) === true)?.channel_id,
    })
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

  /** Plans a round from `due` (round.ts), writes its record (negotiating) and starts a session per channel. */
  private async startRound (o: RoundInput): Promise<{ record?: BatchRecord; reason: string; deferred: Deferred[] }> {
    const r = await planRound({ manager: this.opts.manager, chain: this.opts.chain, config: this.opts.config }, o)
    if (r.record === undefined) return r
    await this.save(r.record, 'negotiating')
    const round = newRound(r.batch.txid, r.payouts.map(p => p.channelId), o.height, o.round)
    this.active = { record: r.record, round, batch: r.batch, payouts: r.payouts, prevtx: r.prevtx, stored: new Set(), deferred: r.deferred }
    for (const p of r.payouts) await this.startSession(p)
    return { record: r.record, reason: '', deferred: r.deferred }
  }

  private async startSession (p: FundedPayout): Promise<void> {
    const a = this.active!
    const ch = this.opts.manager.get(p.channelId)!
    const terms = payoutTerms(a.batch, p, a.record.feerate_per_kw)
    this.opts.manager.send(ch.peer, {
      type: 'payout_proposal', channel_id: ch.channelId, payout_script: terms.payoutScript, payout_sat: terms.payoutSat as Sat,
      fee_sat: terms.feeSat as Sat, feerate_per_kw: terms.feeratePerKw, payout_serial_id: terms.payoutSerialId,
    })
    const splice = batchSpliceCommand(a.batch, p, a.prevtx, {
      feeratePerKw: a.record.feerate_per_kw, locktime: a.record.locktime, nodeIds: { local: this.opts.hubIdFor(ch.peer), remote: ch.peer },
    })
    // A replacement: BOLT #2 tx_init_rbf in the session of each channel, whose candidate it replaces.
    const cmd = isReplacement(a.record) ? { ...splice, type: 'splice_rbf' as const } : splice
    let refused: string | undefined
    await ch.driver.command(cmd, (_before, after, effects) => {
      for (const e of [...effects, ...after.outbox.map(x => x.effect)]) {
        if (e.kind === 'emit' && e.event.type === 'command_failed' &&
          (e.event.command === 'splice' || e.event.command === 'splice_rbf')) refused = `${e.event.error.reason}: ${e.event.error.detail}`
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
      // A replacement is never rebuilt without a channel (that channel's candidate could then never
      // confirm): the batch stays as it was broadcast.
      case 'rebuild': return isReplacement(a.record)
        ? await this.abandon(a.record, `a channel failed: ${a.round.dropped.map(d => d.reason).join('; ')}`)
        : await this.rebuild(a, cmd.channels, cmd.round)
      case 'give_up': return await this.abandon(a.record, cmd.reason)
    }
  }

  /** Every peer signed: the hub's signature on every input, every input's witness, stage signed (the
   *  signed transaction stored, the anchor's carrier recorded), then each session's witnesses. */
  private async sign (a: Active): Promise<void> {
    const { witnesses, signedHex } = signBatch(this.opts.manager, a.batch, a.payouts)
    if (a.record.anchor !== null) await this.opts.anchoring.carriedBy(a.record.anchor.seq, a.batch.txid)
    a.record = { ...a.record, stage: 'signed', tx_hex: signedHex }
    await this.save(a.record, 'signed')
    giveWitnesses(this.opts.manager, a.batch, witnesses, a.payouts.map(p => p.channelId))
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
    await sessionsEnded(this.opts.manager, channels)
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
    if (r.record === undefined) await this.abandon({ ...a.record, dropped }, r.reason)
  }

  /** The batch ends as abandoned; a replacement that ends so leaves the batch as it was broadcast. */
  private async abandon (batch: BatchRecord, reason: string): Promise<void> {
    this.active = undefined
    if (isReplacement(batch)) {
      await this.save(withoutReplacement(batch, this.opts.height(), reason), 'rbf_abandoned')
      this.opts.log({ event: 'settlement_replacement_abandoned', batch: batch.id, txid: batch.txid, reason })
      return
    }
    const record: BatchRecord = { ...batch, stage: 'abandoned', reason: reason.slice(0, 500) }
    await this.save(record, 'abandoned')
    this.opts.log({ event: 'settlement_abandoned', batch: record.id, reason })
    this.opts.ended?.({ outcome: 'failed', vbytes: record.vbytes, channels: record.payouts.length })
  }

  // ── replacement (RBF) ──

  /** A broadcast batch not in the chain after settlement.rbfAfterBlocks: its replacement (replace.ts)
   *  is planned, written (negotiating, the transactions it replaces kept) before any tx_init_rbf
   *  leaves, and negotiated in every channel's session as the batch was. */
  private async replaceDue (height: number): Promise<void> {
    this.running = true
    try {
      await this.replace(height)
    } finally {
      this.running = false
    }
  }

  private async replace (height: number): Promise<void> {
    const due = dueReplacement(this.records, id => this.follower.depthOf(id), this.opts.config, height)
    if (due === undefined) return
    const b = due.batch
    const deps = { manager: this.opts.manager, chain: this.opts.chain, config: this.opts.config }
    const r = await planReplacement(deps, b, due.feeratePerKw, height)
    if (r.record === undefined) {
      await this.save({ ...b, replace_failed: { height, reason: r.reason.slice(0, 500) } }, 'rbf_refused')
      this.opts.log({ event: 'settlement_replacement_refused', batch: b.id, feerate_per_kw: due.feeratePerKw, reason: r.reason })
      return
    }
    await this.save(r.record, 'rbf_negotiating')
    this.active = {
      record: r.record, round: newRound(r.batch.txid, r.payouts.map(p => p.channelId), height, r.record.round), batch: r.batch,
      payouts: r.payouts, prevtx: r.prevtx, stored: new Set(), deferred: [],
    }
    this.opts.log({
      event: 'settlement_replacing', batch: b.id, replaces: b.txid, txid: r.batch.txid, feerate_per_kw: due.feeratePerKw,
      previous_feerate_per_kw: b.feerate_per_kw,
    })
    for (const p of r.payouts) await this.startSession(p)
  }

  /** A transaction of batch `id` confirmed while its replacement is negotiated: the replacement can
   *  never confirm. Sessions whose commitment_signed are all still held are aborted (no peer signed);
   *  once released it is signed through, and our node refuses it. */
  private async confirmedWhileReplacing (id: number, txid: string): Promise<void> {
    await this.queue
    const a = this.active
    if (a === undefined || a.record.id !== id || !isReplacement(a.record) || a.round.stage !== 'negotiating') return
    for (const channelId of a.round.channels) await this.carryOut(a, { type: 'abort', channelId, reason: `${txid} confirmed` })
    await this.abandon(a.record, `the batch's ${txid} confirmed while it was being replaced`)
  }

  // ── blocks ──

  /** A block: the sign timeout of the batch being negotiated, broadcast batches' depths, and the window. */
  async onBlock (height: number): Promise<void> {
    if (this.active !== undefined) await this.feed({ type: 'block', height })
    await this.follower.follow()
    if (this.active === undefined && !this.running) await this.replaceDue(height)
    if (isWindowEnd(height, this.opts.config.windowBlocks) && this.active === undefined && !this.running) {
      const r = await this.run('window')
      if (!r.started) this.opts.log({ event: 'settlement_window', height, started: false, reason: r.reason })
    }
  }

  /** A block was disconnected: broadcast batches' depths again (one reorged out is not done). */
  async onReorg (): Promise<void> { await this.follower.follow() }

  // ── restart ──

  /** After a restart, once the channels are loaded (hub/settlement/resume.ts). */
  async resume (): Promise<void> {
    const c: ResumeContext = {
      manager: this.opts.manager, chain: this.opts.chain, height: this.opts.height, log: this.opts.log,
      save: async (b, point) => { await this.save(b, point) },
      abandon: async (record, reason) => { await this.abandon(record, reason) },
      activate: a => { this.active = a },
    }
    for (const b of [...this.records]) {
      if (b.stage === 'negotiating') {
        const a = await resumeNegotiating(c, b)
        // Every peer's tx_signatures stored before the restart: none is sent again, so the step that
        // gives the witnesses runs now.
        const signed = a?.round.peerSigned[0]
        if (a !== undefined && signed !== undefined && a.round.peerSigned.length === a.round.channels.length) {
          await this.feed({ type: 'peer_signed', channelId: signed }, a.batch.txid)
        }
      } else if (b.stage === 'signed') await resumeSigned(c, b)
    }
    await this.follower.follow()
  }

  // ── records ──

  private async save (b: BatchRecord, point: string): Promise<void> {
    crashPoint('before', `settle:${point}`)
    await saveBatch(this.opts.store, b)
    crashPoint('after', `settle:${point}`)
    const i = this.records.findIndex(x => x.id === b.id)
    if (i < 0) this.records.push(b)
    else this.records[i] = b
    // A batch done by a transaction it replaced, while a replacement of it was still being signed
    // (that replacement can never confirm): the coordinator is free for the next batch.
    if (b.stage === 'confirmed' && this.active?.record.id === b.id) this.active = undefined
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

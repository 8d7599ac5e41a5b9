// Idle closes (docs/DESIGN.md "Batched settlement", idle closes): at a window end, each channel the
// scheduler found idle for its account's close_idle_blocks (protocol/settlement/schedule.ts `closes`)
// is closed cooperatively by the existing mutual close (BOLT #2 shutdown, closing_signed); it is not
// in that window's payout batch. Only a channel whose peer is connected and that is in `normal` with
// its link up is in `closes` (hub/settlement/accounts.ts): a peer offline at the window is closed at
// a later one, and idleness never force-closes a channel.
//
// The account's balance goes where the account's own shutdown says: the hub's shutdown names only
// the hub's script, and the closing transaction each side signs pays each side's own script (BOLT #2
// closing_signed). The SDK answers the hub's shutdown with its own policy's payout script
// (client-sdk/channels.ts), so the hub cannot redirect it; the record says where it went.
//
//   settle/idle-close/<channel id>   written before the hub's shutdown is sent (stage shutdown), and
//                                    again when both signed the closing transaction (stage agreed)
import { z } from 'zod'
import type { ChannelEvent } from '../../protocol/channel/index.ts'
import type { WindowDecision } from '../../protocol/settlement/schedule.ts'
import { keys } from '../../host/store/keys.ts'
import { parseJsonValue, put, type Store } from '../../host/store/store.ts'
import type { ChannelListener, ChannelManager, ManagedChannel } from '../channels/manager.ts'

/** Idle closes shown in GET /settlement's last_closes. */
const LAST_CLOSES_SHOWN = 10
const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
/** A shutdown scriptpubkey is at most 42 bytes (BOLT #2: a witness program of up to 40 bytes). */
const script = z.string().regex(/^([0-9a-f]{2})*$/).max(84)

export const idleCloseSchema = z.strictObject({
  channel_id: hex32,
  node_id: z.string().regex(/^0[23][0-9a-f]{64}$/),
  /** The window's height, the channel's last activity, and the blocks in between. */
  height: count,
  last_activity_height: count,
  idle_blocks: count,
  /** The account's policy script when the close started. */
  payout_script: script,
  stage: z.enum(['shutdown', 'refused', 'agreed']),
  /** Why the channel refused the shutdown command (stage refused). */
  reason: z.string().max(500).nullable(),
  closing_txid: hex32.nullable(),
  /** What the closing transaction pays the account, and to which script (the account's own shutdown). */
  account_sat: count.nullable(),
  account_script: script.nullable(),
  fee_sat: count.nullable(),
})
export type IdleCloseRecord = z.infer<typeof idleCloseSchema>

export interface IdleClosesOptions {
  store: Store
  manager: Pick<ChannelManager, 'get'>
  log: (event: Record<string, unknown>) => void
  /** A write failed: the store refuses writes from now on, the hub must stop. */
  fatal: (error: unknown) => void
}

export class IdleCloses implements ChannelListener {
  private readonly records = new Map<string, IdleCloseRecord>()

  private constructor (private readonly opts: IdleClosesOptions) {}

  static async open (opts: IdleClosesOptions): Promise<IdleCloses> {
    const c = new IdleCloses(opts)
    for await (const [key, v] of opts.store.iterate(keys.idleClosePrefix)) {
      const r = idleCloseSchema.safeParse(parseJsonValue(v))
      if (!r.success) { opts.log({ event: 'idle_close_record_malformed', key }); continue }
      c.records.set(r.data.channel_id, r.data)
    }
    return c
  }

  /** Starts the cooperative close of every channel in `closes` that can still start one. */
  async close (
    closes: WindowDecision['closes'], accounts: ReadonlyArray<{ channelId: string; nodeId: string; policy: { payoutScript: string } }>,
    height: number,
  ): Promise<void> {
    const byChannel = new Map(accounts.map(a => [a.channelId, a]))
    for (const c of closes) {
      const ch = this.opts.manager.get(c.channelId)
      const account = byChannel.get(c.channelId)
      if (ch === undefined || account === undefined) continue
      const s = ch.state
      if (s.phase !== 'normal' || s.link !== 'up' || s.closing.localScript !== undefined) continue
      const record: IdleCloseRecord = {
        channel_id: c.channelId, node_id: account.nodeId, height, last_activity_height: height - c.idleBlocks, idle_blocks: c.idleBlocks,
        payout_script: account.policy.payoutScript, stage: 'shutdown', reason: null, closing_txid: null, account_sat: null,
        account_script: null, fee_sat: null,
      }
      await this.save(record)
      let refused: string | undefined
      await ch.driver.command({ type: 'shutdown' }, (_before, after, effects) => {
        for (const e of [...effects, ...after.outbox.map(x => x.effect)]) {
          if (e.kind === 'emit' && e.event.type === 'command_failed' && e.event.command === 'shutdown') {
            refused = `${e.event.error.reason}: ${e.event.error.detail}`
          }
        }
      })
      this.opts.log({
        event: 'idle_close_started', channel_id: c.channelId, peer: account.nodeId, idle_blocks: c.idleBlocks, height,
        ...(refused !== undefined ? { refused } : {}),
      })
      // The channel could not shut down now (updates of ours not signed yet): the next window tries again.
      if (refused !== undefined) await this.save({ ...record, stage: 'refused', reason: refused.slice(0, 500) })
    }
  }

  event (ch: ManagedChannel, ev: ChannelEvent): void {
    const r = this.records.get(ch.channelId)
    if (r === undefined || r.stage !== 'shutdown' || ev.type !== 'closing_agreed') return
    const agreed: IdleCloseRecord = {
      ...r, stage: 'agreed', closing_txid: ev.tx.txid, account_sat: ev.tx.remoteSat, fee_sat: ev.tx.feeSat,
      account_script: ch.state.closing.remoteScript ?? null,
    }
    this.opts.log({
      event: 'idle_close_agreed', channel_id: ch.channelId, txid: ev.tx.txid, account_sat: ev.tx.remoteSat,
      to_policy_script: agreed.account_script === r.payout_script,
    })
    this.save(agreed).catch(e => { this.opts.fatal(e) })
  }

  /** GET /settlement's last_closes: newest first, with each channel's phase now. */
  view (): Array<Record<string, unknown>> {
    return [...this.records.values()].sort((a, b) => b.height - a.height).slice(0, LAST_CLOSES_SHOWN).map(r => ({
      ...r, phase: this.opts.manager.get(r.channel_id)?.state.phase ?? null,
    }))
  }

  private async save (r: IdleCloseRecord): Promise<void> {
    this.records.set(r.channel_id, r)
    await this.opts.store.write([put(keys.idleClose(r.channel_id), idleCloseSchema.parse(r))])
  }
}

// Two channel parties running the real state machine, with keys from channel seeds (so their monitors
// have every secret), funded by a given funding outpoint (a real tx on btcd in integration tests).
// Each party collects its durable MonitorUpdates, in order, as a channel host would store them.
import { sha256 } from '../../protocol/crypto/hash.ts'
import {
  acceptFromSeed, defaultPolicy, fundingAsAgreed, needsSignature, openFromSeed, step,
  type ChannelEvent, type ChannelInput, type ChannelSigner, type ChannelState, type Effect, type LocalPolicy, type MonitorUpdate,
} from '../../protocol/channel/index.ts'
import type { ChannelKeys } from '../../protocol/keys/channel.ts'
import { monitorKeys, type MonitorKeys } from '../../protocol/monitor/index.ts'
import { bytesToHex, hexToBytes, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChannelType, PeerMessage } from '../../protocol/wire/index.ts'

export const CHAIN_HASH = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f'

export interface Side {
  name: 'A' | 'B'
  /** The channel seed its keys derive from (channelKeys), as a hub stores it with the channel. */
  seed: Uint8Array
  keys: ChannelKeys
  mkeys: MonitorKeys
  signer: ChannelSigner
  state: ChannelState
  monitor: MonitorUpdate[]
  /** Channel state snapshots, by the monitor update count at the time (for stale-backup tests). */
  snapshots: Array<{ state: ChannelState; monitorCount: number }>
  events: ChannelEvent[]
  nodeId: NodeId
}

export interface PairOptions {
  seed?: number
  capacitySat?: number
  pushMsat?: number
  channelType?: ChannelType
  feeratePerKw?: number
  /** to_self_delay each side asks of the other. */
  toSelfDelay?: number
  /** Both sides' policy, over the defaults (splice depth, ...). */
  policy?: Partial<LocalPolicy>
  height: number
  /** The funding outpoint: called with both funding scriptPubkeys' inputs once they are known. */
  fund: (
    fundingPubkeys: { a: string; b: string }, capacitySat: number,
  ) => Promise<{ txid: Txid; outputIndex: number; hex?: string }> | { txid: Txid; outputIndex: number; hex?: string }
}

function seedOf (seed: number, who: string): Uint8Array { return sha256(new TextEncoder().encode(`monitor-test/${seed}/${who}`)) }

export class KeyedPair {
  a!: Side
  b!: Side
  toA: PeerMessage[] = []
  toB: PeerMessage[] = []
  preimages = new Map<string, string>()
  /** The funding tx, when the funder built a real one. */
  fundingHex = ''
  private counter = 0
  private salt = 0

  static async open (o: PairOptions): Promise<KeyedPair> {
    const p = new KeyedPair()
    const seed = o.seed ?? 1
    p.salt = seed
    const limits = {
      dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: 5_000_000_000 as Msat, channelReserveSat: 10_000 as Sat,
      htlcMinimumMsat: 1 as Msat, toSelfDelay: o.toSelfDelay ?? 20, maxAcceptedHtlcs: 30,
    }
    const capacitySat = o.capacitySat ?? 1_000_000
    const opened = openFromSeed({
      seed: seedOf(seed, 'A'), temporaryChannelId: bytesToHex(sha256(seedOf(seed, 'tmp'))) as ChannelId, chainHash: CHAIN_HASH,
      channelType: o.channelType ?? 'static_remotekey', fundingSat: capacitySat as Sat, pushMsat: (o.pushMsat ?? 400_000_000) as Msat,
      feeratePerKw: o.feeratePerKw ?? 2500, limits, policy: defaultPolicy(o.policy), localShutdownScript: '0014' + '11'.repeat(20),
      height: o.height,
    })
    p.a = side('A', { seed: seedOf(seed, 'A'), ...opened }, opened.step.state)
    const open = opened.step.effects.find(e => e.kind === 'send')
    if (open?.kind !== 'send' || open.msg.type !== 'open_channel') throw new Error('no open_channel')
    const accepted = acceptFromSeed({
      seed: seedOf(seed, 'B'), chainHash: CHAIN_HASH, minimumDepth: 1, limits, policy: defaultPolicy(o.policy),
      localShutdownScript: '0014' + '22'.repeat(20), height: o.height,
    }, open.msg)
    if (!accepted.ok) throw new Error(`acceptChannel: ${accepted.error.reason}`)
    p.b = side('B', { seed: seedOf(seed, 'B'), ...accepted.value }, accepted.value.step.state)
    p.handle(p.b, accepted.value.step.effects)
    p.flush()
    const funding = await o.fund({ a: p.a.keys.fundingPubkey, b: p.b.keys.fundingPubkey }, capacitySat)
    p.fundingHex = funding.hex ?? ''
    p.run(p.a, { kind: 'command', cmd: { type: 'funding_built', txid: funding.txid, outputIndex: funding.outputIndex } })
    p.flush()
    return p
  }

  /** The funding tx reached minimum depth for both. */
  ready (): void {
    for (const s of [this.a, this.b]) this.run(s, { kind: 'chain', event: fundingAsAgreed(s.state.setup, 6) })
    this.flush()
    if (this.a.state.phase !== 'normal' || this.b.state.phase !== 'normal') throw new Error(
      `phases ${this.a.state.phase}/${this.b.state.phase}`
    )
  }

  other (s: Side): Side { return s === this.a ? this.b : this.a }

  run (s: Side, input: ChannelInput): void {
    const r = step(s.state, input, s.signer)
    s.state = r.state
    this.handle(s, r.effects)
  }

  private handle (s: Side, effects: Effect[]): void {
    for (const e of effects) {
      if (e.kind === 'persist') {
        s.monitor.push(...e.monitor)
        s.snapshots.push({ state: JSON.parse(JSON.stringify(e.state)) as ChannelState, monitorCount: s.monitor.length })
        this.run(s, { kind: 'persisted', writeId: e.writeId })
      } else if (e.kind === 'send') (s === this.a ? this.toB : this.toA).push(e.msg)
      else if (e.kind === 'emit') s.events.push(e.event)
    }
  }

  flush (): void {
    for (let i = 0; i < 10_000; i++) {
      const m = this.toA.shift()
      if (m !== undefined) this.run(this.a, { kind: 'peer', msg: m })
      const n = this.toB.shift()
      if (n !== undefined) this.run(this.b, { kind: 'peer', msg: n })
      if (m === undefined && n === undefined) return
    }
    throw new Error('flush: messages still in flight after 10,000 rounds')
  }

  /** Signs and delivers until both commitments hold every update. */
  settle (): void {
    for (let i = 0; i < 100; i++) {
      this.flush()
      let signed = false
      for (const s of [this.a, this.b]) if (needsSignature(s.state)) {
        this.run(s, { kind: 'command', cmd: { type: 'sign' } }); signed = true
      }
      if (!signed) { this.flush(); return }
    }
    throw new Error('settle: no convergence')
  }

  /** `from` offers an HTLC expiring at `cltvExpiry`; returns its id, hash and preimage. Not yet signed. */
  add (from: Side, amountMsat: number, cltvExpiry: number, preimageHex?: string): { id: number; hash: string; preimage: string } {
    const preimage = preimageHex ?? bytesToHex(sha256(new TextEncoder().encode(`preimage/${this.salt}/${this.counter++}/${from.name}`)))
    const hash = bytesToHex(sha256(hexToBytes(preimage)))
    this.preimages.set(hash, preimage)
    const id = from.state.nextLocalHtlcId
    const before = from.events.length
    this.run(from, {
      kind: 'command',
      cmd: { type: 'add_htlc', amountMsat: amountMsat as Msat, paymentHash: hash, cltvExpiry, recipient: this.other(from).nodeId },
    })
    const failed = from.events.slice(before).find(e => e.type === 'command_failed')
    if (failed !== undefined) throw new Error(`add_htlc refused: ${JSON.stringify(failed)}`)
    return { id, hash, preimage }
  }

  fulfill (s: Side, id: number): void {
    const h = s.state.localCommit!.spec.htlcs.find(x => x.offerer === 'remote' && x.id === id)!
    this.run(s, { kind: 'command', cmd: { type: 'fulfill_htlc', id, preimage: this.preimages.get(h.paymentHash)! } })
  }

  /** `s` restarts from its store as it was at snapshot `i` (an old backup), and reconnects. */
  restoreFromBackup (s: Side, i: number): void {
    const snap = s.snapshots[i]!
    s.state = JSON.parse(JSON.stringify(snap.state)) as ChannelState
    s.monitor = s.monitor.slice(0, snap.monitorCount)
    this.toA.length = 0; this.toB.length = 0
    this.run(this.other(s), { kind: 'disconnected' })
    this.run(s, { kind: 'restored' })
    this.run(this.a, { kind: 'connected' })
    this.run(this.b, { kind: 'connected' })
    this.flush()
  }

  /** Both sides' block height (CLTV checks of incoming HTLCs). */
  setHeight (h: number): void { for (const s of [this.a, this.b]) this.run(s, { kind: 'chain', event: { type: 'block', height: h } }) }
}

function side (name: 'A' | 'B', k: { seed: Uint8Array; keys: ChannelKeys; signer: ChannelSigner }, state: ChannelState): Side {
  return {
    name, seed: k.seed, keys: k.keys, mkeys: monitorKeys(k.keys), signer: k.signer, state, monitor: [], snapshots: [], events: [],
    nodeId: k.keys.fundingPubkey as NodeId,
  }
}

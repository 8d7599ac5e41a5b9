// Two ChannelDrivers (the real channel state machine, real BOLT #3 signers) joined by an in-memory
// wire, each persisting to a Store (FaultyStore in front of a MemoryStore, so a test can stall or fail
// writes). Every port call is appended to one shared trace, so a test can assert the order in which
// effects were executed.
import { sha256 } from '../../../protocol/crypto/hash.ts'
import { acceptChannel, bolt3Signer, fundingAsAgreed, openChannel, type ChannelEvent, type ChannelSigner, type ChannelState } from '../../../protocol/channel/index.ts'
import { defaultPolicy } from '../../../protocol/channel/policy.ts'
import { ChannelDriver, type DriverOptions, type PersistRequest } from '../../../host/channel/index.ts'
import { channelKeys, localSideParams } from '../../../protocol/keys/channel.ts'
import { bytesToHex, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../../../protocol/types.ts'
import type { PeerMessage } from '../../../protocol/wire/index.ts'
import { FaultyStore } from '../../fixtures/faulty-store.ts'
import { MemoryStore, put, type Store } from '../../../host/store/index.ts'

export const CHAIN_HASH = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f'
const LIMITS = { dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: 5_000_000_000 as Msat, channelReserveSat: 10_000 as Sat, htlcMinimumMsat: 1 as Msat, toSelfDelay: 144, maxAcceptedHtlcs: 30 }

let counter = 0
const seed = (tag: string): Uint8Array => sha256(new TextEncoder().encode(`${tag}/${counter++}`))

export interface Side {
  name: string
  driver?: ChannelDriver
  signer: ChannelSigner
  store: FaultyStore
  events: ChannelEvent[]
  sent: PeerMessage[]
  /** Delivery of a message to the other side: off when the wire is cut. */
  connected: boolean
  /** The state of the latest write the store acknowledged (what a restart would load). */
  durable?: ChannelState
}

export class DriverPair {
  readonly trace: string[] = []
  /** Persist-before-send, checked at each send against what is durable at that moment: a
   *  commitment_signed whose commitment is not stored, or a revoke_and_ack whose new commitment is
   *  not stored (DESIGN.md rule 2). Must stay empty. */
  readonly violations: string[] = []
  a: Side
  b: Side
  readonly nodeA: NodeId
  readonly nodeB: NodeId
  private readonly keysA = channelKeys(seed('a'))
  private readonly keysB = channelKeys(seed('b'))

  /** `storeA`/`storeB` default to their own MemoryStore (wrapped in a FaultyStore either way);
   *  `driver` (both sides): driver options and the optional `defer` port. */
  constructor (storeA: Store = new MemoryStore(), storeB: Store = new MemoryStore(), private readonly driverConfig: { options?: DriverOptions; defer?: (fn: () => void) => void } = {}) {
    this.a = { name: 'A', signer: bolt3Signer(this.keysA.secrets), store: new FaultyStore(storeA), events: [], sent: [], connected: true }
    this.b = { name: 'B', signer: bolt3Signer(this.keysB.secrets), store: new FaultyStore(storeB), events: [], sent: [], connected: true }
    this.nodeA = bytesToHex(sha256(seed('nodeA'))).replace(/^../, '02') as NodeId
    this.nodeB = bytesToHex(sha256(seed('nodeB'))).replace(/^../, '03') as NodeId
  }

  other (s: Side): Side { return s === this.a ? this.b : this.a }

  private ports (s: Side) {
    return {
      persist: async (req: PersistRequest): Promise<void> => {
        this.trace.push(`${s.name}:persist:${req.writeId}:begin`)
        await s.store.write([put(`chan/${req.channelId}/state`, req.state), ...req.monitor.map(m => put(`chan/${req.channelId}/monitor/${String(m.seq).padStart(16, '0')}`, m))])
        if (s.durable === undefined || req.writeId > s.durable.writes.issued) s.durable = req.state
        this.trace.push(`${s.name}:persist:${req.writeId}:done`)
      },
      send: (msg: PeerMessage): void => {
        this.checkDurable(s, msg)
        this.trace.push(`${s.name}:send:${msg.type}`)
        s.sent.push(msg)
        if (s.connected) this.deliver(this.other(s), msg)
      },
      broadcastFunding: (txid: Txid): void => { this.trace.push(`${s.name}:broadcast:${txid.slice(0, 8)}`) },
      disconnect: (): void => { this.trace.push(`${s.name}:disconnect`) },
      emit: (event: ChannelEvent): void => {
        this.trace.push(`${s.name}:emit:${event.type}`)
        s.events.push(event)
        if (event.type === 'funding_needed') {
          void s.driver!.command({ type: 'funding_built', txid: bytesToHex(seed('txid')) as Txid, outputIndex: 0 })
        }
      },
      stopped: (): void => { this.trace.push(`${s.name}:stopped`) },
      ...(this.driverConfig.defer !== undefined ? { defer: this.driverConfig.defer } : {}),
    }
  }

  private checkDurable (s: Side, msg: PeerMessage): void {
    const d = s.durable
    if (msg.type === 'commitment_signed') {
      if (d?.nextRemoteCommit?.message.signature !== msg.signature) this.violations.push(`${s.name}: commitment_signed sent before the commitment it signs was stored`)
    } else if (msg.type === 'revoke_and_ack') {
      // The revoke for our commitment n carries our point for n + 1: find n, nearby our current index.
      const now = s.driver!.state.localCommit?.index ?? 0
      let n = -1
      for (let i = Math.max(0, now - 3); i <= now + 1 && n < 0; i++) if (s.signer.perCommitmentPoint(i + 1) === msg.next_per_commitment_point) n = i
      if (n < 0 || (d?.localCommit?.index ?? -1) < n) this.violations.push(`${s.name}: revoke_and_ack for commitment ${n} sent before that commitment was stored`)
    }
  }

  private deliver (to: Side, msg: PeerMessage): void {
    if (msg.type === 'open_channel' && to.driver === undefined) {
      const accepted = acceptChannel({ chainHash: CHAIN_HASH, minimumDepth: 1, local: localSideParams(this.keysB, LIMITS), policy: defaultPolicy(), localShutdownScript: '0014' + '22'.repeat(20), height: 100 }, msg, to.signer)
      if ('error' in accepted) throw new Error(`acceptChannel: ${accepted.error.detail}`)
      to.driver = new ChannelDriver(accepted.state, to.signer, this.ports(to), this.driverConfig.options)
      void to.driver.start(accepted)
      return
    }
    void to.driver!.peer(msg)
  }

  /** Opens a channel A → B and drives it to `normal`. */
  async open (capacitySat = 1_000_000, pushMsat = 0): Promise<void> {
    const opened = openChannel({
      temporaryChannelId: bytesToHex(seed('tmp')) as ChannelId, chainHash: CHAIN_HASH, channelType: 'static_remotekey',
      fundingSat: capacitySat as Sat, pushMsat: pushMsat as Msat, feeratePerKw: 253, local: localSideParams(this.keysA, LIMITS),
      policy: defaultPolicy(), localShutdownScript: '0014' + '11'.repeat(20), height: 100,
    }, this.a.signer)
    this.a.driver = new ChannelDriver(opened.state, this.a.signer, this.ports(this.a), this.driverConfig.options)
    await this.a.driver.start(opened)
    await this.until(() => this.a.driver!.state.phase === 'awaiting_funding_depth' && this.b.driver?.state.phase === 'awaiting_funding_depth')
    await this.a.driver.chain(fundingAsAgreed(this.a.driver.state.setup, 1))
    await this.b.driver!.chain(fundingAsAgreed(this.b.driver!.state.setup, 1))
    await this.until(() => this.a.driver!.state.phase === 'normal' && this.b.driver!.state.phase === 'normal')
    // channel_ready's writes may still be in flight (the drivers step on while they are written).
    await this.a.driver.idle()
    await this.b.driver!.idle()
  }

  /** Waits (yielding to the event loop, no timers) until `pred` holds; fails after many turns. */
  async until (pred: () => boolean, turns = 20_000): Promise<void> {
    for (let i = 0; i < turns; i++) {
      if (pred()) return
      await new Promise<void>(resolve => setImmediate(resolve))
    }
    throw new Error(`condition not reached; trace tail: ${this.trace.slice(-12).join(' ')}`)
  }

  /** A payment hash and its preimage. */
  static invoice (): { hash: string; preimage: string } {
    const pre = seed('preimage')
    return { hash: bytesToHex(sha256(pre)), preimage: bytesToHex(pre) }
  }
}

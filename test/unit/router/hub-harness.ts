// The hub's channel manager and router in-process, over a FaultyStore(MemoryStore), with clients that
// run their own ChannelDriver and talk to the hub through fake sessions (no sockets, no chain: funding
// txids are made up and depths are fed by hand). A "restart" builds a new hub over the same inner
// store, as a process restart would.
import { sha256 } from '../../../protocol/crypto/hash.ts'
import { bolt3Signer, openChannel, type ChannelEvent, type ChannelSigner } from '../../../protocol/channel/index.ts'
import { defaultPolicy } from '../../../protocol/channel/policy.ts'
import { ChannelDriver } from '../../../host/channel/index.ts'
import { channelKeys, localSideParams } from '../../../protocol/keys/channel.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { bytesToHex, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../../../protocol/types.ts'
import type { PeerMessage } from '../../../protocol/wire/index.ts'
import { AuditLog } from '../../../hub/audit/index.ts'
import { ChannelManager } from '../../../hub/channels/manager.ts'
import { loadPreimages } from '../../../host/channel/record.ts'
import { hubConfigSchema, type HubConfigInput } from '../../../hub/config.ts'
import { InboundChannels } from '../../../hub/funding/inbound.ts'
import { CircuitStore } from '../../../hub/router/circuits.ts'
import { Router } from '../../../hub/router/router.ts'
import { FaultyStore } from '../../fixtures/faulty-store.ts'
import { MemoryStore, put } from '../../../host/store/index.ts'
import type { PeerSession } from '../../../hub/transport/server.ts'
import { agreedFunding } from '../../helpers/funding.ts'

export const CHAIN_HASH = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f'
const ZERO = '00'.repeat(32)
let counter = 0
export const seed = (tag: string): Uint8Array => sha256(new TextEncoder().encode(`${tag}/${counter++}/${Math.random()}`))

/** What a PeerSession offers the hub's logic, delivering to a client in-process. */
class FakeSession {
  open = true
  constructor (readonly nodeId: NodeId, private readonly deliver: (msg: PeerMessage) => void) {}
  get remoteAddress (): string { return '127.0.0.1' }
  get bufferedAmount (): number { return 0 }
  send (msg: PeerMessage): 'sent' | 'closed' {
    if (!this.open) return 'closed'
    this.deliver(msg)
    return 'sent'
  }
  warn (detail: string, channelId: string = ZERO): 'sent' | 'closed' { return this.send({ type: 'warning', channel_id: channelId as ChannelId, data: detail }) }
  error (detail: string, channelId: string): 'sent' | 'closed' { return this.send({ type: 'error', channel_id: channelId as ChannelId, data: detail }) }
  disconnect (): void { this.open = false }
}

export interface HubLog { events: Array<Record<string, unknown>>; fatal: unknown[] }

export class InProcessHub {
  readonly hubKey = seed('hub')
  readonly hubId = nodeIdOf(this.hubKey)
  readonly inner = new MemoryStore()
  store!: FaultyStore
  manager!: ChannelManager
  router!: Router
  inbound!: InboundChannels
  circuits!: CircuitStore
  height = 100
  readonly sessions = new Map<NodeId, FakeSession>()
  readonly clients = new Map<NodeId, Client>()
  readonly log: HubLog = { events: [], fatal: [] }

  constructor (private readonly configInput: Partial<HubConfigInput> = {}) {}

  /** Starts (or restarts, over the same inner store) the hub's logic. */
  async start (): Promise<void> {
    this.store = new FaultyStore(this.inner)
    const config = hubConfigSchema.parse({ dataDir: '/nonexistent', ...this.configInput })
    const audit = await AuditLog.open(this.store)
    this.circuits = new CircuitStore(this.store)
    await this.circuits.load()
    const log = (e: Record<string, unknown>): void => { this.log.events.push(e) }
    this.manager = new ChannelManager({
      store: this.store, audit, config, chainHash: CHAIN_HASH, log,
      shutdownScript: () => '0014' + '33'.repeat(20),
      session: peer => this.sessions.get(peer) as unknown as PeerSession | undefined,
      height: () => this.height,
      fatal: e => { this.log.fatal.push(e) },
    })
    // Hub-funded channels are opened as in hub/main.ts (no wallet here: they stay at funding_needed).
    this.inbound = new InboundChannels({ manager: this.manager, config, log })
    this.router = new Router({
      hubId: this.hubId, manager: this.manager, circuits: this.circuits, config, preimages: await loadPreimages(this.store), log,
      height: () => this.height, fatal: e => { this.log.fatal.push(e) },
      openChannel: peer => this.inbound.openOnPayment(peer),
    })
    this.manager.listen(this.inbound)
    this.manager.listen(this.router)
    await this.manager.load()
    await this.router.reconcile()
  }

  /** A process crash: the hub's logic is dropped (its sessions die with it), the store stays. */
  async crash (): Promise<void> {
    for (const [id, s] of this.sessions) { s.open = false; this.sessions.delete(id); await this.clients.get(id)?.driver?.disconnected() }
  }

  connect (c: Client): void {
    const s = new FakeSession(c.nodeId, msg => c.receive(msg))
    this.sessions.set(c.nodeId, s)
    this.clients.set(c.nodeId, c)
    this.manager.opened(s as unknown as PeerSession)
    c.hubSend = msg => { if (s.open) this.manager.message(c.nodeId, msg, s as unknown as PeerSession) }
    if (c.driver !== undefined) void c.driver.connected()
  }

  /** A session for any party built on its own (e.g. test/adversarial/fixtures/attacker.ts): the hub's
   *  messages go to `deliver`; the returned link sends to the hub. */
  link (nodeId: NodeId): { nodeId: NodeId; send: (msg: PeerMessage) => void; onMessage: (fn: (msg: PeerMessage) => void) => void; close: () => void } {
    let deliver: (msg: PeerMessage) => void = () => {}
    const s = new FakeSession(nodeId, msg => { deliver(msg) })
    this.sessions.set(nodeId, s)
    const link = {
      nodeId,
      send: (msg: PeerMessage) => { if (s.open) this.manager.message(nodeId, msg, s as unknown as PeerSession) },
      onMessage: (fn: (msg: PeerMessage) => void) => { deliver = fn },
      close: () => {
        if (!s.open) return
        s.open = false
        this.sessions.delete(nodeId)
        this.manager.closed(s as unknown as PeerSession)
      },
    }
    this.manager.opened(s as unknown as PeerSession)
    return link
  }

  disconnect (c: Client): void {
    const s = this.sessions.get(c.nodeId)
    if (s === undefined) return
    s.open = false
    this.sessions.delete(c.nodeId)
    this.manager.closed(s as unknown as PeerSession)
    if (c.driver !== undefined) void c.driver.disconnected()
  }

  /** Waits (event-loop turns, no timers) until `pred` holds. */
  async until (pred: () => boolean, what: string, turns = 50_000): Promise<void> {
    for (let i = 0; i < turns; i++) {
      if (pred()) return
      await new Promise<void>(resolve => setImmediate(resolve))
    }
    throw new Error(`not reached: ${what}; last hub events: ${JSON.stringify(this.log.events.slice(-5))}`)
  }
}

const LIMITS = { dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: 5_000_000_000 as Msat, channelReserveSat: 10_000 as Sat, htlcMinimumMsat: 1 as Msat, toSelfDelay: 144, maxAcceptedHtlcs: 30 }

/** A client: one channel with the hub, its own driver, an in-memory store, and a payee's preimages. */
export class Client {
  readonly key = seed('client')
  readonly nodeId = nodeIdOf(this.key)
  readonly keys = channelKeys(seed('chan'))
  readonly signer: ChannelSigner = bolt3Signer(this.keys.secrets)
  readonly store = new MemoryStore()
  driver?: ChannelDriver
  hubSend: (msg: PeerMessage) => void = () => {}
  readonly events: ChannelEvent[] = []
  readonly received: PeerMessage[] = []
  readonly preimages = new Map<string, string>()
  /** As a payee: fail instead of fulfilling these hashes. */
  readonly refuse = new Set<string>()
  /** As a payee: neither fulfil nor fail these hashes (a payee that holds the HTLC). */
  readonly hold = new Set<string>()

  receive (msg: PeerMessage): void {
    this.received.push(msg)
    if (msg.type === 'hub_policy' || msg.type === 'warning' || (msg.type === 'error' && this.driver === undefined)) return
    void this.driver?.peer(msg)
  }

  /** Opens and funds a channel to the hub, pushing `pushMsat` to the hub's side (its liquidity). */
  async open (hub: InProcessHub, capacitySat: number, pushMsat: number): Promise<void> {
    await this.openUnconfirmed(hub, capacitySat, pushMsat)
    await this.driver!.chain(agreedFunding(this.driver!.state.setup, 3))
    const hubSide = hub.manager.get(this.driver!.channelId)!.driver
    await hubSide.chain(agreedFunding(hubSide.state.setup, 3))
    await hub.until(() => this.driver!.state.phase === 'normal' && hub.manager.get(this.driver!.channelId)!.driver.state.phase === 'normal', 'channel normal')
  }

  /** Opens a channel to the hub up to funding_signed: its funding (`funding`, or a made-up outpoint)
   *  is not confirmed. Resolves once the hub has stored it, or refused it (`refused` says why). */
  async openUnconfirmed (hub: InProcessHub, capacitySat: number, pushMsat = 0, funding?: { txid: Txid; outputIndex: number }): Promise<{ refused?: string }> {
    const errorsBefore = this.received.filter(m => m.type === 'error').length
    const opened = openChannel({
      temporaryChannelId: bytesToHex(seed('tmp')) as ChannelId, chainHash: CHAIN_HASH, channelType: 'static_remotekey',
      fundingSat: capacitySat as Sat, pushMsat: pushMsat as Msat, feeratePerKw: 253, local: localSideParams(this.keys, LIMITS),
      policy: defaultPolicy(), localShutdownScript: '0014' + '44'.repeat(20), height: hub.height,
    }, this.signer)
    this.driver = new ChannelDriver(opened.state, this.signer, {
      persist: async req => { await this.store.write([put(`chan/${req.channelId}/state`, req.state)]) },
      send: msg => { this.hubSend(msg) },
      broadcastFunding: () => {},
      disconnect: () => {},
      emit: ev => {
        this.events.push(ev)
        if (ev.type === 'funding_needed') void this.driver!.command({ type: 'funding_built', ...(funding ?? { txid: bytesToHex(seed('txid')) as Txid, outputIndex: 0 }) })
        if (ev.type === 'htlc_received') {
          if (this.hold.has(ev.htlc.paymentHash)) return
          const pre = this.preimages.get(ev.htlc.paymentHash)
          if (pre !== undefined && !this.refuse.has(ev.htlc.paymentHash)) void this.driver!.command({ type: 'fulfill_htlc', id: ev.htlc.id, preimage: pre })
          else void this.driver!.command({ type: 'fail_htlc', id: ev.htlc.id, reason: 'incorrect_or_unknown_payment_details' })
        }
      },
    })
    await this.driver.start(opened)
    const refusal = (): PeerMessage | undefined => this.received.filter(m => m.type === 'error').slice(errorsBefore)[0]
    await hub.until(() => refusal() !== undefined || (this.driver!.state.phase === 'awaiting_funding_depth' && hub.manager.get(this.driver!.channelId)?.peer === this.nodeId), 'funding signed or refused')
    const r = refusal()
    return r?.type === 'error' ? { refused: r.data } : {}
  }

  invoice (): { hash: string; preimage: string } {
    const pre = seed('preimage')
    const hash = bytesToHex(sha256(pre))
    this.preimages.set(hash, bytesToHex(pre))
    return { hash, preimage: bytesToHex(pre) }
  }

  get balanceMsat (): number { return this.driver!.state.localCommit!.spec.toLocalMsat }
  get settled (): boolean {
    const s = this.driver!.state
    return s.localCommit!.spec.htlcs.length === 0 && s.remoteCommit!.spec.htlcs.length === 0 && s.nextRemoteCommit === undefined
  }
}

/** A started hub with a platform (its own funds) and a creator (half its channel pushed to it, so
 *  the hub has liquidity towards it), both connected and their channels open. */
export async function hubWithPlatformAndCreator (config = {}): Promise<{ hub: InProcessHub; platform: Client; creator: Client }> {
  const hub = new InProcessHub(config)
  await hub.start()
  const platform = new Client()
  const creator = new Client()
  hub.connect(platform)
  hub.connect(creator)
  await platform.open(hub, 1_000_000, 0)
  await creator.open(hub, 1_000_000, 500_000_000)
  return { hub, platform, creator }
}

// A HubClient (the real SDK class, with its real channel drivers, PaymentBook and monitors) in one
// process with no sockets and no node: the hub side of its channel is a ChannelDriver (the real
// channel machine) behind the real authentication handshake, over an in-memory socket; the chain is
// a short static regtest-like chain that mines on demand. The client's store is injected
// (FaultyStore over MemoryStore), so a test can stall its writes, or "crash" it (fail every write
// from a point on) and start a new client over what was durable.
//
//   const hub = new FakeHub()
//   const c = await hub.client()                // created and connected
//   await hub.openChannel(c, { capacitySat, pushMsat })   // hub-funded, some balance pushed to the client
//   const inv = hub.invoice(25_000)             // a BOLT #11 invoice of a payee the hub fulfils for
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { startHubHandshake, hubReceive, type HubHandshake } from '../../../protocol/auth/handshake.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { acceptChannel, bolt3Signer, fundingAsAgreed, openChannel, type ChannelEvent, type ChannelSigner, type ChannelState, type Htlc } from '../../../protocol/channel/index.ts'
import { defaultPolicy } from '../../../protocol/channel/policy.ts'
import { ChannelDriver } from '../../../host/channel/index.ts'
import { channelKeys, localSideParams } from '../../../protocol/keys/channel.ts'
import { encodeInvoice } from '../../../protocol/invoice/index.ts'
import { fundingScriptPubkey } from '../../../protocol/tx/index.ts'
import { bytesToHex, hexToBytes, type ChannelId, type Height, type Msat, type NodeId, type Sat, type Txid } from '../../../protocol/types.ts'
import { decodeFrame, encodeMessage, type HtlcFailureReason, type OpenChannel, type PeerMessage } from '../../../protocol/wire/index.ts'
import { ok, type BlockRef, type ChainBackend, type ChainBlock, type ChainListener, type ChainTx } from '../../../host/chain/backend.ts'
import { FaultyStore } from '../../fixtures/faulty-store.ts'
import { MemoryStore, put } from '../../../host/store/index.ts'
import type { HubClient } from '../../../client-sdk/index.ts'
import { createNodeClient } from '../../../client-sdk/node.ts'
import type { SocketFactory, SocketLike } from '../../../client-sdk/transport/socket.ts'

const random32 = (): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(32))
const hashOf = (height: number): string => bytesToHex(sha256(new TextEncoder().encode(`fake block ${height}`)))
const START_HEIGHT = 200

/** A main chain of empty blocks that grows when mine() is called; knows the transactions it is told. */
export class FakeChain implements ChainBackend {
  private height = START_HEIGHT
  private readonly listeners = new Set<ChainListener>()
  private readonly txs = new Map<string, { tx: ChainTx; height: number }>()
  readonly broadcasts: string[] = []

  get genesis (): string { return hashOf(0) }
  private ref (h: number): BlockRef { return { height: h as Height, hash: hashOf(h) } }
  private block (h: number): ChainBlock {
    return { ...this.ref(h), prevHash: h === 0 ? '00'.repeat(32) : hashOf(h - 1), time: 1_700_000_000 + h, txs: [...this.txs.values()].filter(t => t.height === h).map(t => t.tx) }
  }

  /** A confirmed transaction paying `valueSat` to `script` (hex) at output 0, in the next block. */
  confirm (txid: string, script: string, valueSat: number): void {
    this.txs.set(txid, { tx: { txid: txid as Txid, hex: '', version: 2, locktime: 0, inputs: [], outputs: [{ value: valueSat as Sat, scriptPubKey: script }] }, height: this.height + 1 })
  }

  async mine (n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.height++
      for (const l of this.listeners) await l.connected?.(this.block(this.height))
      for (const l of this.listeners) await l.synced?.(this.ref(this.height))
    }
  }

  async tip () { return ok(this.ref(this.height)) }
  async getBlockHash (h: number) { return ok(h >= 0 && h <= this.height ? hashOf(h) : null) }
  async getBlock (at: number | string) {
    const h = typeof at === 'number' ? at : [...Array(this.height + 1).keys()].find(x => hashOf(x) === at)
    return ok(h !== undefined && h >= 0 && h <= this.height ? this.block(h) : null)
  }

  async getRawTransaction (txid: string) {
    const t = this.txs.get(txid)
    if (t === undefined || t.height > this.height) return ok(null)
    return ok({ tx: t.tx, confirmations: this.height - t.height + 1, block: this.ref(t.height) })
  }

  async getTxOut (txid: string, vout: number) {
    const t = this.txs.get(txid)
    const out = t?.tx.outputs[vout]
    if (t === undefined || out === undefined || t.height > this.height) return ok(null)
    return ok({ value: out.value, scriptPubKey: out.scriptPubKey, confirmations: this.height - t.height + 1, coinbase: false })
  }

  async broadcast (hex: string) { this.broadcasts.push(hex); return ok(bytesToHex(sha256(hexToBytes(hex))) as Txid) }
  async follow (listener: ChainListener) {
    this.listeners.add(listener)
    return ok(() => { this.listeners.delete(listener) })
  }

  async close (): Promise<void> { this.listeners.clear() }
}

/** One in-memory WebSocket: frames are delivered in order, each on its own macrotask. */
class FakeSocket implements SocketLike {
  readyState = 0
  readonly bufferedAmount = 0
  private readonly fns: Record<string, Array<(ev: never) => void>> = {}
  constructor (private readonly toHub: (data: string) => void, private readonly closed: () => void) {}

  addEventListener (type: string, fn: (ev: never) => void): void { (this.fns[type] ??= []).push(fn) }
  private fire (type: string, ev: unknown): void { for (const fn of this.fns[type] ?? []) (fn as (e: unknown) => void)(ev) }

  open (): void { this.readyState = 1; this.fire('open', {}) }
  send (data: string): void {
    if (this.readyState !== 1) return
    setImmediate(() => { if (this.readyState === 1) this.toHub(data) })
  }

  /** A frame from the hub. */
  deliver (data: string): void {
    if (this.readyState !== 1) return
    setImmediate(() => { if (this.readyState === 1) this.fire('message', { data }) })
  }

  close (code = 1000, reason = ''): void {
    if (this.readyState === 3) return
    this.readyState = 3
    setImmediate(() => { this.fire('close', { code, reason }); this.closed() })
  }
}

export interface FakeHubOptions {
  /** What the hub does with an HTLC the client offers: fulfil it (the default when it knows the
   *  preimage), fail it with a reason, or hold it (until settle()). */
  decide?: (htlc: Htlc) => 'fulfill' | 'hold' | { fail: HtlcFailureReason }
}

/** The hub's side: handshake, hub_policy, and one channel it funds towards the client. */
export class FakeHub {
  readonly hubKey = random32()
  readonly hubId = nodeIdOf(this.hubKey)
  readonly payeeKey = random32()
  readonly chain = new FakeChain()
  readonly preimages = new Map<string, string>()
  /** HTLCs the hub received from the client, by payment hash. */
  readonly received = new Map<string, Htlc>()
  readonly events: ChannelEvent[] = []
  driver: ChannelDriver | undefined
  private socket: FakeSocket | undefined
  private auth: HubHandshake | undefined
  private readonly store = new MemoryStore()
  private readonly dirs: string[] = []

  constructor (private readonly opts: FakeHubOptions = {}) {}

  readonly socketFactory: SocketFactory = async () => {
    const s: FakeSocket = new FakeSocket(data => this.onFrame(s, data), () => this.onClosed(s))
    setImmediate(() => {
      s.open()
      const hello = startHubHandshake(this.hubId, random32())
      this.socket = s
      this.auth = hello.state
      s.deliver(encodeMessage(hello.send))
    })
    return s
  }

  /** Drops the connection (the client reconnects on its own). */
  disconnect (): void { this.socket?.close(1001, 'hub dropped the connection') }

  private send (msg: PeerMessage): void { this.socket?.deliver(encodeMessage(msg)) }

  private onFrame (s: FakeSocket, data: string): void {
    if (s !== this.socket) return
    const d = decodeFrame(data)
    if (!d.ok) throw new Error(`fake hub: bad frame from the client: ${d.error.detail}`)
    const msg = d.msg
    if (this.auth?.phase !== 'authenticated') {
      const r = hubReceive(this.auth!, msg, this.hubKey, random32())
      if (!r.ok) throw new Error(`fake hub: handshake: ${r.error.detail}`)
      this.auth = r.state
      if (r.send !== undefined) this.send(r.send)
      if (r.state.phase === 'authenticated') {
        this.send({ type: 'hub_policy', chain_hash: this.chain.genesis, fee_base_msat: 1_000 as Msat, fee_proportional_millionths: 100, cltv_expiry_delta: 40, funding_satoshis: 1_000_000 as Sat, minimum_depth: 1 } as PeerMessage)
        void this.driver?.connected()
      }
      return
    }
    if (msg.type === 'ping') { this.send({ type: 'pong', ignored: '00'.repeat(msg.num_pong_bytes) }); return }
    if (msg.type === 'pong') return
    if (msg.type === 'open_channel' && this.driver === undefined) { this.accept(msg); return }
    void this.driver?.peer(msg)
  }

  private onClosed (s: FakeSocket): void {
    if (s !== this.socket) return
    this.socket = undefined
    this.auth = undefined
    void this.driver?.disconnected()
  }

  /** A HubClient over an injected store (a new FaultyStore over `inner`: pass the inner store of a
   *  "crashed" client to restart it), created and connected. */
  async client (o: { inner?: MemoryStore; nodeKey?: Uint8Array; payTimeoutMs?: number; eventRetryMs?: number; beforeConnect?: (c: HubClient) => void } = {}): Promise<{ client: HubClient; store: FaultyStore; inner: MemoryStore; nodeKey: Uint8Array }> {
    const inner = o.inner ?? new MemoryStore()
    const store = new FaultyStore(inner)
    const nodeKey = o.nodeKey ?? random32()
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-unit-'))
    this.dirs.push(dataDir)
    const client = await createNodeClient({
      nodeKey, hubUrl: 'ws://fake.hub.invalid', hubId: this.hubId, dataDir, chain: this.chain, store, socketFactory: this.socketFactory,
      reconnectInitialMs: 5, reconnectMaxMs: 20, ...(o.payTimeoutMs !== undefined ? { payTimeoutMs: o.payTimeoutMs } : {}),
      ...(o.eventRetryMs !== undefined ? { eventRetryMs: o.eventRetryMs } : {}),
    })
    o.beforeConnect?.(client)
    await client.connect()
    return { client, store, inner, nodeKey }
  }

  /** Opens a channel funded by the hub, pushing `pushMsat` to the client, and mines its funding;
   *  resolves once both sides are in `normal`. */
  async openChannel (client: HubClient, o: { capacitySat: number; pushMsat: number }): Promise<void> {
    const seed = random32()
    const keys = channelKeys(seed)
    const signer = bolt3Signer(keys.secrets)
    const opened = openChannel({
      temporaryChannelId: bytesToHex(random32()) as ChannelId, chainHash: this.chain.genesis, channelType: 'static_remotekey',
      fundingSat: o.capacitySat as Sat, pushMsat: o.pushMsat as Msat, feeratePerKw: 1_000,
      local: localSideParams(keys, { dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: (o.capacitySat * 1000) as Msat, channelReserveSat: Math.floor(o.capacitySat / 100) as Sat, htlcMinimumMsat: 1 as Msat, toSelfDelay: 144, maxAcceptedHtlcs: 30 }),
      policy: defaultPolicy(), localShutdownScript: '0014' + '33'.repeat(20), height: (await this.chain.tip()).ok ? START_HEIGHT : 0,
    }, signer)
    const driver = this.driverFor(opened.state, signer)
    this.driver = driver
    await driver.start(opened)
    await until(() => driver.state.phase === 'awaiting_funding_depth' && client.channels().some(c => c.phase === 'awaiting_funding_depth'), 'both sides awaiting the funding depth')
    await this.chain.mine(1)
    await driver.chain(fundingAsAgreed(driver.state.setup, 1))
    await until(() => driver.state.phase === 'normal' && client.channels().some(c => c.phase === 'normal' && c.link === 'up'), 'both sides normal')
  }

  /** The client opens a channel (it funds it): the hub accepts it with fresh keys. */
  private accept (open: OpenChannel): void {
    const keys = channelKeys(random32())
    const signer = bolt3Signer(keys.secrets)
    const capacitySat = open.funding_satoshis
    const accepted = acceptChannel({
      chainHash: this.chain.genesis, minimumDepth: 1,
      local: localSideParams(keys, { dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: (capacitySat * 1000) as Msat, channelReserveSat: Math.floor(capacitySat / 100) as Sat, htlcMinimumMsat: 1 as Msat, toSelfDelay: 144, maxAcceptedHtlcs: 30 }),
      policy: defaultPolicy(), localShutdownScript: '0014' + '33'.repeat(20), height: START_HEIGHT,
    }, open, signer)
    if ('error' in accepted) throw new Error(`fake hub: accept_channel: ${accepted.error.detail}`)
    this.driver = this.driverFor(accepted.state, signer)
    void this.driver.start(accepted)
  }

  /** A connection-level `error` (channel id 0), as the hub refuses a request_channel. */
  refuse (detail: string): void { this.send({ type: 'error', channel_id: '00'.repeat(32), data: detail } as PeerMessage) }

  private driverFor (state: ChannelState, signer: ChannelSigner): ChannelDriver {
    const driver: ChannelDriver = new ChannelDriver(state, signer, {
      persist: async req => { await this.store.write([put(`chan/${req.channelId}/state`, req.state)]) },
      send: msg => { this.send(msg) },
      broadcastFunding: () => {},
      disconnect: () => { this.disconnect() },
      emit: ev => {
        this.events.push(ev)
        if (ev.type === 'funding_needed') {
          const txid = bytesToHex(random32())
          this.chain.confirm(txid, bytesToHex(fundingScriptPubkey(hexToBytes(ev.fundingScriptPubkeys.local), hexToBytes(ev.fundingScriptPubkeys.remote))), ev.capacitySat)
          void driver.command({ type: 'funding_built', txid: txid as Txid, outputIndex: 0 })
        }
        if (ev.type === 'htlc_received') this.onHtlc(ev.htlc)
      },
    }, { autoSign: true })
    return driver
  }

  private onHtlc (htlc: Htlc): void {
    this.received.set(htlc.paymentHash, htlc)
    const preimage = this.preimages.get(htlc.paymentHash)
    const d = this.opts.decide?.(htlc) ?? (preimage !== undefined ? 'fulfill' : { fail: 'incorrect_or_unknown_payment_details' as const })
    if (d !== 'hold') void this.settle(htlc.paymentHash, d)
  }

  /** Fulfils (with the preimage it knows) or fails an HTLC the hub received. */
  async settle (paymentHash: string, d: 'fulfill' | { fail: HtlcFailureReason } = 'fulfill'): Promise<void> {
    const htlc = this.received.get(paymentHash)
    if (htlc === undefined) throw new Error('fake hub: no such HTLC')
    const preimage = this.preimages.get(paymentHash)
    if (d === 'fulfill' && preimage !== undefined) await this.driver!.command({ type: 'fulfill_htlc', id: htlc.id, preimage })
    else await this.driver!.command({ type: 'fail_htlc', id: htlc.id, reason: d === 'fulfill' ? 'incorrect_or_unknown_payment_details' : d.fail })
  }

  /** Offers the client an HTLC (the hub forwarding a payment to it). */
  async offer (o: { amountMsat: number; paymentHash: string; recipient: NodeId }): Promise<void> {
    await this.driver!.command({ type: 'add_htlc', amountMsat: o.amountMsat as Msat, paymentHash: o.paymentHash, cltvExpiry: START_HEIGHT + 200, recipient: o.recipient })
  }

  /** Fails the channel from the hub's side: `error` to the client (BOLT #1: it MUST fail the channel). */
  failChannel (): void { this.send({ type: 'error', channel_id: this.driver!.channelId, data: 'the fake hub fails the channel' }) }

  /** A BOLT #11 invoice of `amountMsat` from the hub's payee, whose preimage the hub knows. */
  invoice (amountMsat: number, memo = ''): { invoice: string; paymentHash: string; preimage: string } {
    const preimage = random32()
    const paymentHash = bytesToHex(sha256(preimage))
    const enc = encodeInvoice({
      network: 'bcrt', amountMsat: amountMsat as Msat, timestamp: Math.floor(Date.now() / 1000), paymentHash, paymentSecret: bytesToHex(random32()),
      description: memo, expirySeconds: 3_600, minFinalCltvExpiryDelta: 40, includeNodeId: false,
    }, this.payeeKey)
    if (!enc.ok) throw new Error(`invoice: ${enc.error.detail}`)
    this.preimages.set(paymentHash, bytesToHex(preimage))
    return { invoice: enc.value, paymentHash, preimage: bytesToHex(preimage) }
  }

  get payeeId (): NodeId { return nodeIdOf(this.payeeKey) }

  /** The hub's view of the client's balance in its latest commitment. */
  get clientMsat (): number { return this.driver?.state.localCommit?.spec.toRemoteMsat ?? 0 }

  cleanup (): void { for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true }) }
}

/** Waits (yielding to the event loop) until `pred` holds; a deadline only turns a hang into a failure. */
export async function until (pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}

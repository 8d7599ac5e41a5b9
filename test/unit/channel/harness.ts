// Two channel parties in memory: each runs the pure state machine, a store (with stalls, failures
// and crashes on demand) and a host that performs effects in order; a wire in each direction that
// can be cut. No node, no network, no clock: everything is driven by the test.
import { sha256 } from '../../../protocol/crypto/hash.ts'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import {
  acceptChannel, bolt3Signer, defaultPolicy, openChannel, specTotalMsat, step,
  type ChannelEvent, type ChannelInput, type ChannelSigner, type ChannelState, type CommitmentSpec, type Effect,
  type LocalPolicy, type MonitorUpdate, type SideParams,
} from '../../../protocol/channel/index.ts'
import { bytesToHex, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../../../protocol/types.ts'
import type { ChannelType, PeerMessage } from '../../../protocol/wire/index.ts'

/** Deterministic PRNG (mulberry32): tests are reproducible from their seed. */
export function rng (seed: number) {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number): number => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    bytes: (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
    chance: (p: number): boolean => next() < p,
  }
}
export type Rng = ReturnType<typeof rng>

type Persist = Extract<Effect, { kind: 'persist' }>

export interface Party {
  name: 'A' | 'B'
  state: ChannelState
  signer: ChannelSigner
  /** The store: the last durable snapshot, every durable monitor update, and the write count. */
  durable: ChannelState | undefined
  monitor: MonitorUpdate[]
  writesDone: number
  /** Writes issued while the store is stalled. */
  queued: Persist[]
  stalled: boolean
  events: ChannelEvent[]
  /** Every message this party's host put on the wire, in order. */
  sent: PeerMessage[]
  broadcasts: Txid[]
}

export interface PartyKeys { signer: ChannelSigner; params: SideParams; nodeId: NodeId }

export function makeKeys (r: Rng, overrides: Partial<SideParams> = {}): PartyKeys {
  const secret = (): Uint8Array => { const k = sha256(r.bytes(32)); return k }
  const pub = (k: Uint8Array): string => bytesToHex(tinyCurve.pubkey(k))
  const funding = secret(); const htlc = secret(); const seed = r.bytes(32)
  const params: SideParams = {
    dustLimitSat: 546 as Sat,
    maxHtlcValueInFlightMsat: 5_000_000_000 as Msat,
    channelReserveSat: 10_000 as Sat,
    htlcMinimumMsat: 1 as Msat,
    toSelfDelay: 144,
    maxAcceptedHtlcs: 30,
    fundingPubkey: pub(funding),
    revocationBasepoint: pub(secret()),
    paymentBasepoint: pub(secret()),
    delayedPaymentBasepoint: pub(secret()),
    htlcBasepoint: pub(htlc),
    ...overrides,
  }
  return { signer: bolt3Signer({ fundingPrivkey: funding, htlcBasepointSecret: htlc, perCommitmentSeed: seed }, tinyCurve), params, nodeId: pub(secret()) as NodeId }
}

export const CHAIN_HASH = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f' // regtest genesis
export const P2WPKH_A = '0014' + '11'.repeat(20)
export const P2WPKH_B = '0014' + '22'.repeat(20)

export interface PairOptions {
  seed?: number
  capacitySat?: number
  pushMsat?: number
  feeratePerKw?: number
  channelType?: ChannelType
  a?: Partial<SideParams>
  b?: Partial<SideParams>
  policyA?: Partial<LocalPolicy>
  policyB?: Partial<LocalPolicy>
  height?: number
}

export function mirror (spec: CommitmentSpec): CommitmentSpec {
  return {
    htlcs: spec.htlcs.map(h => ({ ...h, offerer: h.offerer === 'local' ? 'remote' : 'local' })),
    toLocalMsat: spec.toRemoteMsat,
    toRemoteMsat: spec.toLocalMsat,
    feeratePerKw: spec.feeratePerKw,
  }
}
const norm = (spec: CommitmentSpec): string => JSON.stringify({ ...spec, htlcs: [...spec.htlcs].sort((x, y) => (x.offerer + x.id).localeCompare(y.offerer + y.id)) })

export class Pair {
  a: Party
  b: Party
  toA: PeerMessage[] = []
  toB: PeerMessage[] = []
  connected = true
  capacitySat: number
  preimages = new Map<string, string>()
  nodeA: NodeId
  nodeB: NodeId
  r: Rng
  /** Round-trip every stored snapshot through JSON, as a real store does. */
  serialize = false
  /** Deep-freeze every state before it is stepped: a step that modifies its input throws. */
  freeze = false
  private verified = new WeakMap<object, object>()

  constructor (opts: PairOptions = {}) {
    this.r = rng(opts.seed ?? 1)
    this.capacitySat = opts.capacitySat ?? 10_000_000
    const ka = makeKeys(this.r, opts.a)
    const kb = makeKeys(this.r, opts.b)
    this.nodeA = ka.nodeId; this.nodeB = kb.nodeId
    const height = opts.height ?? 100
    const opened = openChannel({
      temporaryChannelId: bytesToHex(this.r.bytes(32)) as ChannelId, chainHash: CHAIN_HASH,
      channelType: opts.channelType ?? 'static_remotekey', fundingSat: this.capacitySat as Sat,
      pushMsat: (opts.pushMsat ?? 4_000_000_000) as Msat, feeratePerKw: opts.feeratePerKw ?? 253,
      local: ka.params, policy: defaultPolicy(opts.policyA), localShutdownScript: P2WPKH_A, height,
    }, ka.signer)
    this.a = newParty('A', opened.state, ka.signer)
    const open = opened.effects.find(e => e.kind === 'send')!
    if (open.kind !== 'send' || open.msg.type !== 'open_channel') throw new Error('no open_channel')
    const accepted = acceptChannel({ chainHash: CHAIN_HASH, minimumDepth: 3, local: kb.params, policy: defaultPolicy(opts.policyB), localShutdownScript: P2WPKH_B, height }, open.msg, kb.signer)
    if ('error' in accepted) throw new Error(`acceptChannel: ${accepted.error.reason} ${accepted.error.detail}`)
    this.b = newParty('B', accepted.state, kb.signer)
    this.handle(this.b, accepted.effects)
  }

  other (p: Party): Party { return p === this.a ? this.b : this.a }
  inbox (p: Party): PeerMessage[] { return p === this.a ? this.toA : this.toB }

  /** One input to one party; its effects are performed (writes complete at once unless stalled). */
  run (p: Party, input: ChannelInput): Effect[] {
    if (this.freeze) deepFreeze(p.state)
    const r = step(p.state, input, p.signer)
    p.state = r.state
    this.handle(p, r.effects)
    return r.effects
  }

  handle (p: Party, effects: Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'persist':
          if (p.stalled) p.queued.push(e)
          else { this.commitWrite(p, e); this.run(p, { kind: 'persisted', writeId: e.writeId }) }
          break
        case 'send':
          if (!this.connected) throw new Error(`${p.name} sent ${e.msg.type} while disconnected`)
          p.sent.push(e.msg)
          this.inbox(this.other(p)).push(e.msg)
          break
        case 'emit': p.events.push(e.event); break
        case 'broadcast_funding': p.broadcasts.push(e.txid); break
        case 'disconnect': this.disconnect(); break
      }
    }
  }

  commitWrite (p: Party, e: Persist): void {
    // A real store serialises: the snapshot must survive JSON (checked in restart tests with
    // `serialize`); here the immutable snapshot is kept as is.
    p.durable = this.serialize ? JSON.parse(JSON.stringify(e.state)) as ChannelState : e.state
    p.monitor.push(...e.monitor)
    p.writesDone++
  }

  /** Completes stalled writes in order and releases what they held. */
  unstall (p: Party): void {
    p.stalled = false
    const q = p.queued
    p.queued = []
    for (const e of q) { this.commitWrite(p, e); this.run(p, { kind: 'persisted', writeId: e.writeId }) }
  }

  /** Delivers the next message in flight to `p`. */
  deliver (p: Party): PeerMessage | undefined {
    const msg = this.inbox(p).shift()
    if (msg !== undefined) this.run(p, { kind: 'peer', msg })
    return msg
  }

  disconnect (): void {
    if (!this.connected) return
    this.connected = false
    this.toA.length = 0
    this.toB.length = 0
    this.run(this.a, { kind: 'disconnected' })
    this.run(this.b, { kind: 'disconnected' })
  }

  reconnect (): void {
    if (this.connected) return
    this.connected = true
    this.run(this.a, { kind: 'connected' })
    this.run(this.b, { kind: 'connected' })
  }

  /** The host process dies: in-memory state and unfinished writes are lost; it restarts from its store. */
  crash (p: Party): void {
    this.disconnect()
    p.queued = []
    p.stalled = false
    if (p.durable === undefined) throw new Error(`${p.name} has no durable state to restart from`)
    p.state = p.durable
    this.run(p, { kind: 'restored' })
  }

  /** Delivers everything in flight, both ways, until the wire is quiet. */
  flush (limit = 10_000): void {
    for (let i = 0; i < limit; i++) {
      if (this.toA.length === 0 && this.toB.length === 0) return
      if (this.toA.length > 0) this.deliver(this.a)
      if (this.toB.length > 0) this.deliver(this.b)
    }
    throw new Error('flush: the wire never went quiet')
  }

  /** Opener side: drive the open to `normal` (funding tx built, signatures exchanged, depth reached). */
  open (): void {
    this.flush()
    const txid = bytesToHex(this.r.bytes(32)) as Txid
    this.run(this.a, { kind: 'command', cmd: { type: 'funding_built', txid, outputIndex: 1 } })
    this.flush()
    this.run(this.a, { kind: 'chain', event: { type: 'funding_depth', depth: 3 } })
    this.run(this.b, { kind: 'chain', event: { type: 'funding_depth', depth: 3 } })
    this.flush()
    if (this.a.state.phase !== 'normal' || this.b.state.phase !== 'normal') throw new Error(`open: phases ${this.a.state.phase}/${this.b.state.phase}`)
  }

  /** Adds an HTLC from `p` with a fresh preimage the harness remembers (the payee's knowledge). */
  add (p: Party, amountMsat: number, cltvDelta = 144): { id: number; hash: string; preimage: string; ok: boolean } {
    const preimage = bytesToHex(this.r.bytes(32))
    const hash = bytesToHex(sha256(Uint8Array.from(preimage.match(/../g)!.map(x => parseInt(x, 16)))))
    this.preimages.set(hash, preimage)
    const id = p.state.nextLocalHtlcId
    const before = p.events.length
    this.run(p, { kind: 'command', cmd: { type: 'add_htlc', amountMsat: amountMsat as Msat, paymentHash: hash, cltvExpiry: p.state.height + cltvDelta, recipient: this.other(p) === this.a ? this.nodeA : this.nodeB } })
    const ok = !p.events.slice(before).some(e => e.type === 'command_failed')
    return { id, hash, preimage, ok }
  }

  sign (p: Party): boolean {
    const before = p.events.length
    this.run(p, { kind: 'command', cmd: { type: 'sign' } })
    return !p.events.slice(before).some(e => e.type === 'command_failed')
  }

  /** Signs and delivers until neither side has anything left to sign or deliver. */
  settle (limit = 1000): void {
    for (let i = 0; i < limit; i++) {
      this.flush()
      let signed = false
      for (const p of [this.a, this.b]) {
        if (needsSig(p.state)) { this.sign(p); signed = true }
      }
      if (!signed && this.toA.length === 0 && this.toB.length === 0) return
    }
    throw new Error('settle: did not converge')
  }

  /** Incoming HTLCs `p` may fulfill or fail now: irrevocably committed, not already being removed. */
  settleable (p: Party): number[] {
    const s = p.state
    if (s.localCommit === undefined || s.remoteCommit === undefined) return []
    const removing = new Set<number>()
    for (const l of [s.localChanges.proposed, s.localChanges.signed, s.localChanges.acked, s.holding]) {
      for (const u of l) if (u.kind === 'fulfill' || u.kind === 'fail') removing.add(u.id)
    }
    const inRemote = new Set(s.remoteCommit.spec.htlcs.filter(h => h.offerer === 'remote').map(h => h.id))
    return s.localCommit.spec.htlcs.filter(h => h.offerer === 'remote' && inRemote.has(h.id) && !removing.has(h.id)).map(h => h.id)
  }

  fulfill (p: Party, id: number): void {
    const h = p.state.localCommit!.spec.htlcs.find(x => x.offerer === 'remote' && x.id === id)!
    this.run(p, { kind: 'command', cmd: { type: 'fulfill_htlc', id, preimage: this.preimages.get(h.paymentHash)! } })
  }

  fail (p: Party, id: number): void {
    this.run(p, { kind: 'command', cmd: { type: 'fail_htlc', id, reason: 'temporary_channel_failure' } })
  }

  /** Invariants after any step: every commitment holds exactly the capacity, and each party's
   *  current commitment is the one the other signed for it. Returns a list of violations. */
  check (): string[] {
    const out: string[] = []
    const cap = this.capacitySat * 1000
    for (const p of [this.a, this.b]) {
      const s = p.state
      if (s.phase === 'failed' || s.phase === 'awaiting_remote_close') out.push(`${p.name} is ${s.phase}`)
      for (const [what, spec] of [['local', s.localCommit?.spec], ['remote', s.remoteCommit?.spec], ['next remote', s.nextRemoteCommit?.commit.spec]] as const) {
        if (spec !== undefined && specTotalMsat(spec) !== cap) out.push(`${p.name} ${what} commitment holds ${specTotalMsat(spec)} msat, capacity ${cap}`)
      }
      const q = this.other(p).state
      if (s.localCommit === undefined || q.remoteCommit === undefined) continue
      const theirs = q.nextRemoteCommit?.commit.index === s.localCommit.index ? q.nextRemoteCommit.commit : q.remoteCommit.index === s.localCommit.index ? q.remoteCommit : undefined
      if (theirs !== undefined && this.verified.get(s.localCommit) === theirs) continue
      if (theirs === undefined) out.push(`${p.name} local commitment ${s.localCommit.index} unknown to ${q === this.a.state ? 'A' : 'B'} (remote ${q.remoteCommit.index}, next ${q.nextRemoteCommit?.commit.index})`)
      else if (norm(mirror(theirs.spec)) !== norm(s.localCommit.spec)) out.push(`${p.name} local commitment ${s.localCommit.index} differs from the one the peer signed`)
      else this.verified.set(s.localCommit, theirs)
    }
    return out
  }
}

export function deepFreeze<T> (x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x)
    for (const v of Object.values(x as object)) deepFreeze(v)
  }
  return x
}

function needsSig (s: ChannelState): boolean {
  return (s.phase === 'normal' || s.phase === 'shutting_down') && s.link === 'up' && s.nextRemoteCommit === undefined &&
    (s.localChanges.proposed.length > 0 || s.remoteChanges.acked.length > 0)
}

function newParty (name: 'A' | 'B', state: ChannelState, signer: ChannelSigner): Party {
  return { name, state, signer, durable: undefined, monitor: [], writesDone: 0, queued: [], stalled: false, events: [], sent: [], broadcasts: [] }
}

/** Kinds of effects, as STYLE.md §2 writes them: 'persist', 'send:revoke_and_ack', 'emit:htlc_received'. */
export function kinds (effects: readonly Effect[]): string[] {
  return effects.map(e => e.kind === 'send' ? `send:${e.msg.type}` : e.kind === 'emit' ? `emit:${e.event.type}` : e.kind)
}

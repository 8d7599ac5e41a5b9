// A lightweight many-channel client process for the benchmark: from ONE process it speaks the real
// protocol to the hub for thousands of channels, so the hub can be measured at 1,000 and 10,000 idle,
// connected channels (an SDK HubClient per channel — own LevelDB store, wallet, chain follower — costs
// seconds each to create). What is real and what is not:
//   - real: node ids with the real auth handshake (client-sdk/transport HubLink, protocol/auth), one
//     WebSocket per node id carrying K channels; the channel machine and ChannelDriver (protocol/) the
//     SDK uses, with the client as funder (open_channel → accept_channel → funding_created →
//     funding_signed → channel_ready); real funding transactions on btcd (one tx with up to ~1,500
//     funding outputs, each channel's funding_created naming its output index); channel_reestablish
//     after the hub restarts (the drivers answer it); reconnection with a short backoff.
//   - NOT real: the client's channel state lives in memory only (persist resolves at once). This
//     client never restarts during the bench, so nothing needs to survive it; the hub's side is the
//     one under test and persists as always.
//
// Same IPC style as client-worker.ts: requests { id, cmd, args }, one reply { id, ok, value | error }.
// Commands: init, fundingScript, openBatch, confirm, untilReady, untilReestablished, status,
// balances, stop.
import { Psbt, networks, payments } from 'bitcoinjs-lib'
import * as ecc from 'tiny-secp256k1'
import { HubLink } from '../../client-sdk/node.ts'
import { ChannelDriver } from '../../host/channel/index.ts'
import { random32 } from '../../host/random.ts'
import { defaultPolicy, fundingAsAgreed, isFinal, openFromSeed, type ChannelState } from '../../protocol/channel/index.ts'
import { fundingScriptPubkey } from '../../protocol/tx/index.ts'
import { setDefaultCurve } from '../../protocol/crypto/index.ts'
import { tinyCurve } from '../../protocol/crypto/tiny.ts'
import { bytesToHex, hexToBytes, type ChannelId, type Msat, type NodeId, type Sat } from '../../protocol/types.ts'
import type { PeerMessage } from '../../protocol/wire/index.ts'
import { serveRequests } from './ipc.ts'

/** Our limits on the hub (the SDK's values, client-sdk/channels.ts). */
const DUST_LIMIT_SAT = 354
const TO_SELF_DELAY = 144
const MAX_ACCEPTED_HTLCS = 100
const COMMITMENT_FEERATE_PER_KW = 1_000
/** Fee rate of the batch funding transactions, sat/vB (btcd relays from 1). */
const FUNDING_FEE_RATE = 2
const ZERO_ID = '00'.repeat(32)

interface Deferred { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void }
function deferred (): Deferred {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  promise.catch(() => { /* observed through allSettled */ })
  return { promise, resolve, reject }
}

interface Chan {
  driver: ChannelDriver
  node: Node
  /** funding_needed: the output this channel's funding_created must name. */
  funding?: { capacitySat: number; script: Uint8Array }
  fundingNeeded: Deferred
  /** broadcastFunding: funding_signed received (the hub holds our signature on its commitment). */
  signed: Deferred
  failed?: string
}

interface Node {
  key: Uint8Array
  link: HubLink
  byId: Map<string, Chan>
  chans: Chan[]
}

let hubUrl = ''
let hubId = '' as NodeId
let verbose = false
let chainHash: string | undefined
let stopping = false
/** Channels that failed before funding (kept only for the status counts). */
const forgotten: Chan[] = []
const nodes: Node[] = []
const warnings: Record<string, number> = {}
/** The key that holds the batch funding coins (P2WPKH). */
const fundingKey = random32()
const fundingPubkey = ecc.pointFromScalar(fundingKey, true)!
const fundingPayment = payments.p2wpkh({ pubkey: fundingPubkey, network: networks.regtest })

function warn (what: string): void {
  const k = what.replace(/[0-9a-f]{16,}/g, '…').slice(0, 120)
  warnings[k] = (warnings[k] ?? 0) + 1
  if (verbose) process.stderr.write(`[many] ${what}\n`)
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function waitUntil (cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T> (items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!)
  }))
}

function allChans (): Chan[] { return nodes.flatMap(n => n.chans) }

function onMessage (node: Node, msg: PeerMessage): void {
  if (msg.type === 'hub_policy') { chainHash ??= msg.chain_hash; return }
  if (msg.type === 'error' && msg.channel_id === ZERO_ID) { warn(`hub error: ${msg.data}`); return }
  const id = 'channel_id' in msg ? msg.channel_id : 'temporary_channel_id' in msg ? msg.temporary_channel_id : undefined
  if (id === undefined) return
  const ch = node.byId.get(id)
  if (ch === undefined) { warn(`${msg.type} for an unknown channel`); return }
  if (msg.type === 'error' || msg.type === 'warning') warn(`hub ${msg.type}: ${msg.data}`)
  void ch.driver.peer(msg)
}

async function newNode (): Promise<Node> {
  const key = random32()
  // A short reconnect backoff (the hub restart figure waits for these); a generous pong timeout: one
  // process answers for thousands of channels and may be busy signing for seconds.
  const link = new HubLink(hubUrl, key, { expectedHubId: hubId, pongTimeoutMs: 120_000, backoff: { initialMs: 50, maxMs: 500 } })
  const node: Node = { key, link, byId: new Map(), chans: [] }
  link.on('message', m => onMessage(node, m))
  // BOLT #2: on every (re)connection each channel sends channel_reestablish; on a drop, uncommitted
  // updates are forgotten. The driver does both.
  link.on('connected', () => { for (const c of node.chans) if (!isFinal(c.driver.state.phase)) void c.driver.connected() })
  link.on('disconnected', info => {
    if (!stopping) warn(`disconnected: ${info.code} ${info.reason}${info.byUs ? ' (by us)' : ''}`)
    for (const c of node.chans) void c.driver.disconnected()
  })
  link.on('gave_up', why => warn(`link gave up: ${JSON.stringify(why)}`))
  link.on('bad_frame', e => warn(`bad frame: ${e.detail}`))
  await link.start()
  nodes.push(node)
  return node
}

function fail (ch: Chan, why: string): void {
  ch.failed ??= why
  ch.fundingNeeded.reject(new Error(why))
  ch.signed.reject(new Error(why))
  // Never funded: forget it, as the hub does (otherwise every reconnection would reestablish a channel
  // the hub does not know, and the driver would drop the connection again).
  if (ch.driver.state.localCommit === undefined) {
    const n = ch.node
    n.chans = n.chans.filter(c => c !== ch)
    for (const [id, c] of n.byId) if (c === ch) n.byId.delete(id)
    forgotten.push(ch)
  }
}

function openOne (node: Node, capacitySat: number): Chan {
  const { step, signer } = openFromSeed({
    seed: random32(), temporaryChannelId: bytesToHex(random32()) as ChannelId, chainHash: chainHash!, channelType: 'static_remotekey',
    fundingSat: capacitySat as Sat, pushMsat: 0 as Msat, feeratePerKw: COMMITMENT_FEERATE_PER_KW,
    limits: {
      dustLimitSat: DUST_LIMIT_SAT as Sat, maxHtlcValueInFlightMsat: (capacitySat * 1000) as Msat,
      channelReserveSat: Math.max(DUST_LIMIT_SAT, Math.floor(capacitySat / 100)) as Sat,
      htlcMinimumMsat: 1 as Msat, toSelfDelay: TO_SELF_DELAY, maxAcceptedHtlcs: MAX_ACCEPTED_HTLCS,
    },
    // The funder's shutdown script: any standard script (these channels are never closed here).
    policy: defaultPolicy(), localShutdownScript: bytesToHex(fundingPayment.output!), height: 0,
  })
  const ch = { node, fundingNeeded: deferred(), signed: deferred() } as Chan
  ch.driver = new ChannelDriver(step.state, signer, {
    // In memory only (see the header): the driver's own state is the client's copy.
    persist: async req => { node.byId.set(req.channelId, ch) },
    send: msg => { node.byId.set(ch.driver.channelId, ch); node.link.send(msg) },
    broadcastFunding: () => { ch.signed.resolve() },
    disconnect: () => { node.link.connection?.close(4005, 'channel asked to disconnect') },
    emit: ev => {
      if (ev.type === 'funding_needed') {
        ch.funding = {
          capacitySat: ev.capacitySat,
          script: fundingScriptPubkey(hexToBytes(ev.fundingScriptPubkeys.local), hexToBytes(ev.fundingScriptPubkeys.remote)),
        }
        ch.fundingNeeded.resolve()
      } else if (ev.type === 'channel_failed') fail(ch, `channel_failed: ${ev.error.reason}`)
      else if (ev.type === 'command_failed') fail(ch, `command_failed ${ev.command}: ${ev.error.reason}`)
    },
    stopped: e => { fail(ch, `driver stopped: ${String(e)}`) },
  })
  node.byId.set(step.state.temporaryChannelId, ch)
  node.chans.push(ch)
  void ch.driver.start(step)
  return ch
}

/** One transaction paying every channel's funding output (in `chans` order), change back to us. */
function batchFundingTx (
  coin: { txid: string; vout: number; value: number }, chans: Chan[],
): { txid: string; hex: string; feeSat: number } {
  const psbt = new Psbt({ network: networks.regtest })
  psbt.addInput({ hash: coin.txid, index: coin.vout, witnessUtxo: { script: fundingPayment.output!, value: BigInt(coin.value) } })
  let paid = 0
  for (const c of chans) {
    psbt.addOutput({ script: c.funding!.script, value: BigInt(c.funding!.capacitySat) }); paid += c.funding!.capacitySat
  }
  // vsize: ~11 overhead + 68 per P2WPKH input + 43 per P2WSH output + 31 for the change.
  const feeSat = Math.ceil((11 + 68 + 43 * chans.length + 31) * FUNDING_FEE_RATE) + 100
  const change = coin.value - paid - feeSat
  if (change < 1_000) throw new Error(`batch funding: coin of ${coin.value} sat too small for ${paid} sat + fee`)
  psbt.addOutput({ script: fundingPayment.output!, value: BigInt(change) })
  psbt.signInput(0, { publicKey: fundingPubkey, sign: h => ecc.sign(h, fundingKey) })
  psbt.finalizeAllInputs()
  const tx = psbt.extractTransaction()
  return { txid: tx.getId(), hex: tx.toHex(), feeSat }
}

/** Waits until every deferred has resolved or rejected, or until none has for `idleMs`. */
async function awaitAllWithin (ds: Deferred[], idleMs: number): Promise<void> {
  let done = 0
  const all = Promise.allSettled(ds.map(d => d.promise.finally(() => { done++ })))
  let seen = -1
  while (done < ds.length) {
    if (done !== seen) { seen = done; await Promise.race([all, sleep(idleMs)]) } else return
  }
}

const count = (xs: string[]): Record<string,
number> => { const o: Record<string, number> = {}; for (const x of xs) o[x] = (o[x] ?? 0) + 1; return o }

const handlers: Record<string, (args: Record<string, unknown>) => Promise<unknown>> = {
  async init (args) {
    setDefaultCurve(tinyCurve)
    hubUrl = String(args.hubUrl)
    hubId = String(args.hubId) as NodeId
    verbose = args.verbose === true
    return { fundingScript: bytesToHex(fundingPayment.output!), address: fundingPayment.address }
  },
  /**
   * Opens `count` channels of `capacitySat`, `perNode` per node id (new node ids, connected first),
   * funds them all with one transaction spending `coin` (paid to our funding key), and waits for every
   * funding_signed. Returns the signed transaction for the orchestrator to broadcast.
   */
  async openBatch (args) {
    const n = Number(args.count)
    const perNode = Number(args.perNode)
    const capacitySat = Number(args.capacitySat)
    const coin = args.coin as { txid: string; vout: number; value: number }
    const t0 = performance.now()
    const fresh: Node[] = []
    await pool(
      Array.from({ length: Math.ceil(n / perNode) }), Number(args.connectConcurrency ?? 64), async () => { fresh.push(await newNode()) },
    )
    await waitUntil(() => chainHash !== undefined, 'hub_policy', 60_000)
    const t1 = performance.now()
    // In waves, so neither side's event loop is blocked for long by a burst of key derivations and
    // signatures (a late pong costs the connection, and an unfunded channel with it).
    const wave = Number(args.wave ?? 250)
    const slots: Node[] = []
    for (const [i, node] of fresh.entries()) for (let k = 0; k < perNode && i * perNode + k < n; k++) slots.push(node)
    const chans: Chan[] = []
    for (let i = 0; i < slots.length; i += wave) {
      const group = slots.slice(i, i + wave).map(node => openOne(node, capacitySat))
      chans.push(...group)
      await awaitAllWithin(group.map(c => c.fundingNeeded), 120_000)
    }
    const t2 = performance.now()
    const ok = chans.filter(c => c.failed === undefined && c.funding !== undefined)
    if (ok.length === 0) throw new Error(
      `openBatch: no channel was accepted: ${JSON.stringify(count(chans.map(c => c.failed ?? c.driver.state.phase)))}`
    )
    const tx = batchFundingTx(coin, ok)
    for (let i = 0; i < ok.length; i += wave) {
      const group = ok.slice(i, i + wave)
      for (const [j, c] of group.entries()) void c.driver.command({ type: 'funding_built', txid: tx.txid as never, outputIndex: i + j })
      await awaitAllWithin(group.map(c => c.signed), 120_000)
    }
    const t3 = performance.now()
    // A channel that got no answer in time (e.g. its connection dropped before funding_signed: the
    // hub forgets an unfunded channel then) counts as failed; its output is simply lost on regtest.
    for (const c of chans) if (c.failed === undefined && c.driver.state.phase !== 'awaiting_funding_depth') fail(
      c, `no answer in phase ${c.driver.state.phase}`,
    )
    const failed = chans.filter(c => c.failed !== undefined)
    return {
      txid: tx.txid, hex: tx.hex, feeSat: tx.feeSat, outputs: ok.length, signed: ok.filter(c => c.failed === undefined).length,
      warnings: { ...warnings },
      failed: count(failed.map(c => c.failed!)), ms: { connect: t1 - t0, accept: t2 - t1, fundingSigned: t3 - t2 },
    }
  },
  /** The funding transactions are `depth` deep: tell every channel waiting for it. */
  async confirm (args) {
    const depth = Number(args.depth)
    await Promise.all(allChans().filter(c => c.driver.state.phase === 'awaiting_funding_depth').map(c => c.driver.chain(fundingAsAgreed(
      c.driver.state.setup, depth,
    ))))
    return true
  },
  /** Resolves once every channel that was funded is in `normal` (channel_ready both ways), or after
   *  `timeoutMs` with what is not. */
  async untilReady (args) {
    const timeoutMs = Number(args.timeoutMs ?? 60_000)
    const funded = (): Chan[] => allChans().filter(
      c => c.driver.state.setup.funding !== undefined && c.driver.state.localCommit !== undefined
    )
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline &&
      !funded().every(c => c.driver.state.phase === 'normal' || isFinal(c.driver.state.phase))) await sleep(100)
    return handlers.status!({})
  },
  /** Resolves once every node is connected and every open channel's link is up again. */
  async untilReestablished (args) {
    const timeoutMs = Number(args.timeoutMs ?? 600_000)
    await waitUntil(() => nodes.every(n => n.link.connected) && allChans().every(
      c => isFinal(c.driver.state.phase) || c.driver.state.localCommit === undefined || c.driver.state.link === 'up'
    ),
      'every idle channel to reestablish', timeoutMs)
    return true
  },
  async status () {
    const cs = [...allChans(), ...forgotten]
    return {
      nodes: nodes.length, connected: nodes.filter(n => n.link.connected).length, channels: cs.length,
      phases: count(cs.map(c => c.driver.state.phase)), links: count(cs.map(c => c.driver.state.link)),
      // Funded (funding_signed exchanged) and not yet in `normal`: what confirming still waits for.
      fundedNotNormal: cs.filter(
        c => c.driver.state.localCommit !== undefined && c.driver.state.phase !== 'normal' && !isFinal(c.driver.state.phase)
      ).length,
      failed: count(cs.filter(c => c.failed !== undefined).map(c => c.failed!)), warnings,
    }
  },
  /** Same shape as client-worker's `balances`: one entry per node id. */
  async balances () {
    return nodes.map(n => ({
      nodeId: n.link.nodeId,
      channels: n.chans.filter(c => c.driver.state.localCommit !== undefined).map(c => {
        const s: ChannelState = c.driver.state
        const spec = s.localCommit!.spec
        return {
          channelId: s.channelId, capacitySat: s.setup.capacitySat, localMsat: spec.toLocalMsat, remoteMsat: spec.toRemoteMsat,
          inFlightMsat: spec.htlcs.reduce((t, h) => t + h.amountMsat, 0),
        }
      }),
    }))
  },
  async stop () {
    stopping = true
    for (const n of nodes) n.link.stop()
    return true
  },
}

serveRequests(handlers)

// Channels between two parties running the real state machine, funded on a real btcd, each party with
// its own MonitorHost (hub/monitor) following the node: what the hub and an SDK client run.
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import { buildFundingTx, p2wpkh, txHex, type Tx } from '../../../protocol/tx/index.ts'
import { buildLocal, monitorStep, newMonitor } from '../../../protocol/monitor/index.ts'
import type { MonitorUpdate } from '../../../protocol/channel/index.ts'
import { monitorTx } from '../../unit/monitor/sim.ts'
import { bytesToHex, hexToBytes, sat, type Txid } from '../../../protocol/types.ts'
import { MonitorHost, type MonitorEvent } from '../../../hub/monitor/index.ts'
import { LevelStore, MemoryStore, type Store } from '../../../hub/store/index.ts'
import type { Btcd } from '../../helpers/btcd.ts'
import { walletCoin } from '../bolt3/fixtures/channel.ts'
import { KeyedPair, type Side } from '../../unit/monitor/pair.ts'

export const FEERATE = 2500
export const DEPTH = 3
export const DELAY = 20
export const CAPACITY = 1_000_000

export async function tipHeight (btc: Btcd): Promise<number> {
  const r = await btc.chain.tip()
  if (!r.ok) throw new Error(r.error.detail)
  return r.value.height
}

/** A channel funded on btcd (A opens, pushes `pushMsat` to B), confirmed and in `normal`. */
export async function fundedPair (btc: Btcd, seed: number, pushMsat = 400_000_000, beforeConfirm?: (p: KeyedPair) => Promise<void>): Promise<KeyedPair & { fundingTxid: Txid }> {
  let fundingTxid = '' as Txid
  const p = await KeyedPair.open({
    seed, height: await tipHeight(btc), toSelfDelay: DELAY, pushMsat, capacitySat: CAPACITY,
    fund: async (pubkeys, capacitySat) => {
      const coin = await walletCoin(btc, capacitySat + 50_000)
      const r = buildFundingTx({ inputs: [coin], fundingAmountSat: sat(capacitySat), localFundingPubkey: hexToBytes(pubkeys.a), remoteFundingPubkey: hexToBytes(pubkeys.b), changeScript: coin.script, feeratePerKw: FEERATE }, tinyCurve)
      if (!r.ok) throw new Error(r.detail)
      fundingTxid = r.txid
      return { txid: r.txid, outputIndex: r.funding.vout, hex: txHex(r.tx) }
    },
  })
  const hex = p.fundingHex
  const sent = await btc.chain.broadcast(hex)
  if (!sent.ok) throw new Error(`funding: ${sent.error.kind}`)
  await beforeConfirm?.(p)
  await btc.mine(1)
  p.ready()
  return Object.assign(p, { fundingTxid })
}

export interface Watch {
  side: Side
  host: MonitorHost
  store: Store
  sweep: string
  events: MonitorEvent[]
  given: number
  dir?: string
}

/** A MonitorHost for one side (its own store, its own sweep address), started on the node. */
export async function watch (btc: Btcd, side: Side, opts: { store?: Store; dir?: string; sweep?: string; onEvent?: (e: MonitorEvent) => void | Promise<void> } = {}): Promise<Watch> {
  const store = opts.store ?? (opts.dir !== undefined ? await LevelStore.open(opts.dir) : new MemoryStore())
  const sweep = opts.sweep ?? bytesToHex(p2wpkh(tinyCurve.pubkey(fresh())))
  const w: Watch = { side, store, sweep, events: [], given: 0, host: undefined as unknown as MonitorHost, ...(opts.dir !== undefined ? { dir: opts.dir } : {}) }
  const opened = await MonitorHost.open({
    store, chain: btc.chain, keysFor: () => side.mkeys,
    config: { sweepScript: sweep, depth: DEPTH, feeratePerKw: FEERATE },
    onEvent: async (_id, e) => { w.events.push(e); await opts.onEvent?.(e) },
    retryMs: 3_600_000,
    onBroadcastError: (_id, txid, reason, detail) => { if (process.env.MONITOR_TRACE !== undefined) console.error(`broadcast ${txid} refused: ${reason} ${detail}`) },
  })
  if (!opened.ok) throw new Error(opened.error.detail)
  w.host = opened.value
  const started = await w.host.start()
  if (!started.ok) throw new Error(started.error.detail)
  return w
}

/** Hands the side's new monitor updates to its host (as the channel host does after each persist). */
export async function feed (w: Watch): Promise<void> {
  const fresh = w.side.monitor.slice(w.given)
  w.given = w.side.monitor.length
  if (fresh.length > 0) await w.host.addUpdates(w.side.state.channelId, fresh)
}

export const tmpDir = (): string => mkdtempSync(join(tmpdir(), 'monitor-'))

function fresh (): Uint8Array {
  for (;;) { const k = new Uint8Array(randomBytes(32)); if (tinyCurve.isPrivkey(k)) return k }
}

/** What reached `script` since height `from`, and the fees of the txs that paid it (inputs − outputs). */
export async function sweptTo (btc: Btcd, script: string, from: number): Promise<{ received: number; fees: number; txids: string[] }> {
  const tip = await tipHeight(btc)
  let received = 0; let fees = 0
  const txids: string[] = []
  for (let h = from; h <= tip; h++) {
    const b = await btc.chain.getBlock(h)
    if (!b.ok || b.value === null) throw new Error(`block ${h}`)
    for (const tx of b.value.txs) {
      const mine = tx.outputs.filter(o => o.scriptPubKey === script)
      if (mine.length === 0 || tx.inputs[0]!.txid === '0'.repeat(64)) continue
      received += mine.reduce((n, o) => n + o.value, 0)
      let inSum = 0
      for (const i of tx.inputs) {
        const prev = await btc.chain.getRawTransaction(i.txid)
        if (!prev.ok || prev.value === null) throw new Error(`prev ${i.txid}`)
        inSum += prev.value.tx.outputs[i.vout]!.value
      }
      fees += inSum - tx.outputs.reduce((n, o) => n + o.value, 0)
      txids.push(tx.txid)
    }
  }
  return { received, fees, txids }
}

/** The confirmed tx with this txid: its outputs and height, or undefined. */
export async function confirmedAt (btc: Btcd, txid: string): Promise<number | undefined> {
  const r = await btc.chain.getRawTransaction(txid)
  if (!r.ok || r.value === null || r.value.block === undefined) return undefined
  return r.value.block.height
}

export async function mineUntil (btc: Btcd, cond: () => boolean | Promise<boolean>, max = 60): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (await cond()) return i
    await btc.mine(1)
  }
  throw new Error(`condition not met after ${max} blocks`)
}

/** The signed commitment `s` holds now: what it broadcasts if it closes (or cheats) later. */
export function heldCommitment (s: Side): Tx {
  const u = s.monitor.filter(x => x.kind === 'local_commitment').at(-1)
  if (u === undefined || u.kind !== 'local_commitment') throw new Error('no local commitment')
  return buildLocal(s.state.setup, s.mkeys, { number: u.number, perCommitmentPoint: u.perCommitmentPoint, spec: u.spec, signature: u.signature, htlcSignatures: u.htlcSignatures }).signedTx
}

/** What a monitor holding `updates` would broadcast once `commitment` confirms at `height` (a
 *  cheater's HTLC-success txs for its stale commitment, say). */
export function wantsAfter (s: Side, updates: MonitorUpdate[], commitment: Tx, height: number): Array<{ reason: string; hex: string; txid: string }> {
  let m = newMonitor(s.state.channelId, { sweepScript: '0014' + '99'.repeat(20), depth: DEPTH }, height - 1, '')
  for (const u of updates) m = monitorStep(m, { kind: 'update', update: u }, s.mkeys).state
  const r = monitorStep(m, { kind: 'block_connected', block: { height, hash: 'x', txs: [monitorTx(commitment)] } }, s.mkeys)
  return r.actions.flatMap(a => a.kind === 'broadcast' ? [{ reason: a.reason, hex: a.hex, txid: a.txid }] : [])
}

export async function send (btc: Btcd, hex: string): Promise<string> {
  const r = await btc.chain.broadcast(hex)
  if (!r.ok) throw new Error(`broadcast refused: ${r.error.kind} ${r.error.detail}`)
  return r.value
}

/** Fees of the second-stage txs (HTLC-success/timeout) between `commitmentTxid` and the sweeps `txids`. */
export async function secondStageFees (btc: Btcd, commitmentTxid: string, txids: string[]): Promise<number> {
  let fees = 0
  const seen = new Set<string>()
  for (const id of txids) {
    const tx = await btc.chain.getRawTransaction(id)
    if (!tx.ok || tx.value === null) throw new Error(`tx ${id}`)
    for (const i of tx.value.tx.inputs) {
      if (i.txid === commitmentTxid || seen.has(i.txid)) continue
      const prev = await btc.chain.getRawTransaction(i.txid)
      if (!prev.ok || prev.value === null) throw new Error(`prev ${i.txid}`)
      const p = prev.value.tx
      if (p.inputs[0]?.txid !== commitmentTxid) continue
      seen.add(i.txid)
      const c = await btc.chain.getRawTransaction(commitmentTxid)
      if (!c.ok || c.value === null) throw new Error('commitment')
      fees += c.value.tx.outputs[p.inputs[0].vout]!.value - p.outputs.reduce((n, o) => n + o.value, 0)
    }
  }
  return fees
}

// A real regtest btcd (never a mock) with a miner and a faucet: what the integration, e2e and chaos
// tests, the demo and the benchmarks run on. `const btc = await useBtcd(t)` starts it, mines past
// coinbase maturity, and registers its stop with `t` (a tap Test, or a Cleanups).
//
//   btc.chain            ChainBackend (+ regtest controls) on the node
//   btc.mine(n)          mines n blocks to the node's miner key, then waits until every follower
//                        (wallets, monitors) has processed them, so tests never sleep
//   btc.mineTo(script,n) mines n blocks whose coinbases pay `script`
//   btc.faucet(to, sat)  pays `sat` to an address or output script from the miner's coins
//                        (unconfirmed; mine to confirm) → { txid, vout, value, scriptPubKey }
//   btc.faucetMany(outs) one transaction paying every { to, value } (output k pays outs[k])
//   btc.restart()        restarts btcd (its chain comes back EMPTY: scenario 12) and re-mines
//                        (restart({ remine: false }) leaves it at the genesis block)
//   tipHeight(btc), mineUntilHeight(btc, h), mineTx(btc, txid)   the chain helpers built on those
import { Psbt, address as baddress, networks } from 'bitcoinjs-lib'
import { tinyCurve } from '../../protocol/crypto/tiny.ts'
import { bytesToHex, type Sat, type Txid } from '../../protocol/types.ts'
import type { BtcdChainBackend } from '../../host/chain/btcd/backend.ts'
import { startBtcd, type ManagedBtcd, type StartBtcdOptions } from '../../host/chain/btcd/node.ts'
import { estimateVsize } from '../../host/wallet/coin-select.ts'
import type { Teardown } from './cleanups.ts'
import { waitFor } from './wait.ts'

/** The faucet pays this fee rate; above btcd's 1 sat/vB minimum relay fee. */
const FAUCET_FEE_RATE = 2
/** Blocks mined at start: 101 makes the first coinbases spendable in the next block. */
const INITIAL_BLOCKS = 101

export interface FaucetOutput { txid: Txid; vout: number; value: Sat; scriptPubKey: string; hex: string }

export interface Btcd {
  node: ManagedBtcd
  chain: BtcdChainBackend
  mine (n: number): Promise<string[]>
  mineTo (script: Uint8Array, n: number): Promise<string[]>
  faucet (to: string | Uint8Array, value: number): Promise<FaucetOutput>
  /** One transaction with an output per entry, in order (many wallets funded by one transaction). */
  faucetMany (outs: ReadonlyArray<{ to: string | Uint8Array; value: number }>): Promise<FaucetOutput[]>
  /** remine (default true): mine the initial blocks again on the new, empty chain. */
  restart (opts?: { remine?: boolean }): Promise<void>
}

export async function useBtcd (t: Teardown, opts: StartBtcdOptions & { initialBlocks?: number } = {}): Promise<Btcd> {
  const node = await startBtcd(opts)
  const chain = node.backend()
  t.teardown(async () => { await chain.close(); await node.stop() })
  const coins: Array<{ txid: string; vout: number; value: number }> = []
  const spent = new Set<string>()

  async function mine (n: number): Promise<string[]> {
    const r = await chain.generate(n)
    if (!r.ok) throw new Error(`generate: ${r.error.detail}`)
    const s = await chain.syncFollowers()
    if (!s.ok) throw new Error(`sync: ${s.error.detail}`)
    return r.value
  }

  async function mineTo (script: Uint8Array, n: number): Promise<string[]> {
    const hashes: string[] = []
    for (let i = 0; i < n; i++) {
      const r = await chain.submitBlock([], { coinbaseScript: script })
      if (!r.ok) throw new Error(`submitblock: ${r.error.detail}`)
      hashes.push(r.value)
    }
    const s = await chain.syncFollowers()
    if (!s.ok) throw new Error(`sync: ${s.error.detail}`)
    return hashes
  }

  /** Finds the miner's mature, unspent coinbase outputs (after a start, restart or reorg). */
  async function refill (): Promise<void> {
    coins.length = 0
    const tip = await chain.tip()
    if (!tip.ok) throw new Error(`tip: ${tip.error.detail}`)
    const minerScript = bytesToHex(node.miner.script)
    for (let h = 1; h <= tip.value.height - 100 + 1 && coins.length < 5; h++) {
      const b = await chain.getBlock(h)
      if (!b.ok || b.value === null) throw new Error(`getblock ${h} failed`)
      const cb = b.value.txs[0]!
      for (const [vout, o] of cb.outputs.entries()) {
        if (o.scriptPubKey !== minerScript || spent.has(`${cb.txid}:${vout}`)) continue
        const u = await chain.getTxOut(cb.txid, vout, true)
        if (u.ok && u.value !== null) coins.push({ txid: cb.txid, vout, value: o.value })
      }
    }
  }

  async function faucet (to: string | Uint8Array, value: number): Promise<FaucetOutput> {
    return (await faucetMany([{ to, value }]))[0]!
  }

  async function faucetMany (outs: ReadonlyArray<{ to: string | Uint8Array; value: number }>): Promise<FaucetOutput[]> {
    const scripts = outs.map(o => typeof o.to === 'string' ? baddress.toOutputScript(o.to, networks.regtest) : o.to)
    const total = outs.reduce((a, o) => a + o.value, 0)
    for (let attempt = 0; attempt < 3; attempt++) {
      if (coins.length === 0) await refill()
      const coin = coins.shift()
      if (coin === undefined) throw new Error('faucet: the miner has no mature coins (mine more blocks)')
      const fee = Math.ceil(estimateVsize(1, [...scripts, node.miner.script]) * FAUCET_FEE_RATE)
      const change = coin.value - total - fee
      if (change < 1000) throw new Error(`faucet: coin of ${coin.value} sat too small for ${total}`)
      const psbt = new Psbt({ network: networks.regtest })
      psbt.addInput({ hash: coin.txid, index: coin.vout, witnessUtxo: { script: node.miner.script, value: BigInt(coin.value) } })
      outs.forEach((o, k) => { psbt.addOutput({ script: scripts[k]!, value: BigInt(o.value) }) })
      psbt.addOutput({ script: node.miner.script, value: BigInt(change) })
      psbt.signInput(0, { publicKey: node.miner.publicKey, sign: h => tinyCurve.sign(h, node.miner.privateKey) })
      psbt.finalizeAllInputs()
      const tx = psbt.extractTransaction()
      const hex = tx.toHex()
      spent.add(`${coin.txid}:${coin.vout}`)
      const r = await chain.broadcast(hex)
      if (!r.ok) {
        // The coin may be gone (reorg, restart): forget it and look again.
        if (r.error.kind === 'rejected' && (r.error.reason === 'missing_inputs' || r.error.reason === 'conflict')) {
          coins.length = 0; continue
        }
        throw new Error(`faucet broadcast: ${r.error.detail}`)
      }
      // Chained unconfirmed change is fine for btcd's mempool; keep spending it.
      coins.unshift({ txid: r.value, vout: outs.length, value: change })
      const txid = r.value
      return outs.map((o, k) => ({ txid, vout: k, value: o.value as Sat, scriptPubKey: bytesToHex(scripts[k]!), hex }))
    }
    throw new Error('faucet: could not find a spendable coin')
  }

  async function restart (r: { remine?: boolean } = {}): Promise<void> {
    await node.restart()
    coins.length = 0
    spent.clear()
    if (r.remine !== false) await mine(opts.initialBlocks ?? INITIAL_BLOCKS)
  }

  await mine(opts.initialBlocks ?? INITIAL_BLOCKS)
  return { node, chain, mine, mineTo, faucet, faucetMany, restart }
}

/** The height of the node's chain tip. */
export async function tipHeight (btc: Btcd): Promise<number> {
  const r = await btc.chain.tip()
  if (!r.ok) throw new Error(`tip: ${r.error.detail}`)
  return r.value.height
}

/** Mines until the chain tip is at `height` (nothing if it is there already). */
export async function mineUntilHeight (btc: Btcd, height: number): Promise<void> {
  const now = await tipHeight(btc)
  if (height > now) await btc.mine(height - now)
}

/** Waits until `txid` is in btcd's mempool (or chain), then mines `n` blocks. */
export async function mineTx (btc: Btcd, txid: string, n = 1): Promise<void> {
  await waitFor(
    async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, `tx ${txid} in the mempool`,
  )
  await btc.mine(n)
}

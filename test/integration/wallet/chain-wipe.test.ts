// Scenario 12, chain wiped under the hub: a regtest btcd comes back from a restart with an empty
// chain. The wallet must stop loudly (typed chain_wiped), undo nothing, and refuse to reopen.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ChainWiped } from '../../../host/chain/backend.ts'
import { ChainWipeDetector } from '../../../host/chain/chain-wipe.ts'
import { Wallet, DEFAULT_FINALITY_DEPTH } from '../../../host/wallet/wallet.ts'
import { fileWalletStorage } from '../../../host/wallet/node/file-storage.ts'
import { useBtcd } from '../../helpers/btcd.ts'

const btc = await useBtcd(t)
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-wipe-'))
t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }))

function must<T> (r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(JSON.stringify(r.error))
  return r.value
}

t.test('a shallow reorg is not a wipe: a final tx back in the mempool still counts as known', async t => {
  const byTx = new ChainWipeDetector(btc.chain)
  const byBlock = new ChainWipeDetector(btc.chain)
  const pay = await btc.faucet(btc.node.miner.address, 100_000)
  const [hash] = await btc.mine(1)
  byTx.addFinalTx(pay.txid)
  byBlock.addCheckpoint(must(await btc.chain.tip()))
  t.equal(must(await byTx.check()), null, 'nothing missing')
  t.equal(must(await byBlock.check()), null, 'nothing missing')
  must(await btc.chain.invalidateBlock(hash!))
  t.equal(must(await byTx.check()), null, 'the tx is back in the mempool: not a wipe')
  t.match(must(await byBlock.check())?.detail, /below final block/, 'but a block we called final was undone: reported')
  must(await btc.chain.reconsiderBlock(hash!))
  t.equal(must(await byBlock.check()), null, 'back to normal')
})

t.test('chain wipe: restarting btcd under a running wallet is detected and reported; nothing is undone', async t => {
  let fatal: ChainWiped | null = null
  const wallet = must(await Wallet.open({ storage: fileWalletStorage(dataDir), chain: btc.chain, feeRate: 2, onFatal: e => { fatal = e } }))
  t.teardown(() => wallet.close())
  const { address } = wallet.newAddress()
  const pay = await btc.faucet(address, 2_000_000)
  await btc.mine(DEFAULT_FINALITY_DEPTH + 1)
  t.equal(wallet.balance().total, 2_000_000)
  const before = wallet.utxos()
  t.same(before.map(u => u.txid), [pay.txid])

  await btc.restart({ remine: false })
  t.equal(must(await btc.chain.tip()).height, 0, 'btcd came back with an empty chain')
  // Followers are woken by the /ws reconnect and the poll; syncing here makes the test deterministic.
  await btc.chain.syncFollowers()
  t.not(fatal, null, 'onFatal was called')
  t.equal((fatal as ChainWiped | null)?.kind, 'chain_wiped')
  t.match(wallet.wiped, /^chain wiped: /, wallet.wiped ?? '')
  t.same(wallet.utxos(), before, 'no block was undone: the wiped chain is not a reorg')

  const send = wallet.buildTx([{ address, value: 10_000 }])
  t.equal(send.ok ? 'ok' : send.error.kind, 'chain_wiped', 'sends are refused')
  const reopened = await Wallet.open({ storage: fileWalletStorage(dataDir), chain: btc.chain, feeRate: 2 })
  t.equal(reopened.ok ? 'ok' : reopened.error.kind, 'chain_wiped', 'reopening refuses too, until an operator acts')
})

t.test('a wipe followed by a longer new chain: final block hash changed and final tx unknown are both reported', async t => {
  await btc.mine(110)
  const pay = await btc.faucet(btc.node.miner.address, 100_000)
  await btc.mine(DEFAULT_FINALITY_DEPTH)
  const tip = must(await btc.chain.tip())
  const byBlock = new ChainWipeDetector(btc.chain)
  byBlock.addCheckpoint(tip)
  const byTx = new ChainWipeDetector(btc.chain)
  byTx.addFinalTx(pay.txid)
  t.equal(must(await byBlock.check()), null)
  t.equal(must(await byTx.check()), null)

  await btc.restart()
  await btc.mine(tip.height + 5 - 101)
  t.ok(must(await btc.chain.tip()).height > tip.height, 'the new chain is longer than the old one')
  t.match(
    must(await byBlock.check())?.detail, new RegExp(`final block ${tip.hash} at height ${tip.height} is no longer in the node's chain`),
  )
  t.match(must(await byTx.check())?.detail, new RegExp(`final transaction ${pay.txid} is unknown to the node`))
})

// The hub wallet against a real btcd: coinbase income, an exact send, reorg undo, reopen from disk.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { networks, payments } from 'bitcoinjs-lib'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { regtestSubsidy } from '../../../host/chain/btcd/block-builder.ts'
import type { ChainBlock, BlockRef } from '../../../host/chain/backend.ts'
import { Wallet, COINBASE_MATURITY } from '../../../host/wallet/wallet.ts'
import { fileWalletStorage } from '../../../host/wallet/node/file-storage.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'

const btc = await useBtcd(t)
const FEE_RATE = 3
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-'))
t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }))

async function open (): Promise<Wallet> {
  const w = await Wallet.open({ storage: fileWalletStorage(dataDir), chain: btc.chain, feeRate: FEE_RATE })
  if (!w.ok) throw new Error(`open: ${JSON.stringify(w.error)}`)
  return w.value
}
let wallet = await open()
t.teardown(() => wallet.close())

const ext = payments.p2wpkh({ pubkey: tinyCurve.pubkey(randomBytes(32)), network: networks.regtest })
const extAddress = ext.address!
const extScript = bytesToHex(ext.output!)

t.test('seed file is created with mode 0600', async t => {
  t.equal(fs.statSync(path.join(dataDir, 'wallet-seed.hex')).mode & 0o777, 0o600)
})

t.test('mine 101 blocks to the wallet; send to an external address; the output confirms; the balance is exact to the satoshi', async t => {
  const { script } = wallet.newAddress()
  const start = await tipHeight(btc)
  await btc.mineTo(script, 101)
  const tip = start + 101
  let mined = 0; let mature = 0
  for (let h = start + 1; h <= tip; h++) {
    mined += regtestSubsidy(h)
    if (tip + 1 - h >= COINBASE_MATURITY) mature += regtestSubsidy(h)
  }
  t.same(
    wallet.balance(), { spendable: mature, immature: mined - mature, locked: 0, total: mined }, 'coinbases counted, maturity respected',
  )
  t.equal(wallet.tip?.height, tip)

  const amount = 12_345_678
  const sent = await wallet.send([{ address: extAddress, value: amount }])
  if (!sent.ok) throw new Error(JSON.stringify(sent.error))
  const inputs = sent.value.inputs.reduce((s, u) => s + u.value, 0)
  t.equal(wallet.balance().locked, inputs, 'inputs locked while unconfirmed')
  t.equal(wallet.balance().total, mined, 'nothing counted as gone before it confirms')

  await btc.mine(1)
  const out = await btc.chain.getTxOut(sent.value.txid, 0, false)
  if (!out.ok || out.value === null) throw new Error('receiving output not found')
  t.equal(out.value.value, amount)
  t.equal(out.value.scriptPubKey, extScript)
  t.equal(out.value.confirmations, 1, 'the receiving output is confirmed')

  // The fee, from the confirmed transaction itself: inputs (ours) minus every output.
  const look = await btc.chain.getRawTransaction(sent.value.txid)
  if (!look.ok || look.value === null) throw new Error('tx not found')
  t.equal(look.value.confirmations, 1)
  t.equal(look.value.block?.height, tip + 1)
  const outputs = look.value.tx.outputs.reduce((s, o) => s + o.value, 0)
  const fee = inputs - outputs
  t.equal(fee, sent.value.fee, 'the fee the wallet reported is the fee paid')
  t.ok(fee >= sent.value.vsize * FEE_RATE, `fee ${fee} pays at least ${FEE_RATE} sat/vB on ${sent.value.vsize} vB`)
  t.ok(fee <= (sent.value.vsize + sent.value.inputs.length) * FEE_RATE, 'and overpays by at most a vbyte per input')
  t.equal(wallet.balance().total, mined - amount - fee, 'balance exact to the satoshi')
  t.equal(wallet.pendingTxs().length, 0)
})

t.test('reorg: invalidateblock on the block holding the payment rolls back the wallet and listeners; reconsiderblock moves forward again', async t => {
  const events: string[] = []
  const follow = await btc.chain.follow({
    connected: (b: ChainBlock) => { events.push(`+${b.height}:${b.hash}`) },
    disconnected: (b: BlockRef) => { events.push(`-${b.height}:${b.hash}`) }
  })
  if (!follow.ok) throw new Error(follow.error.detail)
  t.teardown(follow.value)

  const before = wallet.balance()
  const amount = 5_000_000
  const sent = await wallet.send([{ address: extAddress, value: amount }])
  if (!sent.ok) throw new Error(JSON.stringify(sent.error))
  const [hash] = await btc.mine(1)
  const height = await tipHeight(btc)
  const confirmed = wallet.balance()
  t.equal(confirmed.total, before.total - amount - sent.value.fee)
  t.ok(wallet.utxos().some(u => u.txid === sent.value.txid), 'change output tracked')
  t.same(events, [`+${height}:${hash}`])

  const inv = await btc.chain.invalidateBlock(hash!)
  t.ok(inv.ok)
  await btc.chain.syncFollowers()
  t.same(events, [`+${height}:${hash}`, `-${height}:${hash}`], 'listener saw the disconnect')
  t.equal(wallet.tip?.height, height - 1, 'wallet tip rolled back')
  t.notOk(wallet.utxos().some(u => u.txid === sent.value.txid), 'change output gone')
  t.same(wallet.pendingTxs().map(p => p.txid), [sent.value.txid], 'the payment is pending again')
  const inputs = sent.value.inputs.reduce((s, u) => s + u.value, 0)
  t.same(
    wallet.balance(), { ...before, spendable: before.spendable - inputs, locked: before.locked + inputs }, 'balance as right after sending',
  )
  const back = await btc.chain.getRawTransaction(sent.value.txid)
  t.equal(back.ok && back.value?.confirmations, 0, 'btcd put the payment back in its mempool')

  const rec = await btc.chain.reconsiderBlock(hash!)
  t.ok(rec.ok)
  await btc.chain.syncFollowers()
  t.same(events, [`+${height}:${hash}`, `-${height}:${hash}`, `+${height}:${hash}`], 'listener saw the block again')
  t.same(wallet.balance(), confirmed, 'balance forward again')
  t.equal(wallet.pendingTxs().length, 0)
})

t.test('a reopened wallet restores its coins from disk and catches up on blocks mined while closed', async t => {
  const before = wallet.balance()
  const { script } = wallet.newAddress()
  wallet.close()
  await btc.mineTo(script, 1)
  const h = await tipHeight(btc)
  wallet = await open()
  t.equal(wallet.tip?.height, h)
  t.equal(wallet.balance().total, before.total + regtestSubsidy(h))
})

t.test('insufficient funds and dust outputs are refused as values', async t => {
  const big = wallet.buildTx([{ address: extAddress, value: 2_000_000_000_000_000 }])
  t.equal(big.ok ? 'ok' : big.error.kind, 'insufficient_funds')
  const dust = wallet.buildTx([{ address: extAddress, value: 100 }])
  t.equal(dust.ok ? 'ok' : dust.error.kind, 'invalid_output')
  const bad = wallet.buildTx([{ address: 'bc1qnotanaddress', value: 10_000 }])
  t.equal(bad.ok ? 'ok' : bad.error.kind, 'invalid_output')
})

// Every RejectReason produced by a real transaction that a real btcd refuses, and mapped correctly.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { Psbt, networks, payments } from 'bitcoinjs-lib'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { estimateVsize } from '../../../host/wallet/coin-select.ts'
import type { RejectReason } from '../../../host/chain/backend.ts'
import { useBtcd, type FaucetOutput } from '../../helpers/btcd.ts'

const btc = await useBtcd(t)
const priv = randomBytes(32)
const pub = tinyCurve.pubkey(priv)
const script = payments.p2wpkh({ pubkey: pub, network: networks.regtest }).output!
const FEE_RATE = 2

interface SpendOpts { fee?: number; sequence?: number; locktime?: number; version?: number; to?: Uint8Array }

/** Signs a 1-input, 1-output spend of `coin` (paid to our key). */
function spend (coin: { txid: string; vout: number; value: number }, o: SpendOpts = {}): string {
  const to = o.to ?? script
  const fee = o.fee ?? Math.ceil(estimateVsize(1, [to]) * FEE_RATE)
  const psbt = new Psbt({ network: networks.regtest })
  psbt.setVersion(o.version ?? 2)
  if (o.locktime !== undefined) psbt.setLocktime(o.locktime)
  psbt.addInput({
    hash: coin.txid, index: coin.vout, sequence: o.sequence ?? 0xffffffff, witnessUtxo: { script, value: BigInt(coin.value) },
  })
  psbt.addOutput({ script: to, value: BigInt(coin.value - fee) })
  psbt.signInput(0, { publicKey: pub, sign: h => tinyCurve.sign(h, priv) })
  psbt.finalizeAllInputs()
  return psbt.extractTransaction().toHex()
}

async function expectReject (t: Test, hex: string, reason: RejectReason): Promise<void> {
  const r = await btc.chain.broadcast(hex)
  if (r.ok) { t.fail(`expected ${reason}, but btcd accepted ${r.value}`); return }
  t.equal(r.error.kind, 'rejected', r.error.detail)
  if (r.error.kind === 'rejected') t.equal(r.error.reason, reason, r.error.detail)
}

// Coins paid to our key and confirmed once (tip = confirmation height).
const coins: FaucetOutput[] = []
for (let i = 0; i < 8; i++) coins.push(await btc.faucet(script, 1_000_000))
await btc.mine(1)
const next = (): FaucetOutput => coins.shift()!

t.test('missing_inputs: an input that never existed', async t => {
  await expectReject(t, spend({ txid: bytesToHex(randomBytes(32)), vout: 0, value: 1_000_000 }), 'missing_inputs')
})

t.test('missing_inputs: an input already spent in the chain', async t => {
  const c = next()
  const a = spend(c)
  t.ok((await btc.chain.broadcast(a)).ok)
  await btc.mine(1)
  await expectReject(t, spend(c, { fee: 5000 }), 'missing_inputs')
})

t.test('already_in_mempool: the same transaction twice', async t => {
  const hex = spend(next())
  t.ok((await btc.chain.broadcast(hex)).ok)
  await expectReject(t, hex, 'already_in_mempool')
})

t.test('already_in_chain: a confirmed transaction with unspent outputs', async t => {
  const hex = spend(next())
  t.ok((await btc.chain.broadcast(hex)).ok)
  await btc.mine(1)
  await expectReject(t, hex, 'already_in_chain')
})

t.test('conflict: double spend of an output a non-RBF mempool tx spends', async t => {
  const c = next()
  t.ok((await btc.chain.broadcast(spend(c, { sequence: 0xffffffff }))).ok)
  await expectReject(t, spend(c, { fee: 50_000 }), 'conflict')
})

t.test('conflict: RBF replacement paying a lower fee rate', async t => {
  const c = next()
  t.ok((await btc.chain.broadcast(spend(c, { sequence: 0xfffffffd, fee: 20_000 }))).ok)
  await expectReject(t, spend(c, { sequence: 0xfffffffd, fee: 10_000 }), 'conflict')
})

t.test('insufficient_fee: below the 1 sat/vB minimum relay fee', async t => {
  await expectReject(t, spend(next(), { fee: 50 }), 'insufficient_fee')
})

t.test('non_final: nLockTime at a future height', async t => {
  const tip = await btc.chain.tip()
  if (!tip.ok) throw new Error(tip.error.detail)
  // 0xfffffffe: nLockTime enforced (not final), no BIP68 relative lock (bit 31 set).
  await expectReject(t, spend(next(), { locktime: tip.value.height + 10, sequence: 0xfffffffe }), 'non_final')
})

t.test('sequence_locks_not_met: a CSV relative lock of 10 blocks on a recently confirmed input', async t => {
  // BIP68: version ≥ 2, bit 31 clear, low 16 bits = blocks.
  await expectReject(t, spend(next(), { sequence: 10, version: 2 }), 'sequence_locks_not_met')
})

t.test('sequence_locks_not_met until the lock expires, then accepted (the rejection was the lock)', async t => {
  const c = await btc.faucet(script, 1_000_000)
  await btc.mine(1)
  // Confirmed at the tip height H; a 3-block relative lock allows it in block H + 3.
  const csv = spend(c, { sequence: 3, version: 2 })
  await expectReject(t, csv, 'sequence_locks_not_met')
  await btc.mine(2)
  const r = await btc.chain.broadcast(csv)
  t.ok(r.ok, r.ok ? 'accepted' : r.error.detail)
})

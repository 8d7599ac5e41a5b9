// Wallet coin selection and size estimates (pure). Exactness against real signed transactions is
// checked in test/integration/wallet/wallet.test.ts.
import t from 'tap'
import { dustThreshold, estimateVsize, selectCoins } from '../../../../host/wallet/coin-select.ts'

const p2wpkh = new Uint8Array(22); p2wpkh[1] = 20
const p2wsh = new Uint8Array(34); p2wsh[1] = 32
const p2pkh = Uint8Array.from([0x76, 0xa9, 20, ...new Uint8Array(20), 0x88, 0xac])

t.test('dust thresholds are btcd\'s at 1 sat/vB (294 P2WPKH, 330 P2WSH, 546 P2PKH)', async t => {
  t.equal(dustThreshold(p2wpkh), 294)
  t.equal(dustThreshold(p2wsh), 330)
  t.equal(dustThreshold(p2pkh), 546)
})

t.test('vsize of 1-in 2-out P2WPKH is 141 vB (72-byte signature upper bound)', async t => {
  t.equal(estimateVsize(1, [p2wpkh, p2wpkh]), 141)
  t.equal(estimateVsize(2, [p2wpkh, p2wpkh]), 209)
})

t.test('largest coin first; change when it is not dust; fee = ceil(vsize × rate)', async t => {
  const coins = [{ id: 'a', value: 10_000 }, { id: 'b', value: 50_000 }, { id: 'c', value: 20_000 }]
  const s = selectCoins(coins, [p2wpkh], 30_000, 2.5, p2wpkh)
  if (!s.ok) throw new Error('expected a selection')
  t.same(s.coins.map(c => c.id), ['b'])
  t.equal(s.vsize, 141)
  t.equal(s.fee, Math.ceil(141 * 2.5))
  t.equal(s.change, 50_000 - 30_000 - s.fee)
})

t.test('a remainder below the dust threshold goes to the fee instead of a change output', async t => {
  const fee1out = Math.ceil(estimateVsize(1, [p2wpkh]) * 2)
  const s = selectCoins([{ id: 'a', value: 30_000 + fee1out + 200 }], [p2wpkh], 30_000, 2, p2wpkh)
  if (!s.ok) throw new Error('expected a selection')
  t.equal(s.change, 0)
  t.equal(s.fee, fee1out + 200)
  t.equal(s.vsize, estimateVsize(1, [p2wpkh]))
})

t.test('adds coins until the amount and the fee are covered; reports what is missing otherwise', async t => {
  const coins = [{ id: 'a', value: 10_000 }, { id: 'b', value: 10_000 }]
  const s = selectCoins(coins, [p2wpkh], 15_000, 1, p2wpkh)
  t.same(s.ok && s.coins.map(c => c.id), ['a', 'b'])
  const no = selectCoins(coins, [p2wpkh], 20_000, 1, p2wpkh)
  t.same(no.ok ? null : { available: no.available, short: no.needed > no.available }, { available: 20_000, short: true })
})

t.test('an OP_RETURN output (an audit anchor) is never dust: its value may be 0', async t => {
  const opReturn = new Uint8Array([0x6a, 0x24, ...new Uint8Array(36)])
  t.equal(dustThreshold(opReturn), 0)
  t.ok(dustThreshold(new Uint8Array([0x00, 0x14, ...new Uint8Array(20)])) > 0, 'a P2WPKH output still has its threshold')
})

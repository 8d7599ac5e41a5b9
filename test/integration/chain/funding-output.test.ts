// host/chain/funding-output.ts on btcd: what a channel machine is told about its funding outpoint — the
// depth, the output's script and value from the transaction's own bytes, and whether it is still
// unspent — for a transaction in the mempool, confirmed, with no such output, spent, and unknown.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { bytesToHex, hexToBytes } from '../../../protocol/types.ts'
import { lookupFunding } from '../../../host/chain/funding-output.ts'
import { useBtcd } from '../../helpers/btcd.ts'

const btc = await useBtcd(t)
const SCRIPT = '0020' + 'ab'.repeat(32)

t.test('a funding output in the mempool, then confirmed; another index; an unknown txid', async t => {
  const f = await btc.faucet(hexToBytes(SCRIPT), 250_000)
  const inMempool = await lookupFunding(btc.chain, f.txid, f.vout)
  t.same(
    inMempool.ok && inMempool.value, { type: 'funding_depth', depth: 0, output: { scriptPubkey: SCRIPT, valueSat: 250_000, spent: false } },
    'in the mempool: depth 0, unspent',
  )
  await btc.mine(2)
  const confirmed = await lookupFunding(btc.chain, f.txid, f.vout)
  t.same(
    confirmed.ok && confirmed.value, { type: 'funding_depth', depth: 2, output: { scriptPubkey: SCRIPT, valueSat: 250_000, spent: false } },
    'two blocks deep',
  )
  const missing = await lookupFunding(btc.chain, f.txid, 5)
  t.same(missing.ok && missing.value, { type: 'funding_depth', depth: 2, output: null }, 'no output at index 5')
  const unknown = await lookupFunding(btc.chain, bytesToHex(randomBytes(32)), 0)
  t.same(unknown, { ok: true, value: null }, 'a txid the node does not know: nothing to report')
})

t.test('an output spent in a block is reported spent', async t => {
  // The faucet pays its change (output 1) and spends that change in its next payment. (btcd's gettxout
  // does not see spends that are only in the mempool.)
  const first = await btc.faucet(hexToBytes(SCRIPT), 30_000)
  await btc.mine(1)
  const unspent = await lookupFunding(btc.chain, first.txid, 1)
  t.equal(unspent.ok && unspent.value?.output?.spent, false, 'unspent change, confirmed')
  await btc.faucet(hexToBytes(SCRIPT), 30_000)
  await btc.mine(1)
  const after = await lookupFunding(btc.chain, first.txid, 1)
  t.equal(after.ok && after.value?.output?.spent, true, 'spent in a block')
  t.equal(after.ok && after.value?.depth, 2)
})

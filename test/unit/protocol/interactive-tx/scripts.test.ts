// spentOutput (protocol/interactive-tx/scripts.ts) reads a tx_add_input's prevtx; it keeps the
// transactions it read (a batch's initiator adds the same funding transactions in every session).
// What it answers must not depend on what it read before: the same prevtx gives the same output
// whenever it is read, each of many distinct ones gives its own (more than it keeps), and a bad one
// is refused every time.
import t from 'tap'
import { spentOutput } from '../../../../protocol/interactive-tx/index.ts'
import { MAX_INTERACTIVE_INPUTS_OUTPUTS } from '../../../../protocol/limits.ts'
import { txid as txidOf } from '../../../../protocol/tx/serialize.ts'
import { parseTx } from '../../../../protocol/tx/serialize.ts'
import { coin } from './fixtures.ts'

t.test('spentOutput: the same answer for a prevtx read again, after more distinct ones than it keeps', async t => {
  const count = MAX_INTERACTIVE_INPUTS_OUTPUTS + 20
  const coins = Array.from({ length: count }, (_, k) => coin(k % 256, 10_000 + k, Math.floor(k / 256)))
  const expect = (k: number): { ok: true; txid: string; valueSat: number; script: string } => ({
    ok: true, txid: txidOf(parseTx(coins[k]!.input.prevtx)), valueSat: coins[k]!.valueSat, script: coins[k]!.script,
  })
  for (let k = 0; k < count; k++) t.same(
    spentOutput(coins[k]!.input.prevtx, coins[k]!.input.prevtxVout), expect(k), `coin ${k}, first read`,
  )
  // The first ones are no longer kept, the last ones are: both read the same as the first time.
  for (const k of [0, 1, count - 2, count - 1]) {
    t.same(spentOutput(coins[k]!.input.prevtx, coins[k]!.input.prevtxVout), expect(k), `coin ${k}, read again`)
  }
  // A kept transaction read at another vout is refused as it would be on a first read.
  const last = coins[count - 1]!.input
  const beyond = spentOutput(last.prevtx, last.prevtxVout + 1)
  t.same(beyond.ok ? 'ok' : beyond.reason, 'tx_bad_prevtx', 'a vout past the kept transaction\'s outputs is refused')
})

t.test('spentOutput: a prevtx that is not a transaction is refused each time', async t => {
  for (let i = 0; i < 2; i++) {
    const r = spentOutput('00', 0)
    t.same(r.ok ? 'ok' : r.reason, 'tx_bad_prevtx', `read ${i + 1}`)
  }
})
